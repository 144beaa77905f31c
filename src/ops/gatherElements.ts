import type { OpDefinition } from './types.js';
import { checkIndexType, contiguousStrides, invalidInput, readIndices, runCopier } from './movement.js';
import { fail, meta, need, needTensor, normalizeAxis } from './util.js';

export const GatherElements: OpDefinition = {
  opType: 'GatherElements',
  domain: '',
  versions: [11, 21],
  infer(node, inputs) {
    const data = need(node, inputs, 0);
    const indices = need(node, inputs, 1);
    checkIndexType(node, indices, 'indices');
    if (!data.shape || !indices.shape) return [meta(data.dtype, null)];
    if (data.shape.length !== indices.shape.length) {
      fail(node, `indices rank ${indices.shape.length} differs from data rank ${data.shape.length}`);
    }
    normalizeAxis(node, node.attrs.int('axis', 0), data.shape.length);
    return [meta(data.dtype, indices.shape)];
  },
  run(node, inputs, out) {
    const data = needTensor(node, inputs, 0);
    const indices = needTensor(node, inputs, 1);
    const dims = data.dims;
    const iDims = indices.dims;
    const rank = dims.length;
    const axis = normalizeAxis(node, node.attrs.int('axis', 0), rank);
    if (iDims.length !== rank || iDims.some((d, i) => i !== axis && d > dims[i]!)) {
      invalidInput(node, `indices shape [${iDims.join(',')}] does not fit data shape [${dims.join(',')}] off axis ${axis}`);
    }
    const idx = readIndices(node, indices, axis, dims[axis]!);
    const result = out.alloc(0, data.type, iDims);
    const strides = contiguousStrides(dims);
    const axisStride = strides[axis]!;
    const counter = new Array<number>(rank).fill(0);
    const copy = runCopier(data, result);
    // `base` is the data offset of the current position on every axis but `axis`.
    let base = 0;
    for (let o = 0; o < idx.length; o++) {
      copy(base + idx[o]! * axisStride, o, 1);
      for (let a = rank - 1; a >= 0; a--) {
        const step = a === axis ? 0 : strides[a]!;
        base += step;
        if (++counter[a]! < iDims[a]!) break;
        base -= step * iDims[a]!;
        counter[a] = 0;
      }
    }
    return [result];
  },
};
