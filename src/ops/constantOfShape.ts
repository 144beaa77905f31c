import { Tensor } from '../tensor.js';
import type { NodeInfo, OpDefinition } from './types.js';
import { constantInts, fillTensor, requireDims } from './movement.js';
import { fail, meta, need, needTensor, toNumbers } from './util.js';

const DEFAULT_VALUE = new Tensor('float32', new Float32Array(1), [1]);

function valueOf(node: NodeInfo): Tensor {
  const value = node.attrs.tensor('value') ?? DEFAULT_VALUE;
  if (value.size !== 1) fail(node, `value must hold one element, got [${value.dims.join(',')}]`);
  return value;
}

export const ConstantOfShape: OpDefinition = {
  opType: 'ConstantOfShape',
  domain: '',
  versions: [9, 21],
  infer(node, inputs) {
    const shape = need(node, inputs, 0);
    if (shape.dtype !== 'int64') fail(node, `shape must be int64, got ${shape.dtype}`);
    const dims = constantInts(shape);
    return [meta(valueOf(node).type, dims ? requireDims(node, dims, 'shape') : null)];
  },
  run(node, inputs, out) {
    const value = valueOf(node);
    const result = out.alloc(0, value.type, requireDims(node, toNumbers(needTensor(node, inputs, 0)), 'shape'));
    fillTensor(result, value.data[0]!);
    return [result];
  },
};
