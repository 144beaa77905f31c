/**
 * The engines behind the elementwise ops.
 *
 * Broadcasting: the output is walked as equal runs along its innermost axes, merged as far as
 * every operand stays contiguous (or stays broadcast) across them, so `(B,S,H) + (H)` is B·S
 * runs of H and `(B,S,H) * (B,S,1)` is B·S runs with the second operand held still. A loop
 * handles one run at a time, with each operand advancing by its step (1, or 0 where broadcast).
 *
 * Dtype routing: float32 goes to loops written out per op, so their element accesses and
 * arithmetic stay monomorphic; every other dtype goes through one generic loop calling the
 * op's element function (number or bigint), where stores into the output typed array give C's
 * wrap-around for integers.
 *
 * Also here: C's float → integer conversions as onnxruntime performs them, which Cast and Pow
 * share.
 */
import { isBigIntType, type DType, type Tensor, type TensorData } from '../tensor.js';
import { broadcastShapes, broadcastStrides } from './broadcast.js';
import type { InputMetas, NodeInfo, OpDefinition } from './types.js';
import { fail, meta, need, needTensor } from './util.js';

export const FLOATS: readonly DType[] = ['float32', 'float64'];
export const SIGNED: readonly DType[] = [...FLOATS, 'int8', 'int16', 'int32', 'int64'];
export const NUMERIC: readonly DType[] = [...SIGNED, 'uint8', 'uint16', 'uint32', 'uint64'];
export const ALL: readonly DType[] = [...NUMERIC, 'bool'];
/** What arithmetic accepted before opset 14 added the 8- and 16-bit integers. */
export const NUMERIC_WIDE: readonly DType[] = [...FLOATS, 'int32', 'int64', 'uint32', 'uint64'];

/** The dtypes an op accepts at a given opset. */
export type TypesAt = (opset: number) => readonly DType[];

export function checkType(node: NodeInfo, dtype: DType, allowed: readonly DType[], what = 'input'): void {
  if (!allowed.includes(dtype)) {
    fail(node, `${what} type ${dtype} is not supported at opset ${node.opset} (allowed: ${allowed.join(', ')})`);
  }
}

/** Numbers or bigints, as read from any typed array. */
export type Scalar = number | bigint;

/**
 * The output of a numpy broadcast as `count` runs of `length` elements. Inside a run operand k
 * advances by `steps[k]`; `offsets[k]` is where it starts the current run, and `next()` moves
 * every operand to the start of the following run.
 */
export class BroadcastRuns {
  readonly length: number;
  readonly count: number;
  readonly steps: readonly number[];
  readonly offsets: number[];
  /** Outer axis groups, innermost first: extent and each operand's stride. */
  private readonly extents: number[];
  private readonly strides: number[][];
  private readonly counters: number[];

  constructor(outDims: readonly number[], shapes: readonly (readonly number[])[]) {
    const all = shapes.map((s) => broadcastStrides(s, outDims));
    const extents: number[] = [];
    const strides: number[][] = [];
    for (let i = outDims.length - 1; i >= 0; i--) {
      const d = outDims[i]!;
      if (d === 1) continue;
      const st = all.map((s) => s[i]!);
      const g = extents.length - 1;
      // An axis continues the group inside it when every operand either keeps walking
      // contiguously across both or is broadcast along both.
      if (g >= 0 && st.every((t, k) => t === strides[g]![k]! * extents[g]!)) extents[g]! *= d;
      else {
        extents.push(d);
        strides.push(st);
      }
    }
    this.length = extents.length > 0 ? extents[0]! : 1;
    this.steps = strides.length > 0 ? strides[0]! : shapes.map(() => 0);
    this.extents = extents.slice(1);
    this.strides = strides.slice(1);
    this.count = this.extents.reduce((p, e) => p * e, outDims.includes(0) ? 0 : 1);
    this.offsets = shapes.map(() => 0);
    this.counters = this.extents.map(() => 0);
  }

  next(): void {
    const { extents, strides, counters, offsets } = this;
    for (let g = 0; g < extents.length; g++) {
      const st = strides[g]!;
      if (++counters[g]! < extents[g]!) {
        for (let k = 0; k < offsets.length; k++) offsets[k]! += st[k]!;
        return;
      }
      counters[g] = 0;
      const back = extents[g]! - 1;
      for (let k = 0; k < offsets.length; k++) offsets[k]! -= st[k]! * back;
    }
  }
}

/** One run of a binary op: a and b advance by sa and sb per output element. */
export type BinaryLoop<A = TensorData, B = TensorData, O = TensorData> = (
  a: A,
  ia: number,
  sa: number,
  b: B,
  ib: number,
  sb: number,
  o: O,
  io: number,
  n: number,
) => void;

/** Whether `dims` (leading 1s aside) are the trailing dims of `outDims`: a bias-like operand. */
function isTrailing(dims: readonly number[], outDims: readonly number[]): boolean {
  let first = 0;
  while (first < dims.length && dims[first] === 1) first++;
  const offset = outDims.length - dims.length;
  for (let i = first; i < dims.length; i++) if (dims[i] !== outDims[offset + i]) return false;
  return true;
}

/** o = loop(a, b) under numpy broadcasting; o's dims are the broadcast of a's and b's. */
export function broadcastBinary<A extends TensorData, B extends TensorData, O extends TensorData>(
  a: Tensor,
  b: Tensor,
  o: Tensor,
  loop: BinaryLoop<A, B, O>,
): void {
  const n = o.size;
  if (n === 0) return;
  const ad = a.data as A;
  const bd = b.data as B;
  const od = o.data as O;
  // An operand as large as the output is laid out like it (broadcast dims can only be 1).
  if (a.size === n) {
    if (b.size === n) return loop(ad, 0, 1, bd, 0, 1, od, 0, n);
    if (b.size === 1) return loop(ad, 0, 1, bd, 0, 0, od, 0, n);
    if (isTrailing(b.dims, o.dims)) {
      const m = b.size;
      for (let r = 0; r < n; r += m) loop(ad, r, 1, bd, 0, 1, od, r, m);
      return;
    }
  } else if (b.size === n) {
    if (a.size === 1) return loop(ad, 0, 0, bd, 0, 1, od, 0, n);
    if (isTrailing(a.dims, o.dims)) {
      const m = a.size;
      for (let r = 0; r < n; r += m) loop(ad, 0, 1, bd, r, 1, od, r, m);
      return;
    }
  }
  const runs = new BroadcastRuns(o.dims, [a.dims, b.dims]);
  const { length, steps, offsets } = runs;
  for (let r = 0, io = 0; r < runs.count; r++, io += length) {
    loop(ad, offsets[0]!, steps[0]!, bd, offsets[1]!, steps[1]!, od, io, length);
    runs.next();
  }
}

/** One run of a ternary op (Where), like BinaryLoop with a third operand. */
export type TernaryLoop<A = TensorData, B = TensorData, C = TensorData, O = TensorData> = (
  a: A,
  ia: number,
  sa: number,
  b: B,
  ib: number,
  sb: number,
  c: C,
  ic: number,
  sc: number,
  o: O,
  io: number,
  n: number,
) => void;

export function broadcastTernary<A extends TensorData, B extends TensorData, C extends TensorData, O extends TensorData>(
  a: Tensor,
  b: Tensor,
  c: Tensor,
  o: Tensor,
  loop: TernaryLoop<A, B, C, O>,
): void {
  const n = o.size;
  if (n === 0) return;
  const ad = a.data as A;
  const bd = b.data as B;
  const cd = c.data as C;
  const od = o.data as O;
  if (a.size === n && b.size === n && c.size === n) return loop(ad, 0, 1, bd, 0, 1, cd, 0, 1, od, 0, n);
  const runs = new BroadcastRuns(o.dims, [a.dims, b.dims, c.dims]);
  const { length, steps, offsets } = runs;
  for (let r = 0, io = 0; r < runs.count; r++, io += length) {
    loop(ad, offsets[0]!, steps[0]!, bd, offsets[1]!, steps[1]!, cd, offsets[2]!, steps[2]!, od, io, length);
    runs.next();
  }
}

/** The generic run loop over an element function; the store converts (and wraps) the result. */
function elementLoop<T extends Scalar, R extends Scalar>(fn: (x: T, y: T) => R): BinaryLoop {
  return (a, ia, sa, b, ib, sb, o, io, n) => {
    const x = a as unknown as T[];
    const y = b as unknown as T[];
    const out = o as unknown as R[];
    for (const end = io + n; io < end; io++, ia += sa, ib += sb) out[io] = fn(x[ia]!, y[ib]!);
  };
}

/** Both inputs' metas, checked to share one allowed dtype; the broadcast output shape. */
function inferBinary(node: NodeInfo, inputs: InputMetas, types: TypesAt) {
  const a = need(node, inputs, 0);
  const b = need(node, inputs, 1);
  checkType(node, a.dtype, types(node.opset));
  if (b.dtype !== a.dtype) fail(node, `inputs must share one type, got ${a.dtype} and ${b.dtype}`);
  return { dtype: a.dtype, shape: broadcastShapes(node, [a.shape, b.shape]) };
}

export interface ArithmeticKernels {
  readonly f32: BinaryLoop<Float32Array, Float32Array, Float32Array>;
  /** float64, and the integers held as numbers unless `int` is given. */
  readonly num: (x: number, y: number) => number;
  /** 8- to 32-bit integers, where float math on numbers would differ from C's integer math. */
  readonly int?: (x: number, y: number) => number;
  readonly big: (x: bigint, y: bigint) => bigint;
}

/** Add, Sub, Mul, Div: same-typed inputs, numpy broadcasting, output of the inputs' type. */
export function arithmeticOp(opType: string, versions: [number, number], kernels: ArithmeticKernels): OpDefinition {
  const types: TypesAt = (opset) => (opset >= 14 ? NUMERIC : NUMERIC_WIDE);
  const numLoop = elementLoop(kernels.num);
  const intLoop = kernels.int ? elementLoop(kernels.int) : numLoop;
  const bigLoop = elementLoop(kernels.big);
  return {
    opType,
    domain: '',
    versions,
    infer(node, inputs) {
      const { dtype, shape } = inferBinary(node, inputs, types);
      return [meta(dtype, shape)];
    },
    run(node, inputs, out) {
      const a = needTensor(node, inputs, 0);
      const b = needTensor(node, inputs, 1);
      const o = out.alloc(0, a.type, broadcastShapes(node, [a.dims, b.dims])!);
      const t = a.type;
      const loop = t === 'float32' ? kernels.f32 : t === 'float64' ? numLoop : isBigIntType(t) ? bigLoop : intLoop;
      broadcastBinary(a, b, o, loop as BinaryLoop);
      return [o];
    },
  };
}

export interface ComparisonKernels {
  readonly f32?: BinaryLoop<Float32Array, Float32Array, Uint8Array>;
  readonly test: (x: Scalar, y: Scalar) => boolean;
}

/** Comparisons and binary logic: same-typed inputs, numpy broadcasting, bool output. */
export function comparisonOp(
  opType: string,
  versions: [number, number],
  types: TypesAt,
  kernels: ComparisonKernels,
): OpDefinition {
  const test = kernels.test;
  const generic = elementLoop((x: Scalar, y: Scalar) => (test(x, y) ? 1 : 0));
  return {
    opType,
    domain: '',
    versions,
    infer(node, inputs) {
      return [meta('bool', inferBinary(node, inputs, types).shape)];
    },
    run(node, inputs, out) {
      const a = needTensor(node, inputs, 0);
      const b = needTensor(node, inputs, 1);
      const o = out.alloc(0, 'bool', broadcastShapes(node, [a.dims, b.dims])!);
      const loop = a.type === 'float32' && kernels.f32 ? kernels.f32 : generic;
      broadcastBinary(a, b, o, loop as BinaryLoop);
      return [o];
    },
  };
}

export interface UnaryKernels {
  /** The float32 loop: o[i] = f(x[i]) for i < n. */
  readonly f32?: (x: Float32Array, o: Float32Array, n: number) => void;
  /** float64 and the integers held as numbers. */
  readonly num?: (x: number) => number;
  readonly big?: (x: bigint) => bigint;
}

/** Ops of one input mapped element by element to an output of its type and shape. */
export function unaryOp(opType: string, versions: [number, number], types: TypesAt, kernels: UnaryKernels): OpDefinition {
  const { f32, num, big } = kernels;
  return {
    opType,
    domain: '',
    versions,
    infer(node, inputs) {
      const x = need(node, inputs, 0);
      checkType(node, x.dtype, types(node.opset));
      return [meta(x.dtype, x.shape)];
    },
    run(node, inputs, out) {
      const x = needTensor(node, inputs, 0);
      const o = out.alloc(0, x.type, x.dims);
      const n = x.size;
      if (x.type === 'float32' && f32) f32(x.data as Float32Array, o.data as Float32Array, n);
      else if (isBigIntType(x.type) && big) {
        const src = x.data as BigInt64Array;
        const dst = o.data as BigInt64Array;
        for (let i = 0; i < n; i++) dst[i] = big(src[i]!);
      } else if (!isBigIntType(x.type) && num) {
        const src = x.data as Float64Array;
        const dst = o.data as Float64Array;
        for (let i = 0; i < n; i++) dst[i] = num(src[i]!);
      } else fail(node, `input type ${x.type} is not supported`);
      return [o];
    },
  };
}

/**
 * A float32/float64 activation with float attributes: dst = f(x, params, isFloat32), where
 * params holds the attributes named in `defaults` (in that order), read from the node.
 */
export function floatActivationOp(
  opType: string,
  versions: [number, number],
  defaults: Readonly<Record<string, number>>,
  f: (x: number, params: readonly number[], float32: boolean) => number,
): OpDefinition {
  const names = Object.keys(defaults);
  const params = (node: NodeInfo) => names.map((name) => node.attrs.float(name, defaults[name]!));
  return {
    opType,
    domain: '',
    versions,
    infer(node, inputs) {
      const x = need(node, inputs, 0);
      checkType(node, x.dtype, FLOATS);
      params(node);
      return [meta(x.dtype, x.shape)];
    },
    run(node, inputs, out) {
      const x = needTensor(node, inputs, 0);
      const p = params(node);
      const o = out.alloc(0, x.type, x.dims);
      const src = x.data as Float32Array | Float64Array;
      const dst = o.data as Float32Array | Float64Array;
      const float32 = x.type === 'float32';
      for (let i = 0; i < src.length; i++) dst[i] = f(src[i]!, p, float32);
      return [o];
    },
  };
}

// C's float → integer conversions as onnxruntime's x86 build performs them (cvttss2si and
// friends): truncate toward zero; NaN and out-of-range values give the "integer indefinite"
// (the type's minimum); unsigned targets subtract 2^31 / 2^63 first for values above it.
const TWO_31 = 2147483648;
const TWO_63 = 9223372036854775808;
const INT64_MIN = -(2n ** 63n);

/** (int32_t)x; 8- and 16-bit targets take the low bits of this, which a typed-array store does. */
export function toInt32(x: number): number {
  const t = Math.trunc(x);
  return t >= -TWO_31 && t < TWO_31 ? t : -TWO_31;
}

/** (uint32_t)x as an int32 bit pattern; a Uint32Array store reads it as unsigned. */
export function toUint32(x: number): number {
  return x >= TWO_31 ? toInt32(x - TWO_31) ^ -TWO_31 : toInt32(x);
}

export function toInt64(x: number): bigint {
  const t = Math.trunc(x);
  return t >= -TWO_63 && t < TWO_63 ? BigInt(t) : INT64_MIN;
}

/** (uint64_t)x as an int64 bit pattern; a BigUint64Array store reads it as unsigned. */
export function toUint64(x: number): bigint {
  return x >= TWO_63 ? toInt64(x - TWO_63) ^ INT64_MIN : toInt64(x);
}

const EXACT = 2n ** 53n;

/**
 * A 64-bit integer rounded once to the nearest float32. Rounding to float64 first could land
 * on a float32 tie and round the wrong way, so beyond 2^53 the bits below float64's precision
 * are folded into a sticky low bit first (round to odd), which float32 rounding then respects.
 */
export function bigintToFloat32(v: bigint): number {
  const mag = v < 0n ? -v : v;
  if (mag < EXACT) return Math.fround(Number(v));
  const shift = mag.toString(2).length - 53;
  const big = BigInt(shift);
  let q = mag >> big;
  if (q << big !== mag) q |= 1n;
  const r = Math.fround(Number(q) * 2 ** shift);
  return v < 0n ? -r : r;
}
