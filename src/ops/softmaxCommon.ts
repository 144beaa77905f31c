/**
 * Softmax and LogSoftmax: which elements form one distribution, and the loop for those the
 * row kernels cannot take.
 */
import type { DType, Tensor } from '../tensor.js';
import type { NodeInfo, OpDefinition } from './types.js';
import { fail, need, needTensor, normalizeAxis } from './util.js';

/** A float32 kernel over `rows` contiguous rows of `cols` values. */
export type RowKernel = (x: Float32Array, xOff: number, rows: number, cols: number, out: Float32Array, outOff: number) => void;

const TYPES: readonly DType[] = ['float32', 'float64'];

/**
 * Before opset 13 the input is read as a 2-D matrix split at `axis` (default 1), each row one
 * distribution; from 13 on only the `axis` dimension (default -1) is. Either way the data is
 * `outer` blocks of `n` × `inner` values, normalised along n.
 */
function layoutOf(node: NodeInfo, dims: readonly number[]): { outer: number; n: number; inner: number } {
  const rank = dims.length;
  const legacy = node.opset < 13;
  // A scalar is one distribution of one element.
  const axis = rank === 0 ? 0 : normalizeAxis(node, node.attrs.int('axis', legacy ? 1 : -1), rank);
  const end = legacy ? rank : Math.min(axis + 1, rank);
  const product = (from: number, to: number) => dims.slice(from, to).reduce((p, d) => p * d, 1);
  return { outer: product(0, axis), n: product(axis, end), inner: product(end, rank) };
}

export function softmaxOp(opType: string, kernel: RowKernel, log: boolean): OpDefinition {
  return {
    opType,
    domain: '',
    // Opset 11 allowed negative axes; 13 normalises along one axis instead of a flattened block.
    versions: [1, 21],
    infer(node, inputs) {
      const x = need(node, inputs, 0);
      if (!TYPES.includes(x.dtype)) fail(node, `input type ${x.dtype} is not supported`);
      if (x.shape) layoutOf(node, x.shape);
      return [{ dtype: x.dtype, shape: x.shape }];
    },
    run(node, inputs, out) {
      const x = needTensor(node, inputs, 0);
      const { outer, n, inner } = layoutOf(node, x.dims);
      const y = out.alloc(0, x.type, x.dims);
      if (x.type === 'float32' && inner === 1) kernel(x.data as Float32Array, 0, outer, n, y.data as Float32Array, 0);
      else strided(x, y, outer, n, inner, log);
      return [y];
    },
  };
}

/**
 * Normalises along a strided axis without transposing: each block's `inner` distributions are
 * walked together, one contiguous slice of n at a time, with their max and sum in float64
 * lanes. Same formulas as the row kernels (max-shifted, NaN anywhere poisons its distribution).
 */
function strided(input: Tensor, output: Tensor, outer: number, n: number, inner: number, log: boolean): void {
  const x = input.data as Float32Array | Float64Array;
  const y = output.data as Float32Array | Float64Array;
  const max = new Float64Array(inner);
  const sum = new Float64Array(inner);
  const block = n * inner;
  for (let o = 0; o < outer; o++) {
    const base = o * block;
    const end = base + block;
    max.fill(-Infinity);
    sum.fill(0);
    for (let row = base; row < end; row += inner) {
      for (let i = 0; i < inner; i++) {
        const v = x[row + i]!;
        if (v > max[i]! || v !== v) max[i] = v;
      }
    }
    for (let row = base; row < end; row += inner) {
      for (let i = 0; i < inner; i++) {
        const e = Math.exp(x[row + i]! - max[i]!);
        if (!log) y[row + i] = e;
        sum[i] += e;
      }
    }
    if (log) {
      for (let i = 0; i < inner; i++) sum[i] = max[i]! + Math.log(sum[i]!);
      for (let row = base; row < end; row += inner) for (let i = 0; i < inner; i++) y[row + i] = x[row + i]! - sum[i]!;
    } else {
      for (let i = 0; i < inner; i++) sum[i] = 1 / sum[i]!;
      for (let row = base; row < end; row += inner) for (let i = 0; i < inner; i++) y[row + i] *= sum[i]!;
    }
  }
}
