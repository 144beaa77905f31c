import { erf } from '../../kernels/erf.js';
import { mlasOnThisThread } from '../../kernels/mlas.js';
import { NUMERIC, unaryOp } from './elementwise.js';

// float32 takes onnxruntime's own erf (MLAS), bit for bit; float64 the accurate one. Integer
// inputs get erf truncated back to their type (0 or ±1), as the spec's cast implies.
const erf32 = mlasOnThisThread.erfRange;
export const Erf = unaryOp('Erf', [9, 21], () => NUMERIC, {
  f32: (x, o, n) => erf32(x, 0, o, 0, n, 1),
  num: erf,
  big: (x) => BigInt(Math.trunc(erf(Number(x)))),
});
