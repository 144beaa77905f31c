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
 * The rounding follows onnxruntime's CPU kernel, measured bit for bit against onnxruntime-node
 * 1.30: mean and 1/std computed in float64 and rounded to float32, then per element
 * float32((v − mean)·invStd) · gamma + beta as one fused multiply-add. Its mean agrees exactly;
 * its 1/std is within one float32 ulp (equal on ~85 % of rows), so ~80 % of outputs are the same
 * bits (a float64 formula rounded once matched ~50 %) — which matters for int8 models, where
 * every difference can flip a re-quantized value downstream.
 *
 * The float64 statistics come from one pass accumulating Σd and Σd² with d = v − v₀, shifted by
 * the row's first value: the shift removes the cancellation E[v²] − E[v]² suffers when
 * |mean| ≫ std, without Welford's per-element division.
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
  for (let r = 0; r < rows; r++) {
    const xRow = xOff + r * cols;
    const outRow = outOff + r * cols;
    // With a residual, v is materialised in `out` first, and the normalisation pass reads it back.
    const src = residual ? out : x;
    const srcRow = residual ? outRow : xRow;
    let s1 = 0;
    let s2 = 0;
    let shift: number;
    if (residual) {
      const skipRow = skipOff + r * cols;
      shift = 0;
      for (let j = 0; j < cols; j++) {
        let v = x[xRow + j];
        if (skip !== null) v = Math.fround(v + skip[skipRow + j]);
        if (bias !== null) v = Math.fround(v + bias[biasOff + j]);
        out[outRow + j] = v;
        if (j === 0) shift = v;
        const d = v - shift;
        s1 += d;
        s2 += d * d;
      }
    } else {
      shift = x[xRow];
      for (let j = 0; j < cols; j++) {
        const d = x[xRow + j] - shift;
        s1 += d;
        s2 += d * d;
      }
    }
    if (sum !== null) {
      const sumRow = sumOff + r * cols;
      for (let j = 0; j < cols; j++) sum[sumRow + j] = src[srcRow + j];
    }
    const meanShift = s1 / cols;
    const variance = Math.max(0, s2 / cols - meanShift * meanShift);
    const mean = Math.fround(shift + meanShift);
    const invStd = Math.fround(1 / Math.sqrt(variance + epsilon));
    // float32 × float32 is exact in float64, so rounding once after adding beta is the fused multiply-add.
    if (beta !== null) {
      for (let j = 0; j < cols; j++) {
        out[outRow + j] = Math.fround(Math.fround(src[srcRow + j] - mean) * invStd) * gamma[gammaOff + j] + beta[betaOff + j];
      }
    } else {
      for (let j = 0; j < cols; j++) {
        out[outRow + j] = Math.fround(Math.fround(src[srcRow + j] - mean) * invStd) * gamma[gammaOff + j];
      }
    }
  }
}

/**
 * Reference for {@link layerNorm} (same signature and semantics): materialises v, then the
 * textbook two-pass mean and variance in float64, rounded to float32 as the kernel's are.
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
    mean /= cols;
    let variance = 0;
    for (let j = 0; j < cols; j++) variance += (v[j] - mean) ** 2;
    variance /= cols;
    const mean32 = Math.fround(mean);
    const invStd32 = Math.fround(1 / Math.sqrt(variance + epsilon));
    for (let j = 0; j < cols; j++) {
      if (sum !== null) sum[sumOff + r * cols + j] = v[j];
      const normalized = Math.fround(Math.fround(v[j] - mean32) * invStd32);
      out[outOff + r * cols + j] = normalized * gamma[gammaOff + j] + (beta === null ? 0 : beta[betaOff + j]);
    }
  }
}
