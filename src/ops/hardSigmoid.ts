import { checkType, FLOATS } from './elementwise.js';
import type { OpDefinition } from './types.js';
import { meta, need, needTensor } from './util.js';

// The attributes are float32: the defaults are 0.2f and 0.5f, as onnxruntime reads them.
const ALPHA = Math.fround(0.2);
const BETA = 0.5;

/** max(0, min(1, alpha·x + beta)); compare-and-replace, so NaN stays NaN. */
// Opset 1 differs only in the legacy `consumed_inputs` attribute.
export const HardSigmoid: OpDefinition = {
  opType: 'HardSigmoid',
  domain: '',
  versions: [6, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    checkType(node, x.dtype, FLOATS);
    node.attrs.float('alpha', ALPHA);
    node.attrs.float('beta', BETA);
    return [meta(x.dtype, x.shape)];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const alpha = node.attrs.float('alpha', ALPHA);
    const beta = node.attrs.float('beta', BETA);
    const o = out.alloc(0, x.type, x.dims);
    const src = x.data as Float32Array | Float64Array;
    const dst = o.data as Float32Array | Float64Array;
    // float32 rounds after the product and after the sum, as onnxruntime's float kernel does.
    const f32 = x.type === 'float32';
    for (let i = 0; i < src.length; i++) {
      let v = f32 ? Math.fround(Math.fround(alpha * src[i]!) + beta) : alpha * src[i]! + beta;
      if (v > 1) v = 1;
      if (v < 0) v = 0;
      dst[i] = v;
    }
    return [o];
  },
};
