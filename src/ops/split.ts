import type { InputMetas, Inputs, NodeInfo, OpDefinition } from './types.js';
import { contiguousStrides, copyBox, intsArg, invalidInput } from './movement.js';
import { fail, meta, need, needTensor, normalizeAxis } from './util.js';

/** The opset from which input 1 rather than the attribute holds the sizes: 13, but Split-1 took either. */
function splitSince(node: NodeInfo, inputs: Inputs | InputMetas): number {
  return node.opset === 1 && inputs[1] ? 1 : 13;
}

/** Without split sizes: equal parts, where opset 18's num_outputs lets the last be smaller. */
function sizesOf(node: NodeInfo, dim: number, split: readonly number[] | undefined): number[] {
  const count = node.outputs.length;
  if (split) {
    if (split.length !== count) fail(node, `split [${split.join(',')}] does not give one size per output (${count})`);
    if (split.some((s) => s < 0)) fail(node, `split [${split.join(',')}] has a negative size`);
    if (split.reduce((a, b) => a + b, 0) !== dim) {
      invalidInput(node, `split [${split.join(',')}] does not sum to the axis size ${dim}`);
    }
    return [...split];
  }
  if (node.opset >= 18 && node.attrs.has('num_outputs')) {
    const n = node.attrs.int('num_outputs');
    if (n !== count) fail(node, `num_outputs ${n} differs from the ${count} outputs`);
    const chunk = Math.ceil(dim / n);
    const last = dim - chunk * (n - 1);
    if (last < 0) invalidInput(node, `an axis of size ${dim} cannot be split into ${n} chunks of ${chunk}`);
    return Array.from({ length: n }, (_, i) => (i === n - 1 ? last : chunk));
  }
  if (dim % count !== 0) invalidInput(node, `an axis of size ${dim} cannot be split into ${count} equal parts`);
  return new Array<number>(count).fill(dim / count);
}

export const Split: OpDefinition = {
  opType: 'Split',
  domain: '',
  versions: [1, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const split = intsArg(node, inputs, 1, 'split', splitSince(node, inputs));
    if (!x.shape || split === null) return node.outputs.map(() => meta(x.dtype, null));
    const shape = x.shape;
    const axis = normalizeAxis(node, node.attrs.int('axis', 0), shape.length);
    return sizesOf(node, shape[axis]!, split).map((s) => meta(x.dtype, shape.map((d, i) => (i === axis ? s : d))));
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const dims = x.dims;
    const axis = normalizeAxis(node, node.attrs.int('axis', 0), dims.length);
    const strides = contiguousStrides(dims);
    let offset = 0;
    return sizesOf(node, dims[axis]!, intsArg(node, inputs, 1, 'split', splitSince(node, inputs))).map((size, i) => {
      const partDims = dims.map((d, a) => (a === axis ? size : d));
      const part = out.alloc(i, x.type, partDims);
      copyBox(x, offset * strides[axis]!, strides, part, 0, contiguousStrides(partDims), partDims);
      offset += size;
      return part;
    });
  },
};
