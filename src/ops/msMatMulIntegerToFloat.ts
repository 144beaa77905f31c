import type { PackedQuantB } from '../../kernels/qgemm.js';
import { sizeOf } from '../tensor.js';
import { prepackB } from './quantMatMul.js';
import { checkScalarScale, inferToFloat, runToFloat, type ToFloatOperands } from './quantMatMulToFloat.js';
import { QUANT_TYPES, checkType, checkZeroPointType } from './quantParams.js';
import type { OpDefinition } from './types.js';
import { need, needTensor } from './util.js';

/**
 * The input slots of A's and B's scales. onnxruntime's graph fusion may leave a per-column
 * scale in the a_scale slot (it cannot always tell the operands apart); like its kernel, take
 * the single-valued one as A's then.
 */
function scaleSlots(aDims: readonly number[] | null, bDims: readonly number[] | null): [number, number] {
  const single = (dims: readonly number[] | null) => !dims || sizeOf(dims) === 1;
  return !single(aDims) && single(bDims) ? [3, 2] : [2, 3];
}

function operands<T>(inputs: readonly (T | undefined)[], bScale: number): ToFloatOperands<T> {
  return { b: inputs[1]!, bScale: inputs[bScale]!, bZero: inputs[5], bias: inputs[6] };
}

/**
 * int32 matmul of quantized A and B (each uint8 or int8; zero points per tensor, per row of A or
 * per column of B) converted to float32 with fround(a_scale · b_scale) and an optional bias.
 */
export const MatMulIntegerToFloat: OpDefinition<PackedQuantB[] | undefined> = {
  opType: 'MatMulIntegerToFloat',
  domain: 'com.microsoft',
  versions: [1, 1],
  infer(node, inputs) {
    const a = need(node, inputs, 0);
    for (let i = 1; i <= 3; i++) need(node, inputs, i);
    checkType(node, a, 'A', QUANT_TYPES);
    checkZeroPointType(node, inputs[4], 'a_zero_point', a);
    const [aSlot, bSlot] = scaleSlots(inputs[2]!.shape, inputs[3]!.shape);
    checkType(node, inputs[aSlot], 'a_scale', ['float32']);
    checkScalarScale(node, 'a_scale', inputs[aSlot]!.shape);
    return inferToFloat(node, a.shape, operands(inputs, bSlot));
  },
  prepare(node, inputs) {
    return prepackB(node, inputs[1]);
  },
  run(node, inputs, out, packed) {
    const a = needTensor(node, inputs, 0);
    for (let i = 1; i <= 3; i++) needTensor(node, inputs, i);
    const [aSlot, bSlot] = scaleSlots(inputs[2]!.dims, inputs[3]!.dims);
    const aScale = inputs[aSlot]!;
    checkScalarScale(node, 'a_scale', aScale.dims);
    return [runToFloat(node, a, inputs[4], (aScale.data as Float32Array)[0]!, operands(inputs, bSlot), packed, out)];
  },
};
