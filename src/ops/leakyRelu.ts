import { checkType, FLOATS } from './elementwise.js';
import type { OpDefinition } from './types.js';
import { meta, need, needTensor } from './util.js';

/** alpha·x below zero, x from zero up; alpha is a float32 attribute (default 0.01). */
// Opset 1 differs only in the legacy `consumed_inputs` attribute; 16 added bfloat16.
export const LeakyRelu: OpDefinition = {
  opType: 'LeakyRelu',
  domain: '',
  versions: [6, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    checkType(node, x.dtype, FLOATS);
    node.attrs.float('alpha', 0.01);
    return [meta(x.dtype, x.shape)];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const alpha = node.attrs.float('alpha', 0.01);
    const o = out.alloc(0, x.type, x.dims);
    const src = x.data as Float32Array | Float64Array;
    const dst = o.data as Float32Array | Float64Array;
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      dst[i] = v < 0 ? alpha * v : v;
    }
    return [o];
  },
};
