/**
 * intraOpNumThreads: splitting the GEMMs between threads must not change a single bit, and
 * release() must end the worker threads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gemmKernels, gemmPacked, packB } from '../kernels/gemm.js';
import { packQuantizedB, qgemm, qgemmKernels } from '../kernels/qgemm.js';
import { ThreadPool, withPool } from '../kernels/threads.js';
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
    const pool = new ThreadPool(3, [gemmKernels, qgemmKernels]);
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
    const pool = new ThreadPool(2, [gemmKernels, qgemmKernels]);
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
