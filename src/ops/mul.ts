import { arithmeticOp } from './elementwise.js';

// Opsets 1 and 6 broadcast only with the legacy `broadcast`/`axis` attributes.
export const Mul = arithmeticOp('Mul', [7, 21], {
  f32(a, ia, sa, b, ib, sb, o, io, n) {
    for (const end = io + n; io < end; io++, ia += sa, ib += sb) o[io] = a[ia]! * b[ib]!;
  },
  num: (x, y) => x * y,
  // 32-bit products can exceed 2^53, where float64 loses the low bits C's wrap-around keeps.
  int: Math.imul,
  big: (x, y) => x * y,
});
