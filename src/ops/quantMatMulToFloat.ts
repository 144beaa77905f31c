/**
 * Shared by com.microsoft's DynamicQuantizeMatMul and MatMulIntegerToFloat: an integer matmul
 * (quantMatMul) whose int32 sums become float32 in place, as onnxruntime's
 * MLAS_QGEMM_SCALE_BIAS_OUTPUT_PROCESSOR does it: y = float(sum) · fround(a_scale · b_scale)
 * (+ bias), every step rounded to float32, b_scale per tensor or per column of B.
 */
import type { PackedQuantB } from '../../kernels/qgemm.js';
import { LambertError, describeNode } from '../errors.js';
import { sizeOf, type Tensor } from '../tensor.js';
import { matmulGeometry, paramRuns, quantMatMul } from './quantMatMul.js';
import { QUANT_TYPES, checkType, checkZeroPointType } from './quantParams.js';
import type { NodeInfo, OutputAllocator, ValueMeta } from './types.js';
import { fail, meta, shapeText } from './util.js';

/** The operands that follow quantized A, whatever input slots each op gives them. */
export interface ToFloatOperands<T> {
  readonly b: T;
  readonly bScale: T;
  readonly bZero: T | undefined;
  readonly bias: T | undefined;
}

/** Checks B, its scale and zero point and the bias against quantized A's shape; returns the float32 output's meta. */
export function inferToFloat(node: NodeInfo, aShape: readonly number[] | null, ops: ToFloatOperands<ValueMeta>): ValueMeta[] {
  const { b, bScale, bZero, bias } = ops;
  checkType(node, b, 'B', QUANT_TYPES);
  checkZeroPointType(node, bZero, 'b_zero_point', b);
  checkType(node, bScale, 'b_scale', ['float32']);
  checkType(node, bias, 'bias', ['float32']);
  if (!aShape || !b.shape) return [meta('float32', null)];
  const geo = matmulGeometry(node, aShape, b.shape);
  if (bScale.shape) paramRuns(node, 'b_scale', bScale.shape, geo, 'b');
  if (bZero?.shape) paramRuns(node, 'b_zero_point', bZero.shape, geo, 'b');
  if (bias?.shape && (bias.shape.length !== 1 || bias.shape[0] !== geo.n)) {
    fail(node, `bias ${shapeText(bias.shape)} must be 1-D with ${geo.n} values`);
  }
  return [meta('float32', geo.dims)];
}

/** Rejects an A scale of more than one value: onnxruntime rescales whole outputs by those afterwards. */
export function checkScalarScale(node: NodeInfo, what: string, dims: readonly number[] | null): void {
  if (dims && sizeOf(dims) !== 1) {
    throw new LambertError('UNSUPPORTED_OP', `${describeNode(node)}: ${what} ${shapeText(dims)} is not supported, only a single scale`);
  }
}

/**
 * The float32 product of quantized A (uint8/int8, zero point `aZero`) and B, scaled by
 * `aScale` and the B scale, plus the bias. `packed` is B prepacked when it is constant.
 */
export function runToFloat(
  node: NodeInfo,
  a: Tensor,
  aZero: Tensor | undefined,
  aScale: number,
  ops: ToFloatOperands<Tensor>,
  packed: readonly PackedQuantB[] | undefined,
  out: OutputAllocator,
): Tensor {
  const { b, bScale, bZero, bias } = ops;
  const geo = matmulGeometry(node, a.dims, b.dims);
  const { n } = geo;
  if (bias && (bias.dims.length !== 1 || bias.dims[0] !== n)) {
    throw new LambertError('INVALID_INPUT', `${describeNode(node)}: bias ${shapeText(bias.dims)} must be 1-D with ${n} values`);
  }
  const y = out.alloc(0, 'float32', geo.dims);
  // The sums go straight into the output's bytes and are converted in place, as in onnxruntime.
  const sums = new Int32Array(y.data.buffer, y.data.byteOffset, y.data.length);
  const bScaleRuns = paramRuns(node, 'b_scale', bScale.dims, geo, 'b');
  quantMatMul(node, geo, a, aZero, b, bZero, packed, sums, { aScale, bScale, bScaleRuns, bias: bias ? (bias.data as Float32Array) : null, out: y.data });
  return y;
}
