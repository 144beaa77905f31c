import { erf, erfArray } from '../../kernels/erf.js';
import { NUMERIC, unaryOp } from './elementwise.js';

// Integer inputs get erf truncated back to their type (0 or ±1), as the spec's cast implies.
export const Erf = unaryOp('Erf', [9, 21], () => NUMERIC, {
  f32: (x, o, n) => erfArray(x, 0, o, 0, n),
  num: erf,
  big: (x) => BigInt(Math.trunc(erf(Number(x)))),
});
