/**
 * Memory of the run loop: the JS heap and RSS (after a full GC) before and after 1,000 runs that
 * follow a warm-up, and what one run allocates — JS heap bytes, and array-buffer bytes (typed
 * arrays' backing stores) — as the smallest difference over a few single runs without a GC in
 * between. Needs `--expose-gc` (bench/run.mjs passes it).
 */
import { InferenceSession } from '../src/session.js';
import { lambertInputs, makeFeeds } from './engines.js';
import { fullSizeModel } from './models.js';
import type { ModelSpec } from './model.js';

export interface HeapResult {
  model: string;
  batch: number;
  seq: number;
  runs: number;
  heapBeforeMb: number;
  heapAfterMb: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  /** Smallest heapUsed increase over one run (no GC in between), in bytes. */
  heapBytesPerRun: number;
  /** Smallest arrayBuffers increase over one run, in bytes: the output copies handed to the caller. */
  arrayBufferBytesPerRun: number;
}

const MB = 1024 * 1024;

function collect(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the heap benchmark needs node --expose-gc (run it through npm run bench)');
  gc();
  gc();
  return process.memoryUsage();
}

export async function benchHeap(
  spec: ModelSpec,
  opts: { batch: number; seq: number; warmup: number; runs: number },
  log: (line: string) => void,
): Promise<HeapResult> {
  const inputs = lambertInputs(makeFeeds(opts.batch, opts.seq));
  const session = await InferenceSession.create(fullSizeModel(spec.name, spec.precision));
  for (let i = 0; i < opts.warmup; i++) session.runSync(inputs);

  let heapBytesPerRun = Number.POSITIVE_INFINITY;
  let arrayBufferBytesPerRun = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 10; i++) {
    const before = collect();
    session.runSync(inputs);
    const after = process.memoryUsage();
    heapBytesPerRun = Math.min(heapBytesPerRun, after.heapUsed - before.heapUsed);
    arrayBufferBytesPerRun = Math.min(arrayBufferBytesPerRun, after.arrayBuffers - before.arrayBuffers);
  }

  const before = collect();
  for (let i = 0; i < opts.runs; i++) session.runSync(inputs);
  const after = collect();
  const result: HeapResult = {
    model: spec.label,
    batch: opts.batch,
    seq: opts.seq,
    runs: opts.runs,
    heapBeforeMb: before.heapUsed / MB,
    heapAfterMb: after.heapUsed / MB,
    rssBeforeMb: before.rss / MB,
    rssAfterMb: after.rss / MB,
    heapBytesPerRun,
    arrayBufferBytesPerRun,
  };
  log(formatHeapRow(result));
  return result;
}

export const HEAP_TABLE_HEADER =
  '| model | runs | heap before → after (MB) | RSS before → after (MB) | JS heap allocated per run (bytes) | array buffers per run (bytes) |\n|---|---:|---:|---:|---:|---:|';

export function formatHeapRow(r: HeapResult): string {
  return `| ${r.model} | ${r.runs} | ${r.heapBeforeMb.toFixed(2)} → ${r.heapAfterMb.toFixed(2)} | ${r.rssBeforeMb.toFixed(0)} → ${r.rssAfterMb.toFixed(0)} | ${r.heapBytesPerRun} | ${r.arrayBufferBytesPerRun} |`;
}
