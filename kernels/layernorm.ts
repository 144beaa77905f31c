/**
 * Layer normalisation over the last axis, with the optional residual input of
 * SkipLayerNormalization.
 */

/**
 * For each of `rows` rows of `cols` values (row-major, contiguous):
 *
 *   v   = x + skip + bias           (skip (rows, cols) and bias (cols) are optional;
 *                                    v is rounded to float32, as the tensor it is in the graph)
 *   out = (v − mean(v)) / √(var(v) + epsilon) · gamma + beta     (beta optional)
 *
 * with the population variance. gamma and beta have length `cols`. When `sum` is given it
 * receives v (SkipLayerNormalization's optional "input_skip_bias_sum" output); with neither
 * skip nor bias it receives a copy of x.
 *
 * Statistics come from one pass over the row accumulating Σd and Σd² in float64, where
 * d = v − v₀ is shifted by the row's first value: the shift removes the cancellation the
 * textbook E[v²] − E[v]² suffers when |mean| ≫ std, and float64 sums of float32 data keep the
 * rest far below float32 resolution, without Welford's per-element division.
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
    let shift: number;
    let s1 = 0;
    let s2 = 0;
    if (residual) {
      const skipRow = skipOff + r * cols;
      shift = Math.fround(x[xRow] + (skip === null ? 0 : skip[skipRow]) + (bias === null ? 0 : bias[biasOff]));
      for (let j = 0; j < cols; j++) {
        let v = x[xRow + j];
        if (skip !== null) v += skip[skipRow + j];
        if (bias !== null) v += bias[biasOff + j];
        v = Math.fround(v);
        out[outRow + j] = v;
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
    const mean = shift + meanShift;
    const invStd = 1 / Math.sqrt(variance + epsilon);
    if (beta !== null) {
      for (let j = 0; j < cols; j++) {
        out[outRow + j] = (src[srcRow + j] - mean) * invStd * gamma[gammaOff + j] + beta[betaOff + j];
      }
    } else {
      for (let j = 0; j < cols; j++) {
        out[outRow + j] = (src[srcRow + j] - mean) * invStd * gamma[gammaOff + j];
      }
    }
  }
}

/**
 * Reference for {@link layerNorm} (same signature and semantics): materialises v, then the
 * textbook two-pass mean and variance in float64.
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
      v[j] =
        x[xOff + r * cols + j] +
        (skip === null ? 0 : skip[skipOff + r * cols + j]) +
        (bias === null ? 0 : bias[biasOff + j]);
    }
    let mean = 0;
    for (let j = 0; j < cols; j++) mean += v[j];
    mean /= cols;
    let variance = 0;
    for (let j = 0; j < cols; j++) variance += (v[j] - mean) ** 2;
    variance /= cols;
    for (let j = 0; j < cols; j++) {
      if (sum !== null) sum[sumOff + r * cols + j] = v[j];
      const normalized = (v[j] - mean) / Math.sqrt(variance + epsilon);
      out[outOff + r * cols + j] = normalized * gamma[gammaOff + j] + (beta === null ? 0 : beta[betaOff + j]);
    }
  }
}
