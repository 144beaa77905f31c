/**
 * What MatMul and Gemm share: packing constant float32 weights once per node, and the plain
 * loop that multiplies every other element type.
 */
import { packB, type PackedMatrix } from '../../kernels/gemm.js';
import { isBigIntType, type DType, type NumericArray, type Tensor } from '../tensor.js';
import type { NodeInfo } from './types.js';

interface PackedEntry {
  readonly source: Tensor;
  readonly packed: readonly PackedMatrix[];
}

const PACKED_KEY = 'packedB';

/**
 * The `count` consecutive (K,N) matrices of constant B (or (N,K) ones when `transB`), packed
 * for gemmPacked. Kept in the node's cache so every plan of the session shares one copy of the
 * weights; a B folded anew for another plan is a different tensor and gets packed again.
 */
export function packedWeights(node: NodeInfo, b: Tensor, count: number, K: number, N: number, transB: boolean): readonly PackedMatrix[] {
  const cached = node.cache.get(PACKED_KEY) as PackedEntry | undefined;
  if (cached && cached.source === b) return cached.packed;
  const data = b.data as Float32Array;
  const packed: PackedMatrix[] = [];
  for (let i = 0; i < count; i++) packed.push(packB(data, i * K * N, K, N, transB));
  node.cache.set(PACKED_KEY, { source: b, packed } satisfies PackedEntry);
  return packed;
}

/**
 * C (M,N) = A·B for the types without a kernel: A[i,k] at a[aOff + i·aRow + k·aCol], B[k,j]
 * at b[bOff + k·bRow + j·bCol], C dense at cOff. Integers wrap like C's: 32-bit dot products
 * through Math.imul and `| 0` (exact mod 2^32), 64-bit ones in exact bigint arithmetic wrapped
 * by the store.
 */
export function matmulGeneric(
  dtype: DType,
  M: number,
  N: number,
  K: number,
  a: Tensor['data'],
  aOff: number,
  aRow: number,
  aCol: number,
  b: Tensor['data'],
  bOff: number,
  bRow: number,
  bCol: number,
  c: Tensor['data'],
  cOff: number,
): void {
  const x = a as NumericArray;
  const w = b as NumericArray;
  const y = c as NumericArray;
  if (dtype === 'int32' || dtype === 'uint32') {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        let ai = aOff + i * aRow;
        let bi = bOff + j * bCol;
        for (let k = 0; k < K; k++, ai += aCol, bi += bRow) acc = (acc + Math.imul(x[ai]!, w[bi]!)) | 0;
        y[cOff + i * N + j] = acc;
      }
    }
    return;
  }
  // float64 and the bigint types: the same operators on numbers or on bigints.
  const zero = (isBigIntType(dtype) ? 0n : 0) as number;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let acc = zero;
      let ai = aOff + i * aRow;
      let bi = bOff + j * bCol;
      for (let k = 0; k < K; k++, ai += aCol, bi += bRow) acc += x[ai]! * w[bi]!;
      y[cOff + i * N + j] = acc;
    }
  }
}
