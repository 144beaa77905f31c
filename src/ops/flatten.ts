import { Tensor } from '../tensor.js';
import type { NodeInfo, OpDefinition } from './types.js';
import { fail, meta, need, needTensor } from './util.js';

/** [prod(dims[:axis]), prod(dims[axis:])], with axis in [-rank, rank]. */
function flattened(node: NodeInfo, dims: readonly number[]): number[] {
  const rank = dims.length;
  const attr = node.attrs.int('axis', 1);
  const axis = attr < 0 ? attr + rank : attr;
  if (axis < 0 || axis > rank) fail(node, `axis ${attr} is out of range for rank ${rank}`);
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= dims[i]!;
  let inner = 1;
  for (let i = axis; i < rank; i++) inner *= dims[i]!;
  return [outer, inner];
}

export const Flatten: OpDefinition = {
  opType: 'Flatten',
  domain: '',
  versions: [1, 21],
  view: true,
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    return [meta(x.dtype, x.shape && flattened(node, x.shape))];
  },
  run(node, inputs) {
    const x = needTensor(node, inputs, 0);
    return [new Tensor(x.type, x.data, flattened(node, x.dims))];
  },
};
