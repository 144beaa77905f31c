import { layerNorm } from '../../kernels/layernorm.js';
import { LambertError, describeNode } from '../errors.js';
import type { DType, Tensor } from '../tensor.js';
import { broadcastStrides } from './broadcast.js';
import type { NodeInfo, OpDefinition, ValueMeta } from './types.js';
import { fail, need, needTensor, normalizeAxis } from './util.js';

const TYPES: readonly DType[] = ['float32', 'float64'];
/** TensorProto.FLOAT: the only stash type whose Mean/InvStdDev element type lambert has (the other allowed one is bfloat16). */
const STASH_FLOAT = 1;

function axisOf(node: NodeInfo, rank: number): number {
  return normalizeAxis(node, node.attrs.int('axis', -1), rank);
}

/** Mean and InvStdDev keep X's rank with every normalised dimension set to 1. */
function statsDims(dims: readonly number[], axis: number): number[] {
  return dims.map((d, i) => (i < axis ? d : 1));
}

/** Scale and B multiply and add with numpy broadcasting, and Y keeps X's shape. */
function broadcastsToX(t: readonly number[], x: readonly number[]): boolean {
  const offset = x.length - t.length;
  return offset >= 0 && t.every((d, i) => d === 1 || d === x[offset + i]);
}

function withoutLeadingOnes(dims: readonly number[]): readonly number[] {
  const first = dims.findIndex((d) => d !== 1);
  return first < 0 ? [] : dims.slice(first);
}

/** Whether `t` is exactly X's normalised block (leading 1s aside), so that every row uses t[0..cols). */
function matchesBlock(t: Tensor, xDims: readonly number[], axis: number): boolean {
  const a = withoutLeadingOnes(t.dims);
  const b = withoutLeadingOnes(xDims.slice(axis));
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Layer normalisation over the trailing dimensions from `axis` (contiguous, so each row is one
 * block of `cols`), Y = (X − mean) / √(var + epsilon) · Scale + B. The float32 kernel takes
 * the common case; float64 inputs, a Scale or B that broadcasts across rows, and graphs that
 * read the Mean or InvStdDev outputs go through the general loop.
 */
export const LayerNormalization: OpDefinition = {
  opType: 'LayerNormalization',
  domain: '',
  // ONNX added it at 17; before that onnxruntime's own schema of the same op in the ai.onnx
  // domain (since 1) is what its graph optimiser writes into saved fused models.
  versions: [1, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const scale = need(node, inputs, 1);
    const bias = inputs[2];
    if (!TYPES.includes(x.dtype)) fail(node, `input type ${x.dtype} is not supported`);
    for (const other of [scale, bias]) if (other && other.dtype !== x.dtype) fail(node, `Scale and B must be ${x.dtype}, got ${other.dtype}`);
    const stash = node.attrs.int('stash_type', STASH_FLOAT);
    if (stash !== STASH_FLOAT) {
      throw new LambertError('UNSUPPORTED_TYPE', `${describeNode(node)}: stash_type ${stash} is not supported (only 1, float)`);
    }
    if (!x.shape) return [{ dtype: x.dtype, shape: null }, { dtype: 'float32', shape: null }, { dtype: 'float32', shape: null }];
    const axis = axisOf(node, x.shape.length);
    for (const other of [scale, bias]) {
      if (other?.shape && !broadcastsToX(other.shape, x.shape)) fail(node, `[${other.shape.join(',')}] does not broadcast to X [${x.shape.join(',')}]`);
    }
    const stats: ValueMeta = { dtype: 'float32', shape: statsDims(x.shape, axis) };
    return [{ dtype: x.dtype, shape: x.shape }, stats, stats];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const scale = needTensor(node, inputs, 1);
    const bias = inputs[2];
    const axis = axisOf(node, x.dims.length);
    for (const other of [scale, bias]) {
      if (other && !broadcastsToX(other.dims, x.dims)) {
        throw new LambertError('INVALID_INPUT', `${describeNode(node)}: [${other.dims.join(',')}] does not broadcast to X [${x.dims.join(',')}]`);
      }
    }
    const epsilon = node.attrs.float('epsilon', 1e-5);
    const y = out.alloc(0, x.type, x.dims);
    let cols = 1;
    for (let i = axis; i < x.dims.length; i++) cols *= x.dims[i]!;
    const rows = cols === 0 ? 0 : x.size / cols;
    const rowParams = matchesBlock(scale, x.dims, axis) && (!bias || matchesBlock(bias, x.dims, axis));
    if (!node.outputs[1] && !node.outputs[2] && x.type === 'float32' && rowParams) {
      const b = bias ? (bias.data as Float32Array) : null;
      layerNorm(x.data as Float32Array, 0, rows, cols, scale.data as Float32Array, 0, b, 0, epsilon, y.data as Float32Array, 0);
      return [y];
    }
    const mean = out.alloc(1, 'float32', statsDims(x.dims, axis));
    const invStd = out.alloc(2, 'float32', statsDims(x.dims, axis));
    general(x, scale, bias, y, rows, cols, epsilon, mean.data, invStd.data);
    return [y, mean, invStd];
  },
};

/** Per-element index into `t` broadcast to `dims` (numpy rules, t right-aligned). */
function broadcastIndex(t: Tensor, dims: readonly number[]): Float64Array {
  const strides = broadcastStrides(t.dims, dims);
  let total = 1;
  for (const d of dims) total *= d;
  const out = new Float64Array(total);
  const index = new Array<number>(dims.length).fill(0);
  let offset = 0;
  for (let n = 0; n < total; n++) {
    out[n] = offset;
    for (let j = dims.length - 1; j >= 0; j--) {
      if (++index[j]! < dims[j]!) {
        offset += strides[j]!;
        break;
      }
      offset -= (dims[j]! - 1) * strides[j]!;
      index[j] = 0;
    }
  }
  return out;
}

/**
 * Two-pass mean and variance per row in float64, written to the float32 Mean and InvStdDev
 * (stash_type 1), then Y with Scale and B broadcast to X's shape.
 */
function general(
  input: Tensor,
  scaleT: Tensor,
  biasT: Tensor | undefined,
  output: Tensor,
  rows: number,
  cols: number,
  epsilon: number,
  meanOut: Float32Array,
  invStdOut: Float32Array,
): void {
  const x = input.data as Float32Array | Float64Array;
  const y = output.data as Float32Array | Float64Array;
  const scale = scaleT.data as Float32Array | Float64Array;
  const bias = biasT?.data as Float32Array | Float64Array | undefined;
  const scaleAt = broadcastIndex(scaleT, input.dims);
  const biasAt = biasT ? broadcastIndex(biasT, input.dims) : undefined;
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    const end = start + cols;
    let sum = 0;
    for (let i = start; i < end; i++) sum += x[i]!;
    const mean = sum / cols;
    let squares = 0;
    for (let i = start; i < end; i++) squares += (x[i]! - mean) ** 2;
    const invStd = 1 / Math.sqrt(squares / cols + epsilon);
    meanOut[r] = mean;
    invStdOut[r] = invStd;
    for (let i = start; i < end; i++) {
      const v = (x[i]! - mean) * invStd * scale[scaleAt[i]!]!;
      y[i] = bias && biasAt ? v + bias[biasAt[i]!]! : v;
    }
  }
}
