/**
 * The CI-sized fuzz run (test/fuzz/fuzz.ts; `npm run fuzz -- --cases 100000` for a long one):
 * random bytes, mutated fixture models, random single-op graphs, broken graphs and hostile
 * feeds must all end in a typed LambertError or a correct result, within 2 s each, with the
 * process's peak memory bounded. LAMBERT_FUZZ_SEED replays another seed.
 */
import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz/fuzz.js';

const MAX_MEMORY = 64 * 1024 * 1024;

describe('fuzz', () => {
  it('ends every case in a typed error or a correct result, without hangs or unbounded memory', () => {
    const lines: string[] = [];
    const stats = runFuzz({
      cases: 3000,
      seed: Number(process.env.LAMBERT_FUZZ_SEED ?? 20240601),
      maxMemoryBytes: MAX_MEMORY,
      log: (line) => {
        lines.push(line);
        console.log(line);
      },
    });
    expect(stats.cases).toBe(3000);
    expect(stats.failures, lines.join('\n')).toEqual([]);
    expect(stats.untyped).toBe(0);
    expect(stats.hangs).toBe(0);
    expect(stats.unexpected).toBe(0);
    // Every allocation is bounded by the sessions' 64 MiB; the rest is the fixtures, feeds and GC lag.
    expect(stats.peakRssGrowth).toBeLessThan(8 * MAX_MEMORY);
  }, 120_000);
});
