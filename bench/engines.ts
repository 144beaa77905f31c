/**
 * The three engines behind one interface, on the same model file and the same int64 feeds.
 * onnxruntime is imported lazily so a process that benchmarks only lambert (cold start, RSS)
 * never loads the native addon or the wasm module.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InferenceSession } from '../src/session.js';
import { Tensor } from '../src/tensor.js';

export const ENGINES = ['lambert', 'ort-node', 'ort-web'] as const;
export type EngineName = (typeof ENGINES)[number];

/** Int64 feeds as flat arrays: every BERT-family model here takes these three inputs. */
export interface Feeds {
  readonly batch: number;
  readonly seq: number;
  readonly inputIds: BigInt64Array;
  readonly attentionMask: BigInt64Array;
  readonly tokenTypeIds: BigInt64Array;
}

export interface Engine {
  readonly name: EngineName;
  /** Runs once; returns every output as float32, by name. */
  run(): Promise<Record<string, Float32Array>>;
}

/** Deterministic token ids (a fixed LCG) with [CLS] … [SEP], all attended, segment 0. */
export function makeFeeds(batch: number, seq: number): Feeds {
  const n = batch * seq;
  const inputIds = new BigInt64Array(n);
  let state = 12345;
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      inputIds[b * seq + s] = BigInt(s === 0 ? 101 : s === seq - 1 ? 102 : 1000 + (state % 29000));
    }
  }
  return { batch, seq, inputIds, attentionMask: new BigInt64Array(n).fill(1n), tokenTypeIds: new BigInt64Array(n) };
}

function asFloat32(data: unknown): Float32Array {
  if (data instanceof Float32Array) return data;
  throw new Error(`expected float32 output, got ${(data as object)?.constructor?.name}`);
}

/**
 * The feeds as lambert tensors, by input name; `TensorClass` is the Tensor of the build that will
 * run them (another revision's bundle, see bench/sessions.ts, has its own class).
 */
export function lambertInputs(feeds: Feeds, TensorClass: typeof Tensor = Tensor): Record<string, Tensor> {
  const dims = [feeds.batch, feeds.seq];
  return {
    input_ids: new TensorClass('int64', feeds.inputIds, dims),
    attention_mask: new TensorClass('int64', feeds.attentionMask, dims),
    token_type_ids: new TensorClass('int64', feeds.tokenTypeIds, dims),
  };
}

async function createLambert(modelPath: string, feeds: Feeds): Promise<Engine> {
  const session = await InferenceSession.create(modelPath);
  const inputs = lambertInputs(feeds);
  return {
    name: 'lambert',
    async run() {
      const out = session.runSync(inputs);
      return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, asFloat32(t.data)]));
    },
  };
}

/** onnxruntime-node and onnxruntime-web share onnxruntime-common's API; only setup differs. */
type OrtModule = typeof import('onnxruntime-node');

async function createOrt(name: 'ort-node' | 'ort-web', modelPath: string, feeds: Feeds): Promise<Engine> {
  let ort: OrtModule;
  let options: Record<string, unknown>;
  if (name === 'ort-node') {
    ort = await import('onnxruntime-node');
    options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' };
  } else {
    // The package's "node" export condition gives a build that instantiates the wasm itself;
    // it only needs to be told where the .wasm/.mjs files are (a file: URL works under Node).
    ort = (await import('onnxruntime-web')) as unknown as OrtModule;
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = `${pathToFileURL(dirname(createRequire(import.meta.url).resolve('onnxruntime-web'))).href}/`;
    options = { executionProviders: ['wasm'] };
  }
  // Both read the model from bytes, as lambert reads its file, so the engines load identically.
  const session = await ort.InferenceSession.create(await readFile(modelPath), options);
  const dims = [feeds.batch, feeds.seq];
  const inputs = {
    input_ids: new ort.Tensor('int64', feeds.inputIds, dims),
    attention_mask: new ort.Tensor('int64', feeds.attentionMask, dims),
    token_type_ids: new ort.Tensor('int64', feeds.tokenTypeIds, dims),
  };
  return {
    name,
    async run() {
      const out = await session.run(inputs);
      return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, asFloat32(t.data)]));
    },
  };
}

export function createEngine(name: EngineName, modelPath: string, feeds: Feeds): Promise<Engine> {
  return name === 'lambert' ? createLambert(modelPath, feeds) : createOrt(name, modelPath, feeds);
}

/** Largest |a − b| over every output both engines produced. */
export function maxAbsDiff(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let worst = 0;
  for (const [name, x] of Object.entries(a)) {
    const y = b[name];
    if (!y || y.length !== x.length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i]! - y[i]!);
      if (!(d <= worst)) worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    }
  }
  return worst;
}
