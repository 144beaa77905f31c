import { readFileSync, statSync } from 'node:fs';
import { resolve, dirname, sep } from 'node:path';
import { LambertError } from './errors.js';
import { onnx, toBigInt, toSafeNumber } from './proto.js';
import {
  allocate,
  bytesPerElement,
  sizeOf,
  Tensor,
  viewOf,
  type BigIntArray,
  type DType,
  type NumericArray,
  type TensorData,
} from './tensor.js';

const DataType = onnx.TensorProto.DataType;

const ONNX_TO_DTYPE: Partial<Record<number, DType>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.UINT16]: 'uint16',
  [DataType.INT16]: 'int16',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.BOOL]: 'bool',
  [DataType.DOUBLE]: 'float64',
  [DataType.UINT32]: 'uint32',
  [DataType.UINT64]: 'uint64',
};

export const DTYPE_TO_ONNX: Record<DType, number> = {
  float32: DataType.FLOAT,
  uint8: DataType.UINT8,
  int8: DataType.INT8,
  uint16: DataType.UINT16,
  int16: DataType.INT16,
  int32: DataType.INT32,
  int64: DataType.INT64,
  bool: DataType.BOOL,
  float64: DataType.DOUBLE,
  uint32: DataType.UINT32,
  uint64: DataType.UINT64,
};

/** Maps an ONNX element type number to a dtype, or throws naming `what`. */
export function dtypeFromOnnx(elemType: number | null | undefined, what: string): DType {
  const dtype = ONNX_TO_DTYPE[elemType ?? 0];
  if (!dtype) {
    const name = DataType[elemType ?? 0] ?? String(elemType);
    throw new LambertError('UNSUPPORTED_TYPE', `${what}: element type ${name} is not supported`);
  }
  return dtype;
}

export interface TensorDecodeOptions {
  /** Directory that external data locations are relative to; without it external data is an error. */
  baseDir?: string;
  /** Upper bound on bytes any single tensor may claim, and on an external data file's size. */
  maxBytes?: number;
}

/**
 * Decodes a TensorProto. raw_data that is suitably aligned becomes a zero-copy view of the
 * model bytes, so a model's weights are never copied on load. Nothing is allocated before the
 * claimed size is checked against the data actually present: raw_data and external ranges
 * must match it byte for byte, typed fields value for value, so a tensor can never claim more
 * than the file holds.
 */
export function tensorFromProto(proto: onnx.ITensorProto, what: string, options: TensorDecodeOptions = {}): Tensor {
  const label = proto.name ? `${what} "${proto.name}"` : what;
  if (proto.segment) throw new LambertError('INVALID_MODEL', `${label}: segmented tensors are not supported`);
  const dtype = dtypeFromOnnx(proto.dataType, label);
  const dims = (proto.dims ?? []).map((d) => toSafeNumber(d, `${label} dims`));
  for (const d of dims) {
    if (d < 0) throw new LambertError('INVALID_MODEL', `${label}: negative dimension in [${dims.join(',')}]`);
  }
  const size = sizeOf(dims);
  const byteLength = size * bytesPerElement(dtype);
  if (!Number.isSafeInteger(byteLength)) {
    throw new LambertError('INVALID_MODEL', `${label}: dims [${dims.join(',')}] overflow`);
  }
  let bytes: Uint8Array | undefined;
  if (proto.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    bytes = readExternal(proto, label, options);
  } else if (proto.rawData && proto.rawData.length > 0) {
    bytes = proto.rawData;
  }
  if (bytes) {
    if (bytes.length !== byteLength) {
      throw new LambertError(
        'INVALID_MODEL',
        `${label}: ${dtype} dims [${dims.join(',')}] need ${byteLength} bytes but the data has ${bytes.length}`,
      );
    }
    checkLimit(label, dtype, dims, byteLength, options);
    return new Tensor(dtype, viewBytes(dtype, bytes, size), dims);
  }
  const source = typedSource(proto, dtype);
  if (source.length !== size) {
    throw new LambertError('INVALID_MODEL', `${label}: ${dtype} dims [${dims.join(',')}] need ${size} values, found ${source.length}`);
  }
  checkLimit(label, dtype, dims, byteLength, options);
  return new Tensor(dtype, fromTypedFields(source, dtype), dims);
}

function checkLimit(label: string, dtype: DType, dims: readonly number[], byteLength: number, options: TensorDecodeOptions): void {
  if (options.maxBytes !== undefined && byteLength > options.maxBytes) {
    throw new LambertError(
      'RESOURCE_LIMIT',
      `${label}: ${dtype} dims [${dims.join(',')}] need ${byteLength} bytes, over maxMemoryBytes (${options.maxBytes})`,
    );
  }
}

function viewBytes(dtype: DType, bytes: Uint8Array, size: number): TensorData {
  const width = bytesPerElement(dtype);
  if (bytes.byteOffset % width === 0) return viewOf(dtype, bytes.buffer, bytes.byteOffset, size);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return viewOf(dtype, copy.buffer, 0, size);
}

type TypedSource = readonly (number | import('long').default)[];

function typedSource(proto: onnx.ITensorProto, dtype: DType): TypedSource {
  switch (dtype) {
    case 'float32':
      return proto.floatData ?? [];
    case 'float64':
      return proto.doubleData ?? [];
    case 'int64':
      return proto.int64Data ?? [];
    case 'uint32':
    case 'uint64':
      return proto.uint64Data ?? [];
    default:
      return proto.int32Data ?? [];
  }
}

function fromTypedFields(source: TypedSource, dtype: DType): TensorData {
  const size = source.length;
  const out = allocate(dtype, size);
  if (dtype === 'int64' || dtype === 'uint64') {
    const big = out as BigIntArray;
    for (let i = 0; i < size; i++) big[i] = toBigInt(source[i]!);
  } else {
    const num = out as NumericArray;
    for (let i = 0; i < size; i++) {
      const v = source[i]!;
      num[i] = typeof v === 'number' ? v : v.toNumber();
    }
  }
  return out;
}

function readExternal(proto: onnx.ITensorProto, label: string, options: TensorDecodeOptions): Uint8Array {
  const baseDir = options.baseDir;
  if (baseDir === undefined) {
    throw new LambertError(
      'INVALID_MODEL',
      `${label}: weights are stored in an external file; create the session from a file path so it can be found`,
    );
  }
  const entries = new Map((proto.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entries.get('location');
  if (!location) throw new LambertError('INVALID_MODEL', `${label}: external data without a location`);
  const root = resolve(baseDir);
  const path = resolve(root, location);
  if (path !== root && !path.startsWith(root + sep)) {
    throw new LambertError('INVALID_MODEL', `${label}: external data location "${location}" leaves the model directory`);
  }
  const offset = Number(entries.get('offset') ?? '0');
  const lengthText = entries.get('length');
  let file: Uint8Array;
  try {
    file = readExternalFile(path, label, options.maxBytes);
  } catch (err) {
    if (err instanceof LambertError) throw err;
    throw new LambertError('IO_ERROR', `${label}: cannot read external data "${location}": ${(err as Error).message}`, {
      cause: err,
    });
  }
  const length = lengthText === undefined ? file.length - offset : Number(lengthText);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > file.length) {
    throw new LambertError('INVALID_MODEL', `${label}: external data range ${offset}+${length} is outside "${location}" (${file.length} bytes)`);
  }
  return file.subarray(offset, offset + length);
}

// Models split over model.onnx + model.onnx_data read the data file once, whatever the tensor count.
const externalFiles = new Map<string, Uint8Array>();
function readExternalFile(path: string, label: string, maxBytes: number | undefined): Uint8Array {
  let file = externalFiles.get(path);
  if (!file) {
    // A device or FIFO (via a symlink) would never end; a huge file would not fit.
    const stat = statSync(path);
    if (!stat.isFile()) throw new LambertError('INVALID_MODEL', `${label}: external data "${path}" is not a regular file`);
    if (maxBytes !== undefined && stat.size > maxBytes) {
      throw new LambertError('RESOURCE_LIMIT', `${label}: external data file "${path}" has ${stat.size} bytes, over maxMemoryBytes (${maxBytes})`);
    }
    file = readFileSync(path);
    externalFiles.set(path, file);
  }
  return file;
}

/** Forgets cached external data files (after a model load completes). */
export function releaseExternalFiles(): void {
  externalFiles.clear();
}

export function modelDirOf(path: string): string {
  return dirname(resolve(path));
}
