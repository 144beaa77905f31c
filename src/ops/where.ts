import { broadcastShapes } from './broadcast.js';
import { broadcastTernary, type TernaryLoop } from './elementwise.js';
import type { OpDefinition } from './types.js';
import { fail, meta, need, needTensor } from './util.js';

// Attention masking selects over float32 scores, so float32 keeps a loop of its own whose
// element accesses never see other array types (folded int64 shape arithmetic, say).
const selectF32: TernaryLoop<Uint8Array, Float32Array, Float32Array, Float32Array> = (c, ic, sc, x, ix, sx, y, iy, sy, o, io, n) => {
  for (const end = io + n; io < end; io++, ic += sc, ix += sx, iy += sy) o[io] = c[ic] ? x[ix]! : y[iy]!;
};

const select: TernaryLoop = (c, ic, sc, x, ix, sx, y, iy, sy, o, io, n) => {
  for (const end = io + n; io < end; io++, ic += sc, ix += sx, iy += sy) o[io] = c[ic] ? x[ix]! : y[iy]!;
};

export const Where: OpDefinition = {
  opType: 'Where',
  domain: '',
  versions: [9, 21],
  infer(node, inputs) {
    const c = need(node, inputs, 0);
    const x = need(node, inputs, 1);
    const y = need(node, inputs, 2);
    if (c.dtype !== 'bool') fail(node, `condition must be bool, got ${c.dtype}`);
    if (x.dtype !== y.dtype) fail(node, `X and Y must share one type, got ${x.dtype} and ${y.dtype}`);
    return [meta(x.dtype, broadcastShapes(node, [c.shape, x.shape, y.shape]))];
  },
  run(node, inputs, out) {
    const c = needTensor(node, inputs, 0);
    const x = needTensor(node, inputs, 1);
    const y = needTensor(node, inputs, 2);
    const o = out.alloc(0, x.type, broadcastShapes(node, [c.dims, x.dims, y.dims])!);
    broadcastTernary(c, x, y, o, (x.type === 'float32' ? selectF32 : select) as TernaryLoop);
    return [o];
  },
};
