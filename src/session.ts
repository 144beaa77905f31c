import { readFile, stat } from 'node:fs/promises';
import { LambertError } from './errors.js';
import { fuseGraph } from './fuse.js';
import { loadGraph, type Graph, type ValueDecl } from './load.js';
import { buildPlan, DEFAULT_MAX_MEMORY_BYTES, type InputSpec, type Plan } from './plan.js';
import { executePlan } from './run.js';
import { kernelPool } from '../kernels/pool.js';
import { ThreadPool, withPool } from '../kernels/threads.js';
import { modelDirOf } from './tensorProto.js';
import { dtypeOfArray, isDType, sizeOf, Tensor } from './tensor.js';

export interface SessionOptions {
  /** Plans kept per distinct set of input shapes (least recently used ones are dropped). Default 8. */
  maxCachedPlans?: number;
  /**
   * Threads for the large GEMMs (fp32 and int8), attention, GELU and activation quantization
   * (default 1): the calling thread plus intraOpNumThreads − 1 worker threads, started with the
   * session and ended by release(). Results are bit-identical whatever the count.
   */
  intraOpNumThreads?: number;
  /** Accepted for onnxruntime compatibility and ignored. */
  executionProviders?: unknown[];
  /** 'disabled' runs the graph exactly as written; anything else (default) applies lambert's exact fusions. */
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Base directory for external data when the model is given as bytes. */
  externalDataDir?: string;
  /**
   * Memory bound, default 2 GiB. Loading: the model's tensors together (and any external data
   * file) must fit in it. Planning: per input shape, the arena of intermediate values plus the
   * folded constants must fit, as must every single value. Running: values whose size was only
   * known at run time get what the plan leaves. Plans are cached only while their arenas
   * together fit. Exceeding it is a RESOURCE_LIMIT error, before anything is allocated.
   */
  maxMemoryBytes?: number;
  /**
   * Reject NaN and ±Infinity in float feeds with INVALID_INPUT naming the input (default true).
   * Models that test for them themselves (IsNaN, IsInf) always get them through.
   */
  rejectNonFinite?: boolean;
}

export type FeedsType = Record<string, Tensor>;
export type FetchesType = readonly string[] | Record<string, Tensor | null>;
export type ReturnType = Record<string, Tensor>;

export interface InputMetadata {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly (number | string | null)[] | null;
}

/** An onnxruntime-common compatible session: `await InferenceSession.create(bytesOrPath)`. */
export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly maxMemoryBytes: number;
  private readonly plans = new Map<string, Plan>();
  private readonly maxCachedPlans: number;
  private readonly rejectNonFinite: boolean;
  private pool: ThreadPool | null;

  private constructor(readonly graph: Graph, options: SessionOptions) {
    this.inputNames = graph.inputs.map((i) => i.name);
    this.outputNames = graph.outputs.map((o) => o.name);
    this.maxCachedPlans = Math.max(1, options.maxCachedPlans ?? 8);
    this.maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
    this.rejectNonFinite =
      (options.rejectNonFinite ?? true) && !graph.nodes.some((n) => n.domain === '' && (n.opType === 'IsNaN' || n.opType === 'IsInf'));
    const threads = options.intraOpNumThreads || 1;
    this.pool = threads > 1 ? kernelPool(threads) : null;
  }

  static async create(model: Uint8Array | ArrayBuffer | string, options: SessionOptions = {}): Promise<InferenceSession> {
    if (typeof model !== 'string') return InferenceSession.createSync(model, options);
    checkOptions(options);
    const bytes = await readModelFile(model, options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES);
    return InferenceSession.createSync(bytes, { ...options, externalDataDir: modelDirOf(model) });
  }

  /** Synchronous variant for callers that already hold the bytes. */
  static createSync(model: Uint8Array | ArrayBuffer, options: SessionOptions = {}): InferenceSession {
    let bytes: Uint8Array;
    if (model instanceof Uint8Array) bytes = model;
    else if (model instanceof ArrayBuffer) bytes = new Uint8Array(model);
    else throw new LambertError('INVALID_ARGUMENT', 'a model must be a Uint8Array, an ArrayBuffer or a file path');
    checkOptions(options);
    const maxBytes = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
    const loadOptions = {
      maxBytes,
      maxTotalBytes: maxBytes,
      ...(options.externalDataDir === undefined ? {} : { baseDir: options.externalDataDir }),
    };
    const graph = loadGraph(bytes, loadOptions);
    return new InferenceSession(options.graphOptimizationLevel === 'disabled' ? graph : fuseGraph(graph), options);
  }

  get inputMetadata(): readonly InputMetadata[] {
    return this.graph.inputs.map((i) => ({ name: i.name, type: i.dtype, dims: i.dims }));
  }

  get outputMetadata(): readonly InputMetadata[] {
    return this.graph.outputs.map((o) => ({ name: o.name, type: o.dtype, dims: o.dims }));
  }

  async run(feeds: FeedsType, fetches?: FetchesType): Promise<ReturnType> {
    return this.runSync(feeds, fetches);
  }

  runSync(feeds: FeedsType, fetches?: FetchesType): ReturnType {
    const inputs = this.checkFeeds(feeds);
    const wanted = this.checkFetches(fetches);
    const plan = this.planFor(inputs);
    const pool = this.pool;
    const outputs = pool === null ? executePlan(plan, inputs) : withPool(pool, () => executePlan(plan, inputs));
    const result: ReturnType = {};
    this.graph.outputs.forEach((o, i) => {
      if (wanted.has(o.name)) result[o.name] = outputs[i]!;
    });
    return result;
  }

  /** Drops cached plans and their arenas and ends the worker threads; later runs use one thread. */
  async release(): Promise<void> {
    this.plans.clear();
    const pool = this.pool;
    this.pool = null;
    await pool?.terminate();
  }

  private planFor(inputs: ReadonlyMap<string, Tensor>): Plan {
    const key = [...inputs].map(([name, t]) => `${name}:${t.type}[${t.dims.join(',')}]`).join('|');
    let plan = this.plans.get(key);
    if (plan) {
      this.plans.delete(key);
    } else {
      const specs = new Map<string, InputSpec>();
      for (const [name, t] of inputs) specs.set(name, { dtype: t.type, dims: t.dims });
      plan = buildPlan(this.graph, specs, { maxMemoryBytes: this.maxMemoryBytes, sharedArena: this.pool !== null });
      // Each plan holds its arena: drop the least recently used ones until the new one fits.
      let cached = plan.bytes;
      for (const p of this.plans.values()) cached += p.bytes;
      for (const [oldKey, old] of this.plans) {
        if (this.plans.size < this.maxCachedPlans && cached <= this.maxMemoryBytes) break;
        this.plans.delete(oldKey);
        cached -= old.bytes;
      }
    }
    this.plans.set(key, plan);
    return plan;
  }

  private checkFetches(fetches: FetchesType | undefined): Set<string> {
    if (fetches === undefined) return new Set(this.outputNames);
    const names = Array.isArray(fetches) ? (fetches as readonly string[]) : Object.keys(fetches);
    for (const name of names) {
      if (!this.outputNames.includes(name)) {
        throw new LambertError('INVALID_INPUT', `"${name}" is not an output of this model (outputs: ${this.outputNames.join(', ')})`);
      }
    }
    return new Set(names);
  }

  private checkFeeds(feeds: FeedsType): Map<string, Tensor> {
    if (typeof feeds !== 'object' || feeds === null) throw new LambertError('INVALID_INPUT', 'feeds must be an object of tensors');
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) {
        throw new LambertError('INVALID_INPUT', `"${name}" is not an input of this model (inputs: ${this.inputNames.join(', ')})`);
      }
    }
    const symbols = new Map<string, { value: number; input: string }>();
    const inputs = new Map<string, Tensor>();
    for (const decl of this.graph.inputs) {
      const given = Object.hasOwn(feeds, decl.name) ? feeds[decl.name] : undefined;
      if (given === undefined) throw new LambertError('INVALID_INPUT', `missing input "${decl.name}" (${describeDecl(decl)})`);
      const tensor = asTensor(given, decl);
      if (tensor.type !== decl.dtype) {
        throw new LambertError('INVALID_INPUT', `input "${decl.name}" must be ${describeDecl(decl)}, got ${tensor.type}`);
      }
      if (decl.dims) {
        if (decl.dims.length !== tensor.dims.length) {
          throw new LambertError(
            'INVALID_INPUT',
            `input "${decl.name}" must have rank ${decl.dims.length} (${describeDecl(decl)}), got dims [${tensor.dims.join(',')}]`,
          );
        }
        decl.dims.forEach((d, axis) => {
          const actual = tensor.dims[axis]!;
          if (typeof d === 'number' && d !== actual) {
            throw new LambertError('INVALID_INPUT', `input "${decl.name}" dim ${axis} must be ${d} (${describeDecl(decl)}), got ${actual}`);
          }
          if (typeof d === 'string') {
            const seen = symbols.get(d);
            if (seen && seen.value !== actual) {
              throw new LambertError(
                'INVALID_INPUT',
                `input "${decl.name}" dim ${axis} ("${d}") is ${actual} but input "${seen.input}" has ${d} = ${seen.value}`,
              );
            }
            symbols.set(d, { value: actual, input: decl.name });
          }
        });
      }
      if (this.rejectNonFinite && (tensor.type === 'float32' || tensor.type === 'float64')) checkFinite(tensor, decl);
      inputs.set(decl.name, tensor);
    }
    return inputs;
  }
}

function checkOptions(options: SessionOptions): void {
  if (typeof options !== 'object' || options === null) throw new LambertError('INVALID_ARGUMENT', 'session options must be an object');
  const { maxCachedPlans, maxMemoryBytes, intraOpNumThreads } = options;
  if (intraOpNumThreads !== undefined && !(Number.isSafeInteger(intraOpNumThreads) && intraOpNumThreads >= 0 && intraOpNumThreads <= 256)) {
    throw new LambertError('INVALID_ARGUMENT', `intraOpNumThreads must be an integer from 0 (default) to 256, got ${String(intraOpNumThreads)}`);
  }
  if (maxCachedPlans !== undefined && !(Number.isSafeInteger(maxCachedPlans) && maxCachedPlans >= 1)) {
    throw new LambertError('INVALID_ARGUMENT', `maxCachedPlans must be a positive integer, got ${String(maxCachedPlans)}`);
  }
  if (maxMemoryBytes !== undefined && !(Number.isSafeInteger(maxMemoryBytes) && maxMemoryBytes >= 0)) {
    throw new LambertError('INVALID_ARGUMENT', `maxMemoryBytes must be a non-negative integer, got ${String(maxMemoryBytes)}`);
  }
}

function checkFinite(tensor: Tensor, decl: ValueDecl): void {
  const data = tensor.data as Float32Array | Float64Array;
  for (let i = 0; i < data.length; i++) {
    // x - x is 0 for finite x and NaN for NaN and ±Infinity: one comparison per element.
    if (data[i]! - data[i]! !== 0) {
      throw new LambertError(
        'INVALID_INPUT',
        `input "${decl.name}" holds ${data[i]} at flat index ${i}; only finite values are accepted (session option rejectNonFinite)`,
      );
    }
  }
}

/** Accepts tensors from another copy of this library or from onnxruntime-common alike. */
function asTensor(given: unknown, decl: ValueDecl): Tensor {
  if (given instanceof Tensor) {
    // Its fields are only readonly to TypeScript: a tensor whose data no longer matches its dims would read out of bounds.
    const actual = dtypeOfArray(given.data);
    const consistent =
      isDType(given.type) &&
      (actual === given.type || (given.type === 'bool' && actual === 'uint8')) &&
      Array.isArray(given.dims) &&
      given.dims.every((d) => Number.isSafeInteger(d) && d >= 0) &&
      sizeOf(given.dims) === given.data.length;
    if (!consistent) throw new LambertError('INVALID_INPUT', `input "${decl.name}": the tensor's data does not match its type and dims`);
    return given;
  }
  const like = given as { type?: unknown; data?: unknown; dims?: unknown } | null;
  if (typeof like !== 'object' || like === null || !Array.isArray(like.dims)) {
    throw new LambertError('INVALID_INPUT', `input "${decl.name}" must be a Tensor (${describeDecl(decl)})`);
  }
  try {
    return new Tensor(like.type as never, like.data as never, like.dims as number[]);
  } catch (err) {
    throw new LambertError('INVALID_INPUT', `input "${decl.name}": ${(err as Error).message}`, { cause: err });
  }
}

function describeDecl(decl: ValueDecl): string {
  const dims = decl.dims ? `[${decl.dims.map((d) => d ?? '?').join(',')}]` : '';
  return `${decl.dtype}${dims}`;
}

async function readModelFile(path: string, maxBytes: number): Promise<Uint8Array> {
  let size: number;
  try {
    // A FIFO or device would never end; a file over the budget could not be decoded within it anyway.
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
    size = info.size;
  } catch (err) {
    throw new LambertError('IO_ERROR', `cannot read model "${path}": ${(err as Error).message}`, { cause: err });
  }
  if (size > maxBytes) throw new LambertError('RESOURCE_LIMIT', `model "${path}" has ${size} bytes, over maxMemoryBytes (${maxBytes})`);
  try {
    return await readFile(path);
  } catch (err) {
    throw new LambertError('IO_ERROR', `cannot read model "${path}": ${(err as Error).message}`, { cause: err });
  }
}
