import { Tensor } from '../../src/tensor.js';

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Returns a description of the first mismatch, or undefined when `actual` matches `expected`. */
export function mismatch(actual: Tensor, expected: Tensor, tol: Tolerance): string | undefined {
  if (actual.type !== expected.type) return `dtype ${actual.type} != expected ${expected.type}`;
  if (actual.dims.join(',') !== expected.dims.join(',')) return `dims [${actual.dims}] != expected [${expected.dims}]`;
  const a = actual.data;
  const e = expected.data;
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (typeof x === 'bigint' || typeof y === 'bigint') {
      if (x !== y) return `element ${i}: ${x} != expected ${y}`;
      continue;
    }
    if (Number.isNaN(y)) {
      if (!Number.isNaN(x)) return `element ${i}: ${x} != expected NaN`;
      continue;
    }
    if (x === y) continue;
    const err = Math.abs(x - y);
    if (!(err <= tol.atol + tol.rtol * Math.abs(y))) {
      if (worst < 0 || err > worstErr || Number.isNaN(err)) {
        worst = i;
        worstErr = err;
      }
    }
  }
  if (worst >= 0) return `element ${worst}: ${a[worst]} != expected ${e[worst]} (|diff| ${worstErr})`;
  return undefined;
}

export interface RefEntry {
  type?: string;
  dims: number[];
  data: (number | string)[];
}

/** A tensor from a `.ref.json` entry; entries without a type take `fallbackType` (the declared input type). */
export function fromRef(entry: RefEntry, fallbackType = 'float32'): Tensor {
  const type = entry.type ?? fallbackType;
  if (type === 'int64') return new Tensor('int64', BigInt64Array.from(entry.data, (v) => BigInt(v)), entry.dims);
  return new Tensor(type as 'float32', entry.data as number[], entry.dims);
}
