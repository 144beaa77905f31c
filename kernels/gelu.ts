/**
 * GELU activations over contiguous float32 runs. Every kernel works element-wise in one
 * pass, so `src`/`dst` may be the same array at the same offset (in-place).
 */
import { erf } from './erf.js';
import { mlasOnThisThread, roundsLikeOnnxruntime, type MlasKernels } from './mlas.js';
import { activePool } from './threads.js';

/**
 * The exact-GELU kernels as one self-contained function (see kernels/threads.ts): worker threads
 * run the same code on their share of the rows.
 *
 * Two roundings of 0.5·x·(1 + erf(x/√2)). `exact`: onnxruntime's, bit for bit (kernels/mlas.ts)
 * — float32 steps with MLAS's erf. Otherwise x·Φ(x) in float64 with Φ from the upper tail
 * P(Z > |x|), so the negative tail keeps its relative accuracy instead of cancelling
 * 1 + erf(x/√2) → 0: Hart's (1968) rational form exp(−y²/2)·P(y)/Q(y), degrees 6/7, with
 * coefficients as in G. West, "Better approximations to cumulative normal functions" (Wilmott,
 * 2005); a 5-term continued fraction past 7.07106781186547 (where the rational form starts to
 * lose accuracy). Against ½·erfc from glibc on every multiple of 1/20000 in [0, 20]: max absolute
 * error 1.7e−16; relative error ≤ 1.6e−14 up to 3, growing to 2.9e−9 at the switch and 8.9e−9 in
 * the continued fraction. One exp: about 3× faster than the exact form.
 */
export function geluKernels(mlas: MlasKernels) {
  const geluExactRange = mlas.geluRange;

  /**
   * GELU of `x` in float64. Written out in full where it is used would be faster still; one
   * small function is what TurboFan reliably inlines into both loops below.
   */
  function geluFast(x: number): number {
    const y = x < 0 ? -x : x;
    const e = Math.exp(-0.5 * y * y);
    let upperTail: number;
    if (y < 7.07106781186547) {
      let num = 0.0352624965998911 * y + 0.700383064443688;
      let den = 0.0883883476483184 * y + 1.75566716318264;
      num = num * y + 6.37396220353165;
      den = den * y + 16.064177579207;
      num = num * y + 33.912866078383;
      den = den * y + 86.7807322029461;
      num = num * y + 112.079291497871;
      den = den * y + 296.564248779674;
      num = num * y + 221.213596169931;
      den = den * y + 637.333633378831;
      num = num * y + 220.206867912376;
      den = den * y + 793.826512519948;
      den = den * y + 440.413735824752;
      upperTail = (e * num) / den;
    } else {
      // 1/√(2π) · e / continued fraction
      upperTail = (0.3989422804014327 * e) / (y + 1 / (y + 2 / (y + 3 / (y + 4 / (y + 0.65)))));
    }
    return x < 0 ? x * upperTail : x * (1 - upperTail);
  }

  /** dst[dstOff + i] = GELU(src[srcOff + i]), i < n. */
  function gelu(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number, exact: boolean): void {
    if (exact) geluExactRange(src, srcOff, dst, dstOff, n);
    else for (let i = 0; i < n; i++) dst[dstOff + i] = geluFast(src[srcOff + i]!);
  }

  /**
   * Rows [r0, r0 + count) of BiasGelu: GELU of float32(src + bias) over (·, cols) rows. The sum
   * goes to dst first and GELU runs on it in place while the row is still in L1.
   */
  function biasGelu(
    src: Float32Array,
    srcOff: number,
    bias: Float32Array,
    biasOff: number,
    dst: Float32Array,
    dstOff: number,
    r0: number,
    count: number,
    cols: number,
    exact: boolean,
  ): void {
    for (let r = r0; r < r0 + count; r++) {
      const s = srcOff + r * cols;
      const d = dstOff + r * cols;
      for (let j = 0; j < cols; j++) dst[d + j] = src[s + j]! + bias[biasOff + j]!;
      gelu(dst, d, dst, d, cols, exact);
    }
  }

  /**
   * Rows [start, start+count) for a worker: p = [srcOff, dstOff, cols, biasOff, hasBias, exact];
   * arrays = [src, dst, bias?]. Without a bias a "row" is a run of `cols` elements of a flat array.
   */
  function rows(start: number, count: number, p: Float64Array, arrays: readonly Float32Array[]): void {
    const cols = p[2]!;
    const exact = p[5] === 1;
    if (p[4] === 1) biasGelu(arrays[0]!, p[0]!, arrays[2]!, p[3]!, arrays[1]!, p[1]!, start, count, cols, exact);
    else gelu(arrays[0]!, p[0]! + start * cols, arrays[1]!, p[1]! + start * cols, count * cols, exact);
  }

  return { gelu, biasGelu, rows };
}

const kernels = geluKernels(mlasOnThisThread);

/** geluKernels' job id in the worker threads (its place in the session's factory list). */
export const GELU_JOB = 4;

/** Below this many elements GELU stays on the calling thread: waking a worker costs more. */
const PARALLEL_MIN_ELEMENTS = 1 << 14;
/** Elements per unit when a flat GELU is split between threads. */
const FLAT_CHUNK = 1024;

/**
 * Exact GELU: dst[dstOff + i] = x·Φ(x), x = src[srcOff + i], i < n. In-place is allowed.
 * With a thread pool active, large runs are split between the threads.
 */
export function gelu(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
  const exact = roundsLikeOnnxruntime();
  const pool = activePool();
  if (pool === null || n < PARALLEL_MIN_ELEMENTS) {
    kernels.gelu(src, srcOff, dst, dstOff, n, exact);
    return;
  }
  const chunks = Math.floor(n / FLAT_CHUNK);
  const shared = pool.shared(dst, 1);
  // The source must be read from shared memory too; in place it is the destination itself.
  const input = src === dst ? shared : pool.shared(src, 0);
  pool.split(GELU_JOB, kernels.rows, chunks, 1, [srcOff, dstOff, FLAT_CHUNK, 0, 0, exact ? 1 : 0], [input, shared]);
  const tail = chunks * FLAT_CHUNK;
  kernels.gelu(input, srcOff + tail, shared, dstOff + tail, n - tail, exact);
  if (shared !== dst) dst.set(shared);
}

/** Reference for {@link gelu}: the defining formula. */
export function geluReference(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = src[srcOff + i];
    dst[dstOff + i] = 0.5 * x * (1 + erf(x / Math.SQRT2));
  }
}

const SQRT_2_OVER_PI = 0.7978845608028654; // √(2/π)
const GELU_CUBIC = 0.044715;

/**
 * Tanh-approximated GELU: dst[i] = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 *
 * Uses ½(1 + tanh z) = 1/(1 + e^(−2z)): one exp instead of tanh, and no cancellation for z ≪ 0.
 */
export function geluTanh(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = src[srcOff + i];
    const z = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x);
    dst[dstOff + i] = x / (1 + Math.exp(-2 * z));
  }
}

/** Reference for {@link geluTanh}: the defining formula. */
export function geluTanhReference(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = src[srcOff + i];
    dst[dstOff + i] = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  }
}

/**
 * BiasGelu: (rows, cols) row-major src + bias (cols) broadcast over rows → exact GELU → dst
 * (rows, cols). The biased value is rounded to float32 first, as if it were its own tensor.
 * In-place is allowed. With a thread pool active, large inputs are split by rows.
 */
export function biasGelu(
  src: Float32Array,
  srcOff: number,
  bias: Float32Array,
  biasOff: number,
  dst: Float32Array,
  dstOff: number,
  rows: number,
  cols: number,
): void {
  const exact = roundsLikeOnnxruntime();
  const pool = activePool();
  if (pool === null || rows < 2 || rows * cols < PARALLEL_MIN_ELEMENTS) {
    kernels.biasGelu(src, srcOff, bias, biasOff, dst, dstOff, 0, rows, cols, exact);
    return;
  }
  const shared = pool.shared(dst, 1);
  const input = src === dst ? shared : pool.shared(src, 0);
  pool.split(GELU_JOB, kernels.rows, rows, 1, [srcOff, dstOff, cols, biasOff, 1, exact ? 1 : 0], [input, shared, pool.shared(bias, 2)]);
  if (shared !== dst) dst.set(shared);
}

/** Reference for {@link biasGelu}: materialises the biased tensor, then applies {@link geluReference}. */
export function biasGeluReference(
  src: Float32Array,
  srcOff: number,
  bias: Float32Array,
  biasOff: number,
  dst: Float32Array,
  dstOff: number,
  rows: number,
  cols: number,
): void {
  const biased = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) biased[r * cols + j] = src[srcOff + r * cols + j] + bias[biasOff + j];
  }
  geluReference(biased, 0, dst, dstOff, rows * cols);
}
