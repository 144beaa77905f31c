import { gemm, gemmPacked, type PackedMatrix } from '../../kernels/gemm.js';
import { LambertError, describeNode } from '../errors.js';
import { sizeOf, type DType, type NumericArray } from '../tensor.js';
import { broadcastShapes } from './broadcast.js';
import { matmulGeneric, packedWeights } from './matmulCommon.js';
import type { NodeInfo, OpDefinition } from './types.js';
import { fail, meta, need, needTensor, shapeText } from './util.js';

const TYPES: readonly DType[] = ['float32', 'float64'];

/**
 * One operand as the multiplication reads it, after transBatch (dim 0 moved to just before the
 * last dim) and trans (last two dims swapped): its batch dims and the element strides of the
 * batch dims, the rows and the columns, all into the operand's original row-major data.
 */
interface View {
  readonly batch: readonly number[];
  readonly batchStrides: readonly number[];
  readonly rows: number;
  readonly cols: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** numpy promotes a 1-D A to a row and a 1-D B to a column; transposing a vector is a no-op. */
function viewOf(dims: readonly number[], side: 'A' | 'B', trans: boolean, transBatch: boolean): View {
  if (dims.length === 1) {
    const len = dims[0]!;
    return side === 'A'
      ? { batch: [], batchStrides: [], rows: 1, cols: len, rowStride: len, colStride: 1 }
      : { batch: [], batchStrides: [], rows: len, cols: 1, rowStride: 1, colStride: 1 };
  }
  const rank = dims.length;
  const strides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i]!;
  }
  const order = [...Array(rank).keys()];
  if (transBatch && rank > 2) order.splice(rank - 2, 0, order.shift()!);
  if (trans) order.push(...order.splice(rank - 2, 1));
  const r = order[rank - 2]!;
  const c = order[rank - 1]!;
  return {
    batch: order.slice(0, -2).map((i) => dims[i]!),
    batchStrides: order.slice(0, -2).map((i) => strides[i]!),
    rows: dims[r]!,
    cols: dims[c]!,
    rowStride: strides[r]!,
    colStride: strides[c]!,
  };
}

interface Layout {
  readonly a: View;
  readonly b: View;
  readonly batch: readonly number[];
  readonly dims: readonly number[];
}

function layoutOf(node: NodeInfo, aDims: readonly number[], bDims: readonly number[], error: (msg: string) => never): Layout {
  if (aDims.length === 0 || bDims.length === 0) error(`operands must have rank 1 or more, got ${shapeText(aDims)} and ${shapeText(bDims)}`);
  const attr = (name: string) => node.attrs.int(name, 0) !== 0;
  const a = viewOf(aDims, 'A', attr('transA'), attr('transBatchA'));
  const b = viewOf(bDims, 'B', attr('transB'), attr('transBatchB'));
  if (a.cols !== b.rows) error(`inner dimensions differ: op(A) ${shapeText(aDims)} gives K=${a.cols}, op(B) ${shapeText(bDims)} gives K=${b.rows}`);
  const batch = broadcastShapes(node, [a.batch, b.batch])!;
  const dims = [...batch];
  if (aDims.length > 1) dims.push(a.rows);
  if (bDims.length > 1) dims.push(b.cols);
  return { a, b, batch, dims };
}

/** Per output batch, the element offset of an operand's matrix (0 along its broadcast dims). */
function batchOffsets(view: View, batch: readonly number[]): Int32Array {
  const offsets = new Int32Array(sizeOf(batch));
  const lead = batch.length - view.batch.length;
  for (let t = 0; t < offsets.length; t++) {
    let rest = t;
    let offset = 0;
    for (let d = batch.length - 1; d >= 0; d--) {
      const size = batch[d]!;
      const i = rest % size;
      rest = (rest - i) / size;
      if (d >= lead && view.batch[d - lead] !== 1) offset += i * view.batchStrides[d - lead]!;
    }
    offsets[t] = offset;
  }
  return offsets;
}

/** A view's matrix as a GEMM operand: transposed storage when its columns are not contiguous. */
function gemmOperand(view: View): [lead: number, transposed: boolean] {
  return view.colStride === 1 ? [view.rowStride, false] : [view.colStride, true];
}

function plain(node: NodeInfo, side: 'A' | 'B'): boolean {
  return node.attrs.int(`trans${side}`, 0) === 0 && node.attrs.int(`transBatch${side}`, 0) === 0;
}

/**
 * alpha · op(A) · op(B) with numpy matmul batching, where op transposes the last two dims
 * (transA/transB) and transBatch first moves dim 0 in front of the last dim, so (d0, …, dn)
 * is read as (…, d0, dn). onnxruntime fuses MatMul with a scalar Mul and with Transposes into it.
 */
export const FusedMatMul: OpDefinition<readonly PackedMatrix[] | undefined> = {
  opType: 'FusedMatMul',
  domain: 'com.microsoft',
  versions: [1, 1],
  infer(node, inputs) {
    const a = need(node, inputs, 0);
    const b = need(node, inputs, 1);
    if (!TYPES.includes(a.dtype)) fail(node, `type ${a.dtype} is not supported`);
    if (b.dtype !== a.dtype) fail(node, `operand types differ: ${a.dtype} and ${b.dtype}`);
    if (!a.shape || !b.shape) return [meta(a.dtype, null)];
    return [meta(a.dtype, layoutOf(node, a.shape, b.shape, (msg) => fail(node, msg)).dims)];
  },
  prepare(node, inputs) {
    const b = inputs[1]?.value;
    if (!b || b.type !== 'float32' || b.dims.length < 2 || node.attrs.int('transBatchB', 0) !== 0) return undefined;
    const view = viewOf(b.dims, 'B', node.attrs.int('transB', 0) !== 0, false);
    return packedWeights(node, b, sizeOf(view.batch), view.rows, view.cols, view.colStride !== 1);
  },
  run(node, inputs, out, packed) {
    const x = needTensor(node, inputs, 0);
    const w = needTensor(node, inputs, 1);
    const { a, b, batch, dims } = layoutOf(node, x.dims, w.dims, (msg) => {
      throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${msg}`);
    });
    const alpha = node.attrs.float('alpha', 1);
    const M = a.rows;
    const K = a.cols;
    const N = b.cols;
    const y = out.alloc(0, x.type, dims);
    if (y.size === 0 || K === 0) {
      (y.data as Float32Array | Float64Array).fill(0);
      return [y];
    }
    const batches = sizeOf(batch);
    const [lda, transA] = gemmOperand(a);
    const [ldb, transB] = gemmOperand(b);

    if (x.type === 'float32') {
      const xd = x.data as Float32Array;
      const wd = w.data as Float32Array;
      const yd = y.data as Float32Array;
      if (sizeOf(b.batch) === 1 && plain(node, 'A') && x.dims.length > 1) {
        // Every output matrix multiplies the one B: all of A's matrices form one tall A.
        const rows = batches * M;
        if (packed) gemmPacked(rows, N, K, xd, 0, K, false, packed[0]!, yd, 0, N, null, 0, false, alpha);
        else gemm(rows, N, K, alpha, xd, 0, K, false, wd, 0, ldb, transB, 0, yd, 0, N);
        return [y];
      }
      const aOffsets = batchOffsets(a, batch);
      const bOffsets = batchOffsets(b, batch);
      for (let t = 0; t < batches; t++) {
        if (packed) {
          gemmPacked(M, N, K, xd, aOffsets[t]!, lda, transA, packed[bOffsets[t]! / (K * N)]!, yd, t * M * N, N, null, 0, false, alpha);
        } else {
          gemm(M, N, K, alpha, xd, aOffsets[t]!, lda, transA, wd, bOffsets[t]!, ldb, transB, 0, yd, t * M * N, N);
        }
      }
      return [y];
    }

    const aOffsets = batchOffsets(a, batch);
    const bOffsets = batchOffsets(b, batch);
    for (let t = 0; t < batches; t++) {
      matmulGeneric(x.type, M, N, K, x.data, aOffsets[t]!, a.rowStride, a.colStride, w.data, bOffsets[t]!, b.rowStride, b.colStride, y.data, t * M * N);
    }
    if (alpha !== 1) {
      const yd = y.data as NumericArray;
      for (let i = 0; i < yd.length; i++) yd[i] = alpha * yd[i]!;
    }
    return [y];
  },
};
