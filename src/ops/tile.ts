import type { NodeInfo, OpDefinition } from './types.js';
import { constantInts, contiguousStrides, copyBox, requireDims } from './movement.js';
import { fail, meta, need, needTensor, toNumbers } from './util.js';

function tiledDims(node: NodeInfo, dims: readonly number[], repeats: readonly number[]): number[] {
  if (repeats.length !== dims.length) fail(node, `repeats [${repeats.join(',')}] do not match rank ${dims.length}`);
  requireDims(node, repeats, 'repeats');
  return dims.map((d, i) => d * repeats[i]!);
}

// Tile-1 took tiles and axis inputs; the repeats form starts at opset 6.
export const Tile: OpDefinition = {
  opType: 'Tile',
  domain: '',
  versions: [6, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const repeats = need(node, inputs, 1);
    if (repeats.dtype !== 'int64') fail(node, `repeats must be int64, got ${repeats.dtype}`);
    const values = constantInts(repeats);
    if (!x.shape || !values) return [meta(x.dtype, null)];
    return [meta(x.dtype, tiledDims(node, x.shape, values))];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const repeats = toNumbers(needTensor(node, inputs, 1));
    const dims = tiledDims(node, x.dims, repeats);
    const result = out.alloc(0, x.type, dims);
    // Axis i of the output splits into (repeat, position): the source ignores the repeat
    // (stride 0), the output strides over whole copies of the input's extent.
    const inStrides = contiguousStrides(x.dims);
    const outStrides = contiguousStrides(dims);
    const boxDims: number[] = [];
    const srcStrides: number[] = [];
    const dstStrides: number[] = [];
    x.dims.forEach((d, i) => {
      boxDims.push(repeats[i]!, d);
      srcStrides.push(0, inStrides[i]!);
      dstStrides.push(d * outStrides[i]!, outStrides[i]!);
    });
    copyBox(x, 0, srcStrides, result, 0, dstStrides, boxDims);
    return [result];
  },
};
