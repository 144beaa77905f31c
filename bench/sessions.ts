/**
 * One lambert model run by two sessions, interleaved in one process: what a session option, or a
 * code change, costs or gains. Used for intraOpNumThreads scaling (1 vs 2 threads, batch 1 × seq
 * 128 by default; on a machine with fewer than two idle cores the ratio says more about the
 * machine than about lambert, so the load average is printed beside it), for the price of rounding
 * like onnxruntime (int8 models, floatRounding 'fast' vs the default), and by `--compare REV` for
 * lambert built from another git revision against the working tree.
 *
 * Each round runs both sessions back to back, alternating which goes first. Besides the ratio of
 * the two medians the table gives the median of the per-round ratios: on a shared machine whose
 * speed drifts by 2× within minutes, two runs seconds apart compare far better than two medians.
 */
import { loadavg } from 'node:os';
import { InferenceSession, type SessionOptions } from '../src/session.js';
import { Tensor } from '../src/tensor.js';
import { lambertInputs, makeFeeds, maxAbsDiff } from './engines.js';
import { fullSizeModel } from './models.js';
import { median, type ModelSpec } from './model.js';

/** What a pair needs of a lambert build: its InferenceSession and Tensor. */
export interface LambertBuild {
  readonly InferenceSession: typeof InferenceSession;
  readonly Tensor: typeof Tensor;
}

/** The build this benchmark was bundled from (the working tree). */
export const THIS_BUILD: LambertBuild = { InferenceSession, Tensor };

/** One side of a pair: a build and the session options it runs with. */
export interface PairSide {
  readonly label: string;
  readonly build: LambertBuild;
  readonly options: SessionOptions;
}

export interface SessionPairResult {
  model: string;
  batch: number;
  seq: number;
  baseline: { label: string; options: SessionOptions };
  variant: { label: string; options: SessionOptions };
  baselineP50: number;
  variantP50: number;
  /** baselineP50 / variantP50: above 1, the variant is faster. */
  speedup: number;
  /** Median over rounds of baseline time / variant time within the round. */
  pairedSpeedup: number;
  /** Largest |difference| between the two sessions' outputs. */
  maxAbsDiff: number;
  loadAverage: number;
}

/** The two sides of `options` on this build. */
export function optionPair(baseline: SessionOptions, baselineLabel: string, variant: SessionOptions, variantLabel: string): [PairSide, PairSide] {
  return [
    { label: baselineLabel, build: THIS_BUILD, options: baseline },
    { label: variantLabel, build: THIS_BUILD, options: variant },
  ];
}

export async function benchSessionPair(
  spec: ModelSpec,
  [baseline, variant]: readonly [PairSide, PairSide],
  opts: { batch: number; seq: number; warmup: number; rounds: number },
  log: (line: string) => void,
): Promise<SessionPairResult> {
  const path = fullSizeModel(spec.name, spec.precision);
  const feeds = makeFeeds(opts.batch, opts.seq);
  const sides = [baseline, variant];
  const sessions = await Promise.all(sides.map((side) => side.build.InferenceSession.create(path, side.options)));
  const inputs = sides.map((side) => lambertInputs(feeds, side.build.Tensor));
  try {
    const run = (i: number) =>
      Object.fromEntries(Object.entries(sessions[i]!.runSync(inputs[i]!)).map(([k, t]) => [k, t.data as Float32Array]));
    const diff = maxAbsDiff(run(1), run(0));
    for (let r = 0; r < opts.warmup; r++) for (let i = 0; i < 2; i++) run(i);
    const samples: number[][] = [[], []];
    for (let r = 0; r < opts.rounds; r++) {
      for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
        const t0 = performance.now();
        run(i);
        samples[i]!.push(performance.now() - t0);
      }
    }
    const baselineP50 = median(samples[0]!);
    const variantP50 = median(samples[1]!);
    const result: SessionPairResult = {
      model: spec.label,
      batch: opts.batch,
      seq: opts.seq,
      baseline: { label: baseline.label, options: baseline.options },
      variant: { label: variant.label, options: variant.options },
      baselineP50,
      variantP50,
      speedup: baselineP50 / variantP50,
      pairedSpeedup: median(samples[0]!.map((t, r) => t / samples[1]![r]!)),
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
    `| model | ${baseline} p50 (ms) | ${variant} p50 (ms) | ${baseline} / ${variant} (p50s) | median of per-round ratios | max abs diff | load average |\n` +
    '|---|---:|---:|---:|---:|---:|---:|'
  );
}

export function formatSessionPairRow(r: SessionPairResult): string {
  return `| ${r.model} | ${r.baselineP50.toFixed(1)} | ${r.variantP50.toFixed(1)} | ${r.speedup.toFixed(2)}× | ${r.pairedSpeedup.toFixed(2)}× | ${r.maxAbsDiff.toExponential(2)} | ${r.loadAverage.toFixed(2)} |`;
}
