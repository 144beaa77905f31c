/**
 * Integer GEMM for quantized matmuls: C (M,N) int32 = Σ_k (A[m,k] − zA[m]) · (B[k,n] − zB[n])
 * with A and B uint8 or int8, plus the fused dynamic-quantize → integer GEMM → float32 linear
 * layer of dynamically quantized models. Sums wrap in int32, as onnxruntime's do.
 *
 * Zero points are applied as corrections rather than per element:
 *   Σ(a − zA)(b − zB) = Σab − zB·Σa − zA·Σb + K·zA·zB
 * so the micro-kernel multiplies raw values and the row/column sums are precomputed.
 */
import { dynamicQuantizeLinear, type QuantArray } from './quantize.js';

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

// Scratch reused across calls (lambert runs on one thread): A packed MR rows at a time, its
// row sums, and the fused layer's quantized activations.
let aPackScratch = new Int16Array(0);
let rowSumScratch = new Int32Array(0);
let quantScratch = new Uint8Array(0);
const zeroPointScratch = new Int32Array(1);

/** Where the GEMM epilogue puts each finished tile: int32 sums, or scaled (+ bias) float32. */
interface Epilogue {
  readonly int32: Int32Array | null;
  readonly float32: Float32Array | null;
  readonly offset: number;
  /** Per-column float32 scale, or one for all columns (float output only). */
  readonly scales: Float32Array | null;
  readonly bias: Float32Array | null;
}

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
  gemm(m, a, aOff, aZero, b, bZero, { int32: c, float32: null, offset: cOff, scales: null, bias: null });
}

/**
 * A linear layer on dynamically quantized activations, bit-identical to the ONNX chain
 * DynamicQuantizeLinear(x) → MatMulInteger(·, W) → Cast(float) → Mul(·, a_scale · w_scale)
 * → Add(bias): x (m×k float32 from `xOff`) is quantized per tensor to uint8, multiplied with
 * the packed weights `w` (zero points `wZero`: one or one per column), and each int32 sum is
 * scaled in float32 by fround(a_scale · wScale[col]) (`wScale`: one or one per column), then
 * `bias` (n values) is added when given. Writes m×n float32 to `out` from `outOff`.
 */
export function quantizedLinear(
  x: Float32Array,
  xOff: number,
  m: number,
  w: PackedQuantB,
  wZero: Int32Array,
  wScale: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  outOff: number,
): void {
  const size = m * w.k;
  if (quantScratch.length < size) quantScratch = new Uint8Array(size);
  const q = quantScratch;
  const { scale, zeroPoint } = dynamicQuantizeLinear(x, xOff, size, q, 0);
  const scales = new Float32Array(wScale.length);
  for (let i = 0; i < wScale.length; i++) scales[i] = scale * wScale[i]!;
  zeroPointScratch[0] = zeroPoint;
  gemm(m, q, 0, zeroPointScratch, w, wZero, { int32: null, float32: out, offset: outOff, scales, bias });
}

function gemm(m: number, a: QuantArray, aOff: number, aZero: Int32Array, b: PackedQuantB, bZero: Int32Array, epi: Epilogue): void {
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
        let dst = epi.offset + row * n + col0;
        for (let j = 0; j < cols; j++) {
          const col = col0 + j;
          const zb = bZero[col * bZeroStep]! - zbShift;
          const v = (tile[r * NR + j]! - Math.imul(zb, rowSum) - Math.imul(za, colSums[col]!) + Math.imul(kza, zb)) | 0;
          store(epi, dst++, col, v);
        }
      }
    }
  }
}

const tile = new Int32Array(MR * NR);

function store(epi: Epilogue, i: number, col: number, v: number): void {
  if (epi.int32) {
    epi.int32[i] = v;
    return;
  }
  const scales = epi.scales!;
  const scaled = Math.fround(v) * scales[scales.length > 1 ? col : 0]!;
  epi.float32![i] = epi.bias ? Math.fround(scaled) + epi.bias[col]! : scaled;
}

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

/** Naive twin of quantizedLinear on unpacked weights `w` (k×n row-major). */
export function quantizedLinearReference(
  x: Float32Array,
  xOff: number,
  m: number,
  k: number,
  n: number,
  w: QuantArray,
  wZero: Int32Array,
  wScale: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  outOff: number,
): void {
  const q = new Uint8Array(m * k);
  const { scale, zeroPoint } = dynamicQuantizeLinear(x, xOff, m * k, q, 0);
  const acc = new Int32Array(m * n);
  qgemmReference(m, k, n, q, 0, Int32Array.of(zeroPoint), w, 0, wZero, acc, 0);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const s = Math.fround(scale * wScale[wScale.length > 1 ? j : 0]!);
      let v = Math.fround(Math.fround(acc[i * n + j]!) * s);
      if (bias) v = Math.fround(v + bias[j]!);
      out[outOff + i * n + j] = v;
    }
  }
}
