/** Deterministic pseudo-random numbers in [0, 1) from `seed` (a 32-bit LCG): the same data on every run. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
