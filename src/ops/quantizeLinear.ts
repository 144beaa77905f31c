import { quantizeLinear, type QuantArray } from '../../kernels/quantize.js';
import { axisLayout, checkType, quantRange, QUANT_TYPES } from './quantParams.js';
import type { OpDefinition } from './types.js';
import { meta, need, needTensor } from './util.js';

/**
 * y = saturate(round_half_even(x / y_scale) + y_zero_point), per tensor or (opset 13+) per
 * axis; y takes the zero point's type, uint8 without one.
 */
export const QuantizeLinear: OpDefinition = {
  opType: 'QuantizeLinear',
  domain: '',
  // 19 added float16/float8 types and 21 blocked quantization and int4/int16 outputs.
  versions: [10, 20],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const scale = need(node, inputs, 1);
    const zeroPoint = inputs[2];
    checkType(node, x, 'x', ['float32', 'int32']);
    checkType(node, scale, 'y_scale', ['float32']);
    checkType(node, zeroPoint, 'y_zero_point', QUANT_TYPES);
    if (x.shape && scale.shape && (!zeroPoint || zeroPoint.shape)) axisLayout(node, x.shape, scale.shape, zeroPoint?.shape ?? undefined);
    return [meta(zeroPoint?.dtype ?? 'uint8', x.shape)];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const scale = needTensor(node, inputs, 1);
    const zeroPoint = inputs[2];
    const layout = axisLayout(node, x.dims, scale.dims, zeroPoint?.dims);
    const dtype = zeroPoint?.type ?? 'uint8';
    const y = out.alloc(0, dtype, x.dims);
    const [qmin, qmax] = quantRange(dtype);
    // int32 input is divided in float32 like float input: convert it once, keeping the kernel float-only.
    const values = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data as Int32Array);
    quantizeLinear(values, scale.data as Float32Array, (zeroPoint?.data as QuantArray) ?? null, layout, qmin, qmax, y.data as QuantArray);
    return [y];
  },
};
