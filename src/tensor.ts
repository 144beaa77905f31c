import { LambertError } from './errors.js';

/** Element types lambert computes with. The API names match onnxruntime-common's. */
export type DType =
  | 'float32'
  | 'float64'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool';

export interface DataTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
}

export type TensorData = DataTypeMap[DType];
/** Any typed array holding plain numbers (everything except the 64-bit integer types). */
export type NumericArray = Exclude<TensorData, BigInt64Array | BigUint64Array>;
export type BigIntArray = BigInt64Array | BigUint64Array;

type TypedArrayConstructor = {
  new (length: number): TensorData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  readonly BYTES_PER_ELEMENT: number;
};

const constructors: Record<DType, TypedArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
} as Record<DType, TypedArrayConstructor>;

export const DTYPES = Object.keys(constructors) as DType[];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(constructors, value);
}

export function bytesPerElement(dtype: DType): number {
  return constructors[dtype].BYTES_PER_ELEMENT;
}

export function isBigIntType(dtype: DType): dtype is 'int64' | 'uint64' {
  return dtype === 'int64' || dtype === 'uint64';
}

export function isFloatType(dtype: DType): dtype is 'float32' | 'float64' {
  return dtype === 'float32' || dtype === 'float64';
}

export function allocate<T extends DType>(dtype: T, size: number): DataTypeMap[T] {
  return new constructors[dtype](size) as DataTypeMap[T];
}

/** A typed-array view of `byteLength` bytes at `byteOffset`; the caller guarantees alignment. */
export function viewOf<T extends DType>(
  dtype: T,
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number,
): DataTypeMap[T] {
  return new constructors[dtype](buffer, byteOffset, length) as DataTypeMap[T];
}

/** The dtype whose typed array class `data` is an instance of (Uint8Array reads as uint8). */
export function dtypeOfArray(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof BigUint64Array) return 'uint64';
  return undefined;
}

export function sizeOf(dims: readonly number[]): number {
  let size = 1;
  for (const d of dims) size *= d;
  return size;
}

function checkDims(dims: unknown): asserts dims is readonly number[] {
  // onnxruntime-common takes dims only as a plain array (a typed array or a number is a TypeError there).
  if (!Array.isArray(dims)) throw new LambertError('INVALID_INPUT', `tensor dims must be an array of numbers, got ${describeValue(dims)}`);
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new LambertError('INVALID_INPUT', `tensor dims must be non-negative integers, got [${dims.join(',')}]`);
    }
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value === 'bigint' ? `${value}n` : `${typeof value} ${String(value)}`;
}

/** Element types onnxruntime has and lambert does not compute with (UNSUPPORTED_TYPE, not a typo). */
const ORT_ONLY_TYPES = new Set(['string', 'float16', 'bfloat16', 'int4', 'uint4', 'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz']);

function fromPlainArray(dtype: DType, values: readonly unknown[]): TensorData {
  const out = allocate(dtype, values.length);
  if (isBigIntType(dtype)) {
    const big = out as BigIntArray;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v === 'bigint') big[i] = v;
      else if (typeof v === 'number' && Number.isInteger(v)) big[i] = BigInt(v);
      else throw new LambertError('INVALID_INPUT', `${dtype} tensor values must be integers or bigints, got ${describeValue(v)} at index ${i}`);
    }
  } else {
    const num = out as NumericArray;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      // onnxruntime-common's Float32Array.from(...) and the like throw a TypeError on a bigint.
      if (typeof v === 'bigint') {
        throw new LambertError('INVALID_INPUT', `${dtype} tensor values must be numbers, got ${describeValue(v)} at index ${i} (bigints are for int64/uint64)`);
      }
      num[i] = Number(v);
    }
  }
  return out;
}

/**
 * The type and data of `new Tensor(array, dims)`, as onnxruntime-common infers them: a boolean[]
 * is a bool tensor, a string[] a string tensor (which lambert does not support); number[] and
 * bigint[] need an explicit type.
 */
function inferFromArray(values: readonly unknown[]): { type: DType; data: TensorData } {
  if (values.length === 0) {
    throw new LambertError('INVALID_INPUT', "a tensor's type cannot be inferred from an empty array; use new Tensor(type, [], dims)");
  }
  const first = typeof values[0];
  if (first === 'boolean') {
    const data = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'boolean') throw new LambertError('INVALID_INPUT', `a bool tensor's array must hold only booleans, got ${describeValue(v)} at index ${i}`);
      data[i] = v ? 1 : 0;
    }
    return { type: 'bool', data };
  }
  if (first === 'string') throw new LambertError('UNSUPPORTED_TYPE', 'string tensors are not supported by lambert');
  const hint = first === 'bigint' ? "new Tensor('int64', data, dims)" : "new Tensor('float32', data, dims) (or another numeric type)";
  throw new LambertError('INVALID_INPUT', `the element type of a ${first} array cannot be inferred (only boolean arrays can); use ${hint}`);
}

/**
 * A dense tensor, compatible with onnxruntime-common's `Tensor`:
 * `new Tensor('float32', data, dims)`, `new Tensor(float32Array, dims)` or `new Tensor([true, false], dims)`
 * (bool). int64 data is a BigInt64Array; bool data is a Uint8Array of 0/1.
 */
export class Tensor<T extends DType = DType> {
  readonly type: T;
  readonly data: DataTypeMap[T];
  readonly dims: readonly number[];
  readonly size: number;
  readonly location = 'cpu' as const;

  constructor(type: T, data: DataTypeMap[T] | readonly (number | bigint | boolean)[], dims?: readonly number[]);
  constructor(data: DataTypeMap[T] | readonly boolean[], dims?: readonly number[]);
  constructor(
    typeOrData: T | DataTypeMap[T] | readonly boolean[],
    dataOrDims?: DataTypeMap[T] | readonly (number | bigint | boolean)[] | readonly number[],
    maybeDims?: readonly number[],
  ) {
    let type: DType;
    let data: TensorData;
    let dims: unknown;
    if (typeof typeOrData === 'string') {
      if (!isDType(typeOrData)) {
        if (ORT_ONLY_TYPES.has(typeOrData)) throw new LambertError('UNSUPPORTED_TYPE', `${typeOrData} tensors are not supported by lambert`);
        throw new LambertError('INVALID_INPUT', `unsupported tensor type "${String(typeOrData)}"`);
      }
      type = typeOrData;
      const given: unknown = dataOrDims;
      if (Array.isArray(given)) data = fromPlainArray(type, given);
      else if (given instanceof Uint8ClampedArray) {
        // onnxruntime-common copies a Uint8ClampedArray into a uint8 tensor.
        if (type !== 'uint8') throw new LambertError('INVALID_INPUT', `a Uint8ClampedArray can only be the data of a uint8 tensor, not ${type}`);
        data = Uint8Array.from(given);
      } else if (ArrayBuffer.isView(given)) {
        const actual = dtypeOfArray(given);
        const ok = actual === type || (type === 'bool' && actual === 'uint8');
        if (!ok) throw new LambertError('INVALID_INPUT', `a ${type} tensor needs a ${constructors[type].name}, got ${given.constructor.name}`);
        data = given as TensorData;
      } else throw new LambertError('INVALID_INPUT', `tensor data must be a typed array or an array, got ${describeValue(given)}`);
      dims = maybeDims;
    } else if (Array.isArray(typeOrData)) {
      ({ type, data } = inferFromArray(typeOrData));
      dims = dataOrDims;
    } else if (typeOrData instanceof Uint8ClampedArray) {
      type = 'uint8';
      data = Uint8Array.from(typeOrData);
      dims = dataOrDims;
    } else {
      const actual = dtypeOfArray(typeOrData);
      if (!actual) throw new LambertError('INVALID_INPUT', `tensor data must be a typed array, got ${describeValue(typeOrData)}`);
      type = actual;
      data = typeOrData as TensorData;
      dims = dataOrDims;
    }
    if (dims === undefined) dims = [data.length];
    checkDims(dims);
    const finalDims = [...dims];
    const size = sizeOf(finalDims);
    if (size !== data.length) {
      throw new LambertError(
        'INVALID_INPUT',
        `tensor dims [${finalDims.join(',')}] hold ${size} elements but the data has ${data.length}`,
      );
    }
    this.type = type as T;
    this.data = data as DataTypeMap[T];
    this.dims = Object.freeze(finalDims);
    this.size = size;
  }

  /** A tensor over the same data with other dims (no copy). */
  reshape(dims: readonly number[]): Tensor<T> {
    return new Tensor(this.type, this.data, dims);
  }

  /** Present for onnxruntime-common compatibility; CPU tensors need no release. */
  dispose(): void {}

  /** Present for onnxruntime-common compatibility. */
  async getData(): Promise<DataTypeMap[T]> {
    return this.data;
  }
}
