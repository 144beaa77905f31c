/**
 * Property tests: every optimised kernel against its naive reference twin on random shapes
 * (including sizes that straddle the GEMM's 3×2 tiles, its K slices and its column blocks),
 * and erf/erfc against independent high-precision formulas.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attention, attentionReference } from '../kernels/attention.js';
import { erf, erfc } from '../kernels/erf.js';
import { biasGelu, biasGeluReference, gelu, geluReference, geluTanh, geluTanhReference } from '../kernels/gelu.js';
import { gemm, gemmPacked, gemmReference, packB } from '../kernels/gemm.js';
import { layerNorm, layerNormReference } from '../kernels/layernorm.js';
import { withOnnxruntimeRounding } from '../kernels/mlas.js';
import { logSoftmax, logSoftmaxReference, softmax, softmaxReference } from '../kernels/softmax.js';

/** Deterministic uniform values in [lo, hi): fast-check shrinks the shape and seed, not megabytes of floats. */
function randomArray(length: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

function absArray(a: Float32Array): Float32Array {
  return a.map(Math.abs);
}

/**
 * Throws unless every element agrees: both NaN, or |actual − expected| ≤ tolerance(i).
 * Elements outside `written` (when given) must be bit-identical, i.e. left untouched.
 */
function assertClose(
  label: string,
  actual: Float32Array,
  expected: Float32Array,
  tolerance: (i: number) => number,
  written?: (i: number) => boolean,
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (written !== undefined && !written(i)) {
      if (!Object.is(a, e)) throw new Error(`${label}: element ${i} outside the output window changed: ${a} vs ${e}`);
      continue;
    }
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const tol = tolerance(i);
    if (!(Math.abs(a - e) <= tol)) {
      throw new Error(`${label}: element ${i}: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
    }
  }
}

/** Predicate for the elements of a (rows, cols) window with row stride ld starting at off. */
function inWindow(off: number, rows: number, cols: number, ld: number): (i: number) => boolean {
  return (i) => {
    const rel = i - off;
    if (rel < 0) return false;
    const r = Math.floor(rel / ld);
    return r < rows && rel - r * ld < cols;
  };
}

const relTol = (expected: Float32Array, rel: number, abs: number) => (i: number) => abs + rel * Math.abs(expected[i]);

/**
 * Registers `body` twice: with the fast float64 rounding, and rounding like onnxruntime
 * (kernels/mlas.ts) — the kernels with both forms must meet their reference either way.
 */
function bothRoundings(name: string, body: () => void): void {
  it(name, body);
  it(`${name} (rounding like onnxruntime)`, () => withOnnxruntimeRounding(true, body));
}

describe('gemm', () => {
  /*
   * Tolerance: each output may differ from the float64-accumulated reference by a few float32
   * roundings of its magnitude Σ|alpha·a·b| + |beta·c| (the GEMM rounds once per 512-deep K slice
   * and once when pre-scaling C by beta). The magnitude is the reference GEMM run on |A|, |B|.
   * FLT_MIN is added because float32 subnormals only carry absolute accuracy.
   */
  const FLT_MIN = 1.1754943508222875e-38;
  const magnitude = (
    M: number, N: number, K: number, alpha: number, a: Float32Array, aOff: number, lda: number, transA: boolean,
    b: Float32Array, bOff: number, ldb: number, transB: boolean, beta: number, c: Float32Array, cOff: number, ldc: number,
  ): Float32Array => {
    const mag = absArray(c);
    gemmReference(M, N, K, Math.abs(alpha), absArray(a), aOff, lda, transA, absArray(b), bOff, ldb, transB, Math.abs(beta), mag, cOff, ldc);
    return mag;
  };

  const gemmCase = (maxM: number, minN: number, maxN: number, minK: number, maxK: number) =>
    fc.record({
      M: fc.integer({ min: 0, max: maxM }),
      N: fc.integer({ min: minN, max: maxN }),
      K: fc.integer({ min: minK, max: maxK }),
      transA: fc.boolean(),
      transB: fc.boolean(),
      padA: fc.integer({ min: 0, max: 3 }),
      padB: fc.integer({ min: 0, max: 3 }),
      padC: fc.integer({ min: 0, max: 3 }),
      offA: fc.integer({ min: 0, max: 5 }),
      offB: fc.integer({ min: 0, max: 5 }),
      offC: fc.integer({ min: 0, max: 5 }),
      alpha: fc.oneof(fc.constant(1), fc.double({ min: -2, max: 2, noNaN: true })),
      beta: fc.constantFrom(0, 1, -0.75, 0.5),
      seed: fc.integer(),
    });

  type GemmCase = ReturnType<typeof gemmCase> extends fc.Arbitrary<infer T> ? T : never;

  function checkGemm(t: GemmCase): void {
    const { M, N, K, transA, transB, padA, padB, padC, offA, offB, offC, alpha, beta, seed } = t;
    // Stored shapes: A is (M,K) or, transposed, (K,M); B is (K,N) or (N,K).
    const lda = (transA ? M : K) + padA;
    const ldb = (transB ? K : N) + padB;
    const ldc = N + padC;
    const a = randomArray(offA + (transA ? K : M) * lda, seed);
    const b = randomArray(offB + (transB ? N : K) * ldb, seed + 1);
    const c0 = randomArray(offC + M * ldc + 2, seed + 2);
    // beta = 0 must ignore C entirely, so poison the window.
    if (beta === 0) for (let i = 0; i < M; i++) c0.fill(NaN, offC + i * ldc, offC + i * ldc + N);
    const actual = c0.slice();
    const expected = c0.slice();
    gemm(M, N, K, alpha, a, offA, lda, transA, b, offB, ldb, transB, beta, actual, offC, ldc);
    gemmReference(M, N, K, alpha, a, offA, lda, transA, b, offB, ldb, transB, beta, expected, offC, ldc);
    const mag = magnitude(M, N, K, alpha, a, offA, lda, transA, b, offB, ldb, transB, beta, c0.map((v) => (Number.isNaN(v) ? 0 : v)), offC, ldc);
    assertClose('gemm', actual, expected, (i) => 1e-6 * mag[i] + FLT_MIN, inWindow(offC, M, N, ldc));
  }

  bothRoundings('matches the reference for all transpositions, offsets, strides, alpha and beta', () => {
    fc.assert(fc.property(gemmCase(20, 0, 20, 0, 40), checkGemm), { numRuns: 500 });
  });

  bothRoundings('matches the reference when K spans several slices', () => {
    fc.assert(fc.property(gemmCase(7, 1, 9, 500, 1100), checkGemm), { numRuns: 25 });
  });

  bothRoundings('matches the reference when N spans several column blocks', () => {
    // K ≈ 290 gives blocks of about 450 columns, so N straddles the boundary.
    fc.assert(fc.property(gemmCase(5, 430, 470, 280, 300), checkGemm), { numRuns: 15 });
  });

  const packedCase = (maxM: number, maxN: number, minK: number, maxK: number) =>
    fc.record({
      M: fc.integer({ min: 0, max: maxM }),
      N: fc.integer({ min: 0, max: maxN }),
      K: fc.integer({ min: minK, max: maxK }),
      transA: fc.boolean(),
      transB: fc.boolean(),
      padA: fc.integer({ min: 0, max: 3 }),
      padC: fc.integer({ min: 0, max: 3 }),
      offA: fc.integer({ min: 0, max: 5 }),
      offB: fc.integer({ min: 0, max: 5 }),
      offC: fc.integer({ min: 0, max: 5 }),
      withBias: fc.boolean(),
      biasOff: fc.integer({ min: 0, max: 3 }),
      accumulate: fc.boolean(),
      alpha: fc.option(fc.double({ min: -2, max: 2, noNaN: true }), { nil: undefined }),
      seed: fc.integer(),
    });

  type PackedCase = ReturnType<typeof packedCase> extends fc.Arbitrary<infer T> ? T : never;

  function checkPacked(t: PackedCase): void {
    const { M, N, K, transA, transB, padA, padC, offA, offB, offC, withBias, biasOff, accumulate, alpha, seed } = t;
    const lda = (transA ? M : K) + padA;
    const ldb = transB ? K : N;
    const ldc = N + padC;
    const a = randomArray(offA + (transA ? K : M) * lda, seed);
    const b = randomArray(offB + (transB ? N : K) * ldb, seed + 1);
    const bias = withBias ? randomArray(biasOff + N, seed + 3) : null;
    const c0 = randomArray(offC + M * ldc + 2, seed + 2);
    if (!accumulate) for (let i = 0; i < M; i++) c0.fill(NaN, offC + i * ldc, offC + i * ldc + N);
    const actual = c0.slice();
    const packed = packB(b, offB, K, N, transB);
    gemmPacked(M, N, K, a, offA, lda, transA, packed, actual, offC, ldc, bias, biasOff, accumulate, alpha);

    const al = alpha ?? 1;
    const expected = c0.slice();
    gemmReference(M, N, K, al, a, offA, lda, transA, b, offB, ldb, transB, accumulate ? 1 : 0, expected, offC, ldc);
    const mag = magnitude(M, N, K, al, a, offA, lda, transA, b, offB, ldb, transB, accumulate ? 1 : 0, c0.map((v) => (Number.isNaN(v) ? 0 : v)), offC, ldc);
    if (bias !== null) {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          expected[offC + i * ldc + j] += bias[biasOff + j];
          mag[offC + i * ldc + j] += Math.abs(bias[biasOff + j]);
        }
      }
    }
    assertClose('gemmPacked', actual, expected, (i) => 1e-6 * mag[i] + FLT_MIN, inWindow(offC, M, N, ldc));
  }

  it('packB + gemmPacked matches the reference with bias, accumulate and alpha', () => {
    fc.assert(fc.property(packedCase(20, 20, 0, 40), checkPacked), { numRuns: 500 });
  });

  it('packB + gemmPacked matches the reference across K slices', () => {
    fc.assert(fc.property(packedCase(7, 9, 500, 1100), checkPacked), { numRuns: 25 });
  });

  it('K = 0 writes alpha·0 + bias (+ C)', () => {
    const c = new Float32Array([NaN, NaN, NaN, NaN]);
    gemmPacked(2, 2, 0, new Float32Array(0), 0, 0, false, packB(new Float32Array(0), 0, 0, 2, false), c, 0, 2, new Float32Array([1, -2]), 0, false);
    expect(Array.from(c)).toEqual([1, -2, 1, -2]);
  });

  it('rejects a packed matrix of the wrong shape', () => {
    const packed = packB(new Float32Array(6), 0, 2, 3, false);
    expect(() => gemmPacked(1, 3, 3, new Float32Array(3), 0, 3, false, packed, new Float32Array(3), 0, 3, null, 0, false)).toThrow(RangeError);
  });
});

describe('erf', () => {
  /**
   * erf(x) = (2/√π)·e^(−x²)·Σₙ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) — every term is positive, so float64
   * summation loses nothing to cancellation (unlike the alternating Taylor series).
   */
  function erfSeries(x: number): number {
    let term = x;
    let sum = x;
    for (let n = 1; n < 400 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }

  /** erfc(x) for x ≥ 2 from its continued fraction 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated backwards. */
  function erfcContinuedFraction(x: number): number {
    let f = x;
    for (let n = 300; n >= 1; n--) f = x + n / 2 / f;
    return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
  }

  // [x, erf(x), erfc(x)]: mpmath at 40 significant digits, evaluated at the float64 x (not the
  // decimal literal, which differs enough to matter in the tails) and rounded to float64.
  const table: [number, number, number][] = [
    [1e-300, 1.1283791670955126e-300, 1.0],
    [1e-10, 1.1283791670955126e-10, 0.999999999887162],
    [0.1, 0.1124629160182849, 0.887537083981715],
    [0.46875, 0.49261347321793797, 0.507386526782062],
    [0.5, 0.5204998778130465, 0.4795001221869535],
    [1.0, 0.8427007929497149, 0.15729920705028513],
    [1.5, 0.9661051464753108, 0.033894853524689274],
    [2.0, 0.9953222650189527, 0.004677734981047266],
    [3.0, 0.9999779095030014, 2.209049699858544e-5],
    [3.999, 0.9999999844552505, 1.554474949099499e-8],
    [4.0, 0.9999999845827421, 1.541725790028002e-8],
    [4.5, 0.9999999998033839, 1.9661604415428876e-10],
    [5.0, 0.9999999999984626, 1.537459794428035e-12],
    [5.9, 0.9999999999999999, 7.190409783550478e-17],
    [-0.75, -0.7111556336535151, 1.7111556336535152],
    [-2.5, -0.999593047982555, 1.999593047982555],
    [6.0, 1.0, 2.1519736712498913e-17],
    [10.0, 1.0, 2.088487583762545e-45],
    [20.0, 1.0, 5.395865611607901e-176],
    [26.0, 1.0, 5.663192408856143e-296],
  ];

  it('matches mpmath values to within a few ulp', () => {
    for (const [x, e, ec] of table) {
      expect(Math.abs(erf(x) - e)).toBeLessThanOrEqual(4e-16 * Math.abs(e));
      expect(Math.abs(erfc(x) - ec)).toBeLessThanOrEqual(2e-15 * ec);
    }
  });

  it('matches the positive-term series on [−6, 6]', () => {
    fc.assert(
      fc.property(fc.double({ min: -6, max: 6, noNaN: true }), (x) => {
        const want = erfSeries(x);
        expect(Math.abs(erf(x) - want)).toBeLessThanOrEqual(1e-15 + 1e-13 * Math.abs(want));
      }),
      { numRuns: 3000 },
    );
  });

  it('matches the series for tiny |x| in relative terms', () => {
    fc.assert(
      fc.property(fc.double({ min: -300, max: -2, noNaN: true }), fc.boolean(), (exponent, negative) => {
        const x = (negative ? -1 : 1) * 10 ** exponent;
        const want = erfSeries(x);
        expect(Math.abs(erf(x) - want)).toBeLessThanOrEqual(1e-15 * Math.abs(want));
      }),
      { numRuns: 500 },
    );
  });

  it('matches the continued fraction in the tails (|x| from 4 to 26)', () => {
    fc.assert(
      fc.property(fc.double({ min: 4, max: 26, noNaN: true }), (x) => {
        const tail = erfcContinuedFraction(x);
        expect(Math.abs(erfc(x) - tail)).toBeLessThanOrEqual(1e-12 * tail);
        expect(Math.abs(erfc(-x) - (2 - tail))).toBeLessThanOrEqual(4e-16);
        expect(Math.abs(erf(x) - (1 - tail))).toBeLessThanOrEqual(2.3e-16);
        expect(erf(-x)).toBe(-erf(x));
      }),
      { numRuns: 1000 },
    );
  });

  it('handles special values', () => {
    expect(erf(NaN)).toBeNaN();
    expect(erfc(NaN)).toBeNaN();
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erfc(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
    expect(Object.is(erf(0), 0)).toBe(true);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erfc(0)).toBe(1);
  });

});

describe('gelu', () => {
  const unaryCase = fc.record({
    n: fc.integer({ min: 0, max: 200 }),
    srcOff: fc.integer({ min: 0, max: 4 }),
    dstOff: fc.integer({ min: 0, max: 4 }),
    range: fc.constantFrom(1, 4, 12, 100),
    inPlace: fc.boolean(),
    seed: fc.integer(),
  });

  type Unary = (src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number) => void;

  function checkUnary(label: string, kernel: Unary, reference: Unary) {
    return (t: { n: number; srcOff: number; dstOff: number; range: number; inPlace: boolean; seed: number }) => {
      const { n, srcOff, range, inPlace, seed } = t;
      const src = randomArray(srcOff + n, seed, -range, range);
      if (n > 2) {
        src[srcOff] = Infinity;
        src[srcOff + 1] = NaN;
      }
      const dstOff = inPlace ? srcOff : t.dstOff;
      const expected = inPlace ? src.slice() : new Float32Array(dstOff + n + 2);
      reference(src, srcOff, expected, dstOff, n);
      const actual = inPlace ? src : new Float32Array(dstOff + n + 2);
      kernel(inPlace ? actual : src, srcOff, actual, dstOff, n);
      // Both compute in float64; they differ only in how they reach the deep negative tail.
      assertClose(label, actual, expected, relTol(expected, 1e-6, 1e-7), inWindow(dstOff, 1, n, n));
    };
  }

  bothRoundings('gelu matches the reference (in place too)', () => {
    fc.assert(fc.property(unaryCase, checkUnary('gelu', gelu, geluReference)), { numRuns: 200 });
  });

  it('geluTanh matches the reference (in place too)', () => {
    fc.assert(fc.property(unaryCase, checkUnary('geluTanh', geluTanh, geluTanhReference)), { numRuns: 200 });
  });

  bothRoundings('gelu stays within a float32 ulp of x·Φ(x) in both tails, as onnxruntime computes it', () => {
    // Like onnxruntime's, the tail is 0.5·x·(1 + erf): absolutely, not relatively, accurate below −4.
    const x = Float32Array.from({ length: 400 }, (_, i) => -12 + i * 0.06);
    const y = new Float32Array(x.length);
    gelu(x, 0, y, 0, x.length);
    for (let i = 0; i < x.length; i++) {
      const want = x[i]! * 0.5 * erfc(-x[i]! / Math.SQRT2);
      expect(Math.abs(y[i]! - want), `x = ${x[i]}`).toBeLessThanOrEqual(2 ** -23 * Math.max(1, Math.abs(x[i]!)));
    }
  });

  bothRoundings('biasGelu matches the reference', () => {
    fc.assert(
      fc.property(
        fc.record({
          rows: fc.integer({ min: 0, max: 6 }),
          cols: fc.integer({ min: 0, max: 40 }),
          srcOff: fc.integer({ min: 0, max: 4 }),
          biasOff: fc.integer({ min: 0, max: 4 }),
          dstOff: fc.integer({ min: 0, max: 4 }),
          inPlace: fc.boolean(),
          seed: fc.integer(),
        }),
        ({ rows, cols, srcOff, biasOff, inPlace, seed, ...t }) => {
          const src = randomArray(srcOff + rows * cols, seed, -5, 5);
          const bias = randomArray(biasOff + cols, seed + 1, -2, 2);
          const dstOff = inPlace ? srcOff : t.dstOff;
          const expected = inPlace ? src.slice() : new Float32Array(dstOff + rows * cols + 1);
          biasGeluReference(src, srcOff, bias, biasOff, expected, dstOff, rows, cols);
          const actual = inPlace ? src : new Float32Array(dstOff + rows * cols + 1);
          biasGelu(inPlace ? actual : src, srcOff, bias, biasOff, actual, dstOff, rows, cols);
          assertClose('biasGelu', actual, expected, relTol(expected, 1e-6, 1e-7), inWindow(dstOff, 1, rows * cols, rows * cols));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('layerNorm', () => {
  const lnCase = fc.record({
    rows: fc.integer({ min: 0, max: 6 }),
    cols: fc.integer({ min: 1, max: 80 }),
    // Typical activations: an offset mean and a spread from tiny to large.
    center: fc.constantFrom(0, 3, -40, 1000),
    spread: fc.constantFrom(1e-3, 0.1, 1, 30),
    epsilon: fc.constantFrom(1e-5, 1e-12, 1e-3),
    withBeta: fc.boolean(),
    withSkip: fc.boolean(),
    withBias: fc.boolean(),
    withSum: fc.boolean(),
    inPlace: fc.boolean(),
    offs: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 7, maxLength: 7 }),
    seed: fc.integer(),
  });

  it('matches the two-pass float64 reference, with and without beta, skip, bias and sum', () => {
    fc.assert(
      fc.property(lnCase, (t) => {
        const { rows, cols, center, spread, epsilon, withBeta, withSkip, withBias, withSum, inPlace, offs, seed } = t;
        const [xOff, gOff, bOff, skipOff, biasOff, sumOff, outOff0] = offs as [number, number, number, number, number, number, number];
        const n = rows * cols;
        const x = randomArray(xOff + n, seed, center - spread, center + spread);
        const gamma = randomArray(gOff + cols, seed + 1, 0.5, 1.5);
        const beta = withBeta ? randomArray(bOff + cols, seed + 2) : null;
        const skip = withSkip ? randomArray(skipOff + n, seed + 3, -spread, spread) : null;
        const bias = withBias ? randomArray(biasOff + cols, seed + 4, -spread, spread) : null;
        const outOff = inPlace ? xOff : outOff0;

        const expectedOut = inPlace ? x.slice() : new Float32Array(outOff + n + 1);
        const expectedSum = withSum ? new Float32Array(sumOff + n + 1) : null;
        layerNormReference(x, xOff, rows, cols, gamma, gOff, beta, bOff, epsilon, expectedOut, outOff, skip, skipOff, bias, biasOff, expectedSum, sumOff);

        const src = inPlace ? x.slice() : x;
        const out = inPlace ? src : new Float32Array(outOff + n + 1);
        const sum = withSum ? new Float32Array(sumOff + n + 1) : null;
        layerNorm(src, xOff, rows, cols, gamma, gOff, beta, bOff, epsilon, out, outOff, skip, skipOff, bias, biasOff, sum, sumOff);

        assertClose('layerNorm', out, expectedOut, relTol(expectedOut, 1e-5, 1e-5), inWindow(outOff, 1, n, n));
        if (sum !== null && expectedSum !== null) assertClose('layerNorm sum', sum, expectedSum, () => 0);
      }),
      { numRuns: 400 },
    );
  });

  it('maps a constant row to beta, however large the constant', () => {
    const x = new Float32Array(8).fill(123456.75);
    const out = new Float32Array(8);
    const beta = randomArray(8, 7);
    layerNorm(x, 0, 1, 8, new Float32Array(8).fill(2), 0, beta, 0, 1e-12, out, 0);
    expect(Array.from(out)).toEqual(Array.from(beta));
  });
});

describe('softmax', () => {
  const smCase = fc.record({
    rows: fc.integer({ min: 0, max: 6 }),
    cols: fc.integer({ min: 0, max: 60 }),
    // Up to ±1000: exp would overflow without the max shift.
    range: fc.constantFrom(1, 10, 1000),
    masked: fc.boolean(),
    inPlace: fc.boolean(),
    xOff: fc.integer({ min: 0, max: 4 }),
    outOff: fc.integer({ min: 0, max: 4 }),
    seed: fc.integer(),
  });

  type RowKernel = (x: Float32Array, xOff: number, rows: number, cols: number, out: Float32Array, outOff: number) => void;

  function checkRows(label: string, kernel: RowKernel, reference: RowKernel, rel: number, abs: number) {
    return (t: { rows: number; cols: number; range: number; masked: boolean; inPlace: boolean; xOff: number; outOff: number; seed: number }) => {
      const { rows, cols, range, masked, inPlace, xOff, seed } = t;
      const n = rows * cols;
      const x = randomArray(xOff + n, seed, -range, range);
      // Masked-out positions as attention produces them; every row keeps its first element.
      if (masked) for (let i = 0; i < n; i++) if (i % cols !== 0 && x[xOff + i] < -range / 2) x[xOff + i] = -Infinity;
      const outOff = inPlace ? xOff : t.outOff;
      const expected = inPlace ? x.slice() : new Float32Array(outOff + n + 1);
      reference(x, xOff, rows, cols, expected, outOff);
      const out = inPlace ? x.slice() : new Float32Array(outOff + n + 1);
      kernel(inPlace ? out : x, xOff, rows, cols, out, outOff);
      assertClose(label, out, expected, relTol(expected, rel, abs), inWindow(outOff, 1, n, n));
    };
  }

  bothRoundings('softmax matches the reference (in place too)', () => {
    fc.assert(fc.property(smCase, checkRows('softmax', softmax, softmaxReference, 1e-6, 1e-7)), { numRuns: 300 });
  });

  it('logSoftmax matches the reference (in place too)', () => {
    fc.assert(fc.property(smCase, checkRows('logSoftmax', logSoftmax, logSoftmaxReference, 1e-6, 1e-6)), { numRuns: 300 });
  });

  bothRoundings('softmax rows sum to one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer(), (cols, seed) => {
        const x = randomArray(cols, seed, -50, 50);
        softmax(x, 0, 1, cols, x, 0);
        expect(Math.abs(x.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-5);
      }),
      { numRuns: 100 },
    );
  });

  bothRoundings('propagates NaN to the whole row', () => {
    const x = new Float32Array([1, NaN, 3, 0, 1, 2]);
    softmax(x, 0, 2, 3, x, 0);
    expect(Array.from(x.subarray(0, 3)).every(Number.isNaN)).toBe(true);
    expect(Array.from(x.subarray(3)).some(Number.isNaN)).toBe(false);
  });
});

describe('attention', () => {
  const attnCase = fc.record({
    batch: fc.integer({ min: 1, max: 2 }),
    heads: fc.integer({ min: 1, max: 3 }),
    seqQ: fc.integer({ min: 1, max: 9 }),
    seqK: fc.integer({ min: 1, max: 9 }),
    headDim: fc.integer({ min: 1, max: 12 }),
    packedQkv: fc.boolean(),
    pad: fc.integer({ min: 0, max: 3 }),
    outPad: fc.integer({ min: 0, max: 3 }),
    offs: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 5, maxLength: 5 }),
    withMask: fc.boolean(),
    sharedMask: fc.boolean(),
    scale: fc.oneof(fc.constant(0), fc.double({ min: 0.05, max: 2, noNaN: true })),
    seed: fc.integer(),
  });

  bothRoundings('matches the reference with and without mask, separate or packed QKV', () => {
    fc.assert(
      fc.property(attnCase, (t) => {
        const { batch, heads, seqQ, seqK, headDim, packedQkv, pad, outPad, offs, withMask, sharedMask, seed } = t;
        const [qo, ko, vo, oo, mo] = offs as [number, number, number, number, number];
        const hidden = heads * headDim;
        const scale = t.scale === 0 ? 1 / Math.sqrt(headDim) : t.scale;
        let q: Float32Array, k: Float32Array, v: Float32Array;
        let qOff: number, kOff: number, vOff: number, qStride: number, kStride: number, vStride: number;
        if (packedQkv) {
          // One (batch, seq, 3·hidden) array; only valid when seqQ = seqK, so use seqK rows for all.
          if (seqQ !== seqK) return;
          qStride = kStride = vStride = 3 * hidden + pad;
          q = k = v = randomArray(qo + batch * seqK * qStride, seed, -2, 2);
          qOff = qo;
          kOff = qo + hidden;
          vOff = qo + 2 * hidden;
        } else {
          qStride = hidden + pad;
          kStride = hidden + ((pad + 1) % 4);
          vStride = hidden + ((pad + 2) % 4);
          q = randomArray(qo + batch * seqQ * qStride, seed, -2, 2);
          k = randomArray(ko + batch * seqK * kStride, seed + 1, -2, 2);
          v = randomArray(vo + batch * seqK * vStride, seed + 2, -2, 2);
          qOff = qo;
          kOff = ko;
          vOff = vo;
        }
        let mask: Float32Array | null = null;
        // One mask row per batch, or one row every batch shares.
        const maskStride = sharedMask ? 0 : seqK;
        if (withMask) {
          mask = new Float32Array(mo + batch * seqK);
          const coin = randomArray(batch * seqK, seed + 3);
          for (let i = 0; i < batch * seqK; i++) mask[mo + i] = coin[i] < -0.3 ? -10000 : coin[i] < 0 ? -1.5 : 0;
        }
        const outStride = hidden + outPad;
        const outLen = oo + batch * seqQ * outStride;
        const expected = randomArray(outLen, seed + 4);
        const actual = expected.slice();
        attentionReference(q, qOff, k, kOff, v, vOff, expected, oo, batch, heads, seqQ, seqK, headDim, qStride, kStride, vStride, outStride, scale, mask, mo, maskStride);
        attention(q, qOff, k, kOff, v, vOff, actual, oo, batch, heads, seqQ, seqK, headDim, qStride, kStride, vStride, outStride, scale, mask, mo, maskStride);
        assertClose('attention', actual, expected, () => 1e-5, inWindow(oo, batch * seqQ, hidden, outStride));
      }),
      { numRuns: 300 },
    );
  });

});
