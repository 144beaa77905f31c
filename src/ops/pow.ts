import { broadcastShapes } from './broadcast.js';
import {
  broadcastBinary,
  checkType,
  FLOATS,
  NUMERIC,
  toInt32,
  toInt64,
  type BinaryLoop,
  type Scalar,
  type TypesAt,
} from './elementwise.js';
import type { OpDefinition } from './types.js';
import { fail, meta, need, needTensor } from './util.js';

// Opset 12 split the exponent's type from the base's and allowed integers.
const BASE_TYPES: TypesAt = (opset) => (opset >= 12 ? [...FLOATS, 'int32', 'int64'] : FLOATS);
const EXPONENT_TYPES: TypesAt = (opset) => (opset >= 12 ? NUMERIC : FLOATS);

/** C's pow, which (unlike Math.pow) gives 1 for base 1 and for base −1 with an infinite exponent. */
function cpow(x: number, y: number): number {
  return x === 1 || (x === -1 && Math.abs(y) === Infinity) ? 1 : Math.pow(x, y);
}

/**
 * pow for an int64 base. Above 2^53 Math.pow can be an ulp away from the correctly rounded
 * value glibc's pow returns, and the conversion to int64 would show it; an integral power
 * there is computed exactly and rounded once instead. (Past 2^65 it overflows int64 anyway.)
 * Exact ties still may differ: glibc rounds those either way, as its approximation falls.
 */
function int64Pow(x: number, y: number): number {
  const r = cpow(x, y);
  const mag = Math.abs(r);
  if (mag <= 2 ** 53 || mag >= 2 ** 65 || !Number.isInteger(y)) return r;
  return Number(BigInt(x) ** BigInt(y));
}

/**
 * Whether onnxruntime's broadcaster hands Pow its exponent as one scalar per span: then it
 * computes exponents 2 and 3 as x·x and x·x·x in the base's type, which wraps for integers and
 * rounds differently for floats than pow. The broadcaster decides at the innermost of the
 * trailing axes both shapes have whose extent exceeds 1 (else the outermost of them): the
 * exponent is a per-span scalar when there the base spans more than 1 and the exponent 1.
 */
function exponentPerSpan(x: readonly number[], y: readonly number[]): boolean {
  const shared = Math.min(x.length, y.length);
  if (shared === 0) return y.length === 0 && x.length > 0 && x[x.length - 1]! > 1;
  let i = 1;
  while (i < shared && Math.max(x[x.length - i]!, y[y.length - i]!) <= 1) i++;
  return x[x.length - i]! > 1 && y[y.length - i]! === 1;
}

const powF32: BinaryLoop<Float32Array, Float32Array, Float32Array> = (a, ia, sa, b, ib, sb, o, io, n) => {
  for (const end = io + n; io < end; io++, ia += sa, ib += sb) o[io] = cpow(a[ia]!, b[ib]!);
};

// Within a per-span-scalar run the exponent does not move, so it is read once.
const powF32Scalar: BinaryLoop<Float32Array, Float32Array, Float32Array> = (a, ia, sa, b, ib, _sb, o, io, n) => {
  const e = b[ib]!;
  const end = io + n;
  if (e === 2) {
    for (; io < end; io++, ia += sa) o[io] = a[ia]! * a[ia]!;
  } else if (e === 3) {
    for (; io < end; io++, ia += sa) o[io] = Math.fround(a[ia]! * a[ia]!) * a[ia]!;
  } else {
    for (; io < end; io++, ia += sa) o[io] = cpow(a[ia]!, e);
  }
};

/** Per base type: x², x³ in the base's arithmetic, and C's static_cast<T>(pow(x, y)). */
interface PowKernels<T extends Scalar> {
  square(x: T): T;
  cube(x: T): T;
  pow(x: T, y: number): T;
}

function powLoops<T extends Scalar>(k: PowKernels<T>): { vector: BinaryLoop; scalar: BinaryLoop } {
  return {
    vector(a, ia, sa, b, ib, sb, o, io, n) {
      const x = a as unknown as T[];
      const y = b as unknown as Scalar[];
      const out = o as unknown as T[];
      for (const end = io + n; io < end; io++, ia += sa, ib += sb) out[io] = k.pow(x[ia]!, Number(y[ib]!));
    },
    scalar(a, ia, sa, b, ib, _sb, o, io, n) {
      const x = a as unknown as T[];
      const out = o as unknown as T[];
      const e = Number(b[ib]!);
      const f = e === 2 ? k.square : e === 3 ? k.cube : (v: T) => k.pow(v, e);
      for (const end = io + n; io < end; io++, ia += sa) out[io] = f(x[ia]!);
    },
  };
}

const LOOPS = {
  float32: powLoops<number>({ square: (x) => x * x, cube: (x) => Math.fround(x * x) * x, pow: cpow }),
  float64: powLoops<number>({ square: (x) => x * x, cube: (x) => x * x * x, pow: cpow }),
  int32: powLoops<number>({
    square: (x) => Math.imul(x, x),
    cube: (x) => Math.imul(Math.imul(x, x), x),
    pow: (x, y) => toInt32(cpow(x, y)),
  }),
  int64: powLoops<bigint>({ square: (x) => x * x, cube: (x) => x * x * x, pow: (x, y) => toInt64(int64Pow(Number(x), y)) }),
};

export const Pow: OpDefinition = {
  opType: 'Pow',
  domain: '',
  versions: [7, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const y = need(node, inputs, 1);
    checkType(node, x.dtype, BASE_TYPES(node.opset), 'base');
    checkType(node, y.dtype, EXPONENT_TYPES(node.opset), 'exponent');
    if (node.opset < 12 && y.dtype !== x.dtype) fail(node, `base and exponent must share one type, got ${x.dtype} and ${y.dtype}`);
    return [meta(x.dtype, broadcastShapes(node, [x.shape, y.shape]))];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const y = needTensor(node, inputs, 1);
    const o = out.alloc(0, x.type, broadcastShapes(node, [x.dims, y.dims])!);
    const perSpan = exponentPerSpan(x.dims, y.dims);
    let loop: BinaryLoop;
    if (x.type === 'float32' && y.type === 'float32') loop = (perSpan ? powF32Scalar : powF32) as BinaryLoop;
    else {
      const loops = LOOPS[x.type as keyof typeof LOOPS];
      loop = perSpan ? loops.scalar : loops.vector;
    }
    broadcastBinary(x, y, o, loop);
    return [o];
  },
};
