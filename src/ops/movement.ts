/**
 * Shared kernels of the shape & data-movement ops. Every dtype moves as raw machine words
 * (1, 2 or 4 bytes; 8-byte types as two 4-byte lanes), so one set of loops serves all dtypes,
 * float32 goes through Int32Array (bit-exact: no NaN canonicalisation on the way through a
 * double) and the inner loops only ever see three array classes.
 */
import { LambertError, describeNode } from '../errors.js';
import { bytesPerElement, isBigIntType, Tensor, type BigIntArray, type NumericArray } from '../tensor.js';
import type { InputMetas, Inputs, NodeInfo, OpDefinition, ValueMeta } from './types.js';
import { fail, meta, need, needTensor, toNumbers } from './util.js';

type Words = Uint8Array | Uint16Array | Int32Array;

// Below this many words a plain loop beats `set(subarray(...))`, whose view allocation dominates.
const SET_THRESHOLD = 32;

function wordsOf(t: Tensor): Words {
  const d = t.data;
  switch (bytesPerElement(t.type)) {
    case 1:
      return new Uint8Array(d.buffer, d.byteOffset, d.length);
    case 2:
      return new Uint16Array(d.buffer, d.byteOffset, d.length);
    case 4:
      return new Int32Array(d.buffer, d.byteOffset, d.length);
    default:
      return new Int32Array(d.buffer, d.byteOffset, d.length * 2);
  }
}

function lanesOf(t: Tensor): number {
  return bytesPerElement(t.type) === 8 ? 2 : 1;
}

export function contiguousStrides(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length);
  let stride = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= dims[i]!;
  }
  return strides;
}

/**
 * Copies the box `dims` from `src` (element offset and strides, 0 for a broadcast axis) to
 * `dst` (same). `src` may be `dst` when the regions do not overlap (Pad's edge modes).
 */
export function copyBox(
  src: Tensor,
  srcOffset: number,
  srcStrides: readonly number[],
  dst: Tensor,
  dstOffset: number,
  dstStrides: readonly number[],
  dims: readonly number[],
): void {
  const lanes = lanesOf(src);
  // Drop unit axes, then merge each axis into the next where both sides are contiguous
  // across it, so a permutation or slice that moves whole rows becomes a few long runs.
  const d: number[] = [];
  const ss: number[] = [];
  const ds: number[] = [];
  for (let i = 0; i < dims.length; i++) {
    const n = dims[i]!;
    if (n === 0) return;
    if (n === 1) continue;
    d.push(n);
    ss.push(srcStrides[i]! * lanes);
    ds.push(dstStrides[i]! * lanes);
  }
  if (lanes > 1) {
    d.push(lanes);
    ss.push(1);
    ds.push(1);
  }
  let r = 0;
  for (let i = 0; i < d.length; i++) {
    if (r > 0 && ss[r - 1] === ss[i]! * d[i]! && ds[r - 1] === ds[i]! * d[i]!) {
      d[r - 1]! *= d[i]!;
      ss[r - 1] = ss[i]!;
      ds[r - 1] = ds[i]!;
    } else {
      d[r] = d[i]!;
      ss[r] = ss[i]!;
      ds[r] = ds[i]!;
      r++;
    }
  }
  d.length = ss.length = ds.length = r;
  const s = wordsOf(src);
  const t = src === dst ? s : wordsOf(dst);
  const so = srcOffset * lanes;
  const dof = dstOffset * lanes;
  if (r === 0) {
    t[dof] = s[so]!;
    return;
  }
  copyBlocks(s, so, ss, t, dof, ds, d);
}

/**
 * The strided copy behind every op here: the last two (coalesced) axes form a rows × run
 * block and an odometer steps through any axes before them. The attention transposes come out
 * as one block per head ((0,2,1,3): rows of head_dim, copied whole) or one single block
 * ((0,2,3,1)), so the odometer costs nothing on the hot paths.
 */
function copyBlocks(
  src: Words,
  srcOffset: number,
  ss: readonly number[],
  dst: Words,
  dstOffset: number,
  ds: readonly number[],
  dims: readonly number[],
): void {
  const r = dims.length;
  const n = dims[r - 1]!;
  const sIn = ss[r - 1]!;
  const dIn = ds[r - 1]!;
  const rows = r >= 2 ? dims[r - 2]! : 1;
  const sRow = r >= 2 ? ss[r - 2]! : 0;
  const dRow = r >= 2 ? ds[r - 2]! : 0;
  const outer = r - 2;
  const idx = new Array<number>(Math.max(outer, 0)).fill(0);
  const contiguous = sIn === 1 && dIn === 1;
  let s = srcOffset;
  let d = dstOffset;
  for (;;) {
    if (contiguous && n >= SET_THRESHOLD) {
      for (let row = 0, sr = s, dr = d; row < rows; row++, sr += sRow, dr += dRow) dst.set(src.subarray(sr, sr + n), dr);
    } else if (contiguous) {
      for (let row = 0, sr = s, dr = d; row < rows; row++, sr += sRow, dr += dRow) {
        for (let k = 0; k < n; k++) dst[dr + k] = src[sr + k]!;
      }
    } else {
      for (let row = 0, sr = s, dr = d; row < rows; row++, sr += sRow, dr += dRow) {
        for (let k = 0, sk = sr, dk = dr; k < n; k++, sk += sIn, dk += dIn) dst[dk] = src[sk]!;
      }
    }
    let a = outer - 1;
    for (; a >= 0; a--) {
      s += ss[a]!;
      d += ds[a]!;
      if (++idx[a]! < dims[a]!) break;
      s -= ss[a]! * dims[a]!;
      d -= ds[a]! * dims[a]!;
      idx[a] = 0;
    }
    if (a < 0) return;
  }
}

/**
 * A copier of element runs from `src` to `dst` for ops that move many runs at data-dependent
 * offsets (Gather, GatherElements): the word views are made once, not per run.
 */
export function runCopier(src: Tensor, dst: Tensor): (srcIndex: number, dstIndex: number, count: number) => void {
  const s = wordsOf(src);
  const t = wordsOf(dst);
  const lanes = lanesOf(src);
  if (lanes === 1) return (srcIndex, dstIndex, count) => copyRun(s, srcIndex, t, dstIndex, count);
  return (srcIndex, dstIndex, count) => copyRun(s, srcIndex * lanes, t, dstIndex * lanes, count * lanes);
}

function copyRun(src: Words, s: number, dst: Words, d: number, n: number): void {
  if (n >= SET_THRESHOLD) dst.set(src.subarray(s, s + n), d);
  else for (let k = 0; k < n; k++) dst[d + k] = src[s + k]!;
}

/** Sets every element of `t` to `value` (a float attribute value truncates into integer types). */
export function fillTensor(t: Tensor, value: number | bigint): void {
  if (isBigIntType(t.type)) (t.data as BigIntArray).fill(typeof value === 'bigint' ? value : BigInt(Math.trunc(value)));
  else (t.data as NumericArray).fill(Number(value));
}

/**
 * Indices along an axis of `size`, negatives wrapped; an index out of range is an input error
 * naming the node, the index and the axis size.
 */
export function readIndices(node: NodeInfo, indices: Tensor, axis: number, size: number): Int32Array {
  const data = indices.data as NumericArray | BigIntArray;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const raw = data[i]!;
    // Rounding an int64 beyond 2^53 cannot bring it into range, so the check stays exact.
    const v = Number(raw);
    if (v < -size || v >= size) invalidInput(node, `index ${String(raw)} is out of range for axis ${axis} of size ${size}`);
    out[i] = v < 0 ? v + size : v;
  }
  return out;
}

/** Throws INVALID_INPUT naming the node: for errors that depend on input data or shapes. */
export function invalidInput(node: NodeInfo, message: string): never {
  throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${message}`);
}

export function checkIndexType(node: NodeInfo, meta: ValueMeta, what: string): void {
  if (meta.dtype !== 'int32' && meta.dtype !== 'int64') fail(node, `${what} must be int32 or int64, got ${meta.dtype}`);
}

/** The values of a constant integer input (shape, axes, starts, ...), or undefined when not known at plan time. */
export function constantInts(meta: ValueMeta | undefined): number[] | undefined {
  return meta?.value ? toNumbers(meta.value) : undefined;
}

/** The dims a shape-carrying input asks for: non-negative integers, else an input error naming the node. */
export function requireDims(node: NodeInfo, values: readonly number[], what: string): number[] {
  for (const v of values) {
    if (!Number.isSafeInteger(v) || v < 0) {
      invalidInput(node, `${what} [${values.join(',')}] has a negative dimension`);
    }
  }
  return [...values];
}

/**
 * An int-list argument that moved from attribute `name` to input `index` at opset `since`
 * (axes, split, pads, starts, ...): its values, undefined when absent, or null when the input
 * exists but its contents are not known at plan time. Takes metas (infer) or tensors (run), so
 * both phases derive shapes through the same code.
 */
export function intsArg(node: NodeInfo, inputs: Inputs, index: number, name: string, since: number): number[] | undefined;
export function intsArg(
  node: NodeInfo,
  inputs: Inputs | InputMetas,
  index: number,
  name: string,
  since: number,
): number[] | undefined | null;
export function intsArg(
  node: NodeInfo,
  inputs: Inputs | InputMetas,
  index: number,
  name: string,
  since: number,
): number[] | undefined | null {
  if (node.opset < since) return node.attrs.has(name) ? node.attrs.ints(name) : undefined;
  // onnxruntime refuses such a model; ignoring the attribute would silently compute something else.
  if (node.attrs.has(name)) fail(node, `attribute "${name}" is not allowed at opset ${node.opset}: since opset ${since} it is input ${index}`);
  const input = inputs[index];
  if (!input) return undefined;
  if (input instanceof Tensor) return toNumbers(input);
  return input.value ? toNumbers(input.value) : null;
}

/**
 * Ops that only relabel dims (Reshape, Squeeze, Unsqueeze): views of input 0 whose new dims
 * follow from the int-list argument `name` (an attribute before opset `since`, input 1 after).
 */
export function relabelOp(
  opType: string,
  name: string,
  since: number,
  dimsFor: (node: NodeInfo, dims: readonly number[], arg: number[] | undefined) => number[],
): OpDefinition<RelabelMemo> {
  return {
    opType,
    domain: '',
    versions: [1, 21],
    view: true,
    infer(node, inputs) {
      const x = need(node, inputs, 0);
      const arg = intsArg(node, inputs, 1, name, since);
      if (!x.shape || arg === null) return [meta(x.dtype, null)];
      return [meta(x.dtype, dimsFor(node, x.shape, arg))];
    },
    prepare(node, inputs) {
      return { fixedArg: node.opset < since || !inputs[1] || inputs[1].value !== undefined, input: undefined, output: undefined };
    },
    run(node, inputs, _out, memo) {
      const x = needTensor(node, inputs, 0);
      // The same input tensor (an arena value is the same object every run) and a constant
      // argument give the same view: hand out last run's instead of deriving and allocating it again.
      if (memo?.fixedArg && memo.input === x) return [memo.output!];
      const y = new Tensor(x.type, x.data, dimsFor(node, x.dims, intsArg(node, inputs, 1, name, since)));
      if (memo?.fixedArg) {
        memo.input = x;
        memo.output = y;
      }
      return [y];
    },
  };
}

/** A relabel step's last view, kept while its argument cannot change between runs (it holds on to at most that one view until the next run). */
export interface RelabelMemo {
  readonly fixedArg: boolean;
  input: Tensor | undefined;
  output: Tensor | undefined;
}
