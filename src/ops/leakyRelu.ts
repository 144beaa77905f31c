import { floatActivationOp } from './elementwise.js';

/** alpha·x below zero, x from zero up; alpha is a float32 attribute (default 0.01). */
// Opset 1 differs only in the legacy `consumed_inputs` attribute; 16 added bfloat16.
export const LeakyRelu = floatActivationOp('LeakyRelu', [6, 21], { alpha: Math.fround(0.01) }, (x, [alpha]) => (x < 0 ? alpha! * x : x));
