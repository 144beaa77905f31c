/**
 * Shared by the quantization ops: dtype rules and the per-tensor / per-axis layout of
 * QuantizeLinear and DequantizeLinear parameters.
 */
import type { AxisLayout } from '../../kernels/quantize.js';
import { sizeOf } from '../tensor.js';
import type { NodeInfo, ValueMeta } from './types.js';
import { fail, normalizeAxis, shapeText } from './util.js';

export const QUANT_TYPES = ['int8', 'uint8'] as const;

/** Saturation bounds of a quantized dtype. */
export function quantRange(dtype: string): [number, number] {
  return dtype === 'int8' ? [-128, 127] : [0, 255];
}

export function isQuantType(dtype: string): dtype is 'int8' | 'uint8' {
  return dtype === 'int8' || dtype === 'uint8';
}

/** Rejects a model whose input `what` is not one of `dtypes`. */
export function checkType(node: NodeInfo, input: ValueMeta | undefined, what: string, dtypes: readonly string[]): void {
  if (input && !dtypes.includes(input.dtype)) fail(node, `${what} must be ${dtypes.join(' or ')}, got ${input.dtype}`);
}

/** Rejects a zero point whose dtype differs from the values it belongs to. */
export function checkZeroPointType(node: NodeInfo, zeroPoint: ValueMeta | undefined, what: string, values: ValueMeta): void {
  if (zeroPoint && zeroPoint.dtype !== values.dtype) fail(node, `${what} must be ${values.dtype} like its data, got ${zeroPoint.dtype}`);
}

/**
 * How a Q/DQ scale (and zero point, same shape) applies to data of `dims`: one value for the
 * whole tensor, or — from opset 13 — a 1-D tensor with one value per index of `axis`.
 */
export function axisLayout(node: NodeInfo, dims: readonly number[], scale: readonly number[], zeroPoint: readonly number[] | undefined): AxisLayout {
  if (zeroPoint && (zeroPoint.length !== scale.length || sizeOf(zeroPoint) !== sizeOf(scale))) {
    fail(node, `zero point ${shapeText(zeroPoint)} must have the scale's shape ${shapeText(scale)}`);
  }
  if (scale.length <= 1 && sizeOf(scale) === 1) return { outer: 1, axisLen: 1, inner: sizeOf(dims) };
  if (node.opset < 13 || scale.length !== 1) {
    fail(node, `scale ${shapeText(scale)} must be a scalar${node.opset < 13 ? '' : ' or a 1-D tensor (per axis)'}`);
  }
  const axis = normalizeAxis(node, node.attrs.int('axis', 1), dims.length);
  if (scale[0] !== dims[axis]) fail(node, `per-axis scale ${shapeText(scale)} must have ${dims[axis]} values (axis ${axis} of ${shapeText(dims)})`);
  return { outer: sizeOf(dims.slice(0, axis)), axisLen: dims[axis]!, inner: sizeOf(dims.slice(axis + 1)) };
}
