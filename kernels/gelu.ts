/**
 * GELU activations over contiguous float32 runs. Every kernel works element-wise in one
 * pass, so `src`/`dst` may be the same array at the same offset (in-place).
 */
import { erf } from './erf.js';
import { mlasOnThisThread, type MlasKernels } from './mlas.js';
import { activePool } from './threads.js';

/**
 * The exact-GELU kernels as one self-contained function (see kernels/threads.ts): worker threads
 * run the same code on their share of the rows. GELU itself is onnxruntime's, bit for bit
 * (kernels/mlas.ts): 0.5·x · (erf(x/√2) + 1) in float32 steps with MLAS's erf.
 */
export function geluKernels(mlas: MlasKernels) {
  const geluOne = mlas.gelu;

  /** dst[dstOff + i] = GELU(src[srcOff + i]), i < n. */
  function gelu(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
    for (let i = 0; i < n; i++) dst[dstOff + i] = geluOne(src[srcOff + i]!);
  }

  /** Rows [r0, r0 + count) of BiasGelu: GELU of float32(src + bias) over (·, cols) rows. */
  function biasGelu(src: Float32Array, srcOff: number, bias: Float32Array, biasOff: number, dst: Float32Array, dstOff: number, r0: number, count: number, cols: number): void {
    for (let r = r0; r < r0 + count; r++) {
      const s = srcOff + r * cols;
      const d = dstOff + r * cols;
      for (let j = 0; j < cols; j++) dst[d + j] = geluOne(Math.fround(src[s + j]! + bias[biasOff + j]!));
    }
  }

  /**
   * Rows [start, start+count) for a worker: p = [srcOff, dstOff, cols, biasOff, hasBias];
   * arrays = [src, dst, bias?]. Without a bias a "row" is a run of `cols` elements of a flat array.
   */
  function rows(start: number, count: number, p: Float64Array, arrays: readonly Float32Array[]): void {
    const cols = p[2]!;
    if (p[4] === 1) biasGelu(arrays[0]!, p[0]!, arrays[2]!, p[3]!, arrays[1]!, p[1]!, start, count, cols);
    else gelu(arrays[0]!, p[0]! + start * cols, arrays[1]!, p[1]! + start * cols, count * cols);
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
  const pool = activePool();
  if (pool === null || n < PARALLEL_MIN_ELEMENTS) {
    kernels.gelu(src, srcOff, dst, dstOff, n);
    return;
  }
  const chunks = Math.floor(n / FLAT_CHUNK);
  const shared = pool.shared(dst, 1);
  // The source must be read from shared memory too; in place it is the destination itself.
  const input = src === dst ? shared : pool.shared(src, 0);
  pool.split(GELU_JOB, kernels.rows, chunks, 1, [srcOff, dstOff, FLAT_CHUNK, 0, 0], [input, shared]);
  const tail = chunks * FLAT_CHUNK;
  kernels.gelu(input, srcOff + tail, shared, dstOff + tail, n - tail);
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
  const pool = activePool();
  if (pool === null || rows < 2 || rows * cols < PARALLEL_MIN_ELEMENTS) {
    kernels.biasGelu(src, srcOff, bias, biasOff, dst, dstOff, 0, rows, cols);
    return;
  }
  const shared = pool.shared(dst, 1);
  const input = src === dst ? shared : pool.shared(src, 0);
  pool.split(GELU_JOB, kernels.rows, rows, 1, [srcOff, dstOff, cols, biasOff, 1], [input, shared, pool.shared(bias, 2)]);
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
