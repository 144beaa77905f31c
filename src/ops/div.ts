import { LambertError } from '../errors.js';
import { arithmeticOp } from './elementwise.js';

function divisionByZero(): never {
  throw new LambertError('INVALID_INPUT', 'integer division by zero');
}

// Opsets 1 and 6 broadcast only with the legacy `broadcast`/`axis` attributes.
export const Div = arithmeticOp('Div', [7, 21], {
  f32(a, ia, sa, b, ib, sb, o, io, n) {
    for (const end = io + n; io < end; io++, ia += sa, ib += sb) o[io] = a[ia]! / b[ib]!;
  },
  num: (x, y) => x / y,
  // The integer store truncates toward zero like C's `/`; the quotient of two 32-bit integers
  // is never close enough to an integer for float64 rounding to cross it.
  int: (x, y) => (y === 0 ? divisionByZero() : x / y),
  big: (x, y) => (y === 0n ? divisionByZero() : x / y),
});
