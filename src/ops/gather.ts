import type { OpDefinition } from './types.js';
import { checkIndexType, readIndices, runCopier } from './movement.js';
import { meta, need, needTensor, normalizeAxis } from './util.js';

export const Gather: OpDefinition = {
  opType: 'Gather',
  domain: '',
  versions: [1, 21],
  infer(node, inputs) {
    const data = need(node, inputs, 0);
    const indices = need(node, inputs, 1);
    checkIndexType(node, indices, 'indices');
    if (!data.shape || !indices.shape) return [meta(data.dtype, null)];
    const axis = normalizeAxis(node, node.attrs.int('axis', 0), data.shape.length);
    return [meta(data.dtype, [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)])];
  },
  run(node, inputs, out) {
    const data = needTensor(node, inputs, 0);
    const indices = needTensor(node, inputs, 1);
    const dims = data.dims;
    const axis = normalizeAxis(node, node.attrs.int('axis', 0), dims.length);
    const size = dims[axis]!;
    const idx = readIndices(node, indices, axis, size);
    const result = out.alloc(0, data.type, [...dims.slice(0, axis), ...indices.dims, ...dims.slice(axis + 1)]);
    let outer = 1;
    for (let i = 0; i < axis; i++) outer *= dims[i]!;
    let inner = 1;
    for (let i = axis + 1; i < dims.length; i++) inner *= dims[i]!;
    if (inner === 0) return [result];
    // Each index picks a contiguous run of `inner` elements: an embedding row, or one value.
    const copy = runCopier(data, result);
    for (let b = 0, o = 0; b < outer; b++) {
      const base = b * size;
      for (let j = 0; j < idx.length; j++, o += inner) copy((base + idx[j]!) * inner, o, inner);
    }
    return [result];
  },
};
