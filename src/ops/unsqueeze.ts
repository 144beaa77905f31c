import { Tensor } from '../tensor.js';
import type { NodeInfo, OpDefinition } from './types.js';
import { intsArg } from './movement.js';
import { fail, meta, need, needTensor, normalizeAxis } from './util.js';

function unsqueezed(node: NodeInfo, dims: readonly number[], axes: readonly number[] | undefined): number[] {
  if (!axes) fail(node, 'axes are required');
  const rank = dims.length + axes.length;
  const inserted = new Array<boolean>(rank).fill(false);
  for (const axis of axes) {
    const a = normalizeAxis(node, axis, rank);
    if (inserted[a]) fail(node, `axis ${axis} appears twice in [${axes.join(',')}]`);
    inserted[a] = true;
  }
  const result = new Array<number>(rank);
  for (let i = 0, j = 0; i < rank; i++) result[i] = inserted[i] ? 1 : dims[j++]!;
  return result;
}

// Opset 13 moved axes from an attribute to input 1.
export const Unsqueeze: OpDefinition = {
  opType: 'Unsqueeze',
  domain: '',
  versions: [1, 21],
  view: true,
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const axes = intsArg(node, inputs, 1, 'axes', 13);
    if (!x.shape || axes === null) return [meta(x.dtype, null)];
    return [meta(x.dtype, unsqueezed(node, x.shape, axes))];
  },
  run(node, inputs) {
    const x = needTensor(node, inputs, 0);
    return [new Tensor(x.type, x.data, unsqueezed(node, x.dims, intsArg(node, inputs, 1, 'axes', 13)))];
  },
};
