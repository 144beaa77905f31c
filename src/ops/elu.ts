import { floatActivationOp } from './elementwise.js';

/** alpha·(eˣ − 1) below zero, x from zero up; alpha is a float32 attribute (default 1). */
// Opset 1 differs only in the legacy `consumed_inputs` attribute.
export const Elu = floatActivationOp('Elu', [6, 21], { alpha: 1 }, (x, [alpha]) => (x < 0 ? alpha! * Math.expm1(x) : x));
