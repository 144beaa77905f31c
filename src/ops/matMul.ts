import { gemm, gemmPacked, type PackedMatrix } from '../../kernels/gemm.js';
import { LambertError, describeNode } from '../errors.js';
import { sizeOf, type DType } from '../tensor.js';
import { broadcastStrides } from './broadcast.js';
import { matmulGeneric, packedWeights } from './matmulCommon.js';
import type { OpDefinition } from './types.js';
import { fail, need, needTensor } from './util.js';

const FLOAT_TYPES: readonly DType[] = ['float32', 'float64'];
// Opset 9 added the 32- and 64-bit integers.
const TYPES_9: readonly DType[] = [...FLOAT_TYPES, 'int32', 'uint32', 'int64', 'uint64'];

/** numpy.matmul's reading of two shapes: a 1-D A is a row, a 1-D B a column, both dropped again from the result. */
interface Layout {
  readonly M: number;
  readonly K: number;
  readonly N: number;
  readonly aBatch: readonly number[];
  readonly bBatch: readonly number[];
  readonly batch: readonly number[];
  readonly out: readonly number[];
}

function layoutOf(a: readonly number[], b: readonly number[], error: (msg: string) => never): Layout {
  if (a.length === 0 || b.length === 0) error('operands must have rank 1 or more');
  const M = a.length === 1 ? 1 : a[a.length - 2]!;
  const K = a[a.length - 1]!;
  const bK = b.length === 1 ? b[0]! : b[b.length - 2]!;
  const N = b.length === 1 ? 1 : b[b.length - 1]!;
  if (K !== bK) error(`inner dimensions differ: [${a.join(',')}] x [${b.join(',')}]`);
  const aBatch = a.slice(0, -2);
  const bBatch = b.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aBatch[i - rank + aBatch.length] ?? 1;
    const db = bBatch[i - rank + bBatch.length] ?? 1;
    if (da !== db && da !== 1 && db !== 1) error(`batch dimensions do not broadcast: [${a.join(',')}] x [${b.join(',')}]`);
    batch.push(da === 1 ? db : da);
  }
  const out = [...batch];
  if (a.length > 1) out.push(M);
  if (b.length > 1) out.push(N);
  return { M, K, N, aBatch, bBatch, batch, out };
}

/** Which A (or B) matrix output batch `t` reads, given that operand's broadcast batch strides (in matrices). */
function matrixIndex(t: number, batch: readonly number[], strides: readonly number[]): number {
  let index = 0;
  for (let d = batch.length - 1; d >= 0; d--) {
    const size = batch[d]!;
    index += (t % size) * strides[d]!;
    t = Math.floor(t / size);
  }
  return index;
}

/**
 * numpy matmul with batch broadcasting. float32 runs on the GEMM kernels: a constant B (the
 * weights of a Linear layer) is packed once per node, a runtime B (attention's Q·Kᵀ) is read
 * in place. A B without batch dims multiplies all of A's rows in one call.
 */
export const MatMul: OpDefinition<readonly PackedMatrix[] | undefined> = {
  opType: 'MatMul',
  domain: '',
  // Opset 9 and 13 only added types.
  versions: [1, 21],
  infer(node, inputs) {
    const a = need(node, inputs, 0);
    const b = need(node, inputs, 1);
    if (!(node.opset >= 9 ? TYPES_9 : FLOAT_TYPES).includes(a.dtype)) fail(node, `type ${a.dtype} is not supported at opset ${node.opset}`);
    if (b.dtype !== a.dtype) fail(node, `operand types differ: ${a.dtype} and ${b.dtype}`);
    if (!a.shape || !b.shape) return [{ dtype: a.dtype, shape: null }];
    return [{ dtype: a.dtype, shape: layoutOf(a.shape, b.shape, (msg) => fail(node, msg)).out }];
  },
  prepare(node, inputs) {
    const b = inputs[1]?.value;
    if (!b || b.type !== 'float32') return undefined;
    const K = b.dims.length === 1 ? b.dims[0]! : b.dims[b.dims.length - 2]!;
    const N = b.dims.length === 1 ? 1 : b.dims[b.dims.length - 1]!;
    return packedWeights(node, b, sizeOf(b.dims.slice(0, -2)), K, N, false);
  },
  run(node, inputs, out, packed) {
    const a = needTensor(node, inputs, 0);
    const b = needTensor(node, inputs, 1);
    const { M, K, N, aBatch, bBatch, batch, out: outDims } = layoutOf(a.dims, b.dims, (msg) => {
      throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${msg}`);
    });
    const y = out.alloc(0, a.type, outDims);
    const batches = sizeOf(batch);
    if (a.type === 'float32' && sizeOf(bBatch) === 1) {
      // Every output matrix multiplies the one B: stack all of A's matrices into one tall A.
      const rows = batches * M;
      const x = a.data as Float32Array;
      const c = y.data as Float32Array;
      if (packed) gemmPacked(rows, N, K, x, 0, K, false, packed[0]!, c, 0, N, null, 0, false);
      else gemm(rows, N, K, 1, x, 0, K, false, b.data as Float32Array, 0, N, false, 0, c, 0, N);
      return [y];
    }
    const aStrides = broadcastStrides(aBatch, batch);
    const bStrides = broadcastStrides(bBatch, batch);
    for (let t = 0; t < batches; t++) {
      const ai = matrixIndex(t, batch, aStrides);
      const bi = matrixIndex(t, batch, bStrides);
      const aOff = ai * M * K;
      const bOff = bi * K * N;
      const cOff = t * M * N;
      if (a.type !== 'float32') {
        matmulGeneric(a.type, M, N, K, a.data, aOff, K, 1, b.data, bOff, N, 1, y.data, cOff);
      } else if (packed) {
        gemmPacked(M, N, K, a.data as Float32Array, aOff, K, false, packed[bi]!, y.data as Float32Array, cOff, N, null, 0, false);
      } else {
        gemm(M, N, K, 1, a.data as Float32Array, aOff, K, false, b.data as Float32Array, bOff, N, false, 0, y.data as Float32Array, cOff, N);
      }
    }
    return [y];
  },
};
