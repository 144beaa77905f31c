import { ALL, comparisonOp } from './elementwise.js';

// Opset 11 extended Equal from bool/int32/int64 to every numeric type.
export const Equal = comparisonOp('Equal', [7, 21], (opset) => (opset >= 11 ? ALL : ['bool', 'int32', 'int64']), {
  f32(a, ia, sa, b, ib, sb, o, io, n) {
    for (const end = io + n; io < end; io++, ia += sa, ib += sb) o[io] = a[ia] === b[ib] ? 1 : 0;
  },
  test: (x, y) => x === y,
});
