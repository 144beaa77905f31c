/**
 * fp32 matrix multiplication.
 *
 * Design (measured with Node 20 / V8 11 on x86-64; JS has no SIMD and no FMA, so
 * every multiply-add is two scalar float64 instructions):
 *
 * - The cost of a scalar JS GEMM is dominated by per-load overhead (bounds check,
 *   index arithmetic, a map check of the array every iteration) and by spills: TurboFan
 *   schedules every product of a k-step before the adds and has 15 usable xmm registers. A 4×2
 *   register tile (8 accumulators, 6 loads per 16 flops) measured fastest: 4–7 % over 3×2, while
 *   3×3, 2×4, 5×2, 4×3, 6×2, 4×4 and tiles unrolled over k were as fast as 3×2 or up to 35 %
 *   slower (spills, or longer dependency chains per iteration).
 * - Both packed operands live in ONE plain JS array of doubles (`work`,
 *   PACKED_DOUBLE_ELEMENTS) instead of typed arrays: element loads from a double
 *   array need no float32→float64 conversion and no external-pointer arithmetic,
 *   and reading a single array lets V8 check one map per iteration instead of two.
 *   This measured ~40 % faster than Float32Array operands, ~20 % faster than a Float64Array
 *   (also when indices are masked into a constant-length one, which does not drop the bounds
 *   checks), and ~10 % faster than two separate double arrays.
 * - The packed weight (`PackedMatrix`) stays a compact Float32Array; each call copies
 *   column blocks of it into `work` (a sequential O(K·N) conversion, amortised over
 *   the M rows of the product).
 * - Products accumulate in float64 and are rounded to float32 at the store, once per
 *   KC-deep slice of K (once in total for K ≤ KC).
 *
 * Measured (best of 60, one Sapphire Rapids core at 2.6 GHz base) with the earlier 3×2 tile:
 * gemmPacked ≈ 7.8 GFLOP/s at (M,K,N) = (128,384,1536), ≈ 7.2–7.7 at BERT-base's (128,768,3072)
 * and (128,3072,768); gemmReference ≈ 0.5. The 4×2 tile is 4–7 % faster than that in
 * interleaved runs (the machine is shared, so only same-process ratios are comparable).
 */
import { roundsLikeOnnxruntime } from './mlas.js';
import { activePool, PARALLEL_MIN_WORK } from './threads.js';

/**
 * A (K,N) matrix repacked once for {@link gemmPacked}.
 *
 * Layout: ceil(N/NR) column panels, each NR columns wide and K-major:
 * element (k, n) lives at `data[(n / NR | 0) * K * NR + k * NR + n % NR]`.
 * The ragged last panel is zero-padded, so `data.length = ceil(N/NR) * NR * K`.
 */
export interface PackedMatrix {
  readonly data: Float32Array;
  readonly K: number;
  readonly N: number;
  /** Panel width the data was packed with; always equals the kernel's tile width. */
  readonly panelWidth: number;
}

/**
 * The kernels as one self-contained function (its body references nothing outside it), so that
 * kernels/threads.ts can start worker threads from its source text: every thread runs the same
 * code, hence computes bit-identical results.
 */
export function gemmKernels() {
  /** Rows of op(A) per register tile. */
  const MR = 4;
  /**
   * Columns per register tile; also the width of the packed-B column panels. multiplyBlock and
   * packB's inner loop are written out for exactly MR = 4, NR = 2.
   */
  const NR = 2;
  /** Depth of one K slice; see {@link run}. */
  const KC = 512;
  /** Rows of B that packB transposes per sweep across the panels. */
  const PACK_ROWS = 64;
  /** Target size (in doubles) of the B block copied into `work`: 128 Ki doubles = 1 MiB, so it stays in L2. */
  const B_BLOCK_DOUBLES = 131072;

  /** Packs B (K,N), or Bᵀ given as an (N,K) array when `transB`, with leading dimension = row length. */
  function packB(b: Float32Array, bOffset: number, K: number, N: number, transB: boolean): PackedMatrix {
    const panels = Math.ceil(N / NR);
    // Shared memory, so worker threads read the weights without a copy.
    const data = new Float32Array(new SharedArrayBuffer(panels * NR * K * 4));
    // b[bOffset + k*rowStride + n*colStride] = op(B)[k, n]
    const rowStride = transB ? 1 : N;
    const colStride = transB ? K : 1;
    // Visiting PACK_ROWS rows of every panel before moving down keeps the source rows a
    // non-transposed B is read from in L1 while all its panels take their two columns.
    for (let k0 = 0; k0 < K; k0 += PACK_ROWS) {
      const kEnd = Math.min(K, k0 + PACK_ROWS);
      for (let p = 0; p < panels; p++) {
        const n0 = p * NR;
        const full = N - n0 >= NR;
        let dst = (p * K + k0) * NR;
        let src = bOffset + k0 * rowStride + n0 * colStride;
        for (let k = k0; k < kEnd; k++) {
          data[dst] = b[src];
          if (full) data[dst + 1] = b[src + colStride]; // the ragged last panel keeps its zero column
          dst += NR;
          src += rowStride;
        }
      }
    }
    return { data, K, N, panelWidth: NR };
  }

  /**
   * Shared work array for packed A and one block of packed B. It only grows, so a warm
   * process allocates nothing. Created from a non-integer literal so its elements kind is
   * PACKED_DOUBLE from the start; pushing zeros later never changes that.
   */
  const work: number[] = [0.5];

  function ensureWork(size: number): void {
    while (work.length < size) work.push(0);
  }

  /**
   * op(A)[:, k0 .. k0+kc) → `work[0 .. ceil(M/MR)·MR·kc)`: row panels of MR rows, k-major
   * (element (i, k) at `(i / MR | 0) * kc * MR + (k - k0) * MR + i % MR`), zero rows padding the last panel.
   */
  function packA(
    w: number[],
    M: number,
    k0: number,
    kc: number,
    a: Float32Array,
    aOffset: number,
    lda: number,
    transA: boolean,
  ): void {
    // op(A)[i,k] = a[aOffset + i*rowStride + k*colStride]
    const rowStride = transA ? 1 : lda;
    const colStride = transA ? lda : 1;
    for (let i0 = 0; i0 < M; i0 += MR) {
      const base = i0 * kc;
      for (let i = 0; i < MR; i++) {
        const row = i0 + i;
        let dst = base + i;
        if (row < M) {
          let src = aOffset + row * rowStride + k0 * colStride;
          for (let k = 0; k < kc; k++) {
            w[dst] = a[src];
            dst += MR;
            src += colStride;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            w[dst] = 0;
            dst += MR;
          }
        }
      }
    }
  }

  /**
   * Rows [k0, k0+kc) of the panels covering columns [n0, n0+cols) of a PackedMatrix → work at
   * `wOff`, as consecutive panels of kc·NR elements.
   */
  function copyPackedBlock(
    w: number[],
    wOff: number,
    data: Float32Array,
    K: number,
    n0: number,
    cols: number,
    k0: number,
    kc: number,
  ): void {
    const panelLen = kc * NR;
    let d = wOff;
    for (let j0 = 0; j0 < cols; j0 += NR) {
      // n0 + j0 is a multiple of NR, so (n0 + j0)·K is the first element of its panel.
      let s = (n0 + j0) * K + k0 * NR;
      const end = d + panelLen;
      for (; d < end; d = (d + 1) | 0, s = (s + 1) | 0) w[d] = data[s];
    }
  }

  /**
   * Rows [k0, k0+kc) × columns [n0, n0+cols) of op(B) (K,N), read from a strided array, → work at
   * `wOff` in the same panel layout as {@link copyPackedBlock}.
   */
  function packStridedBlock(
    w: number[],
    wOff: number,
    b: Float32Array,
    bOffset: number,
    ldb: number,
    transB: boolean,
    n0: number,
    cols: number,
    k0: number,
    kc: number,
  ): void {
    // op(B)[k,n] = b[bOffset + k*rowStride + n*colStride]
    const rowStride = transB ? 1 : ldb;
    const colStride = transB ? ldb : 1;
    for (let j0 = 0; j0 < cols; j0 += NR) {
      const base = wOff + j0 * kc;
      for (let j = 0; j < NR; j++) {
        let dst = base + j;
        if (j0 + j < cols) {
          let src = bOffset + k0 * rowStride + (n0 + j0 + j) * colStride;
          for (let k = 0; k < kc; k++) {
            w[dst] = b[src];
            dst += NR;
            src += rowStride;
          }
        } else {
          for (let k = 0; k < kc; k++) {
            w[dst] = 0;
            dst += NR;
          }
        }
      }
    }
  }

  /**
   * packed A (M,kc) at work[0..) · packed B (kc,cols) at work[bBase..) → C[:, n0 .. n0+cols) (M,cols):
   * C = alpha · A·B (+ bias) (+ C).
   *
   * The tile shape is spelled as literals (4 = MR, 2 = NR) because V8 reads the factory's
   * constants from their context on every use instead of folding them.
   */
  function multiplyBlock(
    w: number[],
    bBase: number,
    M: number,
    kc: number,
    n0: number,
    cols: number,
    alpha: number,
    c: Float32Array,
    cOffset: number,
    ldc: number,
    bias: Float32Array | null,
    biasOffset: number,
    accumulate: boolean,
  ): void {
    const panelB = kc * 2;
    for (let i0 = 0; i0 < M; i0 += 4) {
      const aBase = i0 * kc;
      const rows = M - i0 < 4 ? M - i0 : 4;
      for (let j0 = 0; j0 < cols; j0 += 2) {
        const bStart = bBase + j0 * kc; // j0 is a multiple of NR: panel j0/NR starts at j0·kc
        const bEnd = bStart + panelB;
        let c00 = 0;
        let c01 = 0;
        let c10 = 0;
        let c11 = 0;
        let c20 = 0;
        let c21 = 0;
        let c30 = 0;
        let c31 = 0;
        let ai = aBase;
        // `| 0` keeps the index arithmetic in int32 so V8 omits overflow checks.
        for (let bi = bStart; bi < bEnd; bi = (bi + 2) | 0) {
          const a0 = w[ai];
          const a1 = w[(ai + 1) | 0];
          const a2 = w[(ai + 2) | 0];
          const a3 = w[(ai + 3) | 0];
          const b0 = w[bi];
          const b1 = w[(bi + 1) | 0];
          c00 += a0 * b0;
          c01 += a0 * b1;
          c10 += a1 * b0;
          c11 += a1 * b1;
          c20 += a2 * b0;
          c21 += a2 * b1;
          c30 += a3 * b0;
          c31 += a3 * b1;
          ai = (ai + 4) | 0;
        }
        const col = n0 + j0;
        const twoCols = cols - j0 >= 2;
        const bias0 = bias === null ? 0 : bias[biasOffset + col];
        const bias1 = bias === null || !twoCols ? 0 : bias[biasOffset + col + 1];
        let idx = cOffset + i0 * ldc + col;
        storePair(c, idx, alpha * c00 + bias0, alpha * c01 + bias1, twoCols, accumulate);
        if (rows > 1) {
          idx += ldc;
          storePair(c, idx, alpha * c10 + bias0, alpha * c11 + bias1, twoCols, accumulate);
          if (rows > 2) {
            idx += ldc;
            storePair(c, idx, alpha * c20 + bias0, alpha * c21 + bias1, twoCols, accumulate);
            if (rows > 3) {
              idx += ldc;
              storePair(c, idx, alpha * c30 + bias0, alpha * c31 + bias1, twoCols, accumulate);
            }
          }
        }
      }
    }
  }

  function storePair(c: Float32Array, idx: number, v0: number, v1: number, twoCols: boolean, accumulate: boolean): void {
    if (accumulate) {
      c[idx] += v0;
      if (twoCols) c[idx + 1] += v1;
    } else {
      c[idx] = v0;
      if (twoCols) c[idx + 1] = v1;
    }
  }

  /**
   * The driver. B comes either from a PackedMatrix (`packedData` non-null) or from a
   * strided array (`b`, `bOffset`, `ldb`, `transB`).
   *
   * Blocking: K is cut into KC-deep slices so one A panel (MR·KC doubles) and one B panel
   * (NR·KC doubles) sit in L1 together; N is cut so a KC×NC block of B (B_BLOCK_DOUBLES)
   * stays in L2 while every row panel of A streams past it. Slices after the first add
   * their partial products onto C, which rounds the running sum to float32 once per slice.
   */
  function run(
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: Float32Array,
    aOffset: number,
    lda: number,
    transA: boolean,
    packedData: Float32Array | null,
    b: Float32Array,
    bOffset: number,
    ldb: number,
    transB: boolean,
    c: Float32Array,
    cOffset: number,
    ldc: number,
    bias: Float32Array | null,
    biasOffset: number,
    accumulate: boolean,
  ): void {
    if (M <= 0 || N <= 0) return;
    const kcMax = Math.min(K, KC);
    const aSize = Math.ceil(M / MR) * MR * kcMax;
    const nc = Math.min(Math.ceil(N / NR) * NR, Math.max(NR, Math.floor(B_BLOCK_DOUBLES / Math.max(kcMax, 1) / NR) * NR));
    ensureWork(aSize + nc * kcMax);
    const w = work;
    // K = 0 still needs one pass to write alpha·0 + bias (+ C).
    let k0 = 0;
    do {
      const kc = Math.min(KC, K - k0);
      const first = k0 === 0;
      packA(w, M, k0, kc, a, aOffset, lda, transA);
      for (let n0 = 0; n0 < N; n0 += nc) {
        const cols = Math.min(nc, N - n0);
        if (packedData !== null) copyPackedBlock(w, aSize, packedData, K, n0, cols, k0, kc);
        else packStridedBlock(w, aSize, b, bOffset, ldb, transB, n0, cols, k0, kc);
        multiplyBlock(w, aSize, M, kc, n0, cols, alpha, c, cOffset, ldc, first ? bias : null, biasOffset, !first || accumulate);
      }
      k0 += kc;
    } while (k0 < K);
  }

  /**
   * Rows [start, start+count) of {@link run} for a packed B, with its arguments as numbers so a
   * worker thread receives them through shared memory: p = [N, K, alpha, aOffset, lda, transA,
   * cOffset, ldc, biasOffset, accumulate]; arrays = [a, packed data, c, bias?]. Every row's
   * result depends only on its own row of A, so any split of the rows gives the same bits.
   */
  function rows(start: number, count: number, p: Float64Array, arrays: readonly Float32Array[]): void {
    const transA = p[5] === 1;
    const lda = p[4]!;
    const ldc = p[7]!;
    const packed = arrays[1]!;
    run(count, p[0]!, p[1]!, p[2]!, arrays[0]!, p[3]! + start * (transA ? 1 : lda), lda, transA, packed, packed, 0, 0, false,
      arrays[2]!, p[6]! + start * ldc, ldc, arrays[3] ?? null, p[8]!, p[9] === 1);
  }

  return { NR, MR, packB, run, rows };
}

export type GemmKernels = ReturnType<typeof gemmKernels>;

/** This thread's instance (its own work array): the one every call made here uses. */
export const gemmOnThisThread: GemmKernels = gemmKernels();
const kernels = gemmOnThisThread;

/** gemmKernels' job id in the worker threads (kernels/threads.ts). */
export const GEMM_JOB = 1;

/** Packs B (K,N), or Bᵀ given as an (N,K) array when `transB`, with leading dimension = row length. */
export const packB = kernels.packB;

/**
 * C (M,N) = alpha · op(A) (M,K) · B (K,N) [+ bias (N) broadcast over rows] [+ C if `accumulate`].
 *
 * op(A) is A stored (M,K) with row stride `lda`, or when `transA` A stored (K,M) with row stride `lda`.
 * C has row stride `ldc` and must not overlap A. When `accumulate` is false C is write-only (its
 * old contents, even NaN, are ignored).
 */
export function gemmPacked(
  M: number,
  N: number,
  K: number,
  a: Float32Array,
  aOffset: number,
  lda: number,
  transA: boolean,
  packedB: PackedMatrix,
  c: Float32Array,
  cOffset: number,
  ldc: number,
  bias: Float32Array | null,
  biasOffset: number,
  accumulate: boolean,
  alpha = 1,
): void {
  if (packedB.K !== K || packedB.N !== N || packedB.panelWidth !== kernels.NR) {
    throw new RangeError(
      `gemmPacked: packed B is (${packedB.K},${packedB.N}) with panel width ${packedB.panelWidth}, expected (${K},${N}) with ${kernels.NR}`,
    );
  }
  const pool = activePool();
  if (pool !== null && M * N * K > PARALLEL_MIN_WORK && M >= 2 * kernels.MR) {
    const cs = pool.shared(c, 2);
    const arrays = [pool.shared(a, 0), pool.shared(packedB.data, 1), cs];
    if (bias !== null) arrays.push(pool.shared(bias, 3));
    const p = [N, K, alpha, aOffset, lda, transA ? 1 : 0, cOffset, ldc, biasOffset, accumulate ? 1 : 0];
    pool.split(GEMM_JOB, kernels.rows, M, kernels.MR, p, arrays);
    if (cs !== c) c.set(cs);
    return;
  }
  kernels.run(M, N, K, alpha, a, aOffset, lda, transA, packedB.data, packedB.data, 0, 0, false, c, cOffset, ldc, bias, biasOffset, accumulate);
}

/**
 * BLAS-style C (M,N) = alpha · op(A) (M,K) · op(B) (K,N) + beta · C, for operands that are not
 * constant (e.g. attention Q·Kᵀ). op(A) is A stored (M,K), or when `transA` (K,M); op(B) is B
 * stored (K,N), or when `transB` (N,K); lda, ldb, ldc are row strides. beta = 0 ignores C's
 * contents (even NaN). C must not overlap A or B.
 *
 * While a session rounds like onnxruntime (kernels/mlas.ts) the product is MLAS SGEMM's, bit
 * for bit: each element one float32 fused multiply-add chain over k in order, then
 * float32(acc · alpha), or float32(acc · alpha + C) with beta = 1 (C scaled by beta first
 * otherwise). Otherwise it accumulates in float64 through the packed kernels, ~10× faster.
 */
export function gemm(
  M: number,
  N: number,
  K: number,
  alpha: number,
  a: Float32Array,
  aOffset: number,
  lda: number,
  transA: boolean,
  b: Float32Array,
  bOffset: number,
  ldb: number,
  transB: boolean,
  beta: number,
  c: Float32Array,
  cOffset: number,
  ldc: number,
): void {
  if (M <= 0 || N <= 0) return;
  if (!roundsLikeOnnxruntime()) {
    if (beta !== 0 && beta !== 1) {
      for (let i = 0; i < M; i++) {
        const row = cOffset + i * ldc;
        for (let j = 0; j < N; j++) c[row + j] *= beta;
      }
    }
    kernels.run(M, N, K, alpha, a, aOffset, lda, transA, null, b, bOffset, ldb, transB, c, cOffset, ldc, null, 0, beta !== 0);
    return;
  }
  const scale = Math.fround(alpha);
  const keep = Math.fround(beta);
  if (exactRow.length < N) exactRow = new Float32Array(N);
  const acc = exactRow;
  // op(A)[i,k] = a[aOffset + i*aRow + k*aCol]
  const aRow = transA ? 1 : lda;
  const aCol = transA ? lda : 1;
  for (let i = 0; i < M; i++) {
    const aBase = aOffset + i * aRow;
    if (transB) {
      for (let j = 0; j < N; j++) {
        const bRow = bOffset + j * ldb;
        let dot = 0;
        for (let k = 0; k < K; k++) dot = Math.fround(a[aBase + k * aCol]! * b[bRow + k]! + dot);
        acc[j] = dot;
      }
    } else {
      // Row by row of B, each element's chain still runs over k in order; the float32 store rounds each step.
      acc.fill(0, 0, N);
      for (let k = 0; k < K; k++) {
        const av = a[aBase + k * aCol]!;
        const bRow = bOffset + k * ldb;
        for (let j = 0; j < N; j++) acc[j] = av * b[bRow + j]! + acc[j]!;
      }
    }
    const cRow = cOffset + i * ldc;
    if (keep === 0) {
      for (let j = 0; j < N; j++) c[cRow + j] = acc[j]! * scale;
    } else {
      for (let j = 0; j < N; j++) {
        const prior = keep === 1 ? c[cRow + j]! : Math.fround(c[cRow + j]! * keep);
        c[cRow + j] = acc[j]! * scale + prior;
      }
    }
  }
}

/** {@link gemm}'s row of accumulators; it only grows. */
let exactRow = new Float32Array(0);

/**
 * Reference for {@link gemm}: the textbook triple loop, accumulating each dot product in
 * float64 and rounding once on store.
 */
export function gemmReference(
  M: number,
  N: number,
  K: number,
  alpha: number,
  a: Float32Array,
  aOffset: number,
  lda: number,
  transA: boolean,
  b: Float32Array,
  bOffset: number,
  ldb: number,
  transB: boolean,
  beta: number,
  c: Float32Array,
  cOffset: number,
  ldc: number,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const av = transA ? a[aOffset + k * lda + i] : a[aOffset + i * lda + k];
        const bv = transB ? b[bOffset + j * ldb + k] : b[bOffset + k * ldb + j];
        sum += av * bv;
      }
      const idx = cOffset + i * ldc + j;
      c[idx] = beta === 0 ? alpha * sum : alpha * sum + beta * c[idx];
    }
  }
}
