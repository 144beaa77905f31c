import { SIGNED, unaryOp } from './elementwise.js';

// Negating the minimum integer wraps to itself, as in C.
// Opset 1 differs only in the legacy `consumed_inputs` attribute.
export const Neg = unaryOp('Neg', [6, 21], () => SIGNED, {
  f32(x, o, n) {
    for (let i = 0; i < n; i++) o[i] = -x[i]!;
  },
  num: (x) => -x,
  big: (x) => -x,
});
