import { NUMERIC, unaryOp } from './elementwise.js';

// The minimum integer wraps to itself, as in C.
// Opset 1 differs only in the legacy `consumed_inputs` attribute.
export const Abs = unaryOp('Abs', [6, 21], () => NUMERIC, {
  f32(x, o, n) {
    for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]!);
  },
  num: Math.abs,
  big: (x) => (x < 0n ? -x : x),
});
