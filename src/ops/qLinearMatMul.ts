import type { PackedQuantB } from '../../kernels/qgemm.js';
import { requantize, type QuantArray } from '../../kernels/quantize.js';
import { sizeOf } from '../tensor.js';
import { matmulGeometry, paramRuns, paramsFor, prepackB, quantMatMul } from './quantMatMul.js';
import { QUANT_TYPES, checkType, checkZeroPointType, quantRange } from './quantParams.js';
import type { OpDefinition } from './types.js';
import { fail, meta, need, needTensor, shapeText } from './util.js';

let accScratch = new Int32Array(0);

/**
 * Quantized matmul with a quantized output, as onnxruntime computes it: the int32 product of
 * the zero-point-shifted inputs is requantized with the float32 multiplier
 * a_scale · b_scale / y_scale. A's scale and zero point may be per row, B's per column.
 */
export const QLinearMatMul: OpDefinition<PackedQuantB[] | undefined> = {
  opType: 'QLinearMatMul',
  domain: '',
  versions: [10, 21],
  infer(node, inputs) {
    const a = need(node, inputs, 0);
    const aScale = need(node, inputs, 1);
    const aZero = need(node, inputs, 2);
    const b = need(node, inputs, 3);
    const bScale = need(node, inputs, 4);
    const bZero = need(node, inputs, 5);
    const yScale = need(node, inputs, 6);
    const yZero = need(node, inputs, 7);
    checkType(node, a, 'a', QUANT_TYPES);
    checkType(node, b, 'b', QUANT_TYPES);
    checkType(node, yZero, 'y_zero_point', QUANT_TYPES);
    for (const [s, what] of [[aScale, 'a_scale'], [bScale, 'b_scale'], [yScale, 'y_scale']] as const) checkType(node, s, what, ['float32']);
    checkZeroPointType(node, aZero, 'a_zero_point', a);
    checkZeroPointType(node, bZero, 'b_zero_point', b);
    for (const [s, z, what] of [[aScale, aZero, 'a'], [bScale, bZero, 'b'], [yScale, yZero, 'y']] as const) {
      if (s.shape && z.shape && shapeText(s.shape) !== shapeText(z.shape)) {
        fail(node, `${what}_scale ${shapeText(s.shape)} and ${what}_zero_point ${shapeText(z.shape)} must have the same shape`);
      }
    }
    if (yScale.shape && sizeOf(yScale.shape) !== 1) fail(node, `y_scale ${shapeText(yScale.shape)} must be a scalar`);
    if (!a.shape || !b.shape) return [meta(yZero.dtype, null)];
    const geo = matmulGeometry(node, a.shape, b.shape);
    if (aScale.shape) paramRuns(node, 'a_scale', aScale.shape, geo, 'a');
    if (bScale.shape) paramRuns(node, 'b_scale', bScale.shape, geo, 'b');
    return [meta(yZero.dtype, geo.dims)];
  },
  prepare(node, inputs) {
    return prepackB(node, inputs[3]);
  },
  run(node, inputs, out, packed) {
    const a = needTensor(node, inputs, 0);
    const aScale = needTensor(node, inputs, 1);
    const b = needTensor(node, inputs, 3);
    const bScale = needTensor(node, inputs, 4);
    const yScale = needTensor(node, inputs, 6).data[0] as number;
    const yZero = needTensor(node, inputs, 7);
    const geo = matmulGeometry(node, a.dims, b.dims);
    const { m, n } = geo;
    const size = sizeOf(geo.dims);
    if (accScratch.length < size) accScratch = new Int32Array(size);
    quantMatMul(node, geo, a, inputs[2], b, inputs[5], packed, accScratch);
    const y = out.alloc(0, yZero.type, geo.dims);
    const [qmin, qmax] = quantRange(yZero.type);
    const aRuns = paramRuns(node, 'a_scale', aScale.dims, geo, 'a');
    const bRuns = paramRuns(node, 'b_scale', bScale.dims, geo, 'b');
    const sa = new Float32Array(Math.max(m, 1));
    const sb = new Float32Array(Math.max(n, 1));
    for (let ob = 0; ob < geo.aOffsets.length; ob++) {
      const as = paramsFor(aScale, aRuns, ob, m, sa);
      const bs = paramsFor(bScale, bRuns, ob, n, sb);
      requantize(accScratch, ob * m * n, m, n, as, bs, yScale, yZero.data[0] as number, qmin, qmax, y.data as QuantArray, ob * m * n);
    }
    return [y];
  },
};
