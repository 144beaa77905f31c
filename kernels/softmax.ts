/**
 * Row-wise softmax and log-softmax over (rows, cols) row-major float32 data. Each element
 * is read before it is written at the same index, so `out` may alias `x` (same offset).
 *
 * Both subtract the row maximum before exponentiating, so no exp overflows. They use a
 * separate max pass rather than the "online" fused max+sum pass: the online form must
 * rescale and then exponentiate every element a second time.
 */
import { mlasOnThisThread, roundsLikeOnnxruntime } from './mlas.js';

/**
 * out = exp(x − max) / Σ exp(x − max), per row: rounded exactly as onnxruntime's MLAS softmax
 * (kernels/mlas.ts) while the session rounds like onnxruntime, else in float64 with Math.exp.
 */
export function softmax(x: Float32Array, xOff: number, rows: number, cols: number, out: Float32Array, outOff: number): void {
  if (roundsLikeOnnxruntime()) {
    for (let r = 0; r < rows; r++) mlasOnThisThread.softmaxRow(x, xOff + r * cols, cols, out, outOff + r * cols);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const xRow = xOff + r * cols;
    const outRow = outOff + r * cols;
    const max = rowMax(x, xRow, cols);
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[xRow + j] - max);
      out[outRow + j] = e;
      sum += e;
    }
    // Scaling the stored exponentials reuses them instead of calling exp again; it costs a
    // second float32 rounding per element (≤ 2⁻²³ relative in total).
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) out[outRow + j] *= inv;
  }
}

/** out = x − max − log Σ exp(x − max), per row. */
export function logSoftmax(x: Float32Array, xOff: number, rows: number, cols: number, out: Float32Array, outOff: number): void {
  for (let r = 0; r < rows; r++) {
    const xRow = xOff + r * cols;
    const outRow = outOff + r * cols;
    const max = rowMax(x, xRow, cols);
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += Math.exp(x[xRow + j] - max);
    const shift = max + Math.log(sum);
    for (let j = 0; j < cols; j++) out[outRow + j] = x[xRow + j] - shift;
  }
}

function rowMax(x: Float32Array, start: number, cols: number): number {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) {
    const v = x[start + j];
    // Once max is NaN no comparison replaces it, so a NaN anywhere in the row reaches every output.
    if (v > max || v !== v) max = v;
  }
  return max;
}

/** Reference for {@link softmax}: per row, max, exponentials into a float64 buffer, divide. */
export function softmaxReference(x: Float32Array, xOff: number, rows: number, cols: number, out: Float32Array, outOff: number): void {
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(xOff + r * cols, xOff + (r + 1) * cols));
    const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
    const e = row.map((v) => Math.exp(v - max));
    const sum = e.reduce((s, v) => s + v, 0);
    for (let j = 0; j < cols; j++) out[outOff + r * cols + j] = e[j] / sum;
  }
}

/** Reference for {@link logSoftmax}: the same stable formula with array methods in float64. */
export function logSoftmaxReference(x: Float32Array, xOff: number, rows: number, cols: number, out: Float32Array, outOff: number): void {
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(xOff + r * cols, xOff + (r + 1) * cols));
    const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
    const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    for (let j = 0; j < cols; j++) out[outOff + r * cols + j] = row[j] - max - logSum;
  }
}
