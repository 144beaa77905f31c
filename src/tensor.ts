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

function checkDims(dims: readonly number[]): void {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new LambertError('INVALID_INPUT', `tensor dims must be non-negative integers, got [${dims.join(',')}]`);
    }
  }
}

function fromPlainArray(dtype: DType, values: readonly (number | bigint | boolean)[]): TensorData {
  const out = allocate(dtype, values.length);
  if (isBigIntType(dtype)) {
    const big = out as BigIntArray;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (typeof v === 'bigint') big[i] = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) big[i] = BigInt(v);
      else throw new LambertError('INVALID_INPUT', `${dtype} tensor values must be integers or bigints, got ${String(v)}`);
    }
  } else {
    const num = out as NumericArray;
    for (let i = 0; i < values.length; i++) num[i] = Number(values[i]);
  }
  return out;
}

/**
 * A dense tensor, compatible with onnxruntime-common's `Tensor`:
 * `new Tensor('float32', data, dims)` or `new Tensor(float32Array, dims)`.
 * int64 data is a BigInt64Array; bool data is a Uint8Array of 0/1.
 */
export class Tensor<T extends DType = DType> {
  readonly type: T;
  readonly data: DataTypeMap[T];
  readonly dims: readonly number[];
  readonly size: number;
  readonly location = 'cpu' as const;

  constructor(type: T, data: DataTypeMap[T] | readonly (number | bigint | boolean)[], dims?: readonly number[]);
  constructor(data: DataTypeMap[T], dims?: readonly number[]);
  constructor(
    typeOrData: T | DataTypeMap[T],
    dataOrDims?: DataTypeMap[T] | readonly (number | bigint | boolean)[] | readonly number[],
    maybeDims?: readonly number[],
  ) {
    let type: DType;
    let data: TensorData;
    let dims: readonly number[] | undefined;
    if (typeof typeOrData === 'string') {
      if (!isDType(typeOrData)) throw new LambertError('INVALID_INPUT', `unsupported tensor type "${String(typeOrData)}"`);
      type = typeOrData;
      const given = dataOrDims;
      if (Array.isArray(given)) data = fromPlainArray(type, given);
      else if (ArrayBuffer.isView(given)) {
        const actual = dtypeOfArray(given);
        const ok = actual === type || (type === 'bool' && actual === 'uint8');
        if (!ok) throw new LambertError('INVALID_INPUT', `a ${type} tensor needs a ${constructors[type].name}, got ${given.constructor.name}`);
        data = given as TensorData;
      } else throw new LambertError('INVALID_INPUT', `tensor data must be a typed array or an array`);
      dims = maybeDims;
    } else {
      const actual = dtypeOfArray(typeOrData);
      if (!actual) throw new LambertError('INVALID_INPUT', 'tensor data must be a typed array');
      type = actual;
      data = typeOrData as TensorData;
      dims = dataOrDims as readonly number[] | undefined;
    }
    const finalDims = dims ? [...dims] : [data.length];
    checkDims(finalDims);
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
