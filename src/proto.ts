import protobuf from 'protobufjs/minimal.js';
import Long from 'long';
import { onnx } from '../proto/onnx.js';
import { LambertError } from './errors.js';

// int64 fields must decode exactly (INT64_MAX appears in Slice ends, dims must be range-checked),
// so int64s come back as Long; protobufjs otherwise picks Long or lossy numbers by environment.
protobuf.util.Long = Long;
protobuf.configure();

export { onnx };
export type LongLike = number | Long;

/** An int64 field as a JS number; values outside ±2^53 are rejected, not rounded. */
export function toSafeNumber(value: LongLike | null | undefined, what: string): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : value.toNumber();
  if (!Number.isSafeInteger(n) || (typeof value !== 'number' && Long.fromNumber(n, value.unsigned).neq(value))) {
    throw new LambertError('INVALID_MODEL', `${what}: int64 value ${value.toString()} is outside the exactly representable range`);
  }
  return n;
}

/** An int64 attribute as a number, saturating at ±2^53 (Slice's INT64_MAX "to the end" marks). */
export function toClampedNumber(value: LongLike | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : value.toNumber();
  return Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, n));
}

export function toBigInt(value: LongLike): bigint {
  if (typeof value === 'number') return BigInt(value);
  return BigInt(value.toString());
}
