import { Tensor } from '../tensor.js';

import type { OpDefinition } from './types.js';
import { need } from './util.js';

// Opset 15 added start/end to take a slice of the shape; clamping follows Slice's rules.
function range(rank: number, start: number, end: number): [number, number] {
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  return [clamp(start), clamp(end)];
}

export const Shape: OpDefinition = {
  opType: 'Shape',
  domain: '',
  versions: [1, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    if (!x.shape) return [{ dtype: 'int64', shape: null }];
    const [s, e] = range(x.shape.length, node.attrs.int('start', 0), node.attrs.int('end', x.shape.length));
    const dims = x.shape.slice(s, e);
    return [{ dtype: 'int64', shape: [dims.length], value: new Tensor('int64', BigInt64Array.from(dims, BigInt), [dims.length]) }];
  },
  run(node, inputs, out) {
    const dims = inputs[0]!.dims;
    const [s, e] = range(dims.length, node.attrs.int('start', 0), node.attrs.int('end', dims.length));
    const result = out.alloc(0, 'int64', [Math.max(0, e - s)]);
    for (let i = s; i < e; i++) result.data[i - s] = BigInt(dims[i]!);
    return [result];
  },
};

