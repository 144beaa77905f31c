import { FLOATS, unaryOp } from './elementwise.js';

// Opset 1 differs only in the legacy `consumed_inputs` attribute.
export const Ceil = unaryOp('Ceil', [6, 21], () => FLOATS, {
  f32(x, o, n) {
    for (let i = 0; i < n; i++) o[i] = Math.ceil(x[i]!);
  },
  num: Math.ceil,
});
