/**
 * Kernel suite: each kernel next to its `...Reference` twin, in one tinybench run, at the shapes
 * BERT-family models hit (MiniLM-L6: hidden 384, 12 heads of 32, FFN 1536, seq 128; TinyBERT-4:
 * hidden 312, FFN 1200).
 */
import { Bench } from 'tinybench';
import { attention, attentionReference } from '../kernels/attention.js';
import { gelu, geluReference } from '../kernels/gelu.js';
import { gemm, gemmPacked, gemmReference, packB } from '../kernels/gemm.js';
import { layerNorm, layerNormReference } from '../kernels/layernorm.js';
import { withOnnxruntimeRounding } from '../kernels/mlas.js';
import { packQuantizedB, qgemm, qgemmReference } from '../kernels/qgemm.js';
import { softmax, softmaxReference } from '../kernels/softmax.js';

export interface KernelResult {
  kernel: string;
  shape: string;
  /** Median time of one call, ms. */
  medianMs: number;
  referenceMedianMs: number;
  /** GFLOP/s (GOP/s for int8) or GB/s, per `unit`. */
  rate: number;
  unit: 'GFLOP/s' | 'GOP/s' | 'GB/s';
  speedup: number;
}

interface Case {
  kernel: string;
  shape: string;
  unit: KernelResult['unit'];
  /** Operations (or bytes moved, for GB/s) per call. */
  work: number;
  fast: () => void;
  reference: () => void;
}

/** Deterministic uniform floats in [lo, hi). */
function randomFloats(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 4294967296;
  }
  return out;
}

/**
 * The same case with the kernel rounding every float32 step as MLAS does (what int8 graphs get by
 * default, for bit-exact parity with onnxruntime), so the table shows what exactness costs.
 */
function roundingLikeOnnxruntime(c: Case): Case {
  return { ...c, kernel: `${c.kernel}, onnxruntime rounding`, fast: () => withOnnxruntimeRounding(true, c.fast) };
}

function gemmCases(M: number, K: number, N: number): Case[] {
  const shape = `M=${M} K=${K} N=${N}`;
  const a = randomFloats(M * K, 1);
  const b = randomFloats(K * N, 2);
  const c = new Float32Array(M * N);
  const packed = packB(b, 0, K, N, false);
  const reference = () => gemmReference(M, N, K, 1, a, 0, K, false, b, 0, N, false, 0, c, 0, N);
  const flops = 2 * M * N * K;

  const qa = new Uint8Array(M * K).map((_, i) => (i * 37 + 11) & 255);
  const qb = new Int8Array(K * N).map((_, i) => ((i * 53 + 7) % 255) - 127);
  const qc = new Int32Array(M * N);
  const aZero = Int32Array.of(128);
  const bZero = Int32Array.of(0);
  const qPacked = packQuantizedB(qb, 0, K, N);
  const runtimeOperands: Case = {
    kernel: 'gemm (fp32)',
    shape,
    unit: 'GFLOP/s',
    work: flops,
    fast: () => gemm(M, N, K, 1, a, 0, K, false, b, 0, N, false, 0, c, 0, N),
    reference,
  };
  return [
    {
      kernel: 'gemmPacked (fp32)',
      shape,
      unit: 'GFLOP/s',
      work: flops,
      fast: () => gemmPacked(M, N, K, a, 0, K, false, packed, c, 0, N, null, 0, false),
      reference,
    },
    runtimeOperands,
    roundingLikeOnnxruntime(runtimeOperands),
    {
      kernel: 'qgemm (int8)',
      shape,
      unit: 'GOP/s',
      work: flops,
      fast: () => qgemm(M, qa, 0, aZero, qPacked, bZero, qc, 0),
      reference: () => qgemmReference(M, K, N, qa, 0, aZero, qb, 0, bZero, qc, 0),
    },
  ];
}

function elementwiseCases(): Case[] {
  const rows = 128;
  const hidden = 384;
  const inter = 1536;
  const heads = 12;
  const headDim = 32;
  const seq = 128;

  const x = randomFloats(rows * hidden, 3);
  const gamma = randomFloats(hidden, 4, 0.5, 1.5);
  const beta = randomFloats(hidden, 5);
  const lnOut = new Float32Array(rows * hidden);

  const g = randomFloats(rows * inter, 6, -4, 4);
  const gOut = new Float32Array(rows * inter);

  const scores = randomFloats(heads * seq * seq, 7, -8, 8);
  const sOut = new Float32Array(heads * seq * seq);

  const qkv = randomFloats(seq * 3 * hidden, 8);
  const aOut = new Float32Array(seq * hidden);
  const mask = new Float32Array(seq);
  const scale = 1 / Math.sqrt(headDim);
  const stride = 3 * hidden;
  const attnFlops = 4 * heads * seq * seq * headDim;

  const cases: Case[] = [
    {
      kernel: 'layerNorm',
      shape: `${rows}×${hidden}`,
      unit: 'GB/s',
      work: 2 * 4 * rows * hidden,
      fast: () => layerNorm(x, 0, rows, hidden, gamma, 0, beta, 0, 1e-12, lnOut, 0),
      reference: () => layerNormReference(x, 0, rows, hidden, gamma, 0, beta, 0, 1e-12, lnOut, 0),
    },
    {
      kernel: 'gelu (erf)',
      shape: `${rows}×${inter}`,
      unit: 'GB/s',
      work: 2 * 4 * rows * inter,
      fast: () => gelu(g, 0, gOut, 0, rows * inter),
      reference: () => geluReference(g, 0, gOut, 0, rows * inter),
    },
    {
      kernel: 'softmax',
      shape: `${heads * seq}×${seq}`,
      unit: 'GB/s',
      work: 2 * 4 * heads * seq * seq,
      fast: () => softmax(scores, 0, heads * seq, seq, sOut, 0),
      reference: () => softmaxReference(scores, 0, heads * seq, seq, sOut, 0),
    },
    {
      kernel: 'attention',
      shape: `seq=${seq} heads=${heads}×${headDim}`,
      unit: 'GFLOP/s',
      work: attnFlops,
      fast: () =>
        attention(qkv, 0, qkv, hidden, qkv, 2 * hidden, aOut, 0, 1, heads, seq, seq, headDim, stride, stride, stride, hidden, scale, mask, 0, seq),
      reference: () =>
        attentionReference(qkv, 0, qkv, hidden, qkv, 2 * hidden, aOut, 0, 1, heads, seq, seq, headDim, stride, stride, stride, hidden, scale, mask, 0, seq),
    },
  ];
  // LayerNorm has one implementation, already rounding as MLAS does.
  return cases.flatMap((c) => (c.kernel === 'layerNorm' ? [c] : [c, roundingLikeOnnxruntime(c)]));
}

function median(bench: Bench, name: string): number {
  const task = bench.getTask(name);
  const r = task?.result;
  if (!r || r.state !== 'completed') throw new Error(`kernel bench ${name}: ${r?.state === 'errored' ? r.error.message : r?.state}`);
  return r.latency.p50;
}

export async function runKernelSuite(quick: boolean, log: (line: string) => void): Promise<KernelResult[]> {
  const cases = [...gemmCases(128, 384, 1536), ...gemmCases(128, 1536, 384), ...gemmCases(64, 312, 1200), ...elementwiseCases()];
  const results: KernelResult[] = [];
  for (const c of cases) {
    // One Bench per case so the kernel and its twin run back to back under the same conditions.
    // The triple-loop references take ~0.1–0.5 s per GEMM call, hence the small iteration floor.
    const bench = new Bench({
      time: quick ? 250 : 1500,
      iterations: quick ? 3 : 10,
      warmupTime: quick ? 50 : 200,
      warmupIterations: 2,
    });
    const id = `${c.kernel} ${c.shape}`;
    bench.add(id, c.fast).add(`${id} reference`, c.reference);
    await bench.run();
    const medianMs = median(bench, id);
    const referenceMedianMs = median(bench, `${id} reference`);
    const rate = c.work / (medianMs * 1e6);
    const result: KernelResult = { kernel: c.kernel, shape: c.shape, medianMs, referenceMedianMs, rate, unit: c.unit, speedup: referenceMedianMs / medianMs };
    results.push(result);
    log(formatKernelRow(result));
  }
  return results;
}

export const KERNEL_TABLE_HEADER =
  '| kernel | shape | median (ms) | rate | reference median (ms) | speedup vs reference |\n|---|---|---:|---:|---:|---:|';

export function formatKernelRow(r: KernelResult): string {
  return (
    `| ${r.kernel} | ${r.shape} | ${r.medianMs.toFixed(3)} | ${r.rate.toFixed(2)} ${r.unit} | ` +
    `${r.referenceMedianMs.toFixed(3)} | ${r.speedup.toFixed(1)}× |`
  );
}
