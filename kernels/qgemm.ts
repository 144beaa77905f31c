/**
 * Integer GEMM for quantized matmuls: C (M,N) int32 = Σ_k (A[m,k] − zA[m]) · (B[k,n] − zB[n])
 * with A and B uint8 or int8. Sums wrap in int32, as onnxruntime's do.
 *
 * Zero points are applied as corrections rather than per element:
 *   Σ(a − zA)(b − zB) = Σab − zB·Σa − zA·Σb + K·zA·zB
 * so the micro-kernel multiplies raw values and the row/column sums are precomputed.
 */
import type { QuantArray } from './quantize.js';

/** Rows of A per micro-tile. */
const MR = 4;
/** Columns of B per packed panel. */
const NR = 4;

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

/** Packs `b` (k×n row-major from `bOff`) for qgemm. */
export function packQuantizedB(b: QuantArray, bOff: number, k: number, n: number): PackedQuantB {
  const offset = b instanceof Int8Array ? 0 : 128;
  const panels = Math.ceil(n / NR);
  const data = new Int8Array(panels * k * NR);
  const colSums = new Int32Array(panels * NR);
  for (let col = 0; col < n; col++) {
    let dst = Math.floor(col / NR) * k * NR + (col % NR);
    let src = bOff + col;
    let sum = 0;
    for (let kk = 0; kk < k; kk++) {
      const v = b[src]! - offset;
      data[dst] = v;
      sum += v;
      dst += NR;
      src += n;
    }
    colSums[col] = sum;
  }
  return { k, n, data, colSums, offset };
}

// Scratch reused across calls (lambert runs on one thread): A packed MR rows at a time, and its
// row sums.
let aPackScratch = new Int16Array(0);
let rowSumScratch = new Int32Array(0);

/**
 * C = (A − zA)(B − zB) for `m` rows of A (m×k row-major from `aOff`). `aZero` holds one zero
 * point or one per row, `bZero` one or one per column; C is m×n row-major from `cOff`.
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
): void {
  const { k, n } = b;
  if (m === 0 || n === 0) return;
  const rowPanels = Math.ceil(m / MR);
  if (aPackScratch.length < rowPanels * MR * k) aPackScratch = new Int16Array(rowPanels * MR * k);
  if (rowSumScratch.length < rowPanels * MR) rowSumScratch = new Int32Array(rowPanels * MR);
  const ap = aPackScratch;
  const rowSums = rowSumScratch;
  packA(m, k, a, aOff, ap, rowSums);

  const bp = b.data;
  const colSums = b.colSums;
  const panels = Math.ceil(n / NR);
  // Stored B is B − offset, so its zero point moves by the same amount.
  const zbShift = b.offset;
  const aZeroStep = aZero.length > 1 ? 1 : 0;
  const bZeroStep = bZero.length > 1 ? 1 : 0;

  // Column panels outside: one B panel (k × NR bytes) stays in L1 while all of packed A streams past it.
  for (let p = 0; p < panels; p++) {
    const col0 = p * NR;
    const cols = Math.min(NR, n - col0);
    const bBase = p * k * NR;
    for (let rp = 0; rp < rowPanels; rp++) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let ai = rp * k * MR;
      let bi = bBase;
      for (let kk = 0; kk < k; kk++) {
        const a0 = ap[ai]!, a1 = ap[ai + 1]!, a2 = ap[ai + 2]!, a3 = ap[ai + 3]!;
        const b0 = bp[bi]!, b1 = bp[bi + 1]!, b2 = bp[bi + 2]!, b3 = bp[bi + 3]!;
        c00 = (c00 + Math.imul(a0, b0)) | 0; c01 = (c01 + Math.imul(a0, b1)) | 0;
        c02 = (c02 + Math.imul(a0, b2)) | 0; c03 = (c03 + Math.imul(a0, b3)) | 0;
        c10 = (c10 + Math.imul(a1, b0)) | 0; c11 = (c11 + Math.imul(a1, b1)) | 0;
        c12 = (c12 + Math.imul(a1, b2)) | 0; c13 = (c13 + Math.imul(a1, b3)) | 0;
        c20 = (c20 + Math.imul(a2, b0)) | 0; c21 = (c21 + Math.imul(a2, b1)) | 0;
        c22 = (c22 + Math.imul(a2, b2)) | 0; c23 = (c23 + Math.imul(a2, b3)) | 0;
        c30 = (c30 + Math.imul(a3, b0)) | 0; c31 = (c31 + Math.imul(a3, b1)) | 0;
        c32 = (c32 + Math.imul(a3, b2)) | 0; c33 = (c33 + Math.imul(a3, b3)) | 0;
        ai += MR;
        bi += NR;
      }
      const row0 = rp * MR;
      const rows = Math.min(MR, m - row0);
      tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03;
      tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13;
      tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23;
      tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33;
      for (let r = 0; r < rows; r++) {
        const row = row0 + r;
        const za = aZero[row * aZeroStep]!;
        const rowSum = rowSums[row]!;
        const kza = Math.imul(k, za);
        let dst = cOff + row * n + col0;
        for (let j = 0; j < cols; j++) {
          const col = col0 + j;
          const zb = bZero[col * bZeroStep]! - zbShift;
          const v = (tile[r * NR + j]! - Math.imul(zb, rowSum) - Math.imul(za, colSums[col]!) + Math.imul(kza, zb)) | 0;
          c[dst++] = v;
        }
      }
    }
  }
}

const tile = new Int32Array(MR * NR);

/** Copies A into MR-row panels, k-major (aPack[panel][k][r]), zero padding rows past m, and sums each row. */
function packA(m: number, k: number, a: QuantArray, aOff: number, ap: Int16Array, rowSums: Int32Array): void {
  const rowPanels = Math.ceil(m / MR);
  for (let row = 0; row < rowPanels * MR; row++) {
    let dst = Math.floor(row / MR) * k * MR + (row % MR);
    if (row >= m) {
      for (let kk = 0; kk < k; kk++, dst += MR) ap[dst] = 0;
      rowSums[row] = 0;
      continue;
    }
    let src = aOff + row * k;
    let sum = 0;
    for (let kk = 0; kk < k; kk++, dst += MR) {
      const v = a[src++]!;
      ap[dst] = v;
      sum += v;
    }
    rowSums[row] = sum;
  }
}

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
