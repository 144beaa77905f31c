/**
 * Scaled dot-product multi-head attention over the (batch, seq, heads·headDim) layout that
 * BERT's projections produce, without materialising any transpose.
 */
import { gemm } from './gemm.js';
import { softmax } from './softmax.js';

/*
 * Layout. Element (b, s, h, d) of
 *   Q is q[qOff + (b·seqQ + s)·qStride + h·headDim + d]   (b < batch, s < seqQ, h < heads, d < headDim)
 *   K is k[kOff + (b·seqK + t)·kStride + h·headDim + d]   (t < seqK)
 *   V is v[vOff + (b·seqK + t)·vStride + h·headDim + d]
 *   O is out[outOff + (b·seqQ + s)·outStride + h·headDim + d]
 * i.e. each is a (batch, seq, ·) array whose rows hold the heads side by side. A stride is the
 * distance between consecutive sequence positions: heads·headDim for separate Q/K/V tensors,
 * 3·heads·headDim when q, k and v are one packed QKV array (offsets 0, heads·headDim, 2·heads·headDim).
 *
 * mask, when non-null, is additive with shape (batch, seqK): mask[maskOff + b·seqK + t] is added
 * to every score of key t in batch b, for all heads and query rows (0 keeps a key, a large
 * negative value such as −10000 drops it).
 */

/** Floats of scratch {@link attention} needs: one (seqQ, seqK) score matrix. */
export function attentionScratchSize(seqQ: number, seqK: number): number {
  return seqQ * seqK;
}

/**
 * O = softmax(scale · Q·Kᵀ + mask) · V for every (batch, head), in the layout described above.
 * `scratch` must hold at least {@link attentionScratchSize} floats; its contents are overwritten.
 * `out` must not overlap q, k or v.
 */
export function attention(
  q: Float32Array,
  qOff: number,
  k: Float32Array,
  kOff: number,
  v: Float32Array,
  vOff: number,
  out: Float32Array,
  outOff: number,
  batch: number,
  heads: number,
  seqQ: number,
  seqK: number,
  headDim: number,
  qStride: number,
  kStride: number,
  vStride: number,
  outStride: number,
  scale: number,
  mask: Float32Array | null,
  maskOff: number,
  scratch: Float32Array,
): void {
  if (scratch.length < attentionScratchSize(seqQ, seqK)) {
    throw new RangeError(`attention: scratch holds ${scratch.length} floats, needs ${attentionScratchSize(seqQ, seqK)}`);
  }
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const qBase = qOff + b * seqQ * qStride + h * headDim;
      const kBase = kOff + b * seqK * kStride + h * headDim;
      const vBase = vOff + b * seqK * vStride + h * headDim;
      const oBase = outOff + b * seqQ * outStride + h * headDim;
      // Scores (seqQ, seqK) = scale · Q_bh (seqQ, headDim) · K_bhᵀ; K_bh is read as (seqK, headDim) rows.
      gemm(seqQ, seqK, headDim, scale, q, qBase, qStride, false, k, kBase, kStride, true, 0, scratch, 0, seqK);
      if (mask === null) softmax(scratch, 0, seqQ, seqK, scratch, 0);
      else maskedSoftmax(scratch, seqQ, seqK, mask, maskOff + b * seqK);
      // O_bh (seqQ, headDim) = P (seqQ, seqK) · V_bh (seqK, headDim), written straight into its strided place.
      gemm(seqQ, headDim, seqK, 1, scratch, 0, seqK, false, v, vBase, vStride, false, 0, out, oBase, outStride);
    }
  }
}

/**
 * In-place softmax of each (rows, cols) row of scores + mask (cols), broadcast over rows.
 * The sum is formed in float64: rounding score + mask to float32 first would quantise scores
 * to the mask's ulp (≈ 1e−3 next to −10000) and visibly skew rows whose keys are all masked.
 */
function maskedSoftmax(scores: Float32Array, rows: number, cols: number, mask: Float32Array, maskStart: number): void {
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    let max = -Infinity;
    for (let t = 0; t < cols; t++) {
      const x = scores[row + t] + mask[maskStart + t];
      // Once max is NaN no comparison replaces it, so NaN reaches the whole row.
      if (x > max || x !== x) max = x;
    }
    let sum = 0;
    for (let t = 0; t < cols; t++) {
      const e = Math.exp(scores[row + t] + mask[maskStart + t] - max);
      scores[row + t] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let t = 0; t < cols; t++) scores[row + t] *= inv;
  }
}

/** Reference for {@link attention}: per query row, float64 dot products, softmax and weighted sum. */
export function attentionReference(
  q: Float32Array,
  qOff: number,
  k: Float32Array,
  kOff: number,
  v: Float32Array,
  vOff: number,
  out: Float32Array,
  outOff: number,
  batch: number,
  heads: number,
  seqQ: number,
  seqK: number,
  headDim: number,
  qStride: number,
  kStride: number,
  vStride: number,
  outStride: number,
  scale: number,
  mask: Float32Array | null,
  maskOff: number,
): void {
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let s = 0; s < seqQ; s++) {
        const scores: number[] = [];
        for (let t = 0; t < seqK; t++) {
          let dot = 0;
          for (let d = 0; d < headDim; d++) {
            dot +=
              q[qOff + (b * seqQ + s) * qStride + h * headDim + d] * k[kOff + (b * seqK + t) * kStride + h * headDim + d];
          }
          scores.push(scale * dot + (mask === null ? 0 : mask[maskOff + b * seqK + t]));
        }
        const max = scores.reduce((m, x) => Math.max(m, x), -Infinity);
        const weights = scores.map((x) => Math.exp(x - max));
        const total = weights.reduce((acc, w) => acc + w, 0);
        for (let d = 0; d < headDim; d++) {
          let acc = 0;
          for (let t = 0; t < seqK; t++) acc += weights[t] * v[vOff + (b * seqK + t) * vStride + h * headDim + d];
          out[outOff + (b * seqQ + s) * outStride + h * headDim + d] = acc / total;
        }
      }
    }
  }
}
