/**
 * The float32 kernels that feed int8 re-quantization round exactly as onnxruntime's CPU kernels
 * (MLAS) do: LayerNormalization, Softmax, Gelu, Erf and products of two activations, bit for bit
 * against onnxruntime-node on random inputs — and, because of that, int8 models agree with
 * onnxruntime end to end on inputs the fixtures do not have.
 *
 * MLAS picks its kernels by instruction set; lambert reproduces the x86-64 AVX-512 ones (the
 * AVX2 ones sum softmax and layer norm in another order), so elsewhere those suites are skipped.
 * The fast (float64) path is held to onnxruntime within 1e-6 on the special values on any CPU.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { onnx } from '../src/proto.js';
import { InferenceSession } from '../src/session.js';
import { Tensor } from '../src/tensor.js';
import { MLAS_AVX512 as avx512, forOrtOracle, ortRun } from './helpers/ort.js';
import { random } from './helpers/random.js';

const T = onnx.TensorProto.DataType;
const FIXTURES = fileURLToPath(new URL('./fixtures/models/', import.meta.url));
const BENCH = fileURLToPath(new URL('../bench/models/', import.meta.url));

function floats(n: number, next: () => number, scale: number, center = 0): Float32Array {
  return Float32Array.from({ length: n }, () => center + (next() - 0.5) * 2 * scale);
}

/** A one-node float32 model with the given inputs (name → dims) and one output `y`. */
function singleOp(node: onnx.INodeProto, inputs: Record<string, number[]>, opset = 17): Uint8Array {
  const info = (name: string, dims?: number[]) => ({
    name,
    type: { tensorType: { elemType: T.FLOAT, ...(dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {}) } },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }, { domain: 'com.microsoft', version: 1 }],
    graph: { name: 'g', node: [{ ...node, output: ['y'] }], input: Object.entries(inputs).map(([n, d]) => info(n, d)), output: [info('y')] },
  }).finish();
}

/**
 * Runs `model` in lambert with the given float rounding and in onnxruntime: with 'onnxruntime'
 * every value must have the same bits; with 'fast' each must be within `tolerance`, and NaN,
 * ±Infinity and the sign of zero must be where onnxruntime has them.
 */
async function expectAgreement(model: Uint8Array, feeds: Record<string, Tensor>, floatRounding: 'onnxruntime' | 'fast' = 'onnxruntime', tolerance = 0): Promise<void> {
  const session = await InferenceSession.create(model, { floatRounding, rejectNonFinite: false });
  const [ours, theirs] = [await session.run(feeds), await ortRun(model, feeds)];
  const a = ours.y!.data as Float32Array;
  const b = theirs.y!.data as Float32Array;
  expect(a.length).toBe(b.length);
  const agrees = (x: number, y: number) => Object.is(x, y) || (Number.isFinite(y) && !(x === 0 && y === 0) && Math.abs(x - y) <= tolerance);
  const differing = [...a.keys()].filter((i) => !agrees(a[i]!, b[i]!));
  expect(differing.length, `${differing.length} of ${a.length} values differ from onnxruntime, first at ${differing[0]}: ${a[differing[0]!]} vs ${b[differing[0]!]}`).toBe(0);
}

const expectSameBits = (model: Uint8Array, feeds: Record<string, Tensor>) => expectAgreement(model, feeds);

const float = (data: Float32Array, dims: number[]) => new Tensor('float32', data, dims);

/** Softmax and LayerNormalization over rows that are partly or wholly −∞, huge, constant or zero. */
async function specialRows(floatRounding: 'onnxruntime' | 'fast', tolerance = 0): Promise<void> {
  const cols = 40;
  const next = random(9);
  const x = floats(8 * cols, next, 5);
  x.fill(-Infinity, 0, 10); // a row partly −∞, as a mask of −∞ makes it
  x.fill(-Infinity, cols, 2 * cols); // a row all −∞: NaN, as onnxruntime gives
  x.fill(3.5, 2 * cols, 3 * cols); // equal values: a uniform row, zero variance
  x.fill(0, 3 * cols, 4 * cols);
  x.set([1e30, -1e30, 3e38, -3e38, 1e-40, -0], 4 * cols);
  const softmax = singleOp({ opType: 'Softmax', input: ['x'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }] }, { x: [8, cols] });
  await expectAgreement(softmax, { x: float(x, [8, cols]) }, floatRounding, tolerance);
  const finite = x.map((v) => (Number.isFinite(v) ? v : 0));
  const layerNorm = singleOp({ opType: 'LayerNormalization', input: ['x', 'g', 'b'], attribute: [{ name: 'epsilon', type: onnx.AttributeProto.AttributeType.FLOAT, f: 1e-12 }] }, { x: [8, cols], g: [cols], b: [cols] });
  await expectAgreement(layerNorm, { x: float(finite, [8, cols]), g: float(floats(cols, next, 0.5, 1), [cols]), b: float(floats(cols, next, 0.5), [cols]) }, floatRounding, tolerance);
}

/** Erf and com.microsoft Gelu over both of MLAS's branches, their boundary and the special values. */
async function erfAndGelu(floatRounding: 'onnxruntime' | 'fast', tolerance = 0): Promise<void> {
  const x = floats(4096, random(5), 20);
  x.set([-0, 0, Infinity, -Infinity, NaN, 0.921875, -0.921875, 0.92187505, 3.925, -3.925, 1e-30, -1e-30, 1e-45, -1e-45]);
  await expectAgreement(singleOp({ opType: 'Erf', input: ['x'] }, { x: [4096] }), { x: float(x, [4096]) }, floatRounding, tolerance);
  await expectAgreement(singleOp({ opType: 'Gelu', domain: 'com.microsoft', input: ['x'] }, { x: [4096] }), { x: float(x, [4096]) }, floatRounding, tolerance);
}

describe.runIf(avx512)('float32 kernels round as onnxruntime (x86-64 AVX-512)', () => {
  for (const [cols, eps, center] of [[312, 1e-12, 0.3], [768, 1e-12, -1], [64, 1e-5, 2], [13, 1e-5, 0.1]] as const) {
    it(`LayerNormalization over ${cols}`, async () => {
      const next = random(cols);
      const model = singleOp({ opType: 'LayerNormalization', input: ['x', 'g', 'b'], attribute: [{ name: 'epsilon', type: onnx.AttributeProto.AttributeType.FLOAT, f: eps }] }, { x: [40, cols], g: [cols], b: [cols] });
      await expectSameBits(model, { x: float(floats(40 * cols, next, 3, center), [40, cols]), g: float(floats(cols, next, 0.5, 1), [cols]), b: float(floats(cols, next, 0.5), [cols]) });
    });
  }

  for (const cols of [77, 300, 16, 5]) {
    it(`Softmax over ${cols}`, async () => {
      const next = random(cols + 1);
      const model = singleOp({ opType: 'Softmax', input: ['x'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }] }, { x: [30, cols] });
      await expectSameBits(model, { x: float(floats(30 * cols, next, 12), [30, cols]) });
    });
  }

  it('Softmax and LayerNormalization on rows with −Infinity, huge, equal and zero values', () => specialRows('onnxruntime'));
  it('Erf and com.microsoft Gelu, both tails and signed zeros, infinities and NaN included', () => erfAndGelu('onnxruntime'));

  for (const [m, k, n] of [[37, 26, 45], [20, 300, 19]] as const) {
    it(`MatMul of two activations (${m}×${k} · ${k}×${n}) and FusedMatMul with alpha and transB`, async () => {
      const next = random(k);
      const a = float(floats(m * k, next, 1), [m, k]);
      await expectSameBits(singleOp({ opType: 'MatMul', input: ['a', 'b'] }, { a: [m, k], b: [k, n] }), { a, b: float(floats(k * n, next, 1), [k, n]) });
      const fused = singleOp(
        {
          opType: 'FusedMatMul',
          domain: 'com.microsoft',
          input: ['a', 'b'],
          attribute: [
            { name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0.19611613 },
            { name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
          ],
        },
        { a: [m, k], b: [n, k] },
      );
      await expectSameBits(fused, { a, b: float(floats(n * k, next, 1), [n, k]) });
    });
  }
});

/** Token feeds for every input of `session`: random ids below `vocab`, row r padded by 3r. */
function tokenFeeds(session: InferenceSession, batch: number, seq: number, vocab: number, seed: number): Record<string, Tensor> {
  const next = random(seed);
  const feeds: Record<string, Tensor> = {};
  const ids = Array.from({ length: batch * seq }, (_, i) => (i % seq === 0 ? 1 : 2 + Math.floor(next() * (vocab - 2))));
  for (const meta of session.inputMetadata) {
    const value = (i: number) => {
      const real = i % seq < seq - 3 * (Math.floor(i / seq) % 3);
      if (/mask/.test(meta.name)) return real ? 1 : 0;
      if (/token_type/.test(meta.name)) return real && i % seq >= seq / 2 ? 1 : 0;
      return real ? ids[i]! : 0;
    };
    feeds[meta.name] = new Tensor('int64', BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(value(i))), [batch, seq]);
  }
  return feeds;
}

/** Largest |lambert − onnxruntime| over every output, for `seeds` random token feeds. */
async function worstDifference(path: string, batch: number, seq: number, vocab: number, seeds: number[]): Promise<number> {
  const bytes = readFileSync(path);
  const session = await InferenceSession.create(bytes);
  const oracle = await forOrtOracle(bytes);
  let worst = 0;
  for (const seed of seeds) {
    const feeds = tokenFeeds(session, batch, seq, vocab, seed);
    const [ours, theirs] = [await session.run(feeds), await ortRun(oracle, feeds)];
    for (const [name, t] of Object.entries(theirs)) {
      const a = ours[name]!.data as Float32Array;
      const b = t.data as Float32Array;
      for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    }
  }
  return worst;
}

describe('the fast float path agrees with onnxruntime on special values (any CPU)', () => {
  it('Softmax and LayerNormalization rows', () => specialRows('fast', 1e-6));
  it('Erf and com.microsoft Gelu', () => erfAndGelu('fast', 1e-6));
});

describe.runIf(avx512)('int8 models agree with onnxruntime on random inputs', () => {
  it('round like onnxruntime by default, where float graphs do not', async () => {
    expect((await InferenceSession.create(readFileSync(`${FIXTURES}tiny-bert-cls.opset14.int8.onnx`))).roundsLikeOnnxruntime).toBe(true);
    expect((await InferenceSession.create(readFileSync(`${FIXTURES}tiny-bert-cls.opset14.onnx`))).roundsLikeOnnxruntime).toBe(false);
  });

  // A re-quantized value flipped by one float32 ulp upstream moves the outputs by ~1e-3 or more;
  // what is left without flips is the float32 tail after the last int8 layer (pooler, classifier).
  for (const model of ['tiny-bert-cls.opset14.int8', 'tiny-sbert.opset14.int8', 'tiny-distilbert-cls.opset14.int8rr', 'tiny-mobilebert-cls.opset14.int8pc', 'tiny-roberta-cls.opset14.int8rr']) {
    it(model, async () => {
      expect(await worstDifference(`${FIXTURES}${model}.onnx`, 3, 24, 1000, [1, 2, 3, 4, 5, 6, 7, 8])).toBeLessThan(1e-5);
    });
  }
  it('a sequence length that leaves remainders after every kernel block (21)', async () => {
    expect(await worstDifference(`${FIXTURES}tiny-bert-cls.opset14.int8.onnx`, 2, 21, 1000, [1, 2, 3])).toBeLessThan(1e-5);
  });
  it.runIf(existsSync(`${BENCH}tinybert-cls.opset14.int8.onnx`))('full-size TinyBERT-4 int8 (bench/models)', async () => {
    expect(await worstDifference(`${BENCH}tinybert-cls.opset14.int8.onnx`, 1, 64, 30522, [1, 2, 3, 4])).toBeLessThan(1e-5);
  });
});
