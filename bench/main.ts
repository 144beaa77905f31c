/**
 * `npm run bench [-- flags]` (bench/run.mjs bundles this file):
 *   (default)     kernel suite, model benchmark, cold start / peak RSS, Lambda cost tables
 *   --kernels     kernel suite only
 *   --cost        model benchmark and Lambda cost tables only
 *   --threads     lambert with 1 vs 2 threads (intraOpNumThreads) only
 *   --rounding    int8 models rounding like onnxruntime vs floatRounding 'fast' only
 *   --cold        cold start and peak RSS only
 *   --heap        run-loop memory only (heap and RSS over 1,000 runs, bytes allocated per run)
 *   --compare REV lambert built from git revision REV vs the working tree, every model, interleaved
 *                 in one process (bench/run.mjs builds REV and passes the bundle as --compare-lib)
 *   --quick       short runs (numbers are noisier)
 *   --json        one JSON document on stdout (progress goes to stderr; use `npm run -s bench`
 *                 or `node bench/run.mjs` so npm's banner stays out of it)
 *   --batch N     model batch size (default 1)
 *   --seq N       model sequence length (default 64; the thread table uses 128 unless given)
 */
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { ENGINES, type EngineName } from './engines.js';
import { runKernelSuite, KERNEL_TABLE_HEADER, type KernelResult } from './kernels.js';
import { formatLambdaCostTable, formatLambdaPrices, lambdaCostTable, LAMBDA_PRICES, type LambdaCostRow } from './lambda-cost.js';
import {
  benchColdStart,
  benchModel,
  childMain,
  COLD_TABLE_HEADER,
  MODEL_SPECS,
  MODEL_TABLE_HEADER,
  type ChildResult,
  type ModelResult,
} from './model.js';
import { benchHeap, HEAP_TABLE_HEADER, type HeapResult } from './heap.js';
import { benchSessionPair, optionPair, sessionPairTableHeader, THIS_BUILD, type LambertBuild, type SessionPairResult } from './sessions.js';

const argv = process.argv.slice(2);

function flagValue(name: string, fallback: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a positive integer, got ${argv[i + 1]}`);
  return v;
}

const batch = flagValue('--batch', 1);
const seq = flagValue('--seq', 64);
const threadsSeq = flagValue('--seq', 128);

async function main(): Promise<void> {
  const childAt = argv.indexOf('--child');
  if (childAt >= 0) {
    const engine = argv[childAt + 1] as EngineName;
    if (!ENGINES.includes(engine)) throw new Error(`--child needs one of ${ENGINES.join(', ')}`);
    await childMain(engine, argv[childAt + 2]!, batch, seq);
    return;
  }

  const quick = argv.includes('--quick');
  const json = argv.includes('--json');
  const kernelsOnly = argv.includes('--kernels');
  const costOnly = argv.includes('--cost');
  const threadsOnly = argv.includes('--threads');
  const coldOnly = argv.includes('--cold');
  const heapOnly = argv.includes('--heap');
  const roundingOnly = argv.includes('--rounding');
  const compareAt = argv.indexOf('--compare');
  const only = kernelsOnly || costOnly || threadsOnly || coldOnly || heapOnly || roundingOnly || compareAt >= 0;
  const print = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line);

  const machine = { nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
  print(`lambert bench — ${new Date().toISOString()} — ${machine.cpu}, ${machine.nproc} logical CPUs, Node ${machine.node}${quick ? ' — QUICK run' : ''}`);

  // First, while this process is still small: see benchColdStart.
  const cold: ChildResult[] = [];
  if (!only || coldOnly) {
    const spec = MODEL_SPECS.find((s) => s.name === 'tinybert-cls' && s.precision === 'int8')!;
    const repeats = quick ? 1 : 5;
    print(`\n### Cold start and peak RSS (${spec.label}, fresh child process per run, ${repeats} run(s) per engine, median / max)\n\n${COLD_TABLE_HEADER}`);
    cold.push(...(await benchColdStart(spec, batch, seq, repeats, print)));
  }

  let kernels: KernelResult[] = [];
  if (!only || kernelsOnly) {
    print(`\n### Kernels (tinybench, single thread)\n\n${KERNEL_TABLE_HEADER}`);
    kernels = await runKernelSuite(quick, print);
  }

  const models: ModelResult[] = [];
  const cost: { model: string; engine: EngineName; rows: LambdaCostRow[] }[] = [];
  if (!only || costOnly) {
    const rounds = quick ? 15 : 100;
    const warmup = quick ? 3 : 10;
    print(`\n### Models (batch ${batch} × seq ${seq}, one thread each, ${rounds} interleaved rounds after ${warmup} warm-up)\n\n${MODEL_TABLE_HEADER}`);
    for (const spec of MODEL_SPECS) models.push(await benchModel(spec, { batch, seq, warmup, rounds }, print));


    print(`\n### AWS Lambda estimate (Slido paper, Figure 3)\n\n${formatLambdaPrices()}`);
    for (const m of models) {
      for (const engine of ENGINES) {
        const rows = lambdaCostTable(m.latency[engine].p50, m.latency[engine].p99);
        cost.push({ model: m.model, engine, rows });
        if (engine === 'lambert') print(`\n${m.model}, lambert (batch ${m.batch} × seq ${m.seq}):\n\n${formatLambdaCostTable(rows)}`);
      }
    }
    print('\nAll engines at 1769 MB (one full vCPU):\n\n| model | engine | q50 (ms) | q99 (ms) | $/M x86_64 | $/M arm64 |\n|---|---|---:|---:|---:|---:|');
    for (const { model, engine, rows } of cost) {
      const r = rows.find((x) => x.memoryMb === 1769)!;
      print(`| ${model} | ${engine} | ${r.q50Ms.toFixed(1)} | ${r.q99Ms.toFixed(1)} | ${r.x86_64PerMillion.toFixed(2)} | ${r.arm64PerMillion.toFixed(2)} |`);
    }
  }

  const pairRounds = quick ? 10 : 40;
  const pairWarmup = quick ? 2 : 5;
  const threads: SessionPairResult[] = [];
  if (!only || threadsOnly) {
    const head = sessionPairTableHeader('1 thread', '2 threads');
    print(`\n### Threads (lambert, intraOpNumThreads 1 vs 2, batch ${batch} × seq ${threadsSeq}, ${pairRounds} interleaved rounds after ${pairWarmup} warm-up)\n\n${head}`);
    for (const spec of MODEL_SPECS) {
      const sides = optionPair({}, '1 thread', { intraOpNumThreads: 2 }, '2 threads');
      threads.push(await benchSessionPair(spec, sides, { batch, seq: threadsSeq, warmup: pairWarmup, rounds: pairRounds }, print));
    }
  }

  const rounding: SessionPairResult[] = [];
  if (!only || roundingOnly) {
    const head = sessionPairTableHeader('onnxruntime rounding', 'fast');
    print(`\n### Rounding like onnxruntime (lambert int8, default floatRounding vs 'fast', batch ${batch} × seq ${seq}, ${pairRounds} interleaved rounds after ${pairWarmup} warm-up)\n\n${head}`);
    for (const spec of MODEL_SPECS.filter((s) => s.precision === 'int8')) {
      const sides = optionPair({}, 'onnxruntime rounding', { floatRounding: 'fast' }, 'fast');
      rounding.push(await benchSessionPair(spec, sides, { batch, seq, warmup: pairWarmup, rounds: pairRounds }, print));
    }
  }

  const compare: SessionPairResult[] = [];
  if (compareAt >= 0) {
    const rev = argv[compareAt + 1]!;
    const libAt = argv.indexOf('--compare-lib');
    if (libAt < 0) throw new Error('--compare: run through `npm run bench`, which builds the revision (bench/run.mjs)');
    const before = (await import(pathToFileURL(argv[libAt + 1]!).href)) as LambertBuild;
    const head = sessionPairTableHeader(`before (${rev})`, 'after (working tree)');
    print(`\n### lambert at ${rev} vs the working tree (batch ${batch} × seq ${seq}, ${pairRounds} interleaved rounds after ${pairWarmup} warm-up)\n\n${head}`);
    for (const spec of MODEL_SPECS) {
      const sides = [
        { label: rev, build: before, options: {} },
        { label: 'working tree', build: THIS_BUILD, options: {} },
      ] as const;
      compare.push(await benchSessionPair(spec, sides, { batch, seq, warmup: pairWarmup, rounds: pairRounds }, print));
    }
  }

  const heap: HeapResult[] = [];
  if (!only || heapOnly) {
    const runs = quick ? 200 : 1000;
    print(`\n### Run-loop memory (lambert, batch ${batch} × seq 16, ${runs} runs after 20 warm-up)\n\n${HEAP_TABLE_HEADER}`);
    for (const spec of MODEL_SPECS.filter((s) => s.name === 'tinybert-cls')) heap.push(await benchHeap(spec, { batch, seq: 16, warmup: 20, runs }, print));
  }

  if (json) {
    const doc = { date: new Date().toISOString(), machine, args: argv, quick, batch, seq, kernels, models, threads, rounding, compare, heap, coldStart: cold, lambdaPrices: LAMBDA_PRICES, lambdaCost: cost };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  }
}

await main();
