/**
 * Linear quantization, bit-exact with onnxruntime's CPU kernels (MLAS): every step is a float32
 * operation, so each intermediate goes through Math.fround, and rounding is half-to-even.
 */

import { activePool } from './threads.js';

export type QuantArray = Int8Array | Uint8Array;

// Adding and subtracting 1.5·2^52 rounds a double to an integer with ties to even (the FPU's
// default mode), exactly like nearbyintf/cvtps2dq; valid for |x| < 2^51.
const ROUNDER = 6755399441055744;

/** Rounds to the nearest integer, ties to even (numpy.rint, C nearbyint). */
export function roundHalfEven(x: number): number {
  if (!(Math.abs(x) < 2 ** 51)) return x;
  return x + ROUNDER - ROUNDER;
}

export interface QuantParams {
  readonly scale: number;
  readonly zeroPoint: number;
}

/**
 * The uint8 scale and zero point of DynamicQuantizeLinear for `n` values of `x` from `xOff`,
 * as onnxruntime's GetQuantizationParameter: the range always includes 0, and an all-zero
 * input gets scale 1 (not the spec's 0, which would divide by zero) and zero point 0.
 */
export function dynamicQuantParams(x: Float32Array, xOff: number, n: number): QuantParams {
  kernels.rangeWithZero(x, xOff, xOff + n, rangeScratch, 0);
  const min = rangeScratch[0]!;
  const max = rangeScratch[1]!;
  if (max === min) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround(Math.fround(max - min) / 255);
  // Saturated before rounding, with std::min/max's NaN behaviour: a scale that underflows to
  // 0 makes -min/scale NaN, which onnxruntime turns into 255.
  const initial = -Math.fround(min / scale);
  const high = initial < 255 ? initial : 255;
  return { scale, zeroPoint: roundHalfEven(0 < high ? high : 0) };
}

/**
 * The kernels worker threads run (see kernels/threads.ts), as one self-contained function.
 */
export function quantizeKernels() {
  /**
   * MlasQuantizeLinear on one run of `n` values sharing a scale and zero point:
   * y = clamp(rint(x / scale) + zp, qmin, qmax), x / scale rounded to float32 first. NaN
   * becomes qmin, as with MAXPS.
   */
  function quantizeBlock(
    x: Float32Array,
    xOff: number,
    n: number,
    scale: number,
    zeroPoint: number,
    qmin: number,
    qmax: number,
    out: QuantArray,
    outOff: number,
  ): void {
    // Clamping before rounding (as MLAS does) is the same as saturating after: the bounds are integers.
    const lo = qmin - zeroPoint;
    const hi = qmax - zeroPoint;
    for (let i = 0; i < n; i++) {
      let q = Math.fround(x[xOff + i]! / scale);
      q = q > lo ? q : lo;
      q = q < hi ? q : hi;
      // ROUNDER, spelled out: a constant of the factory would be a context load and a HeapNumber
      // unboxing per element (measured 2–3× slower than the literal).
      out[outOff + i] = q + 6755399441055744 - 6755399441055744 + zeroPoint;
    }
  }

  /** The minimum and maximum of x[from .. to) and 0 → range[at], range[at + 1]. */
  function rangeWithZero(x: Float32Array, from: number, to: number, range: Float32Array, at: number): void {
    let min = 0;
    let max = 0;
    for (let i = from; i < to; i++) {
      const v = x[i]!;
      if (v < min) min = v;
      else if (v > max) max = v;
    }
    range[at] = min;
    range[at + 1] = max;
  }

  /**
   * Chunks [start, start+count) of DynamicQuantizeLinear for a worker: p = [phase, chunk, n, xOff,
   * outOff, scale, zeroPoint]. Phase 0 writes the range of its values, 0 included, to
   * arrays[1][2·start], [2·start + 1]; phase 1 quantizes them into arrays[1] (uint8).
   */
  function rows(start: number, count: number, p: Float64Array, arrays: readonly (Float32Array | Uint8Array)[]): void {
    const chunk = p[1]!;
    const from = p[3]! + start * chunk;
    const to = p[3]! + Math.min(p[2]!, (start + count) * chunk);
    const x = arrays[0] as Float32Array;
    if (p[0] === 0) {
      rangeWithZero(x, from, to, arrays[1] as Float32Array, 2 * start);
    } else {
      quantizeBlock(x, from, to - from, p[5]!, p[6]!, 0, 255, arrays[1] as Uint8Array, p[4]! + from - p[3]!);
    }
  }

  return { quantizeBlock, rangeWithZero, rows };
}

const kernels = quantizeKernels();
/** dynamicQuantParams' [min, max]. */
const rangeScratch = new Float32Array(2);

/** quantizeKernels' job id in the worker threads (its place in the session's factory list). */
export const QUANTIZE_JOB = 5;

/** Below this many values DynamicQuantizeLinear stays on the calling thread. */
const PARALLEL_MIN_VALUES = 1 << 15;
/** Values per unit when DynamicQuantizeLinear is split between threads. */
const CHUNK = 4096;

/**
 * DynamicQuantizeLinear: quantizes `n` floats of `x` (from `xOff`) to uint8 `out` (from
 * `outOff`) with the scale and zero point it derives from their range, and returns those.
 * With a thread pool active, large inputs are split in two passes (range, then quantization);
 * min and max are exact whatever the split, so the result is too.
 */
export function dynamicQuantizeLinear(x: Float32Array, xOff: number, n: number, out: Uint8Array, outOff: number): QuantParams {
  const pool = activePool();
  if (pool === null || n < PARALLEL_MIN_VALUES) {
    const params = dynamicQuantParams(x, xOff, n);
    kernels.quantizeBlock(x, xOff, n, params.scale, params.zeroPoint, 0, 255, out, outOff);
    return params;
  }
  const chunks = Math.ceil(n / CHUNK);
  const input = pool.shared(x, 0);
  const range = new Float32Array(pool.scratch(5, 8 * chunks), 0, 2 * chunks);
  // Zeros are neutral: the range always includes 0. Units a thread did not start a run at stay so.
  range.fill(0);
  pool.split(QUANTIZE_JOB, kernels.rows, chunks, 1, [0, CHUNK, n, xOff, outOff, 0, 0], [input, range]);
  // The chunks' minima and maxima have the range of the whole input.
  const params = dynamicQuantParams(range, 0, 2 * chunks);
  const shared = pool.shared(out, 1);
  pool.split(QUANTIZE_JOB, kernels.rows, chunks, 1, [1, CHUNK, n, xOff, outOff, params.scale, params.zeroPoint], [input, shared]);
  if (shared !== out) out.set(shared);
  return params;
}

/** MlasQuantizeLinear on one run of values sharing a scale and zero point; see quantizeKernels. */
export const quantizeBlock = kernels.quantizeBlock;

/** Element layout of a per-axis operation: `outer` × `axisLen` × `inner`, one parameter per axis index. */
export interface AxisLayout {
  readonly outer: number;
  readonly axisLen: number;
  readonly inner: number;
}

/**
 * QuantizeLinear, per tensor (axisLen 1) or per axis: `scale[a]` and `zeroPoint[a]` apply to
 * axis index a (a single-element `scale` applies to all). `zeroPoint` null means 0.
 */
export function quantizeLinear(
  x: Float32Array,
  scale: Float32Array,
  zeroPoint: QuantArray | null,
  layout: AxisLayout,
  qmin: number,
  qmax: number,
  out: QuantArray,
): void {
  const { outer, axisLen, inner } = layout;
  const perAxis = scale.length > 1;
  let off = 0;
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < axisLen; a++) {
      const p = perAxis ? a : 0;
      quantizeBlock(x, off, inner, scale[p]!, zeroPoint ? zeroPoint[p]! : 0, qmin, qmax, out, off);
      off += inner;
    }
  }
}

/**
 * DequantizeLinear: y = float(x - zp) * scale in float32, per tensor or per axis as in
 * quantizeLinear. int32 `x` converts to float32 with rounding beyond 2^24, as a C cast does.
 */
export function dequantizeLinear(
  x: QuantArray | Int32Array,
  scale: Float32Array,
  zeroPoint: QuantArray | Int32Array | null,
  layout: AxisLayout,
  out: Float32Array,
): void {
  const { outer, axisLen, inner } = layout;
  const perAxis = scale.length > 1;
  let off = 0;
  for (let o = 0; o < outer; o++) {
    for (let a = 0; a < axisLen; a++) {
      const p = perAxis ? a : 0;
      const s = scale[p]!;
      const zp = zeroPoint ? zeroPoint[p]! : 0;
      for (let end = off + inner; off < end; off++) out[off] = Math.fround(x[off]! - zp) * s;
    }
  }
}

/**
 * QLinearMatMul's requantization (MlasRequantizeOutput): each int32 sum of an m×n block is
 * scaled by fround(fround(aScale[row] · bScale[col]) / yScale) in float32, saturated, rounded
 * half to even and shifted by `yZero`. `aScale` holds 1 or m values, `bScale` 1 or n.
 */
export function requantize(
  acc: Int32Array,
  accOff: number,
  m: number,
  n: number,
  aScale: Float32Array,
  bScale: Float32Array,
  yScale: number,
  yZero: number,
  qmin: number,
  qmax: number,
  out: QuantArray,
  outOff: number,
): void {
  const lo = qmin - yZero;
  const hi = qmax - yZero;
  const aStep = aScale.length > 1 ? 1 : 0;
  const bStep = bScale.length > 1 ? 1 : 0;
  for (let i = 0; i < m; i++) {
    const sa = aScale[i * aStep]!;
    for (let j = 0; j < n; j++) {
      const multiplier = Math.fround(Math.fround(sa * bScale[j * bStep]!) / yScale);
      let q = Math.fround(Math.fround(acc[accOff + i * n + j]!) * multiplier);
      q = q > lo ? q : lo;
      q = q < hi ? q : hi;
      out[outOff + i * n + j] = q + ROUNDER - ROUNDER + yZero;
    }
  }
}
