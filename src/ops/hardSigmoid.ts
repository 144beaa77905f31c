import { floatActivationOp } from './elementwise.js';

/**
 * max(0, min(1, alpha·x + beta)); compare-and-replace, so NaN stays NaN. The attributes are
 * float32: the defaults are 0.2f and 0.5f, as onnxruntime reads them, and float32 rounds after
 * the product and after the sum, as onnxruntime's float kernel does.
 */
// Opset 1 differs only in the legacy `consumed_inputs` attribute.
export const HardSigmoid = floatActivationOp('HardSigmoid', [6, 21], { alpha: Math.fround(0.2), beta: 0.5 }, (x, [alpha, beta], float32) => {
  let v = float32 ? Math.fround(Math.fround(alpha! * x) + beta!) : alpha! * x + beta!;
  if (v > 1) v = 1;
  if (v < 0) v = 0;
  return v;
});
