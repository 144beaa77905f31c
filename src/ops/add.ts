import { arithmeticOp } from './elementwise.js';

// Opsets 1 and 6 broadcast only with the legacy `broadcast`/`axis` attributes.
export const Add = arithmeticOp('Add', [7, 21], {
  f32(a, ia, sa, b, ib, sb, o, io, n) {
    for (const end = io + n; io < end; io++, ia += sa, ib += sb) o[io] = a[ia]! + b[ib]!;
  },
  num: (x, y) => x + y,
  big: (x, y) => x + y,
});
