/**
 * intraOpNumThreads: splitting the GEMMs between threads must not change a single bit, and
 * release() must end the worker threads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { attention } from '../kernels/attention.js';
import { gemmPacked, packB } from '../kernels/gemm.js';
import { biasGelu, gelu } from '../kernels/gelu.js';
import { withOnnxruntimeRounding } from '../kernels/mlas.js';
import { JOB_IDS, kernelPool, POOL_FACTORIES } from '../kernels/pool.js';
import { packQuantizedB, qgemm } from '../kernels/qgemm.js';
import { dynamicQuantizeLinear } from '../kernels/quantize.js';
import { withPool, type ThreadPool } from '../kernels/threads.js';
import { InferenceSession } from '../src/session.js';
import { Tensor } from '../src/tensor.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/models/', import.meta.url));
const BENCH = fileURLToPath(new URL('../bench/models/', import.meta.url));

/** Deterministic pseudo-random numbers (xorshift32). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Token-like feeds for every input: ids below 100 (inside any fixture vocabulary), masks of ones. */
function feedsFor(session: InferenceSession, batch: number, seq: number, seed: number): Record<string, Tensor> {
  const next = random(seed);
  const feeds: Record<string, Tensor> = {};
  for (const meta of session.inputMetadata) {
    const data = new BigInt64Array(batch * seq);
    if (meta.name.includes('mask')) data.fill(1n);
    else if (!meta.name.includes('type')) for (let i = 0; i < data.length; i++) data[i] = BigInt(1 + Math.floor(next() * 99));
    feeds[meta.name] = new Tensor(meta.type as 'int64', data, [batch, seq]);
  }
  return feeds;
}

function bits(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

async function expectSameOutputs(path: string, batch: number, seq: number): Promise<void> {
  const bytes = readFileSync(path);
  const one = await InferenceSession.create(bytes);
  const two = await InferenceSession.create(bytes, { intraOpNumThreads: 2 });
  try {
    for (const seed of [1, 2]) {
      const feeds = feedsFor(one, batch, seq, seed);
      const expected = await one.run(feeds);
      const actual = await two.run(feeds);
      for (const name of one.outputNames) expect(Buffer.compare(bits(actual[name]!), bits(expected[name]!)), `${name} (seed ${seed})`).toBe(0);
    }
  } finally {
    await two.release();
  }
}

describe('intraOpNumThreads 2 gives the bits of 1 thread', () => {
  // Batch 8 × 64 tokens makes the fixtures' GEMMs large enough to be split.
  for (const model of [
    'tiny-bert-cls.opset14',
    'tiny-bert-cls.opset14.int8',
    'tiny-bert-cls.opset14.int8pc',
    'tiny-mobilebert-cls.opset14.int8',
    'tiny-distilbert-cls.opset17',
    'tiny-sbert.opset14.int8',
  ]) {
    it(model, () => expectSameOutputs(`${FIXTURES}${model}.onnx`, 8, 64));
  }
  for (const model of ['tinybert-cls.opset14', 'tinybert-cls.opset14.int8']) {
    it.runIf(existsSync(`${BENCH}${model}.onnx`))(`${model} (full size, 1 × 128)`, () => expectSameOutputs(`${BENCH}${model}.onnx`, 1, 128));
  }
});

describe('split kernels', () => {
  it('gemmPacked: ragged rows, transposed A, bias, accumulation, unshared operands', async () => {
    const pool = kernelPool(3);
    try {
      const next = random(7);
      for (const [M, N, K, transA, accumulate] of [
        [131, 97, 600, false, false],
        [100, 64, 1100, true, true],
        [7, 1024, 300, false, true],
      ] as const) {
        const a = Float32Array.from({ length: M * K + 5 }, () => next() - 0.5);
        const b = Float32Array.from({ length: K * N }, () => next() - 0.5);
        const bias = Float32Array.from({ length: N + 2 }, () => next());
        const c0 = Float32Array.from({ length: M * N + 3 }, () => next());
        const packed = packB(b, 0, K, N, false);
        const lda = transA ? M : K;
        const single = c0.slice();
        gemmPacked(M, N, K, a, 5, lda, transA, packed, single, 3, N, bias, 2, accumulate);
        const split = c0.slice();
        withPool(pool, () => gemmPacked(M, N, K, a, 5, lda, transA, packed, split, 3, N, bias, 2, accumulate));
        expect(Buffer.compare(Buffer.from(split.buffer), Buffer.from(single.buffer))).toBe(0);
      }
    } finally {
      await pool.terminate();
    }
  });

  it('qgemm: uint8 and int8, per-row and per-column zero points', async () => {
    const pool = kernelPool(2);
    try {
      const next = random(11);
      for (const [m, k, n, signed] of [
        [125, 312, 1200, false],
        [64, 5000, 40, true],
      ] as const) {
        const a = signed ? Int8Array.from({ length: m * k }, () => Math.floor(next() * 256) - 128) : Uint8Array.from({ length: m * k }, () => Math.floor(next() * 256));
        const b = Uint8Array.from({ length: k * n }, () => Math.floor(next() * 256));
        const aZero = Int32Array.from({ length: m }, () => Math.floor(next() * 256) - (signed ? 128 : 0));
        const bZero = Int32Array.from({ length: n }, () => Math.floor(next() * 256));
        const packed = packQuantizedB(b, 0, k, n);
        const single = new Int32Array(m * n);
        qgemm(m, a, 0, aZero, packed, bZero, single, 0);
        const split = new Int32Array(m * n);
        withPool(pool, () => qgemm(m, a, 0, aZero, packed, bZero, split, 0));
        expect(split).toEqual(single);
      }
    } finally {
      await pool.terminate();
    }
  });
});

/** Same bytes, element for element (NaN included). */
function expectSameBits(actual: ArrayBufferView, expected: ArrayBufferView): void {
  const view = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  expect(Buffer.compare(view(actual), view(expected))).toBe(0);
}

describe('split kernels beyond the GEMMs', () => {
  it('numbers each factory by the job id its module uses', () => {
    POOL_FACTORIES.forEach((factory, id) => expect(JOB_IDS[id as keyof typeof JOB_IDS]).toBe(factory));
    expect(Object.keys(JOB_IDS)).toHaveLength(POOL_FACTORIES.length);
  });

  it('attention: (batch, head) pairs split, packed QKV and separate tensors, with and without a mask', async () => {
    const pool = kernelPool(3);
    try {
      const next = random(5);
      for (const [batch, heads, seqQ, seqK, headDim, packed, masked, maskStride] of [
        [1, 12, 128, 128, 32, true, true, 128],
        [3, 5, 37, 41, 24, false, true, 0],
        [2, 7, 64, 64, 20, false, false, 0],
      ] as const) {
        const hidden = heads * headDim;
        const stride = packed ? 3 * hidden : hidden;
        const q = Float32Array.from({ length: batch * Math.max(seqQ, seqK) * stride + 7 }, () => next() - 0.5);
        const k = packed ? q : Float32Array.from({ length: batch * seqK * stride }, () => next() - 0.5);
        const v = packed ? q : Float32Array.from({ length: batch * seqK * stride }, () => next() - 0.5);
        const [kOff, vOff] = packed ? [hidden, 2 * hidden] : [0, 0];
        const mask = masked ? Float32Array.from({ length: batch * seqK + 2 }, () => (next() < 0.2 ? -10000 : 0)) : null;
        const out0 = Float32Array.from({ length: batch * seqQ * hidden + 3 }, () => next());
        const run = (o: Float32Array) =>
          attention(q, 7, k, kOff, v, vOff, o, 3, batch, heads, seqQ, seqK, headDim, stride, stride, stride, hidden, 0.125, mask, 2, maskStride);
        for (const exact of [false, true]) {
          const single = out0.slice();
          withOnnxruntimeRounding(exact, () => run(single));
          const split = out0.slice();
          withOnnxruntimeRounding(exact, () => withPool(pool, () => run(split)));
          expectSameBits(split, single);
        }
      }
    } finally {
      await pool.terminate();
    }
  });

  it('gelu and biasGelu: flat and row splits with ragged tails, in place and out of place', async () => {
    const pool = kernelPool(2);
    try {
      const next = random(9);
      for (const n of [(1 << 14) + 1, 100_003]) {
        const src = Float32Array.from({ length: n + 4 }, () => 8 * next() - 4);
        for (const exact of [false, true]) {
          const single = new Float32Array(n + 6);
          withOnnxruntimeRounding(exact, () => gelu(src, 4, single, 6, n));
          const split = new Float32Array(n + 6);
          withOnnxruntimeRounding(exact, () => withPool(pool, () => gelu(src, 4, split, 6, n)));
          expectSameBits(split, single);
          const inPlace = src.slice();
          withOnnxruntimeRounding(exact, () => withPool(pool, () => gelu(inPlace, 4, inPlace, 4, n)));
          expectSameBits(inPlace.subarray(4), single.subarray(6));
        }
      }
      for (const [rows, cols] of [[128, 1200], [97, 257]] as const) {
        const src = Float32Array.from({ length: rows * cols }, () => 8 * next() - 4);
        const bias = Float32Array.from({ length: cols + 1 }, () => next() - 0.5);
        const single = new Float32Array(rows * cols);
        biasGelu(src, 0, bias, 1, single, 0, rows, cols);
        const split = src.slice();
        withPool(pool, () => biasGelu(split, 0, bias, 1, split, 0, rows, cols));
        expectSameBits(split, single);
      }
    } finally {
      await pool.terminate();
    }
  });

  it('dynamicQuantizeLinear: the range and the values over chunks, ragged last chunk', async () => {
    const pool = kernelPool(3);
    try {
      const next = random(13);
      for (const [n, lo, hi] of [[39_936, -3, 5], [153_601, 0.5, 2], [70_001, -4, -1]] as const) {
        const x = Float32Array.from({ length: n + 5 }, () => lo + (hi - lo) * next());
        const single = new Uint8Array(n + 1);
        const p1 = dynamicQuantizeLinear(x, 5, n, single, 1);
        const split = new Uint8Array(n + 1);
        const p2 = withPool(pool, () => dynamicQuantizeLinear(x, 5, n, split, 1));
        expect(p2).toEqual(p1);
        expectSameBits(split, single);
      }
    } finally {
      await pool.terminate();
    }
  });
});

describe('split qgemm with its float32 epilogue', () => {
  it('converts each row on the thread that computed it, in place or into another array', async () => {
    const pool = kernelPool(3);
    try {
      const next = random(17);
      const [m, k, n] = [97, 200, 130];
      const a = Uint8Array.from({ length: m * k }, () => Math.floor(next() * 256));
      const b = Int8Array.from({ length: k * n }, () => Math.floor(next() * 256) - 128);
      const packed = packQuantizedB(b, 0, k, n);
      const aZero = Int32Array.of(131);
      const bZero = Int32Array.from({ length: n }, () => Math.floor(next() * 16) - 8);
      const scale = Float32Array.from({ length: n }, () => next() * 1e-3);
      const bias = Float32Array.from({ length: n }, () => next() - 0.5);
      const single = new Int32Array(m * n);
      const singleOut = new Float32Array(m * n);
      qgemm(m, a, 0, aZero, packed, bZero, single, 0, { scale, bias, out: singleOut });
      // The sums are finished before the epilogue reads them, and stay in C.
      const sums = new Int32Array(m * n);
      qgemm(m, a, 0, aZero, packed, bZero, sums, 0);
      expect(single).toEqual(sums);
      const expected = Float32Array.from(sums, (v, i) => Math.fround(Math.fround(v) * scale[i % n]!) + bias[i % n]!);
      expectSameBits(singleOut, expected);
      // In place, as MatMulIntegerToFloat runs it: the float32 view over C's own bytes.
      const shared = new Int32Array(new SharedArrayBuffer(m * n * 4));
      withPool(pool, () => qgemm(m, a, 0, aZero, packed, bZero, shared, 0, { scale, bias, out: new Float32Array(shared.buffer) }));
      expectSameBits(new Float32Array(shared.buffer), expected);
      const other = new Float32Array(m * n);
      withPool(pool, () => qgemm(m, a, 0, aZero, packed, bZero, new Int32Array(m * n), 0, { scale, bias: null, out: other }));
      expectSameBits(other, Float32Array.from(sums, (v, i) => Math.fround(v) * scale[i % n]!));
    } finally {
      await pool.terminate();
    }
  });
});

describe('worker lifetime', () => {
  it('release() terminates the workers; the session then runs on one thread', async () => {
    const bytes = readFileSync(`${FIXTURES}tiny-bert-cls.opset14.onnx`);
    const session = await InferenceSession.create(bytes, { intraOpNumThreads: 3 });
    const pool = (session as unknown as { pool: ThreadPool }).pool;
    const workers = (pool as unknown as { workers: { worker: import('node:worker_threads').Worker }[] }).workers.map((w) => w.worker);
    expect(workers).toHaveLength(2);
    const exits = workers.map((w) => new Promise<number>((resolve) => w.once('exit', resolve)));
    const feeds = feedsFor(session, 8, 64, 3);
    const before = await session.run(feeds);
    await session.release();
    await Promise.all(exits);
    const after = await session.run(feeds);
    for (const name of session.outputNames) expect(Buffer.compare(bits(after[name]!), bits(before[name]!))).toBe(0);
  });

  it('rejects a thread count that is not an integer from 0 to 256', async () => {
    const bytes = readFileSync(`${FIXTURES}tiny-bert-cls.opset14.onnx`);
    for (const bad of [-1, 1.5, 1000]) {
      await expect(InferenceSession.create(bytes, { intraOpNumThreads: bad })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });
});
