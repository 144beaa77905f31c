import { FLOATS, SIGNED, unaryOp } from './elementwise.js';

// `x < 0` rather than `x > 0` keeps NaN as NaN, like onnxruntime. Opset 14 added the signed
// integers; opset 1 differs only in the legacy `consumed_inputs` attribute.
export const Relu = unaryOp('Relu', [6, 21], (opset) => (opset >= 14 ? SIGNED : FLOATS), {
  f32(x, o, n) {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      o[i] = v < 0 ? 0 : v;
    }
  },
  num: (x) => (x < 0 ? 0 : x),
  big: (x) => (x < 0n ? 0n : x),
});
