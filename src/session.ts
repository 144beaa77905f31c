import { readFile, stat } from 'node:fs/promises';
import { LambertError } from './errors.js';
import { fuseGraph } from './fuse.js';
import { loadGraph, type Graph, type ValueDecl } from './load.js';
import { buildPlan, DEFAULT_MAX_MEMORY_BYTES, type InputSpec, type Plan } from './plan.js';
import { executePlan } from './run.js';
import { withOnnxruntimeRounding } from '../kernels/mlas.js';
import { kernelPool } from '../kernels/pool.js';
import { ThreadPool, withPool } from '../kernels/threads.js';
import { modelDirOf } from './tensorProto.js';
import { dtypeOfArray, isDType, sizeOf, Tensor, type DType } from './tensor.js';

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
  /**
   * How the float32 kernels with a faster float64 form (softmax, GELU, attention, products of
   * two activations) round. 'onnxruntime': exactly as onnxruntime's CPU kernels (MLAS, x86-64
   * AVX-512), bit for bit — what keeps int8 models exact, since every layer re-quantizes its
   * float activations and one ulp can flip a quantized value. 'fast': float64 accumulation,
   * within float32 rounding of that (and about 3× faster in those kernels). 'auto' (default):
   * 'onnxruntime' for graphs with quantization ops, 'fast' otherwise. LayerNorm and Erf always
   * round as onnxruntime's; constant-weight GEMMs always accumulate in float64.
   */
  floatRounding?: 'auto' | 'onnxruntime' | 'fast';
}

/** Ops whose inputs are quantized at run time: a graph with one re-quantizes float activations. */
const QUANTIZING_OPS = new Set(['DynamicQuantizeLinear', 'QuantizeLinear', 'DynamicQuantizeMatMul', 'QLinearMatMul']);

export type FeedsType = Record<string, Tensor>;
/**
 * Output names, or an object whose keys are output names and whose values are null or a
 * pre-allocated Tensor the output is copied into (as onnxruntime-common's `FetchesType`).
 */
export type FetchesType = readonly string[] | Record<string, Tensor | null>;
export type ReturnType = Record<string, Tensor>;

/** onnxruntime-common's `RunOptions`: accepted for compatibility; lambert checks them as onnxruntime-node does and ignores them. */
export interface RunOptions {
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  logVerbosityLevel?: number;
  terminate?: boolean;
  tag?: string;
  extra?: Record<string | number | symbol, unknown>;
}

/** onnxruntime-common's `TensorValueMetadata` (lambert has only tensor values), plus lambert's `dims`. */
export interface TensorValueMetadata {
  readonly name: string;
  readonly isTensor: true;
  readonly type: DType;
  /** As onnxruntime: a number per fixed dim, the name of a symbolic one ('' when unnamed); [] when the shape is not declared. */
  readonly shape: readonly (number | string)[];
  /** The declared dims: a number, a symbol name, or null for an unknown dim; null for no shape. */
  readonly dims: readonly (number | string | null)[] | null;
}

export type ValueMetadata = TensorValueMetadata;
/** The metadata of an input or output (the name predates outputMetadata). */
export type InputMetadata = TensorValueMetadata;

/** What session.run() receives after sorting out its overloads. */
interface RunRequest {
  /** Output names to return, in the model's order of outputs. */
  readonly wanted: ReadonlySet<string>;
  /** Pre-allocated tensors the named outputs are copied into. */
  readonly into: ReadonlyMap<string, Tensor>;
}

/** An onnxruntime-common compatible session: `await InferenceSession.create(bytesOrPath)`. */
export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly maxMemoryBytes: number;
  private readonly plans = new Map<string, Plan>();
  private readonly maxCachedPlans: number;
  private readonly rejectNonFinite: boolean;
  /** Whether runs round like onnxruntime (SessionOptions.floatRounding). */
  readonly roundsLikeOnnxruntime: boolean;
  private pool: ThreadPool | null;

  private constructor(readonly graph: Graph, options: SessionOptions) {
    this.inputNames = graph.inputs.map((i) => i.name);
    this.outputNames = graph.outputs.map((o) => o.name);
    this.maxCachedPlans = Math.max(1, options.maxCachedPlans ?? 8);
    this.maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
    this.rejectNonFinite =
      (options.rejectNonFinite ?? true) && !graph.nodes.some((n) => n.domain === '' && (n.opType === 'IsNaN' || n.opType === 'IsInf'));
    const rounding = options.floatRounding ?? 'auto';
    this.roundsLikeOnnxruntime =
      rounding === 'onnxruntime' || (rounding === 'auto' && graph.nodes.some((n) => QUANTIZING_OPS.has(n.opType) || (n.unfused ?? []).some((u) => QUANTIZING_OPS.has(u.opType))));
    const threads = options.intraOpNumThreads || 1;
    this.pool = threads > 1 ? kernelPool(threads) : null;
  }

  /**
   * As onnxruntime-common: `create(path | Uint8Array | ArrayBuffer | SharedArrayBuffer, options?)`
   * or `create(arrayBuffer, byteOffset, byteLength?, options?)`.
   */
  static async create(model: string | Uint8Array | ArrayBufferLike, options?: SessionOptions): Promise<InferenceSession>;
  static async create(buffer: ArrayBufferLike, byteOffset: number, byteLength?: number, options?: SessionOptions): Promise<InferenceSession>;
  static async create(model: unknown, arg1?: unknown, arg2?: unknown, arg3?: unknown): Promise<InferenceSession> {
    if (typeof model !== 'string') return InferenceSession.fromBytes(modelArguments(model, arg1, arg2, arg3));
    const options = arg1 === undefined ? {} : (arg1 as SessionOptions);
    checkOptions(options);
    const bytes = await readModelFile(model, options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES);
    return InferenceSession.fromBytes({ bytes, options: { ...options, externalDataDir: modelDirOf(model) } });
  }

  /** Synchronous variant for callers that already hold the bytes (same arguments as create() without the path). */
  static createSync(model: Uint8Array | ArrayBufferLike, options?: SessionOptions): InferenceSession;
  static createSync(buffer: ArrayBufferLike, byteOffset: number, byteLength?: number, options?: SessionOptions): InferenceSession;
  static createSync(model: unknown, arg1?: unknown, arg2?: unknown, arg3?: unknown): InferenceSession {
    return InferenceSession.fromBytes(modelArguments(model, arg1, arg2, arg3));
  }

  private static fromBytes({ bytes, options }: { bytes: Uint8Array; options: SessionOptions }): InferenceSession {
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

  /** As onnxruntime-node: `{ name, isTensor: true, type, shape }` per input (and lambert's `dims`). */
  get inputMetadata(): readonly InputMetadata[] {
    return this.graph.inputs.map(metadataOf);
  }

  get outputMetadata(): readonly InputMetadata[] {
    return this.graph.outputs.map(metadataOf);
  }

  /**
   * As onnxruntime-common: `run(feeds, options?)` or `run(feeds, fetches, options?)`. An array is
   * fetches; an object is fetches when one of its own keys is an output name whose value is null or
   * a Tensor (other keys are then ignored), otherwise it is run options.
   */
  run(feeds: FeedsType, options?: RunOptions): Promise<ReturnType>;
  run(feeds: FeedsType, fetches?: FetchesType, options?: RunOptions): Promise<ReturnType>;
  async run(feeds: FeedsType, arg1?: FetchesType | RunOptions, arg2?: RunOptions): Promise<ReturnType> {
    return this.runSync(feeds, arg1 as FetchesType, arg2);
  }

  runSync(feeds: FeedsType, options?: RunOptions): ReturnType;
  runSync(feeds: FeedsType, fetches?: FetchesType, options?: RunOptions): ReturnType;
  runSync(feeds: FeedsType, arg1?: FetchesType | RunOptions, arg2?: RunOptions): ReturnType {
    if (typeof feeds !== 'object' || feeds === null || feeds instanceof Tensor || Array.isArray(feeds)) {
      throw new LambertError('INVALID_INPUT', 'feeds must be an object with input names as keys and tensors as values');
    }
    const request = this.runRequest(arg1, arg2);
    const inputs = this.checkFeeds(feeds);
    const pool = this.pool;
    // Planning folds constants through the same kernels, so it rounds as the runs do.
    const outputs = withOnnxruntimeRounding(this.roundsLikeOnnxruntime, () => {
      const plan = this.planFor(inputs);
      return pool === null ? executePlan(plan, inputs) : withPool(pool, () => executePlan(plan, inputs));
    });
    const result: ReturnType = {};
    this.graph.outputs.forEach((o, i) => {
      if (!request.wanted.has(o.name)) return;
      const output = outputs[i]!;
      const target = request.into.get(o.name);
      if (target) copyInto(target, output, o.name);
      result[o.name] = output;
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

  /** onnxruntime-common's InferenceSession.run argument handling; its TypeErrors and RangeErrors are LambertErrors. */
  private runRequest(arg1: unknown, arg2: unknown): RunRequest {
    const wanted = new Set<string>();
    const into = new Map<string, Tensor>();
    let options: unknown = undefined;
    if (typeof arg1 === 'object') {
      if (arg1 === null) throw new LambertError('INVALID_ARGUMENT', 'run(): the second argument (fetches or options) cannot be null');
      if (arg1 instanceof Tensor) throw new LambertError('INVALID_ARGUMENT', 'run(): fetches cannot be a Tensor');
      if (Array.isArray(arg1)) {
        if (arg1.length === 0) throw new LambertError('INVALID_ARGUMENT', 'run(): fetches cannot be an empty array');
        for (const name of arg1 as unknown[]) {
          if (typeof name !== 'string') throw new LambertError('INVALID_ARGUMENT', 'run(): fetches must be an array of output names or an object');
          if (!this.outputNames.includes(name)) {
            throw new LambertError('INVALID_INPUT', `"${name}" is not an output of this model (outputs: ${this.outputNames.join(', ')})`);
          }
          wanted.add(name);
        }
        options = checkRunOptionsArgument(arg2);
      } else {
        // Fetches when an output name is an own key holding null or a Tensor; keys that are not outputs are then ignored.
        const keys = Object.getOwnPropertyNames(arg1);
        for (const name of this.outputNames) {
          if (!keys.includes(name)) continue;
          const value: unknown = (arg1 as Record<string, unknown>)[name];
          if (value === null) wanted.add(name);
          else if (value instanceof Tensor) {
            wanted.add(name);
            into.set(name, value);
          }
        }
        options = wanted.size > 0 ? checkRunOptionsArgument(arg2) : arg1;
      }
    } else if (arg1 !== undefined) {
      throw new LambertError('INVALID_ARGUMENT', `run(): the second argument must be fetches (an array or object) or options (an object), got ${typeof arg1}`);
    }
    if (options !== undefined) checkRunOptions(options as RunOptions);
    for (const [name, target] of into) this.checkTarget(target, name);
    return { wanted: wanted.size > 0 ? wanted : new Set(this.outputNames), into };
  }

  /** A pre-allocated output must be a consistent tensor of the output's declared type. */
  private checkTarget(target: Tensor, name: string): void {
    const decl = this.graph.outputs.find((o) => o.name === name)!;
    if (!isConsistent(target)) throw new LambertError('INVALID_INPUT', `fetches "${name}": the tensor's data does not match its type and dims`);
    if (target.type !== decl.dtype) {
      throw new LambertError('INVALID_INPUT', `fetches "${name}": output "${name}" is ${describeDecl(decl)}, the pre-allocated tensor is ${target.type}`);
    }
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

/** Whether a Tensor's fields (only readonly to TypeScript) still agree with each other. */
function isConsistent(t: Tensor): boolean {
  const actual = dtypeOfArray(t.data);
  return (
    isDType(t.type) &&
    (actual === t.type || (t.type === 'bool' && actual === 'uint8')) &&
    Array.isArray(t.dims) &&
    t.dims.every((d) => Number.isSafeInteger(d) && d >= 0) &&
    sizeOf(t.dims) === t.data.length
  );
}

/** Copies a computed output into the pre-allocated tensor given for it in fetches (onnxruntime returns a new tensor too). */
function copyInto(target: Tensor, output: Tensor, name: string): void {
  const same = target.dims.length === output.dims.length && target.dims.every((d, i) => d === output.dims[i]);
  if (!same) {
    throw new LambertError(
      'INVALID_INPUT',
      `fetches "${name}": the pre-allocated tensor has dims [${target.dims.join(',')}] but the output has [${output.dims.join(',')}]`,
    );
  }
  (target.data as Uint8Array).set(output.data as Uint8Array);
}

function metadataOf(decl: ValueDecl): TensorValueMetadata {
  return {
    name: decl.name,
    isTensor: true,
    type: decl.dtype,
    shape: decl.dims === null ? [] : decl.dims.map((d) => d ?? ''),
    dims: decl.dims,
  };
}

function checkRunOptionsArgument(options: unknown): unknown {
  if (options === undefined || (typeof options === 'object' && options !== null)) return options;
  throw new LambertError('INVALID_ARGUMENT', `run(): options must be an object, got ${options === null ? 'null' : typeof options}`);
}

/** The checks onnxruntime-node makes on RunOptions; the options themselves change nothing in lambert. */
function checkRunOptions(options: RunOptions): void {
  const { logSeverityLevel, tag } = options;
  if (logSeverityLevel !== undefined) {
    if (typeof logSeverityLevel !== 'number') throw new LambertError('INVALID_ARGUMENT', 'run options: logSeverityLevel must be a number');
    if (![0, 1, 2, 3, 4].includes(logSeverityLevel)) {
      throw new LambertError('INVALID_ARGUMENT', `run options: logSeverityLevel must be one of 0, 1, 2, 3, 4, got ${logSeverityLevel}`);
    }
  }
  if (tag !== undefined && typeof tag !== 'string') throw new LambertError('INVALID_ARGUMENT', 'run options: tag must be a string');
}

/** The bytes and options of create()/createSync(), with onnxruntime-common's argument checks. */
function modelArguments(model: unknown, arg1: unknown, arg2: unknown, arg3: unknown): { bytes: Uint8Array; options: SessionOptions } {
  const isBuffer = model instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && model instanceof SharedArrayBuffer);
  let bytes: Uint8Array;
  let options: unknown = arg1;
  if (model instanceof Uint8Array) bytes = model;
  else if (isBuffer) {
    const buffer = model as ArrayBufferLike;
    let byteOffset = 0;
    let byteLength = buffer.byteLength;
    if (typeof arg1 === 'number') {
      byteOffset = arg1;
      if (!Number.isSafeInteger(byteOffset)) throw new LambertError('INVALID_ARGUMENT', `byteOffset must be an integer, got ${byteOffset}`);
      if (byteOffset < 0 || byteOffset >= buffer.byteLength) {
        throw new LambertError('INVALID_ARGUMENT', `byteOffset ${byteOffset} is out of range [0, ${buffer.byteLength})`);
      }
      byteLength = buffer.byteLength - byteOffset;
      options = undefined;
      if (typeof arg2 === 'number') {
        byteLength = arg2;
        if (!Number.isSafeInteger(byteLength)) throw new LambertError('INVALID_ARGUMENT', `byteLength must be an integer, got ${byteLength}`);
        if (byteLength <= 0 || byteOffset + byteLength > buffer.byteLength) {
          throw new LambertError('INVALID_ARGUMENT', `byteLength ${byteLength} is out of range (0, ${buffer.byteLength - byteOffset}]`);
        }
        options = arg3;
      } else if (arg2 !== undefined) {
        throw new LambertError('INVALID_ARGUMENT', `byteLength must be a number, got ${arg2 === null ? 'null' : typeof arg2}`);
      }
    }
    bytes = new Uint8Array(buffer, byteOffset, byteLength);
  } else {
    throw new LambertError('INVALID_ARGUMENT', 'a model must be a file path, a Uint8Array, an ArrayBuffer or a SharedArrayBuffer');
  }
  // Initializers may be views of the model's bytes: shared memory another thread could change is copied first.
  if (typeof SharedArrayBuffer !== 'undefined' && bytes.buffer instanceof SharedArrayBuffer) bytes = bytes.slice();
  return { bytes, options: options === undefined ? {} : (options as SessionOptions) };
}

function checkOptions(options: SessionOptions): void {
  if (typeof options !== 'object' || options === null) throw new LambertError('INVALID_ARGUMENT', 'session options must be an object');
  const { maxCachedPlans, maxMemoryBytes, intraOpNumThreads, floatRounding } = options;
  if (floatRounding !== undefined && floatRounding !== 'auto' && floatRounding !== 'onnxruntime' && floatRounding !== 'fast') {
    throw new LambertError('INVALID_ARGUMENT', `floatRounding must be 'auto', 'onnxruntime' or 'fast', got ${String(floatRounding)}`);
  }
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
    if (!isConsistent(given)) throw new LambertError('INVALID_INPUT', `input "${decl.name}": the tensor's data does not match its type and dims`);
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
