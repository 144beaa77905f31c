/**
 * Scaled dot-product multi-head attention over the (batch, seq, heads·headDim) layout that
 * BERT's projections produce, without materialising any transpose.
 */
import { gemmOnThisThread, type GemmKernels } from './gemm.js';
import { activePool, PARALLEL_MIN_WORK } from './threads.js';

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
 * mask, when non-null, is additive, one row of seqK values per batch: mask[maskOff + b·maskStride + t]
 * is added to every score of key t in batch b, for all heads and query rows (0 keeps a key, a large
 * negative value such as −10000 drops it). maskStride is seqK for a (batch, seqK) mask, 0 for one
 * row shared by every batch.
 */

/**
 * The kernels as one self-contained function taking this thread's GEMM kernels (see
 * kernels/threads.ts): worker threads run the same code on their share of the (batch, head) pairs.
 */
export function attentionKernels(gemm: GemmKernels) {
  /** This thread's (seqQ, seqK) score matrix. It only grows, so a warm process allocates nothing. */
  let scores = new Float32Array(0);

  /** The (batch, head) pairs u = b·heads + h for u in [first, first + count). */
  function run(
    q: Float32Array,
    qOff: number,
    k: Float32Array,
    kOff: number,
    v: Float32Array,
    vOff: number,
    out: Float32Array,
    outOff: number,
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
    maskStride: number,
    first: number,
    count: number,
  ): void {
    if (scores.length < seqQ * seqK) scores = new Float32Array(seqQ * seqK);
    const s = scores;
    for (let u = first; u < first + count; u++) {
      const b = Math.floor(u / heads);
      const h = u - b * heads;
      const qBase = qOff + b * seqQ * qStride + h * headDim;
      const kBase = kOff + b * seqK * kStride + h * headDim;
      const vBase = vOff + b * seqK * vStride + h * headDim;
      const oBase = outOff + b * seqQ * outStride + h * headDim;
      // Scores (seqQ, seqK) = scale · Q_bh (seqQ, headDim) · K_bhᵀ; K_bh is read as (seqK, headDim) rows.
      gemm.run(seqQ, seqK, headDim, scale, q, qBase, qStride, false, null, k, kBase, kStride, true, s, 0, seqK, null, 0, false);
      softmaxRows(s, seqQ, seqK, mask, maskOff + b * maskStride);
      // O_bh (seqQ, headDim) = P (seqQ, seqK) · V_bh (seqK, headDim), written straight into its strided place.
      gemm.run(seqQ, headDim, seqK, 1, s, 0, seqK, false, null, v, vBase, vStride, false, out, oBase, outStride, null, 0, false);
    }
  }

  /**
   * In-place softmax of each (rows, cols) row of scores (+ mask (cols), broadcast over rows).
   * Score + mask is rounded to float32, as it is when the graph adds the mask as its own tensor
   * (and as onnxruntime's Attention does): next to −10000 that quantises scores to ~1e−3, which
   * visibly flattens rows whose keys are all masked — onnxruntime's result, so lambert's too.
   */
  function softmaxRows(x: Float32Array, rows: number, cols: number, mask: Float32Array | null, maskStart: number): void {
    for (let r = 0; r < rows; r++) {
      const row = r * cols;
      if (mask !== null) for (let t = 0; t < cols; t++) x[row + t] += mask[maskStart + t];
      let max = -Infinity;
      for (let t = 0; t < cols; t++) {
        const e = x[row + t];
        // Once max is NaN no comparison replaces it, so NaN reaches the whole row.
        if (e > max || e !== e) max = e;
      }
      let sum = 0;
      for (let t = 0; t < cols; t++) {
        const e = Math.exp(x[row + t] - max);
        x[row + t] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let t = 0; t < cols; t++) x[row + t] *= inv;
    }
  }

  /**
   * Pairs [start, start+count) for a worker: p = [heads, seqQ, seqK, headDim, qOff, kOff, vOff,
   * outOff, qStride, kStride, vStride, outStride, scale, maskOff, maskStride, hasMask];
   * arrays = [q, k, v, out, mask?]. Each pair writes only its own part of out.
   */
  function rows(start: number, count: number, p: Float64Array, arrays: readonly Float32Array[]): void {
    run(arrays[0]!, p[4]!, arrays[1]!, p[5]!, arrays[2]!, p[6]!, arrays[3]!, p[7]!, p[0]!, p[1]!, p[2]!, p[3]!, p[8]!, p[9]!, p[10]!, p[11]!,
      p[12]!, p[15] === 1 ? arrays[4]! : null, p[13]!, p[14]!, start, count);
  }

  return { run, rows };
}

const kernels = attentionKernels(gemmOnThisThread);

/** attentionKernels' job id in the worker threads (its place in the session's factory list). */
export const ATTENTION_JOB = 2;

/**
 * O = softmax(scale · Q·Kᵀ + mask) · V for every (batch, head), in the layout described above.
 * `out` must not overlap q, k or v. With a thread pool active, the (batch, head) pairs are split
 * between the threads (each pair is computed whole by one thread, so the bits do not change).
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
  maskStride: number,
): void {
  const pairs = batch * heads;
  const pool = activePool();
  if (pool !== null && pairs >= 2 && 2 * pairs * seqQ * seqK * headDim > PARALLEL_MIN_WORK) {
    const shared = pool.shared(out, 3);
    const arrays = [pool.shared(q, 0), pool.shared(k, 1), pool.shared(v, 2), shared];
    if (mask !== null) arrays.push(pool.shared(mask, 4));
    const p = [heads, seqQ, seqK, headDim, qOff, kOff, vOff, outOff, qStride, kStride, vStride, outStride, scale, maskOff, maskStride, mask === null ? 0 : 1];
    pool.split(ATTENTION_JOB, kernels.rows, pairs, 1, p, arrays);
    if (shared !== out) out.set(shared);
    return;
  }
  kernels.run(q, qOff, k, kOff, v, vOff, out, outOff, heads, seqQ, seqK, headDim, qStride, kStride, vStride, outStride, scale, mask, maskOff, maskStride, 0, pairs);
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
  maskStride: number,
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
          // The scores leave their GEMM as float32, and the masked sum is a float32 tensor too.
          scores.push(Math.fround(Math.fround(scale * dot) + (mask === null ? 0 : mask[maskOff + b * maskStride + t])));
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
