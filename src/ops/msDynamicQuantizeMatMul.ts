import type { PackedQuantB } from '../../kernels/qgemm.js';
import { dynamicQuantizeLinear } from '../../kernels/quantize.js';
import { Tensor } from '../tensor.js';
import { prepackB } from './quantMatMul.js';
import { inferToFloat, runToFloat, type ToFloatOperands } from './quantMatMulToFloat.js';
import { checkType } from './quantParams.js';
import type { OpDefinition } from './types.js';
import { need, needTensor } from './util.js';

function operands<T>(inputs: readonly (T | undefined)[]): ToFloatOperands<T> {
  return { b: inputs[1]!, bScale: inputs[2]!, bZero: inputs[3], bias: inputs[4] };
}

// A quantized per run: one buffer reused by every node, since nothing reads it after the op.
let quantized = new Uint8Array(0);
const zeroPoint = new Tensor('uint8', new Uint8Array(1), []);

/**
 * onnxruntime's fusion of DynamicQuantizeLinear → MatMulInteger → scale (→ bias): float32 A is
 * quantized per tensor to uint8 (range including 0, round half to even), multiplied with the
 * int8/uint8 B in int32, and scaled back by fround(a_scale · b_scale) per tensor or per column.
 */
export const DynamicQuantizeMatMul: OpDefinition<PackedQuantB[] | undefined> = {
  opType: 'DynamicQuantizeMatMul',
  domain: 'com.microsoft',
  versions: [1, 1],
  infer(node, inputs) {
    const a = need(node, inputs, 0);
    need(node, inputs, 1);
    need(node, inputs, 2);
    checkType(node, a, 'A', ['float32']);
    return inferToFloat(node, a.shape, operands(inputs));
  },
  prepare(node, inputs) {
    return prepackB(node, inputs[1]);
  },
  run(node, inputs, out, packed) {
    const a = needTensor(node, inputs, 0);
    needTensor(node, inputs, 1);
    needTensor(node, inputs, 2);
    if (quantized.length < a.size) quantized = new Uint8Array(a.size);
    const q = new Tensor('uint8', quantized.subarray(0, a.size), a.dims);
    const params = dynamicQuantizeLinear(a.data as Float32Array, 0, a.size, q.data, 0);
    zeroPoint.data[0] = params.zeroPoint;
    return [runToFloat(node, q, zeroPoint, params.scale, operands(inputs), packed, out)];
  },
};
