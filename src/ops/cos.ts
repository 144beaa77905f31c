import { FLOATS, unaryOp } from './elementwise.js';

export const Cos = unaryOp('Cos', [7, 21], () => FLOATS, {
  f32(x, o, n) {
    for (let i = 0; i < n; i++) o[i] = Math.cos(x[i]!);
  },
  num: Math.cos,
});
