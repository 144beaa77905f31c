import { LambertError, describeNode } from '../errors.js';
import { sizeOf, type Tensor } from '../tensor.js';
import { DEFAULT_EPSILON, checkShapes, maskIndex, rowOf, wanted, type Shapes } from './msEmbedLayerNormalization.js';
import { QUANT_TYPES, checkType } from './quantParams.js';
import type { NodeInfo, OpDefinition, ValueMeta } from './types.js';
import { fail, meta, need, needTensor } from './util.js';

const INPUT_IDS = 0;
const SEGMENT_IDS = 1;
const MASK = 7;
/** The quantized operands: data slot, scale slot, zero-point slot. */
const WORD = [2, 8, 13] as const;
const POSITION = [3, 9, 14] as const;
const SEGMENT = [4, 10, 15] as const;
const GAMMA = [5, 11, 16] as const;
const BETA = [6, 12, 17] as const;
const QUANTIZED = [WORD, POSITION, SEGMENT, GAMMA, BETA] as const;
const NAMES = ['word_embedding', 'position_embedding', 'segment_embedding', 'gamma', 'beta'];

function shapesOf<T>(inputs: readonly (T | undefined)[], dims: (t: T) => readonly number[] | null): Shapes | null {
  const shape = (i: number) => {
    const t = inputs[i];
    return t === undefined ? undefined : dims(t);
  };
  const all = [INPUT_IDS, SEGMENT_IDS, WORD[0], POSITION[0], SEGMENT[0], GAMMA[0], BETA[0], MASK].map(shape);
  if (all.some((d) => d === null)) return null;
  return {
    ids: shape(INPUT_IDS)!,
    segmentIds: shape(SEGMENT_IDS) ?? undefined,
    word: shape(WORD[0])!,
    position: shape(POSITION[0])!,
    segment: shape(SEGMENT[0]) ?? undefined,
    gamma: shape(GAMMA[0])!,
    beta: shape(BETA[0])!,
    mask: shape(MASK) ?? undefined,
  };
}

/** One dequantized value as onnxruntime computes it: float(q − zero_point) · scale, in float32. */
interface Dequant {
  readonly data: Int8Array | Uint8Array;
  readonly zero: number;
  readonly scale: number;
}

function dequant(node: NodeInfo, inputs: readonly (Tensor | undefined)[], [data, scale, zero]: readonly [number, number, number]): Dequant | null {
  const q = inputs[data];
  if (!q) return null;
  const s = needTensor(node, inputs, scale);
  const z = inputs[zero];
  for (const [what, t] of [['scale', s], ['zero point', z]] as const) {
    if (t && sizeOf(t.dims) !== 1) throw new LambertError('INVALID_INPUT', `${describeNode(node)}: the ${what} of input ${data} must hold one value`);
  }
  return { data: q.data as Int8Array | Uint8Array, zero: z ? Number(z.data[0]) : 0, scale: (s.data as Float32Array)[0]! };
}

/**
 * onnxruntime's EmbedLayerNormalization over quantized tables, what its quantizer makes of that
 * node: word, position (0…S−1) and segment embeddings, gamma and beta stored uint8 or int8 with
 * one scale and zero point each, dequantized per element as float(q − zero_point) · scale and
 * layer-normalised in float32 steps in the order of onnxruntime's kernel (sums over the hidden
 * size left to right, then (x − mean) / √(var + ε) · γ + β). mask_index as EmbedLayerNormalization's.
 */
export const QEmbedLayerNormalization: OpDefinition = {
  opType: 'QEmbedLayerNormalization',
  domain: 'com.microsoft',
  versions: [1, 1],
  infer(node, inputs) {
    const ids = need(node, inputs, INPUT_IDS);
    const word = need(node, inputs, WORD[0]);
    checkType(node, word, 'word_embedding', QUANT_TYPES);
    QUANTIZED.forEach(([data, scale, zero], k) => {
      const q = inputs[data];
      if (!q) {
        if (data !== SEGMENT[0]) need(node, inputs, data);
        return;
      }
      checkType(node, q, NAMES[k]!, [word.dtype]);
      checkType(node, need(node, inputs, scale), `${NAMES[k]}_scale`, ['float32']);
      checkType(node, inputs[zero], `${NAMES[k]}_zero_point`, [word.dtype]);
      for (const t of [inputs[scale], inputs[zero]] as (ValueMeta | undefined)[]) {
        if (t?.shape && sizeOf(t.shape) !== 1) fail(node, `the scale and zero point of ${NAMES[k]} must hold one value each`);
      }
    });
    for (const i of [INPUT_IDS, SEGMENT_IDS, MASK]) {
      const t = inputs[i];
      if (t && t.dtype !== 'int32') fail(node, `input ${i} must be int32, got ${t.dtype}`);
    }
    const shapes = shapesOf(inputs, (t) => t.shape);
    if (shapes) checkShapes(shapes, (msg) => fail(node, msg));
    const hidden = word.shape?.[1];
    const out = ids.shape && hidden !== undefined ? [ids.shape[0]!, ids.shape[1]!, hidden] : null;
    return [meta('float32', out), meta('int32', ids.shape ? [ids.shape[0]!] : null)];
  },
  run(node, inputs, out) {
    const ids = needTensor(node, inputs, INPUT_IDS);
    checkShapes(shapesOf(inputs, (t) => t.dims)!, (msg) => {
      throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${msg}`);
    });
    const [w, p, sg, g, bt] = QUANTIZED.map((slots) => dequant(node, inputs, slots)) as [Dequant, Dequant, Dequant | null, Dequant, Dequant];
    const [batch, seq] = ids.dims as [number, number];
    const word = inputs[WORD[0]]!;
    const hidden = word.dims[1]!;
    const wordRows = word.dims[0]!;
    const positionRows = inputs[POSITION[0]]!.dims[0]!;
    const segmentRows = sg ? inputs[SEGMENT[0]]!.dims[0]! : 0;
    const idData = ids.data as Int32Array;
    const segIds = inputs[SEGMENT_IDS] ? (inputs[SEGMENT_IDS]!.data as Int32Array) : null;
    const epsilon = Math.fround(node.attrs.float('epsilon', DEFAULT_EPSILON));
    const y = out.alloc(0, 'float32', [batch, seq, hidden]);
    const o = y.data;
    const f = Math.fround;
    for (let token = 0; token < batch * seq; token++) {
      const wordRow = rowOf(node, 'input_id', idData[token]!, wordRows, token) * hidden;
      const posRow = rowOf(node, 'position', token % seq, positionRows, token) * hidden;
      const segRow = segIds ? rowOf(node, 'segment_id', segIds[token]!, segmentRows, token) * hidden : 0;
      const at = token * hidden;
      let sum = 0;
      for (let i = 0; i < hidden; i++) {
        let v = f(f((w.data[wordRow + i]! - w.zero) * w.scale) + f((p.data[posRow + i]! - p.zero) * p.scale));
        if (sg) v = f(v + f((sg.data[segRow + i]! - sg.zero) * sg.scale));
        o[at + i] = v;
        sum = f(sum + v);
      }
      const mean = f(sum / hidden);
      sum = 0;
      for (let i = 0; i < hidden; i++) {
        const a = f(o[at + i]! - mean);
        o[at + i] = a;
        sum = f(sum + f(a * a));
      }
      const e = f(Math.sqrt(f(f(sum / hidden) + epsilon)));
      for (let i = 0; i < hidden; i++) {
        const gamma = f((g.data[i]! - g.zero) * g.scale);
        const beta = f((bt.data[i]! - bt.zero) * bt.scale);
        o[at + i] = f(f(o[at + i]! / e) * gamma) + beta;
      }
    }
    const results: Tensor[] = [y];
    if (wanted(node, 1)) results[1] = maskIndex(inputs[MASK], batch, seq, out);
    return results;
  },
};
