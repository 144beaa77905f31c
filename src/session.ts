import { readFile } from 'node:fs/promises';
import { LambertError } from './errors.js';
import { loadGraph, type Graph, type ValueDecl } from './load.js';
import { buildPlan, type InputSpec, type Plan } from './plan.js';
import { executePlan } from './run.js';
import { modelDirOf } from './tensorProto.js';
import { Tensor } from './tensor.js';

export interface SessionOptions {
  /** Plans kept per distinct set of input shapes (least recently used ones are dropped). Default 8. */
  maxCachedPlans?: number;
  /** Accepted for onnxruntime compatibility; lambert currently runs on one thread. */
  intraOpNumThreads?: number;
  /** Accepted for onnxruntime compatibility and ignored. */
  executionProviders?: unknown[];
  /** Accepted for onnxruntime compatibility and ignored. */
  graphOptimizationLevel?: string;
  /** Base directory for external data when the model is given as bytes. */
  externalDataDir?: string;
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
  private readonly plans = new Map<string, Plan>();
  private readonly maxCachedPlans: number;

  private constructor(readonly graph: Graph, options: SessionOptions) {
    this.inputNames = graph.inputs.map((i) => i.name);
    this.outputNames = graph.outputs.map((o) => o.name);
    this.maxCachedPlans = Math.max(1, options.maxCachedPlans ?? 8);
  }

  static async create(model: Uint8Array | ArrayBuffer | string, options: SessionOptions = {}): Promise<InferenceSession> {
    return InferenceSession.createSync(typeof model === 'string' ? await readModelFile(model) : model, {
      ...options,
      externalDataDir: typeof model === 'string' ? modelDirOf(model) : options.externalDataDir,
    });
  }

  /** Synchronous variant for callers that already hold the bytes. */
  static createSync(model: Uint8Array | ArrayBuffer, options: SessionOptions = {}): InferenceSession {
    let bytes: Uint8Array;
    if (model instanceof Uint8Array) bytes = model;
    else if (model instanceof ArrayBuffer) bytes = new Uint8Array(model);
    else throw new LambertError('INVALID_ARGUMENT', 'a model must be a Uint8Array, an ArrayBuffer or a file path');
    const loadOptions = options.externalDataDir === undefined ? {} : { baseDir: options.externalDataDir };
    return new InferenceSession(loadGraph(bytes, loadOptions), options);
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
    const outputs = executePlan(plan, inputs);
    const result: ReturnType = {};
    this.graph.outputs.forEach((o, i) => {
      if (wanted.has(o.name)) result[o.name] = outputs[i]!;
    });
    return result;
  }

  /** Drops cached plans and their arenas. */
  async release(): Promise<void> {
    this.plans.clear();
  }

  private planFor(inputs: ReadonlyMap<string, Tensor>): Plan {
    const key = [...inputs].map(([name, t]) => `${name}:${t.type}[${t.dims.join(',')}]`).join('|');
    let plan = this.plans.get(key);
    if (plan) {
      this.plans.delete(key);
    } else {
      const specs = new Map<string, InputSpec>();
      for (const [name, t] of inputs) specs.set(name, { dtype: t.type, dims: t.dims });
      plan = buildPlan(this.graph, specs);
      if (this.plans.size >= this.maxCachedPlans) this.plans.delete(this.plans.keys().next().value!);
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
      const given = feeds[decl.name];
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
      inputs.set(decl.name, tensor);
    }
    return inputs;
  }
}

/** Accepts tensors from another copy of this library or from onnxruntime-common alike. */
function asTensor(given: unknown, decl: ValueDecl): Tensor {
  if (given instanceof Tensor) return given;
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

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new LambertError('IO_ERROR', `cannot read model "${path}": ${(err as Error).message}`, { cause: err });
  }
}
