import { FLOATS, unaryOp } from './elementwise.js';

// float32: 1 / x in float64 rounded once to float32 is the float32 quotient (53 ≥ 2·24 + 2 bits).
// Opset 1 differs only in the legacy `consumed_inputs` attribute.
export const Reciprocal = unaryOp('Reciprocal', [6, 21], () => FLOATS, {
  f32(x, o, n) {
    for (let i = 0; i < n; i++) o[i] = 1 / x[i]!;
  },
  num: (x) => 1 / x,
});
