import { LambertError, describeNode, formatShape } from '../errors.js';
import type { BigIntArray, NumericArray, Tensor } from '../tensor.js';
import type { InputMetas, NodeInfo, ValueMeta } from './types.js';

/** Throws INVALID_MODEL naming the node: for graphs that break an op's rules. */
export function fail(node: NodeInfo, message: string): never {
  throw new LambertError('INVALID_MODEL', `${describeNode(node)}: ${message}`);
}

/** The i-th input's meta, or an error naming the node when a required input is missing. */
export function need(node: NodeInfo, inputs: InputMetas, i: number): ValueMeta {
  const meta = inputs[i];
  if (!meta) fail(node, `input ${i} is required`);
  return meta;
}

export function needTensor(node: NodeInfo, inputs: readonly (Tensor | undefined)[], i: number): Tensor {
  const t = inputs[i];
  if (!t) fail(node, `input ${i} is required`);
  return t;
}

/** Resolves a possibly negative axis against `rank`, with an error naming the node. */
export function normalizeAxis(node: NodeInfo, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(node, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Reads an integer tensor (int64/int32/...) as plain numbers; int64 beyond ±2^53 saturates. */
export function toNumbers(t: Tensor): number[] {
  const data = t.data as NumericArray | BigIntArray;
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = typeof v === 'bigint' ? saturate(v) : v;
  }
  return out;
}

function saturate(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (v < BigInt(-Number.MAX_SAFE_INTEGER)) return -Number.MAX_SAFE_INTEGER;
  return Number(v);
}

export function shapeText(dims: readonly number[] | null): string {
  return formatShape(dims);
}

/** Output meta helper: shape is null when unknown. */
export function meta(dtype: ValueMeta['dtype'], shape: readonly number[] | null): ValueMeta {
  return { dtype, shape };
}
