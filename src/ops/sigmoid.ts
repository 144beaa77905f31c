import { FLOATS, unaryOp } from './elementwise.js';

// exp only ever sees a non-positive argument, so it cannot overflow: for x < 0 the form
// e/(1+e) with e = exp(x) keeps tiny results accurate instead of 1/(1+huge).
function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

// Opset 1 differs only in the legacy `consumed_inputs` attribute.
export const Sigmoid = unaryOp('Sigmoid', [6, 21], () => FLOATS, {
  f32(x, o, n) {
    for (let i = 0; i < n; i++) o[i] = sigmoid(x[i]!);
  },
  num: sigmoid,
});
