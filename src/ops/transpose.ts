import type { NodeInfo, OpDefinition } from './types.js';
import { contiguousStrides, copyBox } from './movement.js';
import { fail, meta, need, needTensor } from './util.js';

/** The permutation, reversed axes by default; anything but a permutation of 0..rank-1 is an error. */
function permOf(node: NodeInfo, rank: number): number[] {
  const perm = node.attrs.has('perm') ? node.attrs.ints('perm') : Array.from({ length: rank }, (_, i) => rank - 1 - i);
  const valid = perm.length === rank && perm.every((p) => p >= 0 && p < rank) && new Set(perm).size === rank;
  if (!valid) fail(node, `perm [${perm.join(',')}] is not a permutation of ${rank} axes`);
  return perm;
}

export const Transpose: OpDefinition = {
  opType: 'Transpose',
  domain: '',
  versions: [1, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    if (!x.shape) return [meta(x.dtype, null)];
    const shape = x.shape;
    return [meta(x.dtype, permOf(node, shape.length).map((p) => shape[p]!))];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const perm = permOf(node, x.dims.length);
    const dims = perm.map((p) => x.dims[p]!);
    const result = out.alloc(0, x.type, dims);
    // Read the input through permuted strides; copyBox merges axes that stay adjacent, so
    // e.g. (0,2,1,3) moves whole head rows rather than single elements.
    const strides = contiguousStrides(x.dims);
    copyBox(x, 0, perm.map((p) => strides[p]!), result, 0, contiguousStrides(dims), dims);
    return [result];
  },
};
