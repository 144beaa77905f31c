import type { NodeInfo, OpDefinition } from './types.js';
import { copyBox } from './movement.js';
import { fail, meta, need, normalizeAxis } from './util.js';

// Concat-1 defaulted axis to 1; from opset 4 it is required.
function axisOf(node: NodeInfo, rank: number): number {
  return normalizeAxis(node, node.opset < 4 ? node.attrs.int('axis', 1) : node.attrs.int('axis'), rank);
}

/** The output dims, checking every input has the same rank and agrees off the axis. */
function concatDims(node: NodeInfo, shapes: readonly (readonly number[])[]): { dims: number[]; axis: number } {
  const first = shapes[0]!;
  const axis = axisOf(node, first.length);
  const dims = [...first];
  dims[axis] = 0;
  for (const shape of shapes) {
    const agrees = shape.length === first.length && shape.every((d, i) => i === axis || d === first[i]);
    if (!agrees) fail(node, `shapes ${shapes.map((s) => `[${s.join(',')}]`).join(', ')} do not agree off axis ${axis}`);
    dims[axis] += shape[axis]!;
  }
  return { dims, axis };
}

export const Concat: OpDefinition = {
  opType: 'Concat',
  domain: '',
  versions: [1, 21],
  infer(node, inputs) {
    if (inputs.length === 0) fail(node, 'needs at least one input');
    const metas = inputs.map((_, i) => need(node, inputs, i));
    const dtype = metas[0]!.dtype;
    if (metas.some((m) => m.dtype !== dtype)) fail(node, `inputs mix dtypes ${metas.map((m) => m.dtype).join(', ')}`);
    if (metas.some((m) => !m.shape)) return [meta(dtype, null)];
    return [meta(dtype, concatDims(node, metas.map((m) => m.shape!)).dims)];
  },
  run(node, inputs, out) {
    const tensors = inputs.map((t, i) => t ?? fail(node, `input ${i} is required`));
    const { dims, axis } = concatDims(node, tensors.map((t) => t.dims));
    const result = out.alloc(0, tensors[0]!.type, dims);
    let outer = 1;
    for (let i = 0; i < axis; i++) outer *= dims[i]!;
    let inner = 1;
    for (let i = axis + 1; i < dims.length; i++) inner *= dims[i]!;
    // Each input is an [outer, width] block written at column `offset` of an [outer, total] matrix.
    const total = dims[axis]! * inner;
    let offset = 0;
    for (const t of tensors) {
      const width = t.dims[axis]! * inner;
      copyBox(t, 0, [width, 1], result, offset, [total, 1], [outer, width]);
      offset += width;
    }
    return [result];
  },
};
