/**
 * The Reduce* family. Each op file names its reduction; this module resolves axes (attribute
 * before `axesInputSince`, optional second input from then on), infers shapes and runs one
 * reduction loop per kind.
 *
 * Every reduction but max and min accumulates in float64 and converts once on store: floats
 * round, integers saturate at their type's range as in onnxruntime, which also sums integers
 * in float64 (so int64 sums beyond 2^53 are rounded there too).
 */
import { LambertError, describeNode } from '../errors.js';
import { isBigIntType, isFloatType, type BigIntArray, type DType, type NumericArray, type Tensor } from '../tensor.js';
import type { InputMetas, NodeInfo, OpDefinition } from './types.js';
import { fail, need, needTensor, toNumbers } from './util.js';

export type ReduceKind = 'sum' | 'mean' | 'prod' | 'max' | 'min' | 'sumSquare' | 'l1' | 'l2' | 'logSum' | 'logSumExp';

export interface ReduceSpec {
  readonly opType: string;
  readonly kind: ReduceKind;
  /** First opset where axes is an input (with noop_with_empty_axes) rather than an attribute. */
  readonly axesInputSince: number;
  /** Element types the op accepts at `opset`. */
  readonly dtypes: (opset: number) => readonly DType[];
}

/** The types every Reduce op has accepted since opset 1 (float16 and bfloat16 aside). */
export const REDUCE_NUMERIC: readonly DType[] = ['float32', 'float64', 'int32', 'uint32', 'int64', 'uint64'];
const REDUCE_NUMERIC_8BIT: readonly DType[] = [...REDUCE_NUMERIC, 'int8', 'uint8'];
const REDUCE_NUMERIC_8BIT_BOOL: readonly DType[] = [...REDUCE_NUMERIC_8BIT, 'bool'];

/** ReduceMax and ReduceMin: 8-bit integers from opset 12, bool (false < true) from opset 20. */
export function extremeTypes(opset: number): readonly DType[] {
  return opset >= 20 ? REDUCE_NUMERIC_8BIT_BOOL : opset >= 12 ? REDUCE_NUMERIC_8BIT : REDUCE_NUMERIC;
}

export function reduceOp(spec: ReduceSpec): OpDefinition {
  return {
    opType: spec.opType,
    domain: '',
    versions: [1, 21],
    infer(node, inputs) {
      const x = need(node, inputs, 0);
      if (!spec.dtypes(node.opset).includes(x.dtype)) fail(node, `input type ${x.dtype} is not supported at opset ${node.opset}`);
      const axes = declaredAxes(node, spec, inputs);
      if (!x.shape || axes === undefined) return [{ dtype: x.dtype, shape: null }];
      const reduced = reducedMask(axes, x.shape.length, noopWhenEmpty(node, spec), (msg) => fail(node, msg));
      return [{ dtype: x.dtype, shape: outputDims(x.shape, reduced, keepDims(node)) }];
    },
    run(node, inputs, out) {
      const x = needTensor(node, inputs, 0);
      const axes = actualAxes(node, spec, inputs);
      const reduced = reducedMask(axes, x.dims.length, noopWhenEmpty(node, spec), (msg) => {
        throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${msg}`);
      });
      const y = out.alloc(0, x.type, outputDims(x.dims, reduced, keepDims(node)));
      reduceInto(spec.kind, x, reduced, y);
      return [y];
    },
  };
}

function keepDims(node: NodeInfo): boolean {
  return node.attrs.int('keepdims', 1) !== 0;
}

// noop_with_empty_axes arrived together with the axes input.
function noopWhenEmpty(node: NodeInfo, spec: ReduceSpec): boolean {
  return node.opset >= spec.axesInputSince && node.attrs.int('noop_with_empty_axes', 0) !== 0;
}

function axesFromInput(node: NodeInfo, spec: ReduceSpec): boolean {
  const fromInput = node.opset >= spec.axesInputSince;
  if (fromInput && node.attrs.has('axes')) fail(node, `axes is an input, not an attribute, from opset ${spec.axesInputSince}`);
  return fromInput;
}

/** Axes as the planner knows them: undefined when they come from a non-constant input. */
function declaredAxes(node: NodeInfo, spec: ReduceSpec, inputs: InputMetas): number[] | undefined {
  if (!axesFromInput(node, spec)) return node.attrs.ints('axes', []);
  const axes = inputs[1];
  if (!axes) return [];
  if (axes.dtype !== 'int64') fail(node, `axes must be int64, got ${axes.dtype}`);
  return axes.value ? toNumbers(axes.value) : undefined;
}

function actualAxes(node: NodeInfo, spec: ReduceSpec, inputs: readonly (Tensor | undefined)[]): number[] {
  if (!axesFromInput(node, spec)) return node.attrs.ints('axes', []);
  const axes = inputs[1];
  return axes ? toNumbers(axes) : [];
}

/**
 * Which axes get reduced. Empty axes mean every axis, or none under noop_with_empty_axes: each
 * element is then reduced on its own, so ReduceSumSquare squares and ReduceL1 takes absolute
 * values, as onnxruntime does. A repeated axis counts once, as there too.
 */
function reducedMask(axes: readonly number[], rank: number, noop: boolean, error: (msg: string) => never): boolean[] {
  if (axes.length === 0) return new Array<boolean>(rank).fill(!noop);
  const mask = new Array<boolean>(rank).fill(false);
  for (const axis of axes) {
    const a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) error(`axis ${axis} is out of range for rank ${rank}`);
    mask[a] = true;
  }
  return mask;
}

function outputDims(dims: readonly number[], reduced: readonly boolean[], keep: boolean): number[] {
  const out: number[] = [];
  dims.forEach((d, i) => {
    if (!reduced[i]) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

/**
 * Addressing for a reduction over a row-major tensor: output element o reads
 * x[bases[o] + blocks[b] + r] for every block b and r < run. Dims of size 1 are dropped and
 * neighbouring axes of the same kind merged first, so a reduction over trailing axes becomes
 * one contiguous run per output element.
 */
interface Layout {
  readonly bases: Float64Array;
  readonly blocks: Float64Array;
  readonly run: number;
  /** Elements folded into each output. */
  readonly count: number;
}

function layoutOf(dims: readonly number[], reduced: readonly boolean[]): Layout {
  const sizes: number[] = [];
  const kinds: boolean[] = [];
  dims.forEach((d, i) => {
    if (d === 1) return;
    const last = sizes.length - 1;
    if (last >= 0 && kinds[last] === reduced[i]) sizes[last] *= d;
    else {
      sizes.push(d);
      kinds.push(reduced[i]!);
    }
  });
  const strides = new Array<number>(sizes.length);
  for (let i = sizes.length - 1, s = 1; i >= 0; i--) {
    strides[i] = s;
    s *= sizes[i]!;
  }
  const innermostReduced = kinds.length > 0 && kinds[kinds.length - 1]!;
  const run = innermostReduced ? sizes[sizes.length - 1]! : 1;
  const blockAxes: number[] = [];
  const keptAxes: number[] = [];
  kinds.forEach((isReduced, i) => {
    if (!isReduced) keptAxes.push(i);
    else if (!(innermostReduced && i === kinds.length - 1)) blockAxes.push(i);
  });
  let count = run;
  for (const i of blockAxes) count *= sizes[i]!;
  return {
    bases: offsets(keptAxes, sizes, strides),
    blocks: offsets(blockAxes, sizes, strides),
    run,
    count,
  };
}

/** Every offset reachable by walking `axes` (row-major order), as an odometer would. */
function offsets(axes: readonly number[], sizes: readonly number[], strides: readonly number[]): Float64Array {
  let total = 1;
  for (const a of axes) total *= sizes[a]!;
  const out = new Float64Array(total);
  const index = new Array<number>(axes.length).fill(0);
  let offset = 0;
  for (let n = 0; n < total; n++) {
    out[n] = offset;
    for (let j = axes.length - 1; j >= 0; j--) {
      const a = axes[j]!;
      if (++index[j]! < sizes[a]!) {
        offset += strides[a]!;
        break;
      }
      offset -= (sizes[a]! - 1) * strides[a]!;
      index[j] = 0;
    }
  }
  return out;
}

/** Extremes of each type: max and min of nothing, and the saturation bounds of integer results. */
const LOWEST: Record<DType, number | bigint> = {
  float32: -Infinity,
  float64: -Infinity,
  int8: -128,
  uint8: 0,
  int16: -32768,
  uint16: 0,
  int32: -2147483648,
  uint32: 0,
  int64: -(2n ** 63n),
  uint64: 0n,
  bool: 0,
};
const HIGHEST: Record<DType, number | bigint> = {
  float32: Infinity,
  float64: Infinity,
  int8: 127,
  uint8: 255,
  int16: 32767,
  uint16: 65535,
  int32: 2147483647,
  uint32: 4294967295,
  int64: 2n ** 63n - 1n,
  uint64: 2n ** 64n - 1n,
  bool: 1,
};

function foldSum(x: NumericArray, base: number, blocks: Float64Array, run: number): number {
  let s = 0;
  for (let b = 0; b < blocks.length; b++) {
    const start = base + blocks[b]!;
    const end = start + run;
    for (let i = start; i < end; i++) s += x[i]!;
  }
  return s;
}

function foldSumSquare(x: NumericArray, base: number, blocks: Float64Array, run: number): number {
  let s = 0;
  for (let b = 0; b < blocks.length; b++) {
    const start = base + blocks[b]!;
    const end = start + run;
    for (let i = start; i < end; i++) {
      const v = x[i]!;
      s += v * v;
    }
  }
  return s;
}

function foldSumAbs(x: NumericArray, base: number, blocks: Float64Array, run: number): number {
  let s = 0;
  for (let b = 0; b < blocks.length; b++) {
    const start = base + blocks[b]!;
    const end = start + run;
    for (let i = start; i < end; i++) s += Math.abs(x[i]!);
  }
  return s;
}

function foldProd(x: NumericArray, base: number, blocks: Float64Array, run: number): number {
  let p = 1;
  for (let b = 0; b < blocks.length; b++) {
    const start = base + blocks[b]!;
    const end = start + run;
    for (let i = start; i < end; i++) p *= x[i]!;
  }
  return p;
}

/*
 * Max and min compare in the element type itself, so int64 extremes stay exact (x holds
 * bigints for the 64-bit types). Like onnxruntime's loops they start from the first element and
 * only ever replace it by a greater (smaller) one, so a NaN survives only in first place (its
 * vectorised paths can differ there); nothing to reduce gives `empty`, the type's lowest
 * (highest) value.
 */

function foldMax(x: NumericArray, base: number, blocks: Float64Array, run: number, empty: number): number {
  if (blocks.length === 0 || run === 0) return empty;
  let m = x[base + blocks[0]!]!;
  for (let b = 0; b < blocks.length; b++) {
    const start = base + blocks[b]!;
    const end = start + run;
    for (let i = start; i < end; i++) {
      const v = x[i]!;
      if (v > m) m = v;
    }
  }
  return m;
}

function foldMin(x: NumericArray, base: number, blocks: Float64Array, run: number, empty: number): number {
  if (blocks.length === 0 || run === 0) return empty;
  let m = x[base + blocks[0]!]!;
  for (let b = 0; b < blocks.length; b++) {
    const start = base + blocks[b]!;
    const end = start + run;
    for (let i = start; i < end; i++) {
      const v = x[i]!;
      if (v < m) m = v;
    }
  }
  return m;
}

/**
 * log Σ exp(x), shifted by the maximum so large inputs do not overflow.
 * onnxruntime sums the integer types' exp terms in the integer type, which truncates each to 1
 * at the maximum and 0 elsewhere; `truncate` reproduces that.
 */
function foldLogSumExp(x: NumericArray, base: number, blocks: Float64Array, run: number, truncate: boolean): number {
  let m = -Infinity;
  for (let b = 0; b < blocks.length; b++) {
    const start = base + blocks[b]!;
    for (let i = start; i < start + run; i++) {
      const v = x[i]!;
      if (v > m || v !== v) m = v;
    }
  }
  // All -inf (or empty) gives -inf, any +inf gives +inf, NaN stays NaN: shifting would make NaN of the first two.
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let b = 0; b < blocks.length; b++) {
    const start = base + blocks[b]!;
    for (let i = start; i < start + run; i++) {
      const term = Math.exp(x[i]! - m);
      s += truncate ? Math.trunc(term) : term;
    }
  }
  return Math.log(s) + m;
}

function reduceInto(kind: ReduceKind, input: Tensor, reduced: readonly boolean[], output: Tensor): void {
  const { bases, blocks, run, count } = layoutOf(input.dims, reduced);
  const dtype = input.type;
  const y = output.data as NumericArray;
  const n = bases.length;
  if (kind === 'max' || kind === 'min') {
    const x = input.data as NumericArray;
    const empty = (kind === 'max' ? LOWEST : HIGHEST)[dtype] as number;
    if (kind === 'max') for (let o = 0; o < n; o++) y[o] = foldMax(x, bases[o]!, blocks, run, empty);
    else for (let o = 0; o < n; o++) y[o] = foldMin(x, bases[o]!, blocks, run, empty);
    return;
  }
  const x = isBigIntType(dtype) ? Float64Array.from(input.data as BigIntArray, Number) : (input.data as NumericArray);
  switch (kind) {
    case 'sum':
      for (let o = 0; o < n; o++) y[o] = finish(foldSum(x, bases[o]!, blocks, run), dtype);
      return;
    // onnxruntime gives 0 for the mean of nothing: the sum, 0, over a divisor of 1.
    case 'mean': {
      const divisor = Math.max(count, 1);
      for (let o = 0; o < n; o++) y[o] = finish(foldSum(x, bases[o]!, blocks, run) / divisor, dtype);
      return;
    }
    case 'sumSquare':
      for (let o = 0; o < n; o++) y[o] = finish(foldSumSquare(x, bases[o]!, blocks, run), dtype);
      return;
    case 'l1':
      for (let o = 0; o < n; o++) y[o] = finish(foldSumAbs(x, bases[o]!, blocks, run), dtype);
      return;
    case 'l2':
      for (let o = 0; o < n; o++) y[o] = finish(Math.sqrt(foldSumSquare(x, bases[o]!, blocks, run)), dtype);
      return;
    case 'prod':
      for (let o = 0; o < n; o++) y[o] = finish(foldProd(x, bases[o]!, blocks, run), dtype);
      return;
    case 'logSum':
      for (let o = 0; o < n; o++) y[o] = finish(Math.log(foldSum(x, bases[o]!, blocks, run)), dtype);
      return;
    case 'logSumExp': {
      const truncate = !isFloatType(dtype);
      for (let o = 0; o < n; o++) y[o] = finish(foldLogSumExp(x, bases[o]!, blocks, run, truncate), dtype);
      return;
    }
  }
}

/**
 * A float64 result in the output's element type. Integers take onnxruntime's rules: truncated
 * toward zero, saturated at the type's range, and the log of nothing or of a negative sum
 * (-inf, NaN) pinned to the minimum.
 */
function finish(v: number, dtype: DType): number {
  if (isFloatType(dtype)) return v;
  const lowest = LOWEST[dtype];
  const highest = HIGHEST[dtype];
  if (!(v > Number(lowest))) return lowest as number;
  if (v >= Number(highest)) return highest as number;
  return (isBigIntType(dtype) ? BigInt(Math.trunc(v)) : Math.trunc(v)) as number;
}
