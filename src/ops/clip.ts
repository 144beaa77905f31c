import { LambertError, describeNode, formatShape } from '../errors.js';
import { sizeOf, type DType, type Tensor } from '../tensor.js';
import { checkType, FLOATS, NUMERIC, type Scalar } from './elementwise.js';
import type { NodeInfo, OpDefinition } from './types.js';
import { fail, meta, need, needTensor } from './util.js';

const FLT_MAX = 3.4028234663852886e38;

/** The bounds an omitted min/max stands for: the type's whole range (so ±∞ clip to it). */
const LIMITS: Record<Exclude<DType, 'bool'>, readonly [Scalar, Scalar]> = {
  float32: [-FLT_MAX, FLT_MAX],
  float64: [-Number.MAX_VALUE, Number.MAX_VALUE],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** min and max: attributes before opset 11, optional scalar inputs from then on. */
function bounds(node: NodeInfo, inputs: readonly (Tensor | undefined)[], dtype: Exclude<DType, 'bool'>): [Scalar, Scalar] {
  const [lo, hi] = LIMITS[dtype];
  if (node.opset < 11) return [node.attrs.float('min', -FLT_MAX), node.attrs.float('max', FLT_MAX)];
  return [bound(node, inputs[1], 'min') ?? lo, bound(node, inputs[2], 'max') ?? hi];
}

function bound(node: NodeInfo, t: Tensor | undefined, name: string): Scalar | undefined {
  if (t && t.size !== 1) {
    throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${name} must be a scalar, got shape ${formatShape(t.dims)}`);
  }
  return t?.data[0];
}

// Compare-and-replace rather than min/max: a NaN input stays NaN and a NaN bound is ignored,
// as in onnxruntime; min > max yields max everywhere.
function clipF32(x: Float32Array, o: Float32Array, lo: number, hi: number): void {
  for (let i = 0; i < x.length; i++) {
    let v = x[i]!;
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    o[i] = v;
  }
}

function clipScalars(x: Scalar[], o: Scalar[], lo: Scalar, hi: Scalar): void {
  for (let i = 0; i < x.length; i++) {
    let v = x[i]!;
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    o[i] = v;
  }
}

export const Clip: OpDefinition = {
  opType: 'Clip',
  domain: '',
  versions: [6, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    checkType(node, x.dtype, node.opset >= 12 ? NUMERIC : FLOATS);
    if (node.opset >= 11) {
      for (const name of ['min', 'max']) {
        // An opset-10 Clip bumped to 11 without conversion: onnxruntime refuses it, and ignoring them would not clip.
        if (node.attrs.has(name)) fail(node, `attribute "${name}" is not allowed at opset ${node.opset}: since opset 11 min and max are inputs 1 and 2`);
      }
      for (const [i, name] of [[1, 'min'], [2, 'max']] as const) {
        const bound = inputs[i];
        if (!bound) continue;
        if (bound.dtype !== x.dtype) fail(node, `${name} must have the input's type ${x.dtype}, got ${bound.dtype}`);
        if (bound.shape && sizeOf(bound.shape) !== 1) fail(node, `${name} must be a scalar, got shape ${formatShape(bound.shape)}`);
      }
    }
    return [meta(x.dtype, x.shape)];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const [lo, hi] = bounds(node, inputs, x.type as Exclude<DType, 'bool'>);
    const o = out.alloc(0, x.type, x.dims);
    if (x.type === 'float32') clipF32(x.data as Float32Array, o.data as Float32Array, lo as number, hi as number);
    else clipScalars(x.data as unknown as Scalar[], o.data as unknown as Scalar[], lo, hi);
    return [o];
  },
};
