import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LambertError } from '../src/errors.js';
import { averageRanks, cosineSimilarity, pearson, spearman } from '../src/metrics.js';

describe('averageRanks', () => {
  it('gives tied values the mean of the ranks they span', () => {
    expect([...averageRanks([30, 10, 20, 20, 20, 5])]).toEqual([6, 2, 4, 4, 4, 1]);
    expect([...averageRanks([])]).toEqual([]);
  });
});

describe('spearman', () => {
  it("matches scipy.stats.spearmanr's documented example with a tie", () => {
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 14);
  });

  it('is ±1 for monotone relations and NaN for a constant side', () => {
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 64])).toBe(1);
    expect(spearman([1, 2, 3, 4], [0.9, 0.5, 0.1, -3])).toBe(-1);
    expect(spearman([1, 2, 3], [4, 4, 4])).toBeNaN();
    expect(spearman([1], [2])).toBeNaN();
  });

  it('equals 1 − 6Σd²/(n(n²−1)) when there are no ties', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: -1000, max: 1000 }), { minLength: 2, maxLength: 40 }), fc.integer(), (x, seed) => {
        // A deterministic shuffle of x gives a tie-free y of the same length.
        const y = x.map((v, i) => ({ v, k: Math.sin(seed + i * 12.9898) })).sort((a, b) => a.k - b.k).map((e) => e.v);
        const rx = averageRanks(x);
        const ry = averageRanks(y);
        let d2 = 0;
        for (let i = 0; i < x.length; i++) d2 += (rx[i]! - ry[i]!) ** 2;
        const n = x.length;
        expect(spearman(x, y)).toBeCloseTo(1 - (6 * d2) / (n * (n * n - 1)), 10);
      }),
    );
  });

  it('is unchanged by strictly increasing transforms of either side', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 })), { minLength: 3, maxLength: 30 }),
        (pairs) => {
          const x = pairs.map((p) => p[0]);
          const y = pairs.map((p) => p[1]);
          const r = spearman(x, y);
          const r2 = spearman(x.map((v) => v ** 3 + 7), y.map((v) => Math.exp(v / 10)));
          if (Number.isNaN(r)) expect(r2).toBeNaN();
          else expect(r2).toBeCloseTo(r, 10);
        },
      ),
    );
  });

  it('rejects unpaired or NaN samples', () => {
    expect(() => spearman([1, 2], [1])).toThrow(LambertError);
    expect(() => spearman([1, NaN], [1, 2])).toThrow(LambertError);
  });
});

describe('pearson and cosineSimilarity', () => {
  it('compute the textbook values', () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 14);
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 2], [2, 4])).toBeCloseTo(1, 14);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
  });
});
