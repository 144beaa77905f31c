/**
 * Model benchmark: lambert, onnxruntime-node and onnxruntime-web (wasm), one thread each, on the
 * same model files and feeds, interleaved in one process so machine noise hits all three alike;
 * plus cold start and peak RSS measured in fresh child processes.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createEngine, ENGINES, makeFeeds, maxAbsDiff, type Engine, type EngineName } from './engines.js';
import { fullSizeModel, type FullSizeModel } from './models.js';

export interface ModelSpec {
  readonly label: string;
  readonly name: FullSizeModel;
  readonly precision: 'fp32' | 'int8';
}

export const MODEL_SPECS: readonly ModelSpec[] = [
  { label: 'TinyBERT-4 fp32', name: 'tinybert-cls', precision: 'fp32' },
  { label: 'TinyBERT-4 int8', name: 'tinybert-cls', precision: 'int8' },
  { label: 'MiniLM-L6 fp32', name: 'minilm-sbert', precision: 'fp32' },
  { label: 'MiniLM-L6 int8', name: 'minilm-sbert', precision: 'int8' },
];

export interface LatencyStats {
  p50: number;
  p95: number;
  p99: number;
  runs: number;
}

export interface ModelResult {
  model: string;
  batch: number;
  seq: number;
  latency: Record<EngineName, LatencyStats>;
  /** Ratios of medians: how many times longer lambert takes. */
  lambertOverOrtNode: number;
  lambertOverOrtWeb: number;
  /** Largest |difference| from onnxruntime-node's outputs, over all outputs. */
  maxAbsDiffVsOrtNode: Record<EngineName, number>;
}

export interface ChildResult {
  engine: EngineName;
  model: string;
  /** Spawn → first inference result received by the parent (Node boot, imports, read, load, run). */
  coldStartMs: number;
  /** The same, measured inside the child from its process time origin. */
  inProcessMs: number;
  /** process.resourceUsage().maxRSS of the child. */
  peakRssMb: number;
  /** VmHWM from /proc/self/status (Linux): the peak of this process image alone; null elsewhere. */
  vmHwmMb: number | null;
}

/** Linear-interpolated percentile of ascending `sorted`. */
function percentile(sorted: readonly number[], p: number): number {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function median(samples: readonly number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 0.5);
}

function stats(samples: number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), runs: sorted.length };
}

export async function benchModel(
  spec: ModelSpec,
  opts: { batch: number; seq: number; warmup: number; rounds: number },
  log: (line: string) => void,
): Promise<ModelResult> {
  const path = fullSizeModel(spec.name, spec.precision);
  const feeds = makeFeeds(opts.batch, opts.seq);
  const engines: Engine[] = [];
  for (const name of ENGINES) engines.push(await createEngine(name, path, feeds));

  const reference = await engines[1]!.run();
  const maxAbsDiffVsOrtNode = {} as Record<EngineName, number>;
  for (const e of engines) maxAbsDiffVsOrtNode[e.name] = maxAbsDiff(await e.run(), reference);

  for (let r = 0; r < opts.warmup; r++) for (const e of engines) await e.run();
  const samples = engines.map(() => [] as number[]);
  for (let r = 0; r < opts.rounds; r++) {
    for (let i = 0; i < engines.length; i++) {
      const t0 = performance.now();
      await engines[i]!.run();
      samples[i]!.push(performance.now() - t0);
    }
  }
  const latency = Object.fromEntries(engines.map((e, i) => [e.name, stats(samples[i]!)])) as Record<EngineName, LatencyStats>;
  const result: ModelResult = {
    model: spec.label,
    batch: opts.batch,
    seq: opts.seq,
    latency,
    lambertOverOrtNode: latency.lambert.p50 / latency['ort-node'].p50,
    lambertOverOrtWeb: latency.lambert.p50 / latency['ort-web'].p50,
    maxAbsDiffVsOrtNode,
  };
  log(formatModelRows(result));
  return result;
}

export const MODEL_TABLE_HEADER =
  '| model | engine | p50 (ms) | p95 (ms) | p99 (ms) | lambert / engine (p50) | max abs diff vs ort-node |\n|---|---|---:|---:|---:|---:|---:|';

export function formatModelRows(r: ModelResult): string {
  return ENGINES.map((e) => {
    const l = r.latency[e];
    const ratio = e === 'lambert' ? '—' : `${(r.latency.lambert.p50 / l.p50).toFixed(2)}×`;
    return `| ${r.model} | ${e} | ${l.p50.toFixed(1)} | ${l.p95.toFixed(1)} | ${l.p99.toFixed(1)} | ${ratio} | ${r.maxAbsDiffVsOrtNode[e].toExponential(2)} |`;
  }).join('\n');
}

/**
 * Entry point of a child process (`--child ENGINE MODEL_PATH`): loads, runs once, reports the
 * first result at once (so the parent's clock stops there), runs a few more times so peak RSS
 * includes steady-state buffers, then prints its measurements as one JSON line.
 */
export async function childMain(engine: EngineName, modelPath: string, batch: number, seq: number): Promise<void> {
  const e = await createEngine(engine, modelPath, makeFeeds(batch, seq));
  await e.run();
  const inProcessMs = performance.now();
  process.stdout.write('FIRST\n');
  for (let i = 0; i < 3; i++) await e.run();
  process.stdout.write(`${JSON.stringify({ inProcessMs, maxRssKb: process.resourceUsage().maxRSS, vmHwmKb: vmHwmKb() })}\n`);
}

function vmHwmKb(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function runChild(engine: EngineName, spec: ModelSpec, batch: number, seq: number): Promise<ChildResult> {
  const path = fullSizeModel(spec.name, spec.precision);
  const args = [process.argv[1]!, '--child', engine, path, '--batch', String(batch), '--seq', String(seq)];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let coldStartMs = Number.NaN;
    let out = '';
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => {
      if (Number.isNaN(coldStartMs)) coldStartMs = performance.now() - t0;
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`${engine} child exited with ${code}: ${out}`));
      const { inProcessMs, maxRssKb, vmHwmKb } = JSON.parse(last) as { inProcessMs: number; maxRssKb: number; vmHwmKb: number | null };
      resolve({ engine, model: spec.label, coldStartMs, inProcessMs, peakRssMb: maxRssKb / 1024, vmHwmMb: vmHwmKb === null ? null : vmHwmKb / 1024 });
    });
  });
}

/**
 * Cold start and peak RSS of each engine, `repeats` fresh processes each, engines interleaved; medians.
 * Linux carries ru_maxrss across fork+exec, so a child's maxRSS is at least the parent's RSS when
 * it was spawned: call this before the parent loads anything big (VmHWM is reported as a check).
 */
export async function benchColdStart(spec: ModelSpec, batch: number, seq: number, repeats: number, log: (line: string) => void): Promise<ChildResult[]> {
  const all = ENGINES.map(() => [] as ChildResult[]);
  for (let r = 0; r < repeats; r++) {
    for (let i = 0; i < ENGINES.length; i++) all[i]!.push(await runChild(ENGINES[i]!, spec, batch, seq));
  }
  return all.map((runs) => {
    const result: ChildResult = {
      engine: runs[0]!.engine,
      model: spec.label,
      coldStartMs: median(runs.map((x) => x.coldStartMs)),
      inProcessMs: median(runs.map((x) => x.inProcessMs)),
      peakRssMb: Math.max(...runs.map((x) => x.peakRssMb)),
      vmHwmMb: runs[0]!.vmHwmMb === null ? null : Math.max(...runs.map((x) => x.vmHwmMb!)),
    };
    log(formatColdRow(result));
    return result;
  });
}

export const COLD_TABLE_HEADER =
  '| model | engine | cold start: spawn → first result (ms) | child clock, process start → first result (ms) | peak RSS, maxRSS (MB) | peak RSS, VmHWM (MB) |\n|---|---|---:|---:|---:|---:|';

export function formatColdRow(r: ChildResult): string {
  return `| ${r.model} | ${r.engine} | ${r.coldStartMs.toFixed(0)} | ${r.inProcessMs.toFixed(0)} | ${r.peakRssMb.toFixed(0)} | ${r.vmHwmMb === null ? 'n/a' : r.vmHwmMb.toFixed(0)} |`;
}
