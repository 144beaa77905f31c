/**
 * The com.microsoft ops onnxruntime's dynamic quantizer writes for a graph its transformer
 * optimizer fused, against onnxruntime-node:
 * - QAttention, in the graph made of an Attention node: DynamicQuantizeLinear → QAttention.
 *   Weights uint8 or int8, their scales and zero points per tensor or per column, every mask
 *   form, causal or not. Where lambert reproduces onnxruntime's float rounding (x86-64 AVX-512)
 *   the outputs must have the same bits; elsewhere they must agree within 1e-5.
 * - QEmbedLayerNormalization, uint8 and int8 tables, with and without segments: bit for bit on any
 *   CPU (onnxruntime's kernel is plain float32 C++).
 */
import { describe, expect, it } from 'vitest';
import { onnx } from '../src/proto.js';
import { InferenceSession } from '../src/session.js';
import { Tensor } from '../src/tensor.js';
import { MLAS_AVX512 as avx512, ortRun, ortSaturatesU8S8 } from './helpers/ort.js';
import { random } from './helpers/random.js';

const T = onnx.TensorProto.DataType;

interface Case {
  readonly name: string;
  readonly batch: number;
  readonly seq: number;
  readonly inputHidden: number;
  readonly heads: number;
  readonly headSize: number;
  readonly signedWeights: boolean;
  readonly perColumn: boolean;
  /** Omit the weight zero point input (zero). */
  readonly noWeightZero?: boolean;
  readonly mask?: 'end' | 'endStart' | 'keys' | 'rows';
  readonly unidirectional?: boolean;
}

const CASES: Case[] = [
  { name: 'uint8 weights, per-tensor, no mask', batch: 2, seq: 7, inputHidden: 16, heads: 3, headSize: 4, signedWeights: false, perColumn: false },
  { name: 'int8 weights, per-column, key lengths (B)', batch: 2, seq: 9, inputHidden: 24, heads: 2, headSize: 8, signedWeights: true, perColumn: true, mask: 'end' },
  { name: 'int8 weights, per-tensor, end and start positions (2B)', batch: 3, seq: 6, inputHidden: 12, heads: 4, headSize: 3, signedWeights: true, perColumn: false, mask: 'endStart' },
  { name: 'uint8 weights, per-column, 0/1 key mask (B, S)', batch: 2, seq: 11, inputHidden: 20, heads: 2, headSize: 5, signedWeights: false, perColumn: true, mask: 'keys' },
  { name: 'int8 weights without zero point, per-row mask (B, S, S)', batch: 1, seq: 8, inputHidden: 16, heads: 2, headSize: 8, signedWeights: true, perColumn: true, noWeightZero: true, mask: 'rows' },
  { name: 'uint8 weights, unidirectional with a key mask', batch: 2, seq: 10, inputHidden: 18, heads: 3, headSize: 6, signedWeights: false, perColumn: false, mask: 'keys', unidirectional: true },
];

function maskOf(c: Case, next: () => number): Tensor | undefined {
  const { batch: B, seq: S } = c;
  switch (c.mask) {
    case 'end':
      return new Tensor('int32', Int32Array.from({ length: B }, (_, b) => S - 2 * b), [B]);
    case 'endStart':
      return new Tensor('int32', Int32Array.from({ length: 2 * B }, (_, i) => (i < B ? S - i : i - B)), [2 * B]);
    case 'keys':
      return new Tensor('int32', Int32Array.from({ length: B * S }, (_, i) => (i % S === 0 || next() < 0.7 ? 1 : 0)), [B, S]);
    case 'rows':
      return new Tensor('int32', Int32Array.from({ length: B * S * S }, (_, i) => (i % S === 0 || next() < 0.6 ? 1 : 0)), [B, S, S]);
    default:
      return undefined;
  }
}

/**
 * The model, with its weights as `weightType`. Re-expressing int8 weights as uint8 (w + 128 with
 * zero point + 128) leaves every w − zero point, hence the operator's result, unchanged; the
 * onnxruntime copy gets that form on hosts where its uint8 × int8 kernel saturates (test/helpers/ort.ts).
 */
function model(c: Case, weights: Int8Array, zero: Int8Array, scales: Float32Array, bias: Float32Array, mask: Tensor | undefined, asUint8: boolean): Uint8Array {
  const n = 3 * c.heads * c.headSize;
  const shift = asUint8 ? 128 : 0;
  const bytes = (v: Int8Array) => Uint8Array.from(v, (x) => (x + shift) & 255);
  const wType = c.signedWeights && !asUint8 ? T.INT8 : T.UINT8;
  const perColumnDims = c.perColumn ? [n] : [];
  const initializer: onnx.ITensorProto[] = [
    { name: 'W', dims: [c.inputHidden, n], dataType: wType, rawData: bytes(weights) },
    { name: 'W_scale', dims: perColumnDims, dataType: T.FLOAT, floatData: Array.from(scales) },
    { name: 'bias', dims: [n], dataType: T.FLOAT, floatData: Array.from(bias) },
  ];
  if (!c.noWeightZero) initializer.push({ name: 'W_zero', dims: perColumnDims, dataType: wType, rawData: bytes(zero) });
  const info = (name: string, elemType: number, dims: readonly number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const input = [info('x', T.FLOAT, [c.batch, c.seq, c.inputHidden])];
  if (mask) input.push(info('mask', T.INT32, mask.dims));
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 14 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'qattention',
      node: [
        { opType: 'DynamicQuantizeLinear', input: ['x'], output: ['xq', 'x_scale', 'x_zero'] },
        {
          opType: 'QAttention',
          domain: 'com.microsoft',
          input: ['xq', 'W', 'bias', 'x_scale', 'W_scale', mask ? 'mask' : '', 'x_zero', c.noWeightZero ? '' : 'W_zero'],
          output: ['y'],
          attribute: [
            { name: 'num_heads', type: onnx.AttributeProto.AttributeType.INT, i: c.heads },
            { name: 'unidirectional', type: onnx.AttributeProto.AttributeType.INT, i: c.unidirectional ? 1 : 0 },
          ],
        },
      ],
      initializer,
      input,
      output: [info('y', T.FLOAT, [c.batch, c.seq, c.heads * c.headSize])],
    },
  }).finish();
}

describe('com.microsoft QAttention agrees with onnxruntime', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const next = random(c.seq * 31 + c.inputHidden);
      const n = 3 * c.heads * c.headSize;
      const weights = Int8Array.from({ length: c.inputHidden * n }, () => Math.floor(next() * 256) - 128);
      const columns = c.perColumn ? n : 1;
      const zero = Int8Array.from({ length: columns }, () => Math.floor(next() * 9) - 4 + (c.signedWeights ? 0 : 128));
      const scales = Float32Array.from({ length: columns }, () => 0.002 + next() * 0.01);
      const bias = Float32Array.from({ length: n }, () => next() - 0.5);
      const x = Float32Array.from({ length: c.batch * c.seq * c.inputHidden }, () => (next() - 0.4) * 6);
      const mask = maskOf(c, next);
      const feeds: Record<string, Tensor> = { x: new Tensor('float32', x, [c.batch, c.seq, c.inputHidden]) };
      if (mask) feeds.mask = mask;

      // Stored as uint8, a "uint8" case's weights are the int8 values + 128.
      const ours = model(c, weights, zero, scales, bias, mask, !c.signedWeights);
      const theirs = c.signedWeights && (await ortSaturatesU8S8()) ? model(c, weights, zero, scales, bias, mask, true) : ours;
      const session = await InferenceSession.create(ours);
      expect(session.roundsLikeOnnxruntime).toBe(true);
      const a = (await session.run(feeds)).y!.data as Float32Array;
      const b = (await ortRun(theirs, feeds)).y!.data as Float32Array;
      expect(a.length).toBe(b.length);
      let worst = 0;
      let differing = 0;
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        if (!Object.is(a[i], b[i])) differing++;
      }
      if (avx512) expect(differing, `${differing} of ${a.length} values differ from onnxruntime (worst ${worst})`).toBe(0);
      else expect(worst).toBeLessThan(1e-5);
      // The float64 path rounds differently but stays close.
      const fast = await InferenceSession.create(ours, { floatRounding: 'fast' });
      const f = (await fast.run(feeds)).y!.data as Float32Array;
      let fastWorst = 0;
      for (let i = 0; i < a.length; i++) fastWorst = Math.max(fastWorst, Math.abs(f[i]! - b[i]!));
      expect(fastWorst).toBeLessThan(1e-4);
    });
  }

  it('rejects past state as UNSUPPORTED_OP', async () => {
    const c = CASES[0]!;
    const n = 3 * c.heads * c.headSize;
    const bytes = model(c, new Int8Array(c.inputHidden * n), new Int8Array(1), Float32Array.of(0.01), new Float32Array(n), undefined, true);
    const m = onnx.ModelProto.decode(bytes);
    const q = m.graph!.node![1]!;
    q.input!.push('past');
    m.graph!.input!.push({ name: 'past', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [2, 2, 3, 0, 4].map((d) => ({ dimValue: d })) } } } });
    const session = await InferenceSession.create(onnx.ModelProto.encode(m).finish());
    const feeds = { x: new Tensor('float32', new Float32Array(c.batch * c.seq * c.inputHidden), [c.batch, c.seq, c.inputHidden]), past: new Tensor('float32', new Float32Array(0), [2, 2, 3, 0, 4]) };
    await expect(session.run(feeds)).rejects.toMatchObject({ code: 'UNSUPPORTED_OP', message: expect.stringMatching(/QAttention.*past\/present/) });
  });
});

interface EmbedCase {
  readonly name: string;
  readonly signed: boolean;
  readonly segments: boolean;
  readonly mask: boolean;
  readonly epsilon?: number;
}

function embedModel(c: EmbedCase, hidden: number, vocab: number, positions: number, tables: Record<string, Int8Array>, params: Record<string, [number, number]>): Uint8Array {
  const type = c.signed ? T.INT8 : T.UINT8;
  const bytes = (v: Int8Array) => Uint8Array.from(v, (x) => (c.signed ? x : x + 128) & 255);
  const names = ['word', 'position', 'segment', 'gamma', 'beta'];
  const initializer: onnx.ITensorProto[] = [];
  const dims: Record<string, number[]> = { word: [vocab, hidden], position: [positions, hidden], segment: [2, hidden], gamma: [hidden], beta: [hidden] };
  for (const n of names) {
    if (n === 'segment' && !c.segments) continue;
    initializer.push({ name: n, dims: dims[n], dataType: type, rawData: bytes(tables[n]!) });
    initializer.push({ name: `${n}_scale`, dims: [], dataType: T.FLOAT, floatData: [params[n]![0]] });
    initializer.push({ name: `${n}_zero`, dims: [], dataType: type, rawData: bytes(Int8Array.of(params[n]![1])) });
  }
  const info = (name: string, elemType: number, d: readonly number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: d.map((x) => ({ dimValue: x })) } } } });
  const input = [info('ids', T.INT32, [2, 9])];
  if (c.segments) input.push(info('segments', T.INT32, [2, 9]));
  if (c.mask) input.push(info('mask', T.INT32, [2, 9]));
  const seg = (n: string) => (c.segments ? n : '');
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 14 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'qembed',
      node: [
        {
          opType: 'QEmbedLayerNormalization',
          domain: 'com.microsoft',
          input: ['ids', seg('segments'), 'word', 'position', seg('segment'), 'gamma', 'beta', c.mask ? 'mask' : '',
            'word_scale', 'position_scale', seg('segment_scale'), 'gamma_scale', 'beta_scale',
            'word_zero', 'position_zero', seg('segment_zero'), 'gamma_zero', 'beta_zero'],
          output: ['y', 'mask_index'],
          attribute: c.epsilon === undefined ? [] : [{ name: 'epsilon', type: onnx.AttributeProto.AttributeType.FLOAT, f: c.epsilon }],
        },
      ],
      initializer,
      input,
      output: [info('y', T.FLOAT, [2, 9, hidden]), info('mask_index', T.INT32, [2])],
    },
  }).finish();
}

describe('com.microsoft QEmbedLayerNormalization agrees with onnxruntime bit for bit', () => {
  const cases: EmbedCase[] = [
    { name: 'uint8 tables, segments and mask (BERT)', signed: false, segments: true, mask: true },
    { name: 'int8 tables, no segments (DistilBERT), epsilon 1e-5', signed: true, segments: false, mask: false, epsilon: 1e-5 },
    { name: 'uint8 tables, segments, no mask', signed: false, segments: true, mask: false },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const next = random(c.name.length);
      const hidden = 24;
      const vocab = 50;
      const positions = 12;
      const table = (n: number) => Int8Array.from({ length: n }, () => Math.floor(next() * 256) - 128);
      const tables = { word: table(vocab * hidden), position: table(positions * hidden), segment: table(2 * hidden), gamma: table(hidden), beta: table(hidden) };
      const params: Record<string, [number, number]> = {};
      for (const n of Object.keys(tables)) params[n] = [0.001 + next() * 0.02, Math.floor(next() * 21) - 10];
      const bytes = embedModel(c, hidden, vocab, positions, tables, params);
      const feeds: Record<string, Tensor> = { ids: new Tensor('int32', Int32Array.from({ length: 18 }, () => Math.floor(next() * vocab)), [2, 9]) };
      if (c.segments) feeds.segments = new Tensor('int32', Int32Array.from({ length: 18 }, (_, i) => (i % 9 > 4 ? 1 : 0)), [2, 9]);
      if (c.mask) feeds.mask = new Tensor('int32', Int32Array.from({ length: 18 }, (_, i) => (i < 9 || i % 9 < 6 ? 1 : 0)), [2, 9]);
      const ours = await (await InferenceSession.create(bytes)).run(feeds);
      const theirs = await ortRun(bytes, feeds);
      const a = ours.y!.data as Float32Array;
      const b = theirs.y!.data as Float32Array;
      const differing = [...a.keys()].filter((i) => !Object.is(a[i], b[i]));
      expect(differing.length, `${differing.length} of ${a.length} values differ, first at ${differing[0]}: ${a[differing[0]!]} vs ${b[differing[0]!]}`).toBe(0);
      expect(Array.from(ours.mask_index!.data as Int32Array)).toEqual(Array.from(theirs.mask_index!.data as Int32Array));
    });
  }

  it('names the offending id when one is out of range', async () => {
    const c: EmbedCase = { name: 'range', signed: false, segments: false, mask: false };
    const tables = { word: new Int8Array(50 * 24), position: new Int8Array(12 * 24), segment: new Int8Array(48), gamma: new Int8Array(24), beta: new Int8Array(24) };
    const params = { word: [0.1, 0], position: [0.1, 0], segment: [0.1, 0], gamma: [0.1, 0], beta: [0.1, 0] } as Record<string, [number, number]>;
    const session = await InferenceSession.create(embedModel(c, 24, 50, 12, tables, params));
    const ids = Int32Array.from({ length: 18 }, (_, i) => (i === 13 ? 50 : 1));
    await expect(session.run({ ids: new Tensor('int32', ids, [2, 9]) })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/input_id 50 at position 13/) });
  });
});
