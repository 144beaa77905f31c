/**
 * intraOpNumThreads scaling: the same lambert model with one and with two threads, interleaved in
 * one process, batch 1 × seq 128 by default. On a machine with fewer than two idle cores the ratio
 * says more about the machine than about lambert: the load average is printed beside it.
 */
import { loadavg } from 'node:os';
import { InferenceSession } from '../src/session.js';
import { lambertInputs, makeFeeds, maxAbsDiff } from './engines.js';
import { fullSizeModel } from './models.js';
import { median, type ModelSpec } from './model.js';

export interface ThreadsResult {
  model: string;
  batch: number;
  seq: number;
  oneThreadP50: number;
  twoThreadsP50: number;
  /** oneThreadP50 / twoThreadsP50. */
  speedup: number;
  /** Largest |difference| between the two sessions' outputs (0: bit-identical, as promised). */
  maxAbsDiff: number;
  loadAverage: number;
}

export async function benchThreads(
  spec: ModelSpec,
  opts: { batch: number; seq: number; warmup: number; rounds: number },
  log: (line: string) => void,
): Promise<ThreadsResult> {
  const path = fullSizeModel(spec.name, spec.precision);
  const inputs = lambertInputs(makeFeeds(opts.batch, opts.seq));
  const sessions = [await InferenceSession.create(path), await InferenceSession.create(path, { intraOpNumThreads: 2 })];
  try {
    const run = (s: InferenceSession) =>
      Object.fromEntries(Object.entries(s.runSync(inputs)).map(([k, t]) => [k, t.data as Float32Array]));
    const diff = maxAbsDiff(run(sessions[1]!), run(sessions[0]!));
    for (let r = 0; r < opts.warmup; r++) for (const s of sessions) run(s);
    const samples: number[][] = [[], []];
    for (let r = 0; r < opts.rounds; r++) {
      for (let i = 0; i < 2; i++) {
        const t0 = performance.now();
        run(sessions[i]!);
        samples[i]!.push(performance.now() - t0);
      }
    }
    const one = median(samples[0]!);
    const two = median(samples[1]!);
    const result: ThreadsResult = {
      model: spec.label,
      batch: opts.batch,
      seq: opts.seq,
      oneThreadP50: one,
      twoThreadsP50: two,
      speedup: one / two,
      maxAbsDiff: diff,
      loadAverage: loadavg()[0]!,
    };
    log(formatThreadsRow(result));
    return result;
  } finally {
    await sessions[1]!.release();
  }
}

export const THREADS_TABLE_HEADER =
  '| model | 1 thread p50 (ms) | 2 threads p50 (ms) | speedup | max abs diff 2 vs 1 | load average |\n|---|---:|---:|---:|---:|---:|';

export function formatThreadsRow(r: ThreadsResult): string {
  return `| ${r.model} | ${r.oneThreadP50.toFixed(1)} | ${r.twoThreadsP50.toFixed(1)} | ${r.speedup.toFixed(2)}× | ${r.maxAbsDiff.toExponential(2)} | ${r.loadAverage.toFixed(2)} |`;
}
