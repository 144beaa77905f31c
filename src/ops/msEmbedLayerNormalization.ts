import { layerNorm } from '../../kernels/layernorm.js';
import { LambertError, describeNode } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { NodeInfo, OpDefinition, OutputAllocator, ValueMeta } from './types.js';
import { fail, meta, need, needTensor, shapeText } from './util.js';

/** onnxruntime's kDefaultEmbedLayerNormEpsilon, the epsilon of EmbedLayerNormalization and QEmbedLayerNormalization alike. */
export const DEFAULT_EPSILON = 1e-12;

const INPUT_IDS = 0;
const SEGMENT_IDS = 1;
const WORD = 2;
const POSITION = 3;
const SEGMENT = 4;
const GAMMA = 5;
const BETA = 6;
const MASK = 7;
const POSITION_IDS = 8;

const OUTPUT = 0;
const MASK_INDEX = 1;
const EMBEDDING_SUM = 2;

/** The shapes both EmbedLayerNormalization and QEmbedLayerNormalization check. */
export interface Shapes {
  readonly ids: readonly number[];
  readonly segmentIds?: readonly number[];
  readonly word: readonly number[];
  readonly position: readonly number[];
  readonly segment?: readonly number[];
  readonly gamma: readonly number[];
  readonly beta: readonly number[];
  readonly mask?: readonly number[];
  readonly positionIds?: readonly number[];
}

export function checkShapes(s: Shapes, error: (msg: string) => never): void {
  const { ids } = s;
  if (ids.length !== 2) error(`input_ids must be (batch, sequence), got ${shapeText(ids)}`);
  const same = (what: string, dims: readonly number[] | undefined) => {
    if (dims && (dims.length !== 2 || dims[0] !== ids[0] || dims[1] !== ids[1])) error(`${what} ${shapeText(dims)} must match input_ids ${shapeText(ids)}`);
  };
  same('segment_ids', s.segmentIds);
  same('mask', s.mask);
  if (!s.segmentIds !== !s.segment) error('segment_ids and segment_embedding come together');
  const hidden = s.word[1];
  for (const [what, dims] of [['word_embedding', s.word], ['position_embedding', s.position], ['segment_embedding', s.segment]] as const) {
    if (dims && (dims.length !== 2 || dims[1] !== hidden)) error(`${what} ${shapeText(dims)} must be (rows, ${hidden ?? 'hidden'})`);
  }
  for (const [what, dims] of [['gamma', s.gamma], ['beta', s.beta]] as const) {
    if (dims.length !== 1 || dims[0] !== hidden) error(`${what} ${shapeText(dims)} must be (${hidden})`);
  }
  const p = s.positionIds;
  if (p && (p.length !== 2 || (p[0] !== ids[0] && p[0] !== 1) || p[1] !== ids[1])) {
    error(`position_ids ${shapeText(p)} must be (${ids[0]} or 1, ${ids[1]})`);
  }
}

export function wanted(node: NodeInfo, i: number): boolean {
  return !!node.outputs[i];
}

/** Reads row `id` of an embedding table of `count` rows, or fails naming the offending index. */
export function rowOf(node: NodeInfo, what: string, id: number, count: number, token: number): number {
  if (id < 0 || id >= count) {
    throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${what} ${id} at position ${token} is out of range [0, ${count})`);
  }
  return id;
}

/**
 * onnxruntime's fused BERT embeddings: per token, word_embedding[input_id] +
 * position_embedding[position] (+ segment_embedding[segment_id]) layer-normalised with gamma and
 * beta. Positions are 0…S−1 unless position_ids (B or 1, S) gives them. mask_index is the
 * number of 1s in each row of the (B, S) int32 mask (0s without a mask); embedding_sum is the
 * sum before normalisation.
 */
export const EmbedLayerNormalization: OpDefinition = {
  opType: 'EmbedLayerNormalization',
  domain: 'com.microsoft',
  versions: [1, 1],
  infer(node, inputs) {
    const ids = need(node, inputs, INPUT_IDS);
    const tables: (ValueMeta | undefined)[] = [need(node, inputs, WORD), need(node, inputs, POSITION), inputs[SEGMENT], need(node, inputs, GAMMA), need(node, inputs, BETA)];
    for (const t of tables) if (t && t.dtype !== 'float32') fail(node, `only float32 embeddings are supported, got ${t.dtype}`);
    for (const i of [INPUT_IDS, SEGMENT_IDS, MASK, POSITION_IDS]) {
      const t = inputs[i];
      if (t && t.dtype !== 'int32') fail(node, `input ${i} must be int32, got ${t.dtype}`);
    }
    const shape = (i: number) => inputs[i]?.shape ?? undefined;
    const all = [INPUT_IDS, SEGMENT_IDS, WORD, POSITION, SEGMENT, GAMMA, BETA, MASK, POSITION_IDS];
    if (all.every((i) => inputs[i]?.shape !== null)) {
      checkShapes(
        {
          ids: shape(INPUT_IDS)!,
          segmentIds: shape(SEGMENT_IDS),
          word: shape(WORD)!,
          position: shape(POSITION)!,
          segment: shape(SEGMENT),
          gamma: shape(GAMMA)!,
          beta: shape(BETA)!,
          mask: shape(MASK),
          positionIds: shape(POSITION_IDS),
        },
        (msg) => fail(node, msg),
      );
    }
    const hidden = inputs[WORD]!.shape?.[1];
    const out = ids.shape && hidden !== undefined ? [ids.shape[0]!, ids.shape[1]!, hidden] : null;
    return [meta('float32', out), meta('int32', ids.shape ? [ids.shape[0]!] : null), meta('float32', out)];
  },
  run(node, inputs, out) {
    const ids = needTensor(node, inputs, INPUT_IDS);
    const word = needTensor(node, inputs, WORD);
    const position = needTensor(node, inputs, POSITION);
    const gamma = needTensor(node, inputs, GAMMA);
    const beta = needTensor(node, inputs, BETA);
    const segmentIds = inputs[SEGMENT_IDS];
    const segment = inputs[SEGMENT];
    const mask = inputs[MASK];
    const positionIds = inputs[POSITION_IDS];
    checkShapes(
      {
        ids: ids.dims,
        segmentIds: segmentIds?.dims,
        word: word.dims,
        position: position.dims,
        segment: segment?.dims,
        gamma: gamma.dims,
        beta: beta.dims,
        mask: mask?.dims,
        positionIds: positionIds?.dims,
      },
      (msg) => {
        throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${msg}`);
      },
    );
    const [batch, seq] = ids.dims as [number, number];
    const hidden = word.dims[1]!;
    const y = out.alloc(OUTPUT, 'float32', [batch, seq, hidden]);
    const results: Tensor[] = [y];
    const sum = wanted(node, EMBEDDING_SUM) ? out.alloc(EMBEDDING_SUM, 'float32', [batch, seq, hidden]) : undefined;
    if (sum) results[EMBEDDING_SUM] = sum;

    const idData = ids.data as Int32Array;
    const segIds = segmentIds ? (segmentIds.data as Int32Array) : null;
    const posIds = positionIds ? (positionIds.data as Int32Array) : null;
    const posStride = positionIds && positionIds.dims[0] === 1 ? 0 : seq;
    const w = word.data as Float32Array;
    const p = position.data as Float32Array;
    const sg = segment ? (segment.data as Float32Array) : null;
    const g = gamma.data as Float32Array;
    const bt = beta.data as Float32Array;
    const wordRows = word.dims[0]!;
    const positionRows = position.dims[0]!;
    const segmentRows = segment ? segment.dims[0]! : 0;
    const epsilon = node.attrs.float('epsilon', DEFAULT_EPSILON);
    for (let b = 0; b < batch; b++) {
      for (let s = 0; s < seq; s++) {
        const token = b * seq + s;
        const wordRow = rowOf(node, 'input_id', idData[token]!, wordRows, token);
        const posRow = rowOf(node, 'position', posIds ? posIds[b * posStride + s]! : s, positionRows, token);
        const segRow = segIds ? rowOf(node, 'segment_id', segIds[token]!, segmentRows, token) : 0;
        // The kernel's residual inputs carry the other two embeddings: skip (one row) and bias.
        layerNorm(w, wordRow * hidden, 1, hidden, g, 0, bt, 0, epsilon, y.data, token * hidden, p, posRow * hidden, sg, segRow * hidden, sum ? sum.data : null, token * hidden);
      }
    }

    if (wanted(node, MASK_INDEX)) results[MASK_INDEX] = maskIndex(mask, batch, seq, out);
    return results;
  },
};

/** Output 1 of both ops: the number of 1s in each row of the (B, S) int32 mask, 0s without a mask. */
export function maskIndex(mask: Tensor | undefined, batch: number, seq: number, out: OutputAllocator): Tensor {
  const counts = out.alloc(1, 'int32', [batch]);
  const m = mask ? (mask.data as Int32Array) : null;
  for (let b = 0; b < batch; b++) {
    let count = 0;
    if (m) for (let s = 0; s < seq; s++) if (m[b * seq + s] === 1) count++;
    counts.data[b] = count;
  }
  return counts;
}
