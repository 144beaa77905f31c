import type { Attributes } from '../attributes.js';
import type { DType, Tensor } from '../tensor.js';

/** What an op sees of its node: identity for error messages, the domain's opset, attributes. */
export interface NodeInfo {
  readonly name: string;
  readonly opType: string;
  /** '' for the default ai.onnx domain. */
  readonly domain: string;
  /** The opset version the model imports for this node's domain. */
  readonly opset: number;
  readonly attrs: Attributes;
  /** Input value names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Per-node memo for ops that precompute from constant inputs (packed weights). */
  readonly cache: Map<string, unknown>;
}

/**
 * What the planner knows of a value before running: its dtype always, its dims when they
 * follow from the input shapes (null when they depend on data), its contents when constant.
 */
export interface ValueMeta {
  readonly dtype: DType;
  readonly shape: readonly number[] | null;
  readonly value?: Tensor;
}

/** Hands out output tensors: arena-backed when the planner sized them, fresh otherwise. */
export interface OutputAllocator {
  alloc<T extends DType>(index: number, dtype: T, dims: readonly number[]): Tensor<T>;
}

export type Inputs = readonly (Tensor | undefined)[];
export type InputMetas = readonly (ValueMeta | undefined)[];

export interface OpDefinition<State = unknown> {
  readonly opType: string;
  /** '' for ai.onnx, 'com.microsoft' for onnxruntime's contrib ops. */
  readonly domain: string;
  /** The opset versions whose semantics this definition implements, inclusive. */
  readonly versions: readonly [number, number];
  /**
   * Output dtypes and shapes from the inputs' (shape null when data-dependent). Validates
   * attributes and input ranks; throws LambertError naming the node on a bad model.
   */
  infer(node: NodeInfo, inputs: InputMetas): ValueMeta[];
  /** Runs once per plan, after infer: precompute from constant inputs (pack weights). */
  prepare?(node: NodeInfo, inputs: InputMetas): State;
  /** Computes from the actual input tensors; never depends on the planned shapes. */
  run(node: NodeInfo, inputs: Inputs, out: OutputAllocator, state: State): Tensor[];
  /** Output 0 shares input 0's data (Reshape, Squeeze, ...), so it needs no buffer of its own. */
  readonly view?: boolean;
  /** Never fold at plan time even when every input is constant (random ops). */
  readonly noFold?: boolean;
}
