/**
 * Properties of the int8 kernels: the packed, register-blocked integer GEMM equals its naive
 * twin; DynamicQuantizeLinear is the spec's formula with round-half-to-even, ties included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packQuantizedB, qgemm, qgemmReference } from '../kernels/qgemm.js';
import { dynamicQuantizeLinear, type QuantArray } from '../kernels/quantize.js';
import { Attributes } from '../src/attributes.js';
import { freshAllocator } from '../src/plan.js';
import { MatMulInteger } from '../src/ops/matMulInteger.js';
import type { NodeInfo, OpDefinition } from '../src/ops/types.js';
import { Tensor } from '../src/tensor.js';

const RUNS = { numRuns: 150 };

/** Deterministic pseudo-random integers in [lo, hi]: fast-check shrinks the seed, not the data. */
function ints(seed: number, count: number, lo: number, hi: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo + 1));
  });
}

function quantArray(signed: boolean, values: number[]): QuantArray {
  return signed ? Int8Array.from(values) : Uint8Array.from(values);
}

function randomQuant(signed: boolean, seed: number, count: number): QuantArray {
  return quantArray(signed, ints(seed, count, signed ? -128 : 0, signed ? 127 : 255));
}

function nodeOf(def: OpDefinition<any>, inputs: string[]): NodeInfo {
  const owner = { name: `test_${def.opType}`, opType: def.opType };
  return { ...owner, domain: '', opset: 14, attrs: new Attributes(new Map(), owner), inputs, outputs: ['y'], cache: new Map() };
}

/** Runs an op the way the planner folds constants: infer, prepare, run. */
function runOp(def: OpDefinition<any>, inputs: (Tensor | undefined)[]): Tensor[] {
  const node = nodeOf(def, inputs.map((t, i) => (t ? `in${i}` : '')));
  const metas = inputs.map((t) => t && { dtype: t.type, shape: t.dims, value: t });
  def.infer(node, metas);
  return def.run(node, inputs, freshAllocator, def.prepare?.(node, metas));
}

const gemmCase = fc.record({
  m: fc.integer({ min: 0, max: 19 }),
  k: fc.integer({ min: 0, max: 41 }),
  n: fc.integer({ min: 0, max: 23 }),
  aSigned: fc.boolean(),
  bSigned: fc.boolean(),
  aPerRow: fc.boolean(),
  bPerCol: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});

describe('qgemm', () => {
  it('equals the naive reference for any shape, signedness and zero points', () => {
    fc.assert(
      fc.property(gemmCase, ({ m, k, n, aSigned, bSigned, aPerRow, bPerCol, seed }) => {
        const aOff = 3;
        const a = randomQuant(aSigned, seed, aOff + m * k);
        const b = randomQuant(bSigned, seed + 1, k * n);
        const zeroPoints = (signed: boolean, count: number, s: number) => Int32Array.from(randomQuant(signed, s, count));
        const aZero = zeroPoints(aSigned, aPerRow ? Math.max(m, 1) : 1, seed + 2);
        const bZero = zeroPoints(bSigned, bPerCol ? Math.max(n, 1) : 1, seed + 3);
        const expected = new Int32Array(m * n + 2);
        const actual = new Int32Array(m * n + 2);
        qgemmReference(m, k, n, a, aOff, aZero, b, 0, bZero, expected, 2);
        qgemm(m, a, aOff, aZero, packQuantizedB(b, 0, k, n), bZero, actual, 2);
        expect(actual).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('MatMulInteger batches like numpy.matmul, with per-tensor or per-row A and per-column B zero points', () => {
    // Each side keeps a suffix of the output batch dims, some of them squeezed to 1.
    const side = fc.record({ rank: fc.integer({ min: 0, max: 2 }), ones: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }) });
    const matmulCase = fc.record({
      batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      sideA: side,
      sideB: side,
      m: fc.integer({ min: 1, max: 6 }),
      k: fc.integer({ min: 1, max: 9 }),
      n: fc.integer({ min: 1, max: 7 }),
      aSigned: fc.boolean(),
      bSigned: fc.boolean(),
      aPerRow: fc.boolean(),
      bPerCol: fc.boolean(),
      seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    });
    const count = (dims: readonly number[]) => dims.reduce((x, y) => x * y, 1);
    fc.assert(
      fc.property(matmulCase, ({ batch, sideA, sideB, m, k, n, aSigned, bSigned, aPerRow, bPerCol, seed }) => {
        const dimsOf = ({ rank, ones }: { rank: number; ones: boolean[] }) =>
          batch.slice(batch.length - Math.min(rank, batch.length)).map((d, i) => (ones[i] ? 1 : d));
        const batchA = dimsOf(sideA);
        const batchB = dimsOf(sideB);
        const rank = Math.max(batchA.length, batchB.length);
        const outBatch = batch.slice(batch.length - rank).map((_, i) => {
          const da = batchA[i - (rank - batchA.length)] ?? 1;
          const db = batchB[i - (rank - batchB.length)] ?? 1;
          return Math.max(da, db);
        });
        const a = randomQuant(aSigned, seed, count(batchA) * m * k);
        const b = randomQuant(bSigned, seed + 1, count(batchB) * k * n);
        const aZero = randomQuant(aSigned, seed + 2, aPerRow ? m : 1);
        const bZero = randomQuant(bSigned, seed + 3, bPerCol ? n : 1);
        const [y] = runOp(MatMulInteger, [
          new Tensor(a, [...batchA, m, k]),
          new Tensor(b, [...batchB, k, n]),
          new Tensor(aZero, aPerRow ? [m, 1] : []),
          new Tensor(bZero, bPerCol ? [n] : []),
        ]);
        expect(y!.dims).toEqual([...outBatch, m, n]);
        // Linear index of a broadcast operand's matrix for output batch multi-index `idx`.
        const matrixOf = (idx: number[], dims: number[]) =>
          dims.reduce((acc, d, i) => acc * d + (d === 1 ? 0 : idx[idx.length - dims.length + i]!), 0);
        const expected = new Int32Array(count(outBatch) * m * n);
        for (let ob = 0; ob < count(outBatch); ob++) {
          const idx: number[] = [];
          for (let d = outBatch.length - 1, r = ob; d >= 0; d--) {
            idx[d] = r % outBatch[d]!;
            r = Math.floor(r / outBatch[d]!);
          }
          const aOff = matrixOf(idx, batchA) * m * k;
          const bOff = matrixOf(idx, batchB) * k * n;
          qgemmReference(m, k, n, a, aOff, Int32Array.from(aZero), b, bOff, Int32Array.from(bZero), expected, ob * m * n);
        }
        expect(y!.data).toEqual(expected);
      }),
      RUNS,
    );
  });
});

/** The spec's round: to nearest, ties to even, written out without the kernels' trick. */
function roundTiesEven(v: number): number {
  const floor = Math.floor(v);
  const frac = v - floor;
  if (frac < 0.5) return floor;
  if (frac > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

const saturate = (v: number) => Math.min(255, Math.max(0, v));

/** DynamicQuantizeLinear as the ONNX spec writes it, every step in float32. */
function specDynamicQuantize(x: Float32Array): { y: Uint8Array; scale: number; zeroPoint: number } {
  const f = Math.fround;
  let xMin = 0;
  let xMax = 0;
  for (const v of x) {
    xMin = Math.min(xMin, v);
    xMax = Math.max(xMax, v);
  }
  const scale = f(f(xMax - xMin) / 255);
  const zeroPoint = roundTiesEven(saturate(f(0 - f(xMin / scale))));
  const y = Uint8Array.from(x, (v) => saturate(roundTiesEven(f(v / scale)) + zeroPoint));
  return { y, scale, zeroPoint };
}

describe('dynamicQuantizeLinear', () => {
  // Scale 2^e exactly and a grid of half steps, so x / scale and the zero point hit .5 ties.
  const tiesCase = fc.record({
    exponent: fc.integer({ min: -12, max: 4 }),
    zero: fc.integer({ min: 0, max: 255 }),
    halfZero: fc.boolean(),
    count: fc.integer({ min: 1, max: 200 }),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  });

  it('matches the spec formula with round-half-even on exact ties', () => {
    fc.assert(
      fc.property(tiesCase, ({ exponent, zero, halfZero, count, seed }) => {
        const scale = 2 ** exponent;
        const lowSteps = halfZero ? Math.min(zero + 0.5, 255) : zero;
        const lo = -lowSteps * scale;
        const hi = lo + 255 * scale;
        // Half-step multiples inside [lo, hi], plus both ends so the range is exactly 255 steps.
        const steps = ints(seed, count, 0, 510).map((j) => lo + (j / 2) * scale);
        const x = Float32Array.from([lo, hi, ...steps]);
        const expected = specDynamicQuantize(x);
        const y = new Uint8Array(x.length + 1);
        const params = dynamicQuantizeLinear(x, 0, x.length, y, 1);
        expect(params.scale).toBe(expected.scale);
        expect(params.zeroPoint).toBe(expected.zeroPoint);
        expect(y.subarray(1)).toEqual(expected.y);
      }),
      RUNS,
    );
  });

  it('matches the spec formula on arbitrary floats', () => {
    const values = fc.float32Array({ minLength: 1, maxLength: 64, noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) });
    fc.assert(
      fc.property(values, (x) => {
        // An all-zero input, or a range whose scale underflows to 0, leaves the spec's formula undefined.
        fc.pre(specDynamicQuantize(x).scale > 0);
        const expected = specDynamicQuantize(x);
        const y = new Uint8Array(x.length);
        const params = dynamicQuantizeLinear(x, 0, x.length, y, 0);
        expect(params).toEqual({ scale: expected.scale, zeroPoint: expected.zeroPoint });
        expect(y).toEqual(expected.y);
      }),
      RUNS,
    );
  });

  it('gives an all-zero input scale 1 and zero point 0, as onnxruntime does (the spec would divide by 0)', () => {
    const y = new Uint8Array(5).fill(7);
    expect(dynamicQuantizeLinear(new Float32Array(5), 0, 5, y, 0)).toEqual({ scale: 1, zeroPoint: 0 });
    expect([...y]).toEqual([0, 0, 0, 0, 0]);
  });
});
