/**
 * Scaled dot-product multi-head attention over the (batch, seq, heads·headDim) layout that
 * BERT's projections produce, without materialising any transpose.
 */
import { gemmOnThisThread, type GemmKernels } from './gemm.js';
import { mlasOnThisThread, roundsLikeOnnxruntime, type MlasKernels } from './mlas.js';
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
 * The kernels as one self-contained function (see kernels/threads.ts), taking this thread's MLAS
 * and GEMM kernels: worker threads run the same code on their share of the (batch, head) pairs.
 *
 * Two roundings. `exact`: onnxruntime's CPU path for the same graph, bit for bit — the scores
 * and the weighted sum are MLAS SGEMM products (per output element one float32 fused
 * multiply-add chain over k in order, then × scale), the mask is added in float32 (or inside the
 * scores product, as onnxruntime's Attention op does), and the softmax is MLAS's
 * (kernels/mlas.ts); that keeps int8 models, which re-quantize the attention output, exact.
 * Otherwise both products run through the packed float64-accumulating GEMM and the softmax is
 * float64 — about 3× faster, and within float32 rounding of the exact result.
 */
export function attentionKernels(mlas: MlasKernels, gemm: GemmKernels) {
  const softmaxRow = mlas.softmaxRow;
  /**
   * This thread's scratch, growing only: the score row, and float64 copies of the head's K and V
   * (laid out for the exact path's eight-chain blocks, see run), of the query row and of the
   * probabilities — converted once, so the rounding chains read doubles instead of converting
   * float32 on every step.
   */
  let scores = new Float32Array(0);
  let weights = new Float64Array(0);
  let keys = new Float64Array(0);
  let values = new Float64Array(0);
  let query = new Float64Array(0);
  /** One output row, padded like a row of V. */
  let outRow = new Float32Array(0);
  /** The float64 path's (seqQ, seqK) score matrix. */
  let scoreMatrix = new Float32Array(0);

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
    maskInProduct: boolean,
    exact: boolean,
    first: number,
    count: number,
  ): void {
    if (!exact) {
      // Without onnxruntime's rounding both products go through the packed GEMM kernels.
      if (scoreMatrix.length < seqQ * seqK) scoreMatrix = new Float32Array(seqQ * seqK);
      const sm = scoreMatrix;
      for (let u = first; u < first + count; u++) {
        const b = Math.floor(u / heads);
        const h = u - b * heads;
        const qBase = qOff + b * seqQ * qStride + h * headDim;
        const kBase = kOff + b * seqK * kStride + h * headDim;
        const vBase = vOff + b * seqK * vStride + h * headDim;
        const oBase = outOff + b * seqQ * outStride + h * headDim;
        // Scores (seqQ, seqK) = scale · Q_bh (seqQ, headDim) · K_bhᵀ; K_bh is read as (seqK, headDim) rows.
        gemm.run(seqQ, seqK, headDim, scale, q, qBase, qStride, false, null, k, kBase, kStride, true, sm, 0, seqK, null, 0, false);
        softmaxRows(sm, seqQ, seqK, mask, maskOff + b * maskStride);
        // O_bh (seqQ, headDim) = P (seqQ, seqK) · V_bh (seqK, headDim), written straight into its strided place.
        gemm.run(seqQ, headDim, seqK, 1, sm, 0, seqK, false, null, v, vBase, vStride, false, out, oBase, outStride, null, 0, false);
      }
      return;
    }
    const D = headDim;
    // K goes into blocks of eight keys, d-major: key t, dimension d at ((t >> 3)·D + d)·8 + (t & 7),
    // so the eight rounding chains of a block read consecutive doubles. V rows are padded to whole
    // eight-lane blocks (vRow doubles). The lanes past seqK or D hold stale values: their chains
    // are computed and never read.
    const keyBlocks = Math.ceil(seqK / 8);
    const vRow = Math.ceil(D / 8) * 8;
    if (scores.length < keyBlocks * 8) {
      scores = new Float32Array(keyBlocks * 8);
      weights = new Float64Array(keyBlocks * 8);
    }
    if (keys.length < keyBlocks * 8 * D || values.length < seqK * vRow) {
      keys = new Float64Array(keyBlocks * 8 * D);
      values = new Float64Array(seqK * vRow);
    }
    if (query.length < vRow) {
      query = new Float64Array(vRow);
      outRow = new Float32Array(vRow);
    }
    const p = scores;
    const w = weights;
    const kd = keys;
    const vd = values;
    const qd = query;
    const od = outRow;
    for (let u = first; u < first + count; u++) {
      const b = Math.floor(u / heads);
      const h = u - b * heads;
      for (let t = 0; t < seqK; t++) {
        const kRow = kOff + (b * seqK + t) * kStride + h * D;
        const vSrc = vOff + (b * seqK + t) * vStride + h * D;
        const kDst = (t >> 3) * D * 8 + (t & 7);
        for (let d = 0; d < D; d++) {
          kd[kDst + d * 8] = k[kRow + d]!;
          vd[t * vRow + d] = v[vSrc + d]!;
        }
      }
      const maskBase = maskOff + b * maskStride;
      for (let s = 0; s < seqQ; s++) {
        const qRow = qOff + (b * seqQ + s) * qStride + h * D;
        for (let d = 0; d < D; d++) qd[d] = q[qRow + d]!;
        // Scores (seqK) = q_s · Kᵀ, a block of eight keys at a time: each rounding chain waits on
        // its previous step's add and float32 rounding, so eight independent chains keep the core
        // busy (four chains over a row-major K made this whole exact path 1.17–1.26× slower).
        for (let blk = 0; blk < keyBlocks; blk++) {
          let at = blk * D * 8;
          let d0 = 0;
          let d1 = 0;
          let d2 = 0;
          let d3 = 0;
          let d4 = 0;
          let d5 = 0;
          let d6 = 0;
          let d7 = 0;
          for (let d = 0; d < D; d++) {
            const x = qd[d]!;
            d0 = Math.fround(x * kd[at]! + d0);
            d1 = Math.fround(x * kd[(at + 1) | 0]! + d1);
            d2 = Math.fround(x * kd[(at + 2) | 0]! + d2);
            d3 = Math.fround(x * kd[(at + 3) | 0]! + d3);
            d4 = Math.fround(x * kd[(at + 4) | 0]! + d4);
            d5 = Math.fround(x * kd[(at + 5) | 0]! + d5);
            d6 = Math.fround(x * kd[(at + 6) | 0]! + d6);
            d7 = Math.fround(x * kd[(at + 7) | 0]! + d7);
            at = (at + 8) | 0;
          }
          const t = blk * 8;
          p[t] = d0;
          p[t + 1] = d1;
          p[t + 2] = d2;
          p[t + 3] = d3;
          p[t + 4] = d4;
          p[t + 5] = d5;
          p[t + 6] = d6;
          p[t + 7] = d7;
        }
        // × scale (+ mask).
        if (mask === null) for (let j = 0; j < seqK; j++) p[j] = p[j]! * scale;
        else if (maskInProduct) for (let j = 0; j < seqK; j++) p[j] = p[j]! * scale + mask[maskBase + j]!;
        else for (let j = 0; j < seqK; j++) p[j] = Math.fround(p[j]! * scale) + mask[maskBase + j]!;
        softmaxRow(p, 0, seqK, p, 0);
        for (let j = 0; j < seqK; j++) w[j] = p[j]!;
        // O_s (headDim) = P_s (seqK) · V (seqK, headDim): each element one chain over the keys,
        // eight elements at a time.
        for (let d = 0; d < D; d += 8) {
          let at = d;
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          let a4 = 0;
          let a5 = 0;
          let a6 = 0;
          let a7 = 0;
          for (let j = 0; j < seqK; j++) {
            const x = w[j]!;
            a0 = Math.fround(x * vd[at]! + a0);
            a1 = Math.fround(x * vd[(at + 1) | 0]! + a1);
            a2 = Math.fround(x * vd[(at + 2) | 0]! + a2);
            a3 = Math.fround(x * vd[(at + 3) | 0]! + a3);
            a4 = Math.fround(x * vd[(at + 4) | 0]! + a4);
            a5 = Math.fround(x * vd[(at + 5) | 0]! + a5);
            a6 = Math.fround(x * vd[(at + 6) | 0]! + a6);
            a7 = Math.fround(x * vd[(at + 7) | 0]! + a7);
            at = (at + vRow) | 0;
          }
          od[d] = a0;
          od[d + 1] = a1;
          od[d + 2] = a2;
          od[d + 3] = a3;
          od[d + 4] = a4;
          od[d + 5] = a5;
          od[d + 6] = a6;
          od[d + 7] = a7;
        }
        const oRow = outOff + (b * seqQ + s) * outStride + h * D;
        for (let d = 0; d < D; d++) out[oRow + d] = od[d]!;
      }
    }
  }

  /**
   * In-place float64 softmax of each (rows, cols) row of scores (+ mask (cols), broadcast over
   * rows); score + mask is rounded to float32, as a graph's Add would.
   */
  function softmaxRows(x: Float32Array, rows: number, cols: number, mask: Float32Array | null, maskStart: number): void {
    for (let r = 0; r < rows; r++) {
      const row = r * cols;
      if (mask !== null) for (let t = 0; t < cols; t++) x[row + t] += mask[maskStart + t]!;
      let max = -Infinity;
      for (let t = 0; t < cols; t++) {
        const e = x[row + t]!;
        // Once max is NaN no comparison replaces it, so NaN reaches the whole row.
        if (e > max || e !== e) max = e;
      }
      let sum = 0;
      for (let t = 0; t < cols; t++) {
        const e = Math.exp(x[row + t]! - max);
        x[row + t] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let t = 0; t < cols; t++) x[row + t] *= inv;
    }
  }

  /**
   * Pairs [start, start+count) for a worker: p = [heads, seqQ, seqK, headDim, qOff, kOff, vOff,
   * outOff, qStride, kStride, vStride, outStride, scale, maskOff, maskStride, hasMask,
   * maskInProduct, exact]; arrays = [q, k, v, out, mask?]. Each pair writes only its own part of out.
   */
  function rows(start: number, count: number, p: Float64Array, arrays: readonly Float32Array[]): void {
    run(arrays[0]!, p[4]!, arrays[1]!, p[5]!, arrays[2]!, p[6]!, arrays[3]!, p[7]!, p[0]!, p[1]!, p[2]!, p[3]!, p[8]!, p[9]!, p[10]!, p[11]!,
      p[12]!, p[15] === 1 ? arrays[4]! : null, p[13]!, p[14]!, p[16] === 1, p[17] === 1, start, count);
  }

  return { run, rows };
}

const kernels = attentionKernels(mlasOnThisThread, gemmOnThisThread);

/** attentionKernels' job id in the worker threads (its place in the session's factory list). */
export const ATTENTION_JOB = 3;

/**
 * O = softmax(scale · Q·Kᵀ + mask) · V for every (batch, head), in the layout described above;
 * `scale` is used as a float32. The masked score is float32(float32(scale · q·k) + mask), as when
 * a graph adds the mask after the scores, or with `maskInProduct` float32(scale · q·k + mask), as
 * onnxruntime's Attention op does. `out` must not overlap q, k or v. With a thread pool active,
 * the (batch, head) pairs are split between the threads (each pair is computed whole by one
 * thread, so the bits do not change).
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
  maskInProduct = false,
): void {
  const pairs = batch * heads;
  scale = Math.fround(scale);
  const exact = roundsLikeOnnxruntime();
  const pool = activePool();
  if (pool !== null && pairs >= 2 && 2 * pairs * seqQ * seqK * headDim > PARALLEL_MIN_WORK) {
    const shared = pool.shared(out, 3);
    const arrays = [pool.shared(q, 0), pool.shared(k, 1), pool.shared(v, 2), shared];
    if (mask !== null) arrays.push(pool.shared(mask, 4));
    const p = [heads, seqQ, seqK, headDim, qOff, kOff, vOff, outOff, qStride, kStride, vStride, outStride, scale, maskOff, maskStride, mask === null ? 0 : 1, maskInProduct ? 1 : 0, exact ? 1 : 0];
    pool.split(ATTENTION_JOB, kernels.rows, pairs, 1, p, arrays);
    if (shared !== out) out.set(shared);
    return;
  }
  kernels.run(q, qOff, k, kOff, v, vOff, out, outOff, heads, seqQ, seqK, headDim, qStride, kStride, vStride, outStride, scale, mask, maskOff, maskStride, maskInProduct, exact, 0, pairs);
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
