import { gemm, gemmPacked, type PackedMatrix } from '../../kernels/gemm.js';
import { LambertError, describeNode } from '../errors.js';
import { isBigIntType, type DType, type NumericArray, type Tensor } from '../tensor.js';
import { broadcastStrides } from './broadcast.js';
import { matmulGeneric, packedWeights } from './matmulCommon.js';
import type { NodeInfo, OpDefinition } from './types.js';
import { fail, need, needTensor } from './util.js';

const FLOAT_TYPES: readonly DType[] = ['float32', 'float64'];
// Opset 9 added the 32- and 64-bit integers.
const TYPES_9: readonly DType[] = [...FLOAT_TYPES, 'int32', 'uint32', 'int64', 'uint64'];

interface Dims {
  readonly M: number;
  readonly K: number;
  readonly N: number;
}

function dimsOf(
  node: NodeInfo,
  a: readonly number[],
  b: readonly number[],
  c: readonly number[] | null,
  error: (msg: string) => never,
): Dims {
  if (a.length !== 2 || b.length !== 2) error(`A and B must be matrices, got [${a.join(',')}] and [${b.join(',')}]`);
  const transA = node.attrs.int('transA', 0) !== 0;
  const transB = node.attrs.int('transB', 0) !== 0;
  const [M, K] = transA ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [bK, N] = transB ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  if (K !== bK) error(`inner dimensions differ: op(A) is [${M},${K}], op(B) is [${bK},${N}]`);
  if (c) {
    // Before opset 7 C broadcasts only when the `broadcast` attribute says so.
    const exact = node.opset < 7 && node.attrs.int('broadcast', 0) === 0;
    const fits = exact
      ? c.length === 2 && c[0] === M && c[1] === N
      : c.length <= 2 && c.every((d, i) => d === 1 || d === [M, N][i + 2 - c.length]);
    if (!fits) error(`C [${c.join(',')}] does not ${exact ? 'match' : 'broadcast to'} [${M},${N}]`);
  }
  return { M, K, N };
}

/** Y = alpha·Y + beta·C over Y's first M·N elements, in float64, for the types the kernels do not cover. */
function scaleAndAdd(y: Tensor, alpha: number, beta: number, c: Tensor | undefined, M: number, N: number): void {
  const out = y.data as NumericArray;
  const cData = c?.data as NumericArray | undefined;
  const [rs, cs] = (c ? broadcastStrides(c.dims, [M, N]) : [0, 0]) as [number, number];
  const big = isBigIntType(y.type);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const v = alpha * Number(out[i * N + j]!) + (cData ? beta * Number(cData[i * rs + j * cs]!) : 0);
      // Integer results truncate like C's cast; NaN and infinities (undefined there) store as 0, as JS's int arrays do.
      out[i * N + j] = big ? ((Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n) as unknown as number) : v;
    }
  }
}

/**
 * Y = alpha·op(A)·op(B) + beta·C with C broadcast to (M,N). float32 runs on the GEMM
 * kernels, packing a constant B once per node; a row-vector C with beta 1 (a Linear layer's
 * bias) goes straight into the kernel, any other C is written into Y first and accumulated onto.
 */
export const Gemm: OpDefinition<readonly PackedMatrix[] | undefined> = {
  opType: 'Gemm',
  domain: '',
  // 6 dropped a legacy attribute, 7 made broadcasting unconditional, 9 added integers, 11 made C optional.
  versions: [1, 21],
  infer(node, inputs) {
    const a = need(node, inputs, 0);
    const b = need(node, inputs, 1);
    const c = node.opset < 11 ? need(node, inputs, 2) : inputs[2];
    if (!(node.opset >= 9 ? TYPES_9 : FLOAT_TYPES).includes(a.dtype)) fail(node, `type ${a.dtype} is not supported at opset ${node.opset}`);
    for (const other of [b, c]) if (other && other.dtype !== a.dtype) fail(node, `operand types differ: ${a.dtype} and ${other.dtype}`);
    if (!a.shape || !b.shape || (c && !c.shape)) return [{ dtype: a.dtype, shape: null }];
    const { M, N } = dimsOf(node, a.shape, b.shape, c?.shape ?? null, (msg) => fail(node, msg));
    return [{ dtype: a.dtype, shape: [M, N] }];
  },
  prepare(node, inputs) {
    const b = inputs[1]?.value;
    if (!b || b.type !== 'float32' || b.dims.length !== 2) return undefined;
    const transB = node.attrs.int('transB', 0) !== 0;
    const [K, N] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
    return packedWeights(node, b, 1, K, N, transB);
  },
  run(node, inputs, out, packed) {
    const a = needTensor(node, inputs, 0);
    const b = needTensor(node, inputs, 1);
    const c = inputs[2];
    const { M, K, N } = dimsOf(node, a.dims, b.dims, c?.dims ?? null, (msg) => {
      throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${msg}`);
    });
    const transA = node.attrs.int('transA', 0) !== 0;
    const transB = node.attrs.int('transB', 0) !== 0;
    const alpha = node.attrs.float('alpha', 1);
    const beta = node.attrs.float('beta', 1);
    const withC = c !== undefined && beta !== 0 ? c : undefined;
    const lda = a.dims[1]!;
    const ldb = b.dims[1]!;
    const y = out.alloc(0, a.type, [M, N]);

    if (a.type !== 'float32') {
      const [aRow, aCol] = transA ? [1, lda] : [lda, 1];
      const [bRow, bCol] = transB ? [1, ldb] : [ldb, 1];
      matmulGeneric(a.type, M, N, K, a.data, 0, aRow, aCol, b.data, 0, bRow, bCol, y.data, 0);
      if (alpha !== 1 || withC) scaleAndAdd(y, alpha, beta, withC, M, N);
      return [y];
    }

    const x = a.data as Float32Array;
    const result = y.data as Float32Array;
    let bias: Float32Array | null = null;
    if (withC) {
      const [rs, cs] = broadcastStrides(withC.dims, [M, N]) as [number, number];
      const cData = withC.data as Float32Array;
      if (packed && beta === 1 && rs === 0 && cs === 1) bias = cData;
      else {
        for (let i = 0; i < M; i++) {
          const row = i * N;
          const cRow = i * rs;
          for (let j = 0; j < N; j++) result[row + j] = beta * cData[cRow + j * cs]!;
        }
      }
    }
    const accumulate = withC !== undefined && bias === null;
    if (packed) gemmPacked(M, N, K, x, 0, lda, transA, packed[0]!, result, 0, N, bias, 0, accumulate, alpha);
    else gemm(M, N, K, alpha, x, 0, lda, transA, b.data as Float32Array, 0, ldb, transB, accumulate ? 1 : 0, result, 0, N);
    return [y];
  },
};
