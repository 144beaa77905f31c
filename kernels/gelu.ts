/**
 * GELU activations over contiguous float32 runs. Every kernel works element-wise in one
 * pass, so `src`/`dst` may be the same array at the same offset (in-place).
 */
import { erf, erfc } from './erf.js';

/**
 * Exact GELU: dst[i] = 0.5·x·(1 + erf(x/√2)) = x·Φ(x), x = src[srcOff + i], i < n.
 *
 * Computed as x·Φ(x) with Φ taken from erfc(|x|/√2), so the negative tail keeps its
 * relative accuracy instead of cancelling 1 + erf(x/√2) → 0.
 */
export function gelu(src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstOff + i] = geluScalar(src[srcOff + i]);
}

function geluScalar(x: number): number {
  // upperTail = P(Z > |x|) = ½·erfc(|x|/√2); Φ(x) = upperTail for x < 0, 1 − upperTail otherwise.
  const upperTail = 0.5 * erfc(Math.abs(x) * Math.SQRT1_2);
  return x < 0 ? x * upperTail : x * (1 - upperTail);
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
  for (let r = 0; r < rows; r++) {
    const s = srcOff + r * cols;
    const d = dstOff + r * cols;
    for (let j = 0; j < cols; j++) dst[d + j] = geluScalar(Math.fround(src[s + j] + bias[biasOff + j]));
  }
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
