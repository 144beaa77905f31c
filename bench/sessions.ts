/**
 * One lambert model under two session options, interleaved in one process: what an option costs
 * or gains. Used for intraOpNumThreads scaling (1 vs 2 threads, batch 1 × seq 128 by default; on
 * a machine with fewer than two idle cores the ratio says more about the machine than about
 * lambert, so the load average is printed beside it) and for the price of rounding like
 * onnxruntime (int8 models, floatRounding 'fast' vs the default).
 */
import { loadavg } from 'node:os';
import { InferenceSession, type SessionOptions } from '../src/session.js';
import { lambertInputs, makeFeeds, maxAbsDiff } from './engines.js';
import { fullSizeModel } from './models.js';
import { median, type ModelSpec } from './model.js';

export interface SessionPairResult {
  model: string;
  batch: number;
  seq: number;
  baseline: SessionOptions;
  variant: SessionOptions;
  baselineP50: number;
  variantP50: number;
  /** baselineP50 / variantP50: above 1, the variant is faster. */
  speedup: number;
  /** Largest |difference| between the two sessions' outputs. */
  maxAbsDiff: number;
  loadAverage: number;
}

export async function benchSessionPair(
  spec: ModelSpec,
  baseline: SessionOptions,
  variant: SessionOptions,
  opts: { batch: number; seq: number; warmup: number; rounds: number },
  log: (line: string) => void,
): Promise<SessionPairResult> {
  const path = fullSizeModel(spec.name, spec.precision);
  const inputs = lambertInputs(makeFeeds(opts.batch, opts.seq));
  const sessions = [await InferenceSession.create(path, baseline), await InferenceSession.create(path, variant)];
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
    const baselineP50 = median(samples[0]!);
    const variantP50 = median(samples[1]!);
    const result: SessionPairResult = {
      model: spec.label,
      batch: opts.batch,
      seq: opts.seq,
      baseline,
      variant,
      baselineP50,
      variantP50,
      speedup: baselineP50 / variantP50,
      maxAbsDiff: diff,
      loadAverage: loadavg()[0]!,
    };
    log(formatSessionPairRow(result));
    return result;
  } finally {
    for (const s of sessions) await s.release();
  }
}

/** The table's header, naming the two sessions' columns. */
export function sessionPairTableHeader(baseline: string, variant: string): string {
  return (
    `| model | ${baseline} p50 (ms) | ${variant} p50 (ms) | ${baseline} / ${variant} | max abs diff | load average |\n` +
    '|---|---:|---:|---:|---:|---:|'
  );
}

export function formatSessionPairRow(r: SessionPairResult): string {
  return `| ${r.model} | ${r.baselineP50.toFixed(1)} | ${r.variantP50.toFixed(1)} | ${r.speedup.toFixed(2)}× | ${r.maxAbsDiff.toExponential(2)} | ${r.loadAverage.toFixed(2)} |`;
}
