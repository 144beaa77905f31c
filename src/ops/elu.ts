import { checkType, FLOATS } from './elementwise.js';
import type { OpDefinition } from './types.js';
import { meta, need, needTensor } from './util.js';

/** alpha·(eˣ − 1) below zero, x from zero up; alpha is a float32 attribute (default 1). */
// Opset 1 differs only in the legacy `consumed_inputs` attribute.
export const Elu: OpDefinition = {
  opType: 'Elu',
  domain: '',
  versions: [6, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    checkType(node, x.dtype, FLOATS);
    node.attrs.float('alpha', 1);
    return [meta(x.dtype, x.shape)];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const alpha = node.attrs.float('alpha', 1);
    const o = out.alloc(0, x.type, x.dims);
    const src = x.data as Float32Array | Float64Array;
    const dst = o.data as Float32Array | Float64Array;
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      dst[i] = v < 0 ? alpha * Math.expm1(v) : v;
    }
    return [o];
  },
};
