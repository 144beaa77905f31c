/**
 * Integer GEMM for quantized matmuls: C (M,N) int32 = Σ_k (A[m,k] − zA[m]) · (B[k,n] − zB[n])
 * with A and B uint8 or int8. Sums wrap in int32, as onnxruntime's do.
 *
 * Zero points are applied as corrections rather than per element:
 *   Σ(a − zA)(b − zB) = Σab − zB·Σa − zA·Σb + K·zA·zB
 * so the micro-kernel multiplies raw values and the row/column sums are precomputed. The identity
 * holds in the integers, hence also modulo 2³², so wrapping each term gives the wrapped result.
 *
 * Micro-kernel (V8 has no SIMD and no integer multiply-add worth using; see kernels/gemm.ts for
 * the measurements behind the 4×2 double tile and the single plain-array operand store): both
 * operands are stored centred on zero (uint8 values minus 128), so every product a·b is at most
 * 2¹⁴ in magnitude. Two adjacent B columns are packed into one double, b0 + b1·2²⁷, and one
 * float64 multiply-add a·(b0 + b1·2²⁷) accumulates both columns' products: after kc steps the
 * accumulator is S0 + S1·2²⁷ with |S0|, |S1| ≤ kc·2¹⁴. With kc ≤ KC = 4095 that is
 * ≤ 2²⁶ − 2¹⁴, so every partial sum stays below 2⁵³ (exact in float64) and, since |S0| < 2²⁶,
 * S1 = round(S / 2²⁷) and S0 = S − S1·2²⁷ recover both lanes exactly. A 4×2 tile of such
 * accumulators thus computes 4×4 int8 products per 8 multiply-adds.
 */
import type { QuantArray } from './quantize.js';
import { activePool, PARALLEL_MIN_WORK } from './threads.js';

/** B packed for the micro-kernel; build once per weight with packQuantizedB. */
export interface PackedQuantB {
  readonly k: number;
  readonly n: number;
  /**
   * ceil(n/NR) panels of k × NR values, k-major, zero padded past column n. uint8 values are
   * stored minus 128, so one int8 kernel serves both signednesses.
   */
  readonly data: Int8Array;
  /** Σ over k of each stored column. */
  readonly colSums: Int32Array;
  /** What was subtracted from every value to store it: 128 for uint8 B, 0 for int8. */
  readonly offset: number;
}

/**
 * The kernels as one self-contained function (its body references nothing outside it), so that
 * kernels/threads.ts can start worker threads from its source text: every thread runs the same
 * code, hence computes bit-identical results.
 */
export function qgemmKernels() {
  /** Columns of B per packed panel: two lane pairs. packQuantizedB is written out for exactly 4. */
  const NR = 4;
  /** Rows of A per register tile; multiplyBlock is written out for exactly 4. */
  const MR = 4;
  /** Deepest K slice whose lane sums stay exact and separable (see the module comment). */
  const KC = 4095;
  /** Target size (in doubles) of the B block converted into `work`: 1 MiB, so it stays in L2. */
  const B_BLOCK_DOUBLES = 131072;

  /** Packs `b` (k×n row-major from `bOff`) for qgemm. */
  function packQuantizedB(b: QuantArray, bOff: number, k: number, n: number): PackedQuantB {
    const offset = b instanceof Int8Array ? 0 : 128;
    const panels = Math.ceil(n / NR);
    // Shared memory, so worker threads read the weights without a copy.
    const data = new Int8Array(new SharedArrayBuffer(panels * k * NR));
    const colSums = new Int32Array(new SharedArrayBuffer(panels * NR * 4));
    // Panel by panel, four columns per source row: a panel's k source lines stay cached for the
    // panels after it that start in the same lines (walking one column at a time missed on every read).
    let dst = 0;
    for (let c0 = 0; c0 < n; c0 += 4) {
      let src = bOff + c0;
      if (n - c0 >= 4) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let kk = 0; kk < k; kk++) {
          const v0 = b[src]! - offset;
          const v1 = b[src + 1]! - offset;
          const v2 = b[src + 2]! - offset;
          const v3 = b[src + 3]! - offset;
          data[dst] = v0;
          data[dst + 1] = v1;
          data[dst + 2] = v2;
          data[dst + 3] = v3;
          s0 += v0;
          s1 += v1;
          s2 += v2;
          s3 += v3;
          dst += 4;
          src += n;
        }
        colSums[c0] = s0;
        colSums[c0 + 1] = s1;
        colSums[c0 + 2] = s2;
        colSums[c0 + 3] = s3;
      } else {
        // The ragged last panel: its missing columns stay zero.
        for (let kk = 0; kk < k; kk++) {
          for (let j = 0; c0 + j < n; j++) {
            const v = b[src + j]! - offset;
            data[dst + j] = v;
            colSums[c0 + j] += v;
          }
          dst += 4;
          src += n;
        }
      }
    }
    return { k, n, data, colSums, offset };
  }

  /**
   * This thread's operand store: packed A then one block of lane-paired B. It only grows;
   * created from a non-integer literal so its elements kind is PACKED_DOUBLE.
   */
  const work: number[] = [0.5];

  function ensureWork(size: number): void {
    while (work.length < size) work.push(0);
  }

  /**
   * A[:, k0 .. k0+kc) minus `aOffset` → w[0 ..) as MR-row panels, k-major (element (i, kk) at
   * `(i / MR | 0)·MR·kc + (kk − k0)·MR + i % MR`), zero rows padding the last panel; adds each row's
   * sum to `rowSums` (set on the first slice).
   */
  function packA(
    w: number[],
    m: number,
    k: number,
    k0: number,
    kc: number,
    a: QuantArray,
    aOff: number,
    aOffset: number,
    rowSums: Int32Array,
    first: boolean,
  ): void {
    const step = MR;
    for (let i0 = 0; i0 < m; i0 += step) {
      for (let i = 0; i < step; i++) {
        const row = i0 + i;
        let dst = i0 * kc + i;
        if (row < m) {
          let src = aOff + row * k + k0;
          let sum = 0;
          for (let kk = 0; kk < kc; kk++) {
            const v = a[src++]! - aOffset;
            w[dst] = v;
            sum += v;
            dst += step;
          }
          rowSums[row] = first ? sum : rowSums[row]! + sum;
        } else {
          for (let kk = 0; kk < kc; kk++, dst += step) w[dst] = 0;
        }
      }
    }
  }

  /**
   * Rows [k0, k0+kc) of lane pairs [p0, p0+np) of packed B → w from `wOff`, as panels of kc × 2
   * doubles (one per NR-column panel), each double b[2j] + b[2j+1]·2²⁷.
   */
  function pairBlock(w: number[], wOff: number, bp: Int8Array, k: number, p0: number, np: number, k0: number, kc: number): void {
    let d = wOff;
    for (let q = 0; q < np; q += 2) {
      // Pair p0 + q starts panel (p0 + q)/2, whose data begins at that index · k · NR.
      let s = (p0 + q) * k * 2 + k0 * 4;
      const end = d + kc * 2;
      for (; d < end; d = (d + 2) | 0, s = (s + 4) | 0) {
        w[d] = bp[s]! + bp[(s + 1) | 0]! * 134217728;
        w[(d + 1) | 0] = bp[(s + 2) | 0]! + bp[(s + 3) | 0]! * 134217728;
      }
    }
  }

  /** One 4×2 tile's lane-pair sums, handed from multiplyBlock to storeTile. */
  const tile = new Float64Array(8);

  /**
   * Packed A (m, kc) at w[0 ..) · lane-paired B block at w[bBase ..) → raw sums Σab in columns
   * [n0, n0+cols) of C, stored, or added when `accumulate`. Tile sizes are literals (4 = MR rows,
   * 2 pair accumulators) because V8 re-reads the factory's constants on every use.
   */
  function multiplyBlock(
    w: number[],
    bBase: number,
    m: number,
    kc: number,
    n0: number,
    cols: number,
    c: Int32Array,
    cOff: number,
    n: number,
    accumulate: boolean,
  ): void {
    const panelB = kc * 2;
    for (let i0 = 0; i0 < m; i0 += 4) {
      const aBase = i0 * kc;
      const rows = m - i0 < 4 ? m - i0 : 4;
      for (let j0 = 0; j0 < cols; j0 += 4) {
        const bStart = bBase + (j0 >> 1) * kc;
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
        for (let bi = bStart; bi < bEnd; bi = (bi + 2) | 0) {
          const a0 = w[ai]!;
          const a1 = w[(ai + 1) | 0]!;
          const a2 = w[(ai + 2) | 0]!;
          const a3 = w[(ai + 3) | 0]!;
          const b0 = w[bi]!;
          const b1 = w[(bi + 1) | 0]!;
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
        // Through a typed array, not as arguments: a double passed to a call TurboFan does not
        // inline is boxed, one HeapNumber per value and tile (measured: 50 KB per 16×312×1200 call).
        const t = tile;
        t[0] = c00;
        t[1] = c01;
        t[2] = c10;
        t[3] = c11;
        t[4] = c20;
        t[5] = c21;
        t[6] = c30;
        t[7] = c31;
        storeTile(c, cOff + i0 * n + n0 + j0, n, rows, cols - j0 < 4 ? cols - j0 : 4, accumulate);
      }
    }
  }

  /**
   * Splits the first `rows` rows of `tile` (two lane-pair sums each) into four column sums and
   * stores (or adds) the first `width` of them from c[idx], one row every `ldc`.
   */
  function storeTile(c: Int32Array, idx: number, ldc: number, rows: number, width: number, accumulate: boolean): void {
    const t = tile;
    for (let r = 0; r < rows; r++, idx += ldc) {
      const s0 = t[2 * r]!;
      const s1 = t[2 * r + 1]!;
      const h0 = Math.round(s0 * 7.450580596923828e-9); // 2⁻²⁷
      const h1 = Math.round(s1 * 7.450580596923828e-9);
      const l0 = s0 - h0 * 134217728;
      const l1 = s1 - h1 * 134217728;
      if (width === 4) {
        if (accumulate) {
          c[idx] = (c[idx]! + l0) | 0;
          c[idx + 1] = (c[idx + 1]! + h0) | 0;
          c[idx + 2] = (c[idx + 2]! + l1) | 0;
          c[idx + 3] = (c[idx + 3]! + h1) | 0;
        } else {
          c[idx] = l0;
          c[idx + 1] = h0;
          c[idx + 2] = l1;
          c[idx + 3] = h1;
        }
        continue;
      }
      // Ragged last panel: 1 to 3 real columns.
      c[idx] = accumulate ? (c[idx]! + l0) | 0 : l0;
      if (width > 1) c[idx + 1] = accumulate ? (c[idx + 1]! + h0) | 0 : h0;
      if (width > 2) c[idx + 2] = accumulate ? (c[idx + 2]! + l1) | 0 : l1;
    }
  }

  /**
   * Raw sums Σab of `m` rows of A (m×k row-major from `aOff`, stored minus `aOffset`) with packed
   * B into C (m×n row-major from `cOff`), and each row's Σa into rowSums[0 .. m).
   */
  function sums(m: number, a: QuantArray, aOff: number, aOffset: number, bData: Int8Array, k: number, n: number, c: Int32Array, cOff: number, rowSums: Int32Array): void {
    const rowPanels = Math.ceil(m / MR);
    const kcMax = Math.min(k, KC);
    const aSize = rowPanels * MR * kcMax;
    const pairs = (Math.ceil(n / NR) * NR) / 2;
    // Block width in lane pairs: a multiple of NR/2 so blocks start on panel boundaries.
    const ncPairs = Math.min(pairs, Math.max(2, Math.floor(B_BLOCK_DOUBLES / Math.max(kcMax, 1) / 2) * 2));
    ensureWork(aSize + ncPairs * kcMax);
    const w = work;
    if (k === 0) {
      for (let i = 0; i < m; i++) c.fill(0, cOff + i * n, cOff + (i + 1) * n);
      rowSums.fill(0, 0, m);
    }
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = Math.min(KC, k - k0);
      const first = k0 === 0;
      packA(w, m, k, k0, kc, a, aOff, aOffset, rowSums, first);
      for (let p0 = 0; p0 < pairs; p0 += ncPairs) {
        const np = Math.min(ncPairs, pairs - p0);
        pairBlock(w, aSize, bData, k, p0, np, k0, kc);
        multiplyBlock(w, aSize, m, kc, 2 * p0, Math.min(2 * np, n - 2 * p0), c, cOff, n, !first);
      }
    }
  }

  /**
   * Turns rows [r0, r0 + count) of raw sums in C into (A − zA)(B − zB), with the zero points
   * shifted like the stored values, and when `scale` is given converts them to float32 in `out`
   * (same layout as C, possibly the same memory): out = fround(float32(c) · scale[col]) + bias[col].
   */
  function finishRows(
    r0: number,
    count: number,
    n: number,
    k: number,
    c: Int32Array,
    cOff: number,
    rowSums: Int32Array,
    aZero: Int32Array,
    aOffset: number,
    bZero: Int32Array,
    bOffset: number,
    colSums: Int32Array,
    scale: Float32Array | null,
    bias: Float32Array | null,
    out: Float32Array | null,
  ): void {
    const aZeroStep = aZero.length > 1 ? 1 : 0;
    const perCol = bZero.length > 1;
    for (let row = r0; row < r0 + count; row++) {
      const za = aZero[row * aZeroStep]! - aOffset;
      const rowSum = rowSums[row - r0]!;
      const kza = Math.imul(k, za);
      const base = cOff + (row - r0) * n;
      if (perCol) {
        for (let col = 0; col < n; col++) {
          const zb = bZero[col]! - bOffset;
          c[base + col] = (c[base + col]! - Math.imul(zb, rowSum) - Math.imul(za, colSums[col]!) + Math.imul(kza, zb)) | 0;
        }
      } else {
        const zb = bZero[0]! - bOffset;
        const rowTerm = (Math.imul(kza, zb) - Math.imul(zb, rowSum)) | 0;
        for (let col = 0; col < n; col++) c[base + col] = (c[base + col]! + rowTerm - Math.imul(za, colSums[col]!)) | 0;
      }
      if (scale === null) continue;
      const o = out!;
      if (bias === null) for (let col = 0; col < n; col++) o[base + col] = Math.fround(c[base + col]!) * scale[col]!;
      else for (let col = 0; col < n; col++) o[base + col] = Math.fround(Math.fround(c[base + col]!) * scale[col]!) + bias[col]!;
    }
  }

  /**
   * Rows [start, start+count) of a product, sums and finish, with its arguments as numbers for
   * the thread pool: p = [aOff, aOffset, k, n, cOff, bOffset, hasScale, hasBias]; arrays = [a,
   * packed B data, c, rowSums, aZero, bZero, colSums, scale?, bias?, out?]. Rows are independent,
   * so any split gives the same bits.
   */
  function rows(start: number, count: number, p: Float64Array, arrays: readonly (QuantArray | Int32Array | Float32Array)[]): void {
    const k = p[2]!;
    const n = p[3]!;
    const cOff = p[4]! + start * n;
    const c = arrays[2] as Int32Array;
    const rowSums = (arrays[3] as Int32Array).subarray(start, start + count);
    sums(count, arrays[0] as QuantArray, p[0]! + start * k, p[1]!, arrays[1] as Int8Array, k, n, c, cOff, rowSums);
    const scale = p[6] === 1 ? (arrays[7] as Float32Array) : null;
    finishRows(start, count, n, k, c, cOff, rowSums, arrays[4] as Int32Array, p[1]!, arrays[5] as Int32Array, p[5]!, arrays[6] as Int32Array,
      scale, p[7] === 1 ? (arrays[8] as Float32Array) : null, scale === null ? null : (arrays[9] as Float32Array));
  }

  return { MR, packQuantizedB, rows };
}

const kernels = qgemmKernels();

/** qgemmKernels' job id in the worker threads (kernels/threads.ts). */
export const QGEMM_JOB = 2;

/** Packs `b` (k×n row-major from `bOff`) for qgemm. */
export const packQuantizedB = kernels.packQuantizedB;

/** C converted to float32 as it is finished: out = fround(float32(c) · scale[col]) + bias[col]. */
export interface FloatEpilogue {
  /** One multiplier per output column (n). */
  readonly scale: Float32Array;
  readonly bias: Float32Array | null;
  /** Laid out like C; may be C's own memory viewed as float32. */
  readonly out: Float32Array;
}

let rowSumScratch = new Int32Array(0);

/**
 * C = (A − zA)(B − zB) for `m` rows of A (m×k row-major from `aOff`). `aZero` holds one zero
 * point or one per row, `bZero` one or one per column; C is m×n row-major from `cOff`. With an
 * epilogue, each finished row is also converted to float32 (see FloatEpilogue), on the thread
 * that computed it.
 */
export function qgemm(
  m: number,
  a: QuantArray,
  aOff: number,
  aZero: Int32Array,
  b: PackedQuantB,
  bZero: Int32Array,
  c: Int32Array,
  cOff: number,
  epilogue: FloatEpilogue | null = null,
): void {
  const { k, n } = b;
  if (m === 0 || n === 0) return;
  const aOffset = a instanceof Int8Array ? 0 : 128;
  const p = [aOff, aOffset, k, n, cOff, b.offset, epilogue === null ? 0 : 1, epilogue?.bias ? 1 : 0];
  const pool = activePool();
  if (pool !== null && m * n * k > PARALLEL_MIN_WORK && m >= 2 * kernels.MR) {
    const rowSums = new Int32Array(pool.scratch(4, m * 4), 0, m);
    const cs = pool.shared(c, 2);
    const arrays: (QuantArray | Int32Array | Float32Array)[] = [
      pool.shared(a, 0), pool.shared(b.data, 1), cs, rowSums, pool.shared(aZero, 5), pool.shared(bZero, 6), pool.shared(b.colSums, 7),
    ];
    let out: Float32Array | null = null;
    if (epilogue !== null) {
      // In place (the usual case) the float view must be of the shared copy of C.
      out = epilogue.out.buffer === c.buffer && epilogue.out.byteOffset === c.byteOffset ? new Float32Array(cs.buffer, cs.byteOffset, cs.length) : pool.shared(epilogue.out, 10);
      arrays.push(pool.shared(epilogue.scale, 8), epilogue.bias ? pool.shared(epilogue.bias, 9) : epilogue.scale, out);
    }
    pool.split(QGEMM_JOB, kernels.rows, m, kernels.MR, p, arrays);
    if (cs !== c) c.set(cs);
    if (out !== null && out.buffer !== epilogue!.out.buffer) epilogue!.out.set(out);
    return;
  }
  if (rowSumScratch.length < m) rowSumScratch = new Int32Array(m);
  singleArgs.set(p);
  const arrays = singleArrays;
  arrays.length = 0;
  arrays.push(a, b.data, c, rowSumScratch, aZero, bZero, b.colSums);
  if (epilogue !== null) arrays.push(epilogue.scale, epilogue.bias ?? epilogue.scale, epilogue.out);
  kernels.rows(0, m, singleArgs, arrays);
}

/** The one-thread call's arguments, reused. */
const singleArgs = new Float64Array(8);
const singleArrays: (QuantArray | Int32Array | Float32Array)[] = [];

/** Naive twin of qgemm on unpacked B (k×n row-major from `bOff`). */
export function qgemmReference(
  m: number,
  k: number,
  n: number,
  a: QuantArray,
  aOff: number,
  aZero: Int32Array,
  b: QuantArray,
  bOff: number,
  bZero: Int32Array,
  c: Int32Array,
  cOff: number,
): void {
  for (let i = 0; i < m; i++) {
    const za = aZero[aZero.length > 1 ? i : 0]!;
    for (let j = 0; j < n; j++) {
      const zb = bZero[bZero.length > 1 ? j : 0]!;
      let sum = 0;
      for (let p = 0; p < k; p++) sum = (sum + Math.imul(a[aOff + i * k + p]! - za, b[bOff + p * n + j]! - zb)) | 0;
      c[cOff + i * n + j] = sum;
    }
  }
}
