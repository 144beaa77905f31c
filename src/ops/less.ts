import { FLOATS, NUMERIC, comparisonOp } from './elementwise.js';

// Opset 9 extended Less from floats to every numeric type.
export const Less = comparisonOp('Less', [7, 21], (opset) => (opset >= 9 ? NUMERIC : FLOATS), {
  f32(a, ia, sa, b, ib, sb, o, io, n) {
    for (const end = io + n; io < end; io++, ia += sa, ib += sb) o[io] = a[ia]! < b[ib]! ? 1 : 0;
  },
  test: (x, y) => x < y,
});
