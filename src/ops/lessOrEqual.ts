import { NUMERIC, comparisonOp } from './elementwise.js';

export const LessOrEqual = comparisonOp('LessOrEqual', [12, 21], () => NUMERIC, {
  f32(a, ia, sa, b, ib, sb, o, io, n) {
    for (const end = io + n; io < end; io++, ia += sa, ib += sb) o[io] = a[ia]! <= b[ib]! ? 1 : 0;
  },
  test: (x, y) => x <= y,
});
