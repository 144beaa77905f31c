/**
 * Shared by MatMulInteger and QLinearMatMul: numpy-matmul batching over the integer GEMM, the
 * per-tensor / per-row (A) / per-column (B) quantization parameters, and B packed once when it
 * is a constant.
 */
import { packQuantizedB, qgemm, type FloatEpilogue, type PackedQuantB } from '../../kernels/qgemm.js';
import type { QuantArray } from '../../kernels/quantize.js';
import { Tensor, type NumericArray } from '../tensor.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import { isQuantType } from './quantParams.js';
import type { NodeInfo, ValueMeta } from './types.js';
import { fail, shapeText } from './util.js';

/** Shapes and batch bookkeeping of numpy.matmul(a, b). */
export interface MatMulGeometry {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly dims: number[];
  /** Broadcast batch dims of the output (everything before M, N). */
  readonly batch: number[];
  /** Per output batch: offset of its A matrix in A's data. */
  readonly aOffsets: Int32Array;
  /** Per output batch: which of B's matrices it multiplies. */
  readonly bIndex: Int32Array;
}

/**
 * The last value `compute` gave for `node` under `key`, computed again only when `dims` or
 * `other` (dims compared by value, anything else by identity) differ from that call's: a run
 * repeats the shapes of the one before it, and these derivations allocate.
 */
function remembered<T>(node: NodeInfo, key: string, dims: readonly number[], other: readonly number[] | object, compute: () => T): T {
  const last = node.cache.get(key) as { dims: readonly number[]; other: readonly number[] | object; value: T } | undefined;
  if (last && sameNumbers(last.dims, dims) && (Array.isArray(other) ? sameNumbers(last.other as readonly number[], other) : last.other === other)) {
    return last.value;
  }
  const value = compute();
  node.cache.set(key, { dims: [...dims], other: Array.isArray(other) ? [...other] : other, value });
  return value;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Shapes and batch bookkeeping of numpy.matmul(a, b); the same object while the dims stay the same. */
export function matmulGeometry(node: NodeInfo, aDims: readonly number[], bDims: readonly number[]): MatMulGeometry {
  return remembered(node, 'matmulGeometry', aDims, bDims, () => computeGeometry(node, aDims, bDims));
}

function computeGeometry(node: NodeInfo, aDims: readonly number[], bDims: readonly number[]): MatMulGeometry {
  if (aDims.length === 0 || bDims.length === 0) fail(node, `matmul inputs must have rank >= 1, got ${shapeText(aDims)} and ${shapeText(bDims)}`);
  // numpy promotes a 1-D A to one row and a 1-D B to one column, then drops that axis again.
  const a = aDims.length === 1 ? [1, aDims[0]!] : aDims;
  const b = bDims.length === 1 ? [bDims[0]!, 1] : bDims;
  const m = a[a.length - 2]!;
  const k = a[a.length - 1]!;
  const n = b[b.length - 1]!;
  if (b[b.length - 2] !== k) fail(node, `cannot multiply ${shapeText(aDims)} by ${shapeText(bDims)}: inner dims differ`);
  const aBatch = a.slice(0, -2);
  const bBatch = b.slice(0, -2);
  const batch = broadcastShapes(node, [aBatch, bBatch])!;
  const dims = [...batch];
  if (aDims.length > 1) dims.push(m);
  if (bDims.length > 1) dims.push(n);
  const count = batch.reduce((x, y) => x * y, 1);
  const aOffsets = new Int32Array(count);
  const bIndex = new Int32Array(count);
  const aStrides = broadcastStrides(aBatch, batch);
  const bStrides = broadcastStrides(bBatch, batch);
  forEachBatch(batch, (ob, idx) => {
    aOffsets[ob] = dot(idx, aStrides) * m * k;
    bIndex[ob] = dot(idx, bStrides);
  });
  return { m, k, n, dims, batch, aOffsets, bIndex };
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Calls `fn` with each linear batch index and its multi-index, in row-major order. */
function forEachBatch(batch: readonly number[], fn: (ob: number, idx: readonly number[]) => void): void {
  const count = batch.reduce((x, y) => x * y, 1);
  const idx = new Array<number>(batch.length).fill(0);
  for (let ob = 0; ob < count; ob++) {
    fn(ob, idx);
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d]! < batch[d]!) break;
      idx[d] = 0;
    }
  }
}

/**
 * Where a quantization parameter (zero point or scale) of A (per row) or B (per column) is read
 * for each output batch: a run of `m` (or `n`) values from `offsets[ob]` when `perLine`, else
 * one value. Accepted shapes: one element (per tensor); 1-D of length M (A) or N (B); or N-D
 * [..., M, 1] for A and [..., 1, N] for B, whose leading dims broadcast to the output batch.
 */
export interface ParamRuns {
  readonly offsets: Int32Array;
  readonly perLine: boolean;
}

export function paramRuns(node: NodeInfo, what: ParamName, dims: readonly number[], geo: MatMulGeometry, side: 'a' | 'b'): ParamRuns {
  return remembered(node, what, dims, geo, () => computeParamRuns(node, what, dims, geo, side));
}

/** The quantization parameters paramRuns lays out; each name is also its cache key on the node. */
export type ParamName = 'a_scale' | 'b_scale' | 'a_zero_point' | 'b_zero_point';

function computeParamRuns(node: NodeInfo, what: string, dims: readonly number[], geo: MatMulGeometry, side: 'a' | 'b'): ParamRuns {
  const len = side === 'a' ? geo.m : geo.n;
  const count = geo.aOffsets.length;
  const size = dims.reduce((x, y) => x * y, 1);
  if (size === 1) return { offsets: new Int32Array(count), perLine: false };
  const rank = dims.length;
  if (rank === 1) {
    if (dims[0] !== len) fail(node, `${what} ${shapeText(dims)} must hold 1 or ${len} values`);
    return { offsets: new Int32Array(count), perLine: true };
  }
  const line = side === 'a' ? dims[rank - 2]! : dims[rank - 1]!;
  const unit = side === 'a' ? dims[rank - 1]! : dims[rank - 2]!;
  const expected = side === 'a' ? `[..., ${geo.m}, 1]` : `[..., 1, ${geo.n}]`;
  const lead = dims.slice(0, -2);
  const leadOk = lead.length <= geo.batch.length && lead.every((d, i) => d === 1 || d === geo.batch[geo.batch.length - lead.length + i]);
  if (unit !== 1 || (line !== len && line !== 1) || !leadOk) fail(node, `${what} ${shapeText(dims)} must be a scalar, ${len} values or ${expected}`);
  const strides = broadcastStrides(lead, geo.batch);
  const offsets = new Int32Array(count);
  forEachBatch(geo.batch, (ob, idx) => {
    offsets[ob] = dot(idx, strides) * line;
  });
  return { offsets, perLine: line !== 1 };
}

/** Copies one output batch's parameters into `dst` and returns the view qgemm reads (1 or `len` values). */
export function paramsFor<T extends Int32Array | Float32Array>(src: Tensor, runs: ParamRuns, ob: number, len: number, dst: T): T {
  const data = src.data as NumericArray;
  const count = runs.perLine ? len : 1;
  const from = runs.offsets[ob]!;
  for (let i = 0; i < count; i++) dst[i] = data[from + i]!;
  return dst.subarray(0, count) as T;
}

/** Packs every matrix of a constant B once per node (plans for other input shapes reuse it). */
export function prepackB(node: NodeInfo, b: ValueMeta | undefined): PackedQuantB[] | undefined {
  if (!b?.value || !isQuantType(b.dtype)) return undefined;
  const cached = node.cache.get('packedB') as PackedQuantB[] | undefined;
  if (cached) return cached;
  const packed = packAll(b.value);
  node.cache.set('packedB', packed);
  return packed;
}

function packAll(b: Tensor): PackedQuantB[] {
  const dims = b.dims.length === 1 ? [b.dims[0]!, 1] : b.dims;
  const k = dims[dims.length - 2]!;
  const n = dims[dims.length - 1]!;
  const data = b.data as QuantArray;
  const count = dims.slice(0, -2).reduce((x, y) => x * y, 1);
  return Array.from({ length: count }, (_, i) => packQuantizedB(data, i * k * n, k, n));
}

/** An omitted zero point. */
const ZERO = new Tensor('int32', new Int32Array(1), []);

/**
 * C = (A − a_zero_point) · (B − b_zero_point) with numpy matmul batching, into `c` (int32,
 * output batches one after another). `packed` is B prepacked, when B is constant.
 */
/** Zero points of one product, A's then B's; grows only. */
let zeroPointScratch = new Int32Array(0);
/** One product's float32 multipliers (a_scale · b_scale per column) and b_scale values; grow only. */
let multipliers = new Float32Array(0);
let scaleRun = new Float32Array(0);

/**
 * The float32 conversion of MatMulIntegerToFloat and DynamicQuantizeMatMul, applied as each row
 * of sums is finished (kernels/qgemm.ts FloatEpilogue): out = fround(float(sum) · fround(a_scale ·
 * b_scale)) + bias, b_scale per tensor or per column of B and batch.
 */
export interface ToFloat {
  readonly aScale: number;
  readonly bScale: Tensor;
  readonly bScaleRuns: ParamRuns;
  readonly bias: Float32Array | null;
  /** Laid out like the sums; may be their own memory viewed as float32. */
  readonly out: Float32Array;
}

export function quantMatMul(
  node: NodeInfo,
  geo: MatMulGeometry,
  a: Tensor,
  aZero: Tensor | undefined,
  b: Tensor,
  bZero: Tensor | undefined,
  packed: readonly PackedQuantB[] | undefined,
  c: Int32Array,
  toFloat: ToFloat | null = null,
): void {
  const { m, n } = geo;
  const aRuns = paramRuns(node, 'a_zero_point', aZero?.dims ?? [], geo, 'a');
  const bRuns = paramRuns(node, 'b_zero_point', bZero?.dims ?? [], geo, 'b');
  const matrices = packed ?? packAll(b);
  const rows = Math.max(m, 1);
  if (zeroPointScratch.length < rows + Math.max(n, 1)) zeroPointScratch = new Int32Array(rows + Math.max(n, 1));
  const za = zeroPointScratch.subarray(0, rows);
  const zb = zeroPointScratch.subarray(rows);
  const aData = a.data as QuantArray;
  const batches = geo.aOffsets.length;
  // [..., M, K] · [K, N] with the same parameters throughout is one (batch·M, K) · (K, N) product.
  const uniform = sameEverywhere(aRuns) && !aRuns.perLine && sameEverywhere(bRuns) && (toFloat === null || sameEverywhere(toFloat.bScaleRuns));
  if (batches > 1 && matrices.length === 1 && uniform) {
    const aZ = paramsFor(aZero ?? ZERO, aRuns, 0, m, za);
    const bZ = paramsFor(bZero ?? ZERO, bRuns, 0, n, zb);
    qgemm(batches * m, aData, 0, aZ, matrices[0]!, bZ, c, 0, epilogueFor(toFloat, 0, n));
    return;
  }
  for (let ob = 0; ob < batches; ob++) {
    const aZ = paramsFor(aZero ?? ZERO, aRuns, ob, m, za);
    const bZ = paramsFor(bZero ?? ZERO, bRuns, ob, n, zb);
    qgemm(m, aData, geo.aOffsets[ob]!, aZ, matrices[geo.bIndex[ob]!]!, bZ, c, ob * m * n, epilogueFor(toFloat, ob, n));
  }
}

/** Output batch `ob`'s conversion, its multipliers rounded to float32 as onnxruntime's are. */
function epilogueFor(toFloat: ToFloat | null, ob: number, n: number): FloatEpilogue | null {
  if (toFloat === null) return null;
  if (multipliers.length < n) multipliers = new Float32Array(n);
  if (scaleRun.length < n) scaleRun = new Float32Array(n);
  const s = paramsFor(toFloat.bScale, toFloat.bScaleRuns, ob, n, scaleRun);
  const perColumn = s.length > 1;
  for (let j = 0; j < n; j++) multipliers[j] = toFloat.aScale * s[perColumn ? j : 0]!;
  return { scale: multipliers.subarray(0, n), bias: toFloat.bias, out: toFloat.out };
}

function sameEverywhere(runs: ParamRuns): boolean {
  return runs.offsets.every((o) => o === runs.offsets[0]);
}
