/**
 * Layer normalisation over the last axis, with the optional residual input of
 * SkipLayerNormalization.
 */

/**
 * For each of `rows` rows of `cols` values (row-major, contiguous):
 *
 *   v   = x + skip + bias           (skip (rows, cols) and bias (cols) are optional; each sum is
 *                                    rounded to float32, x + skip first, as onnxruntime adds them)
 *   out = (v − mean(v)) / √(var(v) + epsilon) · gamma + beta     (beta optional)
 *
 * with the population variance. gamma and beta have length `cols`. When `sum` is given it
 * receives v (SkipLayerNormalization's optional "input_skip_bias_sum" output); with neither
 * skip nor bias it receives a copy of x.
 *
 * Rounded exactly as onnxruntime's CPU kernel (MLAS, x86-64), verified bit for bit against
 * onnxruntime-node 1.30: the mean from a float64 sum, rounded to float32; the variance in a
 * second pass over d = float32(v − mean), Σd² in eight float32 lanes of fused multiply-adds
 * (elements 8i + l into lane l) reduced pairwise, then the tail one by one; 1/std as
 * float32(1 / float32(√float32(var + ε))); and each output float32((v − mean)·invStd)·gamma + beta
 * as one fused multiply-add. (float32 × float32 is exact in float64, so rounding once after the
 * add is the FMA.) int8 models re-quantize every layer norm's output, so matching it bit for bit
 * is what keeps them exact end to end.
 *
 * `out` may alias `x` (same offset), and `sum` may alias either.
 */
export function layerNorm(
  x: Float32Array,
  xOff: number,
  rows: number,
  cols: number,
  gamma: Float32Array,
  gammaOff: number,
  beta: Float32Array | null,
  betaOff: number,
  epsilon: number,
  out: Float32Array,
  outOff: number,
  skip: Float32Array | null = null,
  skipOff = 0,
  bias: Float32Array | null = null,
  biasOff = 0,
  sum: Float32Array | null = null,
  sumOff = 0,
): void {
  if (cols <= 0) return;
  const residual = skip !== null || bias !== null;
  const eps = Math.fround(epsilon);
  for (let r = 0; r < rows; r++) {
    const xRow = xOff + r * cols;
    const outRow = outOff + r * cols;
    // With a residual, v is materialised in `out` first, and the normalisation passes read it back.
    const src = residual ? out : x;
    const row = residual ? outRow : xRow;
    let total = 0;
    if (residual) {
      const skipRow = skipOff + r * cols;
      for (let j = 0; j < cols; j++) {
        let v = x[xRow + j]!;
        if (skip !== null) v = Math.fround(v + skip[skipRow + j]!);
        if (bias !== null) v = Math.fround(v + bias[biasOff + j]!);
        out[outRow + j] = v;
        total += v;
      }
    } else {
      for (let j = 0; j < cols; j++) total += x[xRow + j]!;
    }
    if (sum !== null) {
      const sumRow = sumOff + r * cols;
      for (let j = 0; j < cols; j++) sum[sumRow + j] = src[row + j]!;
    }
    const mean = Math.fround(total / cols);
    let l0 = 0;
    let l1 = 0;
    let l2 = 0;
    let l3 = 0;
    let l4 = 0;
    let l5 = 0;
    let l6 = 0;
    let l7 = 0;
    let j = 0;
    for (; j + 8 <= cols; j += 8) {
      const base = row + j;
      let d = Math.fround(src[base]! - mean);
      l0 = Math.fround(d * d + l0);
      d = Math.fround(src[base + 1]! - mean);
      l1 = Math.fround(d * d + l1);
      d = Math.fround(src[base + 2]! - mean);
      l2 = Math.fround(d * d + l2);
      d = Math.fround(src[base + 3]! - mean);
      l3 = Math.fround(d * d + l3);
      d = Math.fround(src[base + 4]! - mean);
      l4 = Math.fround(d * d + l4);
      d = Math.fround(src[base + 5]! - mean);
      l5 = Math.fround(d * d + l5);
      d = Math.fround(src[base + 6]! - mean);
      l6 = Math.fround(d * d + l6);
      d = Math.fround(src[base + 7]! - mean);
      l7 = Math.fround(d * d + l7);
    }
    let squares = Math.fround(
      Math.fround(Math.fround(l0 + l4) + Math.fround(l2 + l6)) + Math.fround(Math.fround(l1 + l5) + Math.fround(l3 + l7)),
    );
    for (; j < cols; j++) {
      const d = Math.fround(src[row + j]! - mean);
      squares = Math.fround(squares + Math.fround(d * d));
    }
    const invStd = Math.fround(1 / Math.fround(Math.sqrt(Math.fround(Math.fround(squares / cols) + eps))));
    if (beta !== null) {
      for (let t = 0; t < cols; t++) {
        out[outRow + t] = Math.fround(Math.fround(src[row + t]! - mean) * invStd) * gamma[gammaOff + t]! + beta[betaOff + t]!;
      }
    } else {
      for (let t = 0; t < cols; t++) {
        out[outRow + t] = Math.fround(Math.fround(src[row + t]! - mean) * invStd) * gamma[gammaOff + t]!;
      }
    }
  }
}

/**
 * Reference for {@link layerNorm} (same signature and semantics): materialises v, then the
 * textbook two-pass mean and variance in float64, mean and 1/std rounded to float32 as the
 * kernel's are.
 */
export function layerNormReference(
  x: Float32Array,
  xOff: number,
  rows: number,
  cols: number,
  gamma: Float32Array,
  gammaOff: number,
  beta: Float32Array | null,
  betaOff: number,
  epsilon: number,
  out: Float32Array,
  outOff: number,
  skip: Float32Array | null = null,
  skipOff = 0,
  bias: Float32Array | null = null,
  biasOff = 0,
  sum: Float32Array | null = null,
  sumOff = 0,
): void {
  for (let r = 0; r < rows; r++) {
    const v = new Float32Array(cols);
    for (let j = 0; j < cols; j++) {
      v[j] = x[xOff + r * cols + j];
      if (skip !== null) v[j] = Math.fround(v[j] + skip[skipOff + r * cols + j]);
      if (bias !== null) v[j] = Math.fround(v[j] + bias[biasOff + j]);
    }
    let mean = 0;
    for (let j = 0; j < cols; j++) mean += v[j];
    const mean32 = Math.fround(mean / cols);
    // Deviations from the float32 mean the outputs are centred on, as the kernel's are.
    let variance = 0;
    for (let j = 0; j < cols; j++) variance += (v[j] - mean32) ** 2;
    variance /= cols;
    const invStd32 = Math.fround(1 / Math.sqrt(variance + epsilon));
    for (let j = 0; j < cols; j++) {
      if (sum !== null) sum[sumOff + r * cols + j] = v[j];
      const normalized = Math.fround(Math.fround(v[j] - mean32) * invStd32);
      out[outOff + r * cols + j] = normalized * gamma[gammaOff + j] + (beta === null ? 0 : beta[betaOff + j]);
    }
  }
}
