import { layerNorm } from '../../kernels/layernorm.js';
import { LambertError, describeNode } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { NodeInfo, OpDefinition, ValueMeta } from './types.js';
import { fail, meta, need, needTensor, shapeText } from './util.js';

/** onnxruntime's kDefaultSkipLayerNormEpsilon. */
const DEFAULT_EPSILON = 1e-12;

const OUTPUT = 0;
const MEAN = 1;
const INV_STD_VAR = 2;
const SUM = 3;

/**
 * Checks the shapes onnxruntime accepts and returns how many rows of the input one copy of skip
 * covers: skip is the input's shape, or for 3-D input (1, S, H) or (S, H), repeated per batch.
 */
function skipRows(
  input: readonly number[],
  skip: readonly number[],
  params: readonly (readonly number[] | undefined)[],
  error: (msg: string) => never,
): number {
  if (input.length !== 2 && input.length !== 3) error(`input must be 2-D or 3-D, got ${shapeText(input)}`);
  const hidden = input[input.length - 1]!;
  const [seq] = input.slice(-2) as [number];
  const same = skip.length === input.length && skip.every((d, i) => d === input[i]);
  const perBatch = input.length === 3 && (skip.length === 2 || (skip.length === 3 && skip[0] === 1)) && skip.at(-2) === seq && skip.at(-1) === hidden;
  if (!same && !perBatch) error(`skip ${shapeText(skip)} must be ${shapeText(input)}${input.length === 3 ? `, (1, ${seq}, ${hidden}) or (${seq}, ${hidden})` : ''}`);
  for (const [i, name] of ['gamma', 'beta', 'bias'].entries()) {
    const dims = params[i];
    if (dims && (dims.length !== 1 || dims[0] !== hidden)) error(`${name} ${shapeText(dims)} must be (${hidden})`);
  }
  return same ? input.slice(0, -1).reduce((a, b) => a * b, 1) : seq;
}

function statsDims(input: readonly number[]): number[] {
  return [...input.slice(0, -1), 1];
}

/** Per row of v (rows, cols): the mean and 1/√(variance + epsilon), two-pass in float64. */
function rowStats(v: Float32Array, rows: number, cols: number, epsilon: number, mean: Float32Array | null, invStd: Float32Array | null): void {
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += v[start + j]!;
    const mu = sum / cols;
    let squares = 0;
    for (let j = 0; j < cols; j++) {
      const d = v[start + j]! - mu;
      squares += d * d;
    }
    if (mean) mean[r] = mu;
    if (invStd) invStd[r] = 1 / Math.sqrt(squares / cols + epsilon);
  }
}

let sumScratch: Float32Array = new Float32Array(0);

function wanted(node: NodeInfo, i: number): boolean {
  return !!node.outputs[i];
}

/**
 * onnxruntime's fused residual + LayerNormalization: v = input + skip (+ bias) over the last
 * axis, output = (v − mean) / √(variance + epsilon) · gamma (+ beta). Optional outputs: the
 * row mean and 1/√(variance + epsilon) (shape (…, 1)), and v itself.
 */
export const SkipLayerNormalization: OpDefinition = {
  opType: 'SkipLayerNormalization',
  domain: 'com.microsoft',
  versions: [1, 1],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const skip = need(node, inputs, 1);
    const gamma = need(node, inputs, 2);
    const params: (ValueMeta | undefined)[] = [gamma, inputs[3], inputs[4]];
    for (const t of [x, skip, ...params]) if (t && t.dtype !== 'float32') fail(node, `only float32 is supported, got ${t.dtype}`);
    if (x.shape && skip.shape && params.every((p) => !p || p.shape)) {
      skipRows(x.shape, skip.shape, params.map((p) => p?.shape ?? undefined), (msg) => fail(node, msg));
    }
    const stats = x.shape ? statsDims(x.shape) : null;
    return [meta('float32', x.shape), meta('float32', stats), meta('float32', stats), meta('float32', x.shape)];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const skip = needTensor(node, inputs, 1);
    const gamma = needTensor(node, inputs, 2);
    const beta = inputs[3];
    const bias = inputs[4];
    const block = skipRows(x.dims, skip.dims, [gamma.dims, beta?.dims, bias?.dims], (msg) => {
      throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${msg}`);
    });
    const epsilon = node.attrs.float('epsilon', DEFAULT_EPSILON);
    const cols = x.dims[x.dims.length - 1]!;
    const rows = cols === 0 ? 0 : x.size / cols;
    const y = out.alloc(OUTPUT, 'float32', x.dims);
    const results: Tensor[] = [y];

    const withStats = wanted(node, MEAN) || wanted(node, INV_STD_VAR);
    let sum: Float32Array | null = null;
    if (wanted(node, SUM)) {
      results[SUM] = out.alloc(SUM, 'float32', x.dims);
      sum = results[SUM].data as Float32Array;
    } else if (withStats) {
      if (sumScratch.length < x.size) sumScratch = new Float32Array(x.size);
      sum = sumScratch;
    }

    const xd = x.data as Float32Array;
    const sd = skip.data as Float32Array;
    const g = gamma.data as Float32Array;
    const b = beta ? (beta.data as Float32Array) : null;
    const bd = bias ? (bias.data as Float32Array) : null;
    // One copy of skip spans `block` rows; a skip without batch dims repeats for every batch.
    for (let r = 0; r < rows; r += block) {
      const off = r * cols;
      layerNorm(xd, off, Math.min(block, rows - r), cols, g, 0, b, 0, epsilon, y.data, off, sd, 0, bd, 0, sum, off);
    }

    if (withStats) {
      const dims = statsDims(x.dims);
      const mean = wanted(node, MEAN) ? out.alloc(MEAN, 'float32', dims) : undefined;
      const invStd = wanted(node, INV_STD_VAR) ? out.alloc(INV_STD_VAR, 'float32', dims) : undefined;
      rowStats(sum!, rows, cols, epsilon, mean?.data ?? null, invStd?.data ?? null);
      if (mean) results[MEAN] = mean;
      if (invStd) results[INV_STD_VAR] = invStd;
    }
    return results;
  },
};
