import { dequantizeLinear, type QuantArray } from '../../kernels/quantize.js';
import { axisLayout, checkType, checkZeroPointType } from './quantParams.js';
import type { OpDefinition } from './types.js';
import { meta, need, needTensor } from './util.js';

/** y = float32(x − x_zero_point) · x_scale, per tensor or (opset 13+) per axis. */
export const DequantizeLinear: OpDefinition = {
  opType: 'DequantizeLinear',
  domain: '',
  // 19 added float16 scales and float8 inputs, 21 blocked quantization and int4/int16 inputs.
  versions: [10, 20],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const scale = need(node, inputs, 1);
    const zeroPoint = inputs[2];
    checkType(node, x, 'x', ['int8', 'uint8', 'int32']);
    checkType(node, scale, 'x_scale', ['float32']);
    checkZeroPointType(node, zeroPoint, 'x_zero_point', x);
    if (x.shape && scale.shape && (!zeroPoint || zeroPoint.shape)) axisLayout(node, x.shape, scale.shape, zeroPoint?.shape ?? undefined);
    return [meta('float32', x.shape)];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const scale = needTensor(node, inputs, 1);
    const zeroPoint = inputs[2];
    const layout = axisLayout(node, x.dims, scale.dims, zeroPoint?.dims);
    const y = out.alloc(0, 'float32', x.dims);
    dequantizeLinear(x.data as QuantArray | Int32Array, scale.data as Float32Array, (zeroPoint?.data as QuantArray | Int32Array) ?? null, layout, y.data);
    return [y];
  },
};
