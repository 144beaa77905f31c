import { FLOATS, unaryOp } from './elementwise.js';

/** Round half to even (std::nearbyint in the default rounding mode); ±0, ±∞ and NaN stay as they are. */
function roundHalfEven(x: number): number {
  const r = Math.round(x); // half rounds up, toward +∞
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const Round = unaryOp('Round', [11, 21], () => FLOATS, {
  f32(x, o, n) {
    for (let i = 0; i < n; i++) o[i] = roundHalfEven(x[i]!);
  },
  num: roundHalfEven,
});
