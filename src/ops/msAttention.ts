import { attention } from '../../kernels/attention.js';
import { gemm, gemmPacked, type PackedMatrix } from '../../kernels/gemm.js';
import { LambertError, describeNode } from '../errors.js';
import { packedWeights } from './matmulCommon.js';
import type { Tensor } from '../tensor.js';
import type { NodeInfo, OpDefinition, OutputAllocator, ValueMeta } from './types.js';
import { fail, meta, need, needTensor, shapeText } from './util.js';

/** The float32 onnxruntime writes for keys a causal (unidirectional) mask hides: FLT_MAX negated. */
const LOWEST = -3.4028234663852886e38;

const INPUT = 0;
const WEIGHTS = 1;
const BIAS = 2;
const MASK = 3;
const PAST = 4;
const ATTENTION_BIAS = 5;
const PAST_SEQUENCE_LENGTH = 6;

export interface Shape {
  readonly batch: number;
  readonly seq: number;
  readonly inputHidden: number;
  /** Hidden size of each of Q, K and V. */
  readonly hidden: number;
  readonly heads: number;
  readonly headSize: number;
}

/**
 * How mask_index reads: none (also the (B,1) or (1,1) dummy that broadcasts one value over all
 * keys), per-key lengths (B), end then start positions (2B), per-key 0/1 (B,T), or per query
 * row and key 0/1 (B,S,T).
 */
type MaskKind = 'none' | 'end' | 'endStart' | 'keys' | 'rows';

function unsupported(node: NodeInfo, what: string): never {
  throw new LambertError('UNSUPPORTED_OP', `${describeNode(node)}: ${what} is not supported`);
}

/** Rejects what lambert does not implement: past/present state and rotary embeddings. */
function checkSupported(node: NodeInfo, present: (i: number) => boolean): void {
  if (present(PAST) || present(PAST_SEQUENCE_LENGTH) || node.outputs[1]) unsupported(node, 'past/present key-value state');
  if (node.attrs.int('do_rotary', 0) !== 0) unsupported(node, 'rotary embedding (do_rotary)');
}

function shapeOf(node: NodeInfo, input: readonly number[], weights: readonly number[], bias: readonly number[], error: (msg: string) => never): Shape {
  const heads = node.attrs.int('num_heads');
  if (heads <= 0) fail(node, `num_heads must be positive, got ${heads}`);
  if (input.length !== 3) error(`input must be (batch, sequence, hidden), got ${shapeText(input)}`);
  if (weights.length !== 2 || weights[0] !== input[2]) error(`weights ${shapeText(weights)} must be (${input[2]}, 3·hidden)`);
  if (bias.length !== 1 || bias[0] !== weights[1]) error(`bias ${shapeText(bias)} must be (${weights[1]})`);
  const total = weights[1]!;
  let sizes = [total / 3, total / 3, total / 3];
  if (node.attrs.has('qkv_hidden_sizes')) {
    sizes = node.attrs.ints('qkv_hidden_sizes');
    if (sizes.length !== 3) fail(node, `qkv_hidden_sizes must hold 3 values, got ${sizes.length}`);
  }
  const [q, k, v] = sizes as [number, number, number];
  if (q !== k) fail(node, `Q and K hidden sizes differ (${q} and ${k})`);
  if (q + k + v !== total) error(`weights ${shapeText(weights)} do not hold Q, K and V of hidden sizes ${q}, ${k}, ${v}`);
  if (v !== q) unsupported(node, `a V hidden size (${v}) other than Q's (${q})`);
  if (!Number.isInteger(q) || q % heads !== 0) error(`hidden size ${q} is not a multiple of num_heads ${heads}`);
  return { batch: input[0]!, seq: input[1]!, inputHidden: input[2]!, hidden: q, heads, headSize: q / heads };
}

function maskKind(node: NodeInfo, dims: readonly number[] | undefined, s: Shape, error: (msg: string) => never): MaskKind {
  if (!dims) return 'none';
  const { batch, seq } = s;
  switch (dims.length) {
    case 1:
      if (dims[0] === batch) return 'end';
      if (dims[0] === 2 * batch) return 'endStart';
      break;
    case 2:
      if (dims[0] === batch && dims[1] === seq) return 'keys';
      if ((dims[0] === batch || dims[0] === 1) && dims[1] === 1) return 'none';
      break;
    case 3:
      if (dims[0] === batch && dims[1] === seq && dims[2] === seq) return 'rows';
      break;
    case 4:
      unsupported(node, `a 4-D (Megatron) mask_index ${shapeText(dims)}`);
  }
  return error(`mask_index ${shapeText(dims)} must be (${batch}), (${2 * batch}), (${batch}, ${seq}) or (${batch}, ${seq}, ${seq})`);
}

function checkAttentionBias(dims: readonly number[], s: Shape, error: (msg: string) => never): void {
  const ok =
    dims.length === 4 &&
    (dims[0] === s.batch || dims[0] === 1) &&
    (dims[1] === s.heads || dims[1] === 1) &&
    dims[2] === s.seq &&
    dims[3] === s.seq;
  if (!ok) error(`attention_bias ${shapeText(dims)} must be (${s.batch} or 1, ${s.heads} or 1, ${s.seq}, ${s.seq})`);
}

/** Additive key mask (B, T) from the 1-D and 2-D forms: 0 keeps a key, `filter` hides it. */
function keyMask(kind: MaskKind, mask: Int32Array, s: Shape, filter: number, dst: Float32Array): void {
  const { batch, seq } = s;
  for (let b = 0; b < batch; b++) {
    const row = b * seq;
    if (kind === 'keys') {
      for (let t = 0; t < seq; t++) dst[row + t] = mask[row + t]! > 0 ? 0 : filter;
      continue;
    }
    // Keys at or after the end position are padding; with the 2B form so are those before the start.
    const end = mask[b]!;
    const start = kind === 'endStart' ? Math.min(mask[batch + b]!, seq) : 0;
    for (let t = 0; t < seq; t++) dst[row + t] = t >= end || t < start ? filter : 0;
  }
}

/** Additive mask per query row (B, S, T): the 3-D form or the key mask repeated, then the causal cut. */
function rowMask(kind: MaskKind, mask: Int32Array | null, keys: Float32Array | null, s: Shape, filter: number, causal: boolean, dst: Float32Array): void {
  const { batch, seq } = s;
  for (let b = 0; b < batch; b++) {
    for (let q = 0; q < seq; q++) {
      const row = (b * seq + q) * seq;
      for (let t = 0; t < seq; t++) {
        let v = 0;
        if (kind === 'rows') v = mask![row + t]! > 0 ? 0 : filter;
        else if (keys !== null) v = keys[b * seq + t]!;
        // Like onnxruntime, the causal cut replaces whatever the padding mask said.
        dst[row + t] = causal && t > q ? LOWEST : v;
      }
    }
  }
}

let qkvScratch: Float32Array = new Float32Array(0);
let keyScratch: Float32Array = new Float32Array(0);
let rowScratch: Float32Array = new Float32Array(0);
let biasRowScratch: Float32Array = new Float32Array(0);

/** Scratch in shared memory, so that worker threads read it without a copy (kernels/threads.ts). */
function grow(buffer: Float32Array, size: number): Float32Array {
  return buffer.length >= size ? buffer : new Float32Array(new SharedArrayBuffer(size * 4));
}

/**
 * The operands of a self-attention, wherever the op's schema puts them. Bias is optional in
 * Attention's schema, but onnxruntime's CPU kernels read it unconditionally.
 */
export interface SelfAttentionOperands<T> {
  readonly input: T;
  readonly weights: T;
  readonly bias: T;
  readonly mask: T | undefined;
  readonly attentionBias: T | undefined;
}

/** The checks Attention and QAttention share once their inputs' types are known; the output's meta. */
export function inferSelfAttention(node: NodeInfo, ops: SelfAttentionOperands<ValueMeta>): ValueMeta[] {
  const { input, weights, bias, mask, attentionBias } = ops;
  if (bias.dtype !== 'float32') fail(node, `bias must be float32, got ${bias.dtype}`);
  if (mask && mask.dtype !== 'int32') fail(node, `mask_index must be int32, got ${mask.dtype}`);
  if (!input.shape || !weights.shape || !bias.shape) return [meta('float32', null)];
  const error = (msg: string) => fail(node, msg);
  const s = shapeOf(node, input.shape, weights.shape, bias.shape, error);
  if (mask?.shape) maskKind(node, mask.shape, s, error);
  if (attentionBias?.shape) checkAttentionBias(attentionBias.shape, s, error);
  return [meta('float32', [s.batch, s.seq, s.hidden])];
}

/**
 * Fills `qkv` (batch·seq, 3·hidden) with Q, K and V side by side, bias included, from the
 * input (batch·seq, inputHidden).
 */
export type QkvProjection = (qkv: Float32Array, s: Shape) => void;

/**
 * The self-attention of onnxruntime's Attention and QAttention (both its AttentionCPUBase):
 * `project` computes the packed Q, K, V; then per head softmax(scale · Q·Kᵀ + mask (+
 * attention_bias)) · V, heads concatenated. The mask is additive: mask_filter_value (default
 * −10000) on hidden keys, and the largest negative float32 above the diagonal when unidirectional.
 */
export function runSelfAttention(node: NodeInfo, ops: SelfAttentionOperands<Tensor>, out: OutputAllocator, project: QkvProjection): Tensor[] {
  const { input: x, weights: w, bias, mask, attentionBias: attnBias } = ops;
  const error = (msg: string): never => {
    throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${msg}`);
  };
  const s = shapeOf(node, x.dims, w.dims, bias.dims, error);
  const kind = maskKind(node, mask?.dims, s, error);
  if (attnBias) checkAttentionBias(attnBias.dims, s, error);
  const { batch, seq, hidden, heads, headSize } = s;
  const width = 3 * hidden;
  const rows = batch * seq;

  qkvScratch = grow(qkvScratch, rows * width);
  const qkv = qkvScratch;
  project(qkv, s);

  const scaleAttr = node.attrs.float('scale', 0);
  const scale = scaleAttr === 0 ? Math.fround(1 / Math.fround(Math.sqrt(headSize))) : scaleAttr;
  const filter = node.attrs.float('mask_filter_value', -10000);
  const causal = node.attrs.int('unidirectional', 0) !== 0 && seq > 1;
  const y = out.alloc(0, 'float32', [batch, seq, hidden]);
  const o = y.data;
  const maskData = mask ? (mask.data as Int32Array) : null;

  let keys: Float32Array | null = null;
  if (kind !== 'none' && kind !== 'rows') {
    keyScratch = grow(keyScratch, batch * seq);
    keys = keyScratch;
    keyMask(kind, maskData!, s, filter, keys);
  }
  if (!causal && kind !== 'rows' && !attnBias) {
    attention(qkv, 0, qkv, hidden, qkv, 2 * hidden, o, 0, batch, heads, seq, seq, headSize, width, width, width, hidden, scale, keys, 0, seq, true);
    return [y];
  }

  // The kernel takes one mask row per batch, shared by every query row and head: masks that
  // differ per query row (or per head) run it one query row (and head) at a time.
  let perRow: Float32Array | null = null;
  if (causal || kind !== 'none') {
    rowScratch = grow(rowScratch, rows * seq);
    perRow = rowScratch;
    rowMask(kind, maskData, keys, s, filter, causal, perRow);
  }
  if (!attnBias) {
    for (let row = 0; row < rows; row++) {
      const kOff = (row - (row % seq)) * width + hidden;
      attention(qkv, row * width, qkv, kOff, qkv, kOff + hidden, o, row * hidden, 1, heads, 1, seq, headSize, width, width, width, hidden, scale, perRow, row * seq, seq, true);
    }
    return [y];
  }
  const ab = attnBias.data as Float32Array;
  const [biasBatch, biasHeads] = attnBias.dims as [number, number];
  biasRowScratch = grow(biasRowScratch, seq);
  const combined = biasRowScratch;
  for (let row = 0; row < rows; row++) {
    const b = (row - (row % seq)) / seq;
    const q = row % seq;
    const kOff = b * seq * width + hidden;
    for (let h = 0; h < heads; h++) {
      const from = (((biasBatch === 1 ? 0 : b) * biasHeads + (biasHeads === 1 ? 0 : h)) * seq + q) * seq;
      for (let t = 0; t < seq; t++) combined[t] = ab[from + t]! + (perRow === null ? 0 : perRow[row * seq + t]!);
      const head = h * headSize;
      attention(qkv, row * width + head, qkv, kOff + head, qkv, kOff + hidden + head, o, row * hidden + head, 1, 1, 1, seq, headSize, width, width, width, hidden, scale, combined, 0, seq, true);
    }
  }
  return [y];
}

/**
 * onnxruntime's fused BERT self-attention (see runSelfAttention) with a float32 projection
 * Q, K, V = input · weights + bias. Past/present state, rotary embeddings and V heads of another
 * size are rejected with UNSUPPORTED_OP.
 */
export const Attention: OpDefinition<readonly PackedMatrix[] | undefined> = {
  opType: 'Attention',
  domain: 'com.microsoft',
  versions: [1, 1],
  infer(node, inputs) {
    checkSupported(node, (i) => inputs[i] !== undefined);
    const ops = { input: need(node, inputs, INPUT), weights: need(node, inputs, WEIGHTS), bias: need(node, inputs, BIAS), mask: inputs[MASK], attentionBias: inputs[ATTENTION_BIAS] };
    for (const t of [ops.input, ops.weights, ops.attentionBias]) if (t && t.dtype !== 'float32') fail(node, `only float32 is supported, got ${t.dtype}`);
    return inferSelfAttention(node, ops);
  },
  prepare(node, inputs) {
    const w = inputs[WEIGHTS]?.value;
    if (!w || w.type !== 'float32' || w.dims.length !== 2) return undefined;
    return packedWeights(node, w, 1, w.dims[0]!, w.dims[1]!, false);
  },
  run(node, inputs, out, packed) {
    checkSupported(node, (i) => inputs[i] !== undefined);
    const ops = { input: needTensor(node, inputs, INPUT), weights: needTensor(node, inputs, WEIGHTS), bias: needTensor(node, inputs, BIAS), mask: inputs[MASK], attentionBias: inputs[ATTENTION_BIAS] };
    const xd = ops.input.data as Float32Array;
    const w = ops.weights;
    const bd = ops.bias.data as Float32Array;
    return runSelfAttention(node, ops, out, (qkv, { batch, seq, inputHidden, hidden }) => {
      const rows = batch * seq;
      const width = 3 * hidden;
      if (packed) {
        gemmPacked(rows, width, inputHidden, xd, 0, inputHidden, false, packed[0]!, qkv, 0, width, bd, 0, false);
      } else {
        for (let r = 0; r < rows; r++) qkv.set(bd, r * width);
        gemm(rows, width, inputHidden, 1, xd, 0, inputHidden, false, w.data as Float32Array, 0, width, false, 1, qkv, 0, width);
      }
    });
  },
};
