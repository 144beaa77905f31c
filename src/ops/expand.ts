import { broadcastShapes, broadcastStrides } from './broadcast.js';
import type { OpDefinition } from './types.js';
import { constantInts, contiguousStrides, copyBox, requireDims } from './movement.js';
import { fail, meta, need, needTensor, toNumbers } from './util.js';

// Bidirectional: a shape dim of 1 keeps the input's dim, so the output may be larger than `shape`.
export const Expand: OpDefinition = {
  opType: 'Expand',
  domain: '',
  versions: [8, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const shape = need(node, inputs, 1);
    if (shape.dtype !== 'int64') fail(node, `shape must be int64, got ${shape.dtype}`);
    const target = constantInts(shape);
    if (!x.shape || !target) return [meta(x.dtype, null)];
    return [meta(x.dtype, broadcastShapes(node, [x.shape, requireDims(node, target, 'shape')]))];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const target = requireDims(node, toNumbers(needTensor(node, inputs, 1)), 'shape');
    const dims = broadcastShapes(node, [x.dims, target])!;
    const result = out.alloc(0, x.type, dims);
    copyBox(x, 0, broadcastStrides(x.dims, dims), result, 0, contiguousStrides(dims), dims);
    return [result];
  },
};
