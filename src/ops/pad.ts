import { sizeOf, type Tensor } from '../tensor.js';
import type { InputMetas, Inputs, NodeInfo, OpDefinition } from './types.js';
import { contiguousStrides, copyBox, fillTensor, intsArg, invalidInput } from './movement.js';
import { fail, meta, need, needTensor, normalizeAxis } from './util.js';

type Mode = 'constant' | 'reflect' | 'edge' | 'wrap';

/** Elements added before and after each axis; negative counts crop. */
interface Pads {
  readonly begins: number[];
  readonly ends: number[];
}

function modeOf(node: NodeInfo): Mode {
  const mode = node.attrs.string('mode', 'constant');
  const known = node.opset >= 19 ? ['constant', 'reflect', 'edge', 'wrap'] : ['constant', 'reflect', 'edge'];
  if (!known.includes(mode)) fail(node, `mode "${mode}" is not one of ${known.join(', ')} at opset ${node.opset}`);
  return mode as Mode;
}

/**
 * Pad-1 named the attribute `paddings`, Pad-2 `pads`; opset 11 moved pads to input 1 and
 * opset 18 added input 3 to pad only some axes. null when an input is unknown at plan time.
 */
function padsOf(node: NodeInfo, inputs: Inputs | InputMetas, rank: number): Pads | null {
  const pads = intsArg(node, inputs, 1, node.opset < 2 ? 'paddings' : 'pads', 11);
  const axesArg = intsArg(node, inputs, 3, 'axes', 18);
  if (pads === null || axesArg === null) return null;
  if (!pads) fail(node, 'pads are required');
  const axes = axesArg ?? Array.from({ length: rank }, (_, i) => i);
  if (pads.length !== 2 * axes.length) fail(node, `pads [${pads.join(',')}] need 2 values for each of ${axes.length} axes`);
  const result: Pads = { begins: new Array<number>(rank).fill(0), ends: new Array<number>(rank).fill(0) };
  const seen = new Set<number>();
  axes.forEach((axis, i) => {
    const a = normalizeAxis(node, axis, rank);
    if (seen.has(a)) fail(node, `axis ${axis} appears twice in axes [${axes.join(',')}]`);
    seen.add(a);
    result.begins[a] = pads[i]!;
    result.ends[a] = pads[i + axes.length]!;
  });
  return result;
}

function paddedDims(node: NodeInfo, dims: readonly number[], pads: Pads): number[] {
  return dims.map((d, i) => {
    const n = d + pads.begins[i]! + pads.ends[i]!;
    if (n < 0) invalidInput(node, `pads crop more than the ${d} elements of axis ${i}`);
    return n;
  });
}

/** The fill value: a float attribute before opset 11, then the optional scalar input 2. */
function constantValue(node: NodeInfo, inputs: Inputs): number | bigint {
  if (node.opset < 11) return node.attrs.float('value', 0);
  const value = inputs[2];
  if (!value) return 0;
  if (value.size !== 1) invalidInput(node, 'constant_value must be a scalar');
  return value.data[0]!;
}

/**
 * Where output coordinate `c` (relative to the kept input region of length `n`) reads from.
 * Pads longer than the axis follow numpy: reflect bounces between the ends (onnxruntime
 * rejects such pads) and wrap keeps cycling (onnxruntime leaves that part unwritten).
 */
function sourceIndex(mode: Mode, c: number, n: number): number {
  if (mode === 'edge') return c < 0 ? 0 : n - 1;
  if (mode === 'wrap') return ((c % n) + n) % n;
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const r = ((c % period) + period) % period;
  return r < n ? r : period - r;
}

export const Pad: OpDefinition = {
  opType: 'Pad',
  domain: '',
  versions: [1, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    modeOf(node);
    const value = inputs[2];
    if (node.opset >= 11 && value && value.dtype !== x.dtype) {
      fail(node, `constant_value is ${value.dtype}, data is ${x.dtype}`);
    }
    if (!x.shape) return [meta(x.dtype, null)];
    const pads = padsOf(node, inputs, x.shape.length);
    return [meta(x.dtype, pads && paddedDims(node, x.shape, pads))];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const mode = modeOf(node);
    const dims = x.dims;
    const pads = padsOf(node, inputs, dims.length)!;
    const outDims = paddedDims(node, dims, pads);
    const result = out.alloc(0, x.type, outDims);
    if (result.size === 0) return [result];
    // Crop first (negative pads), then pad around what is kept: the kept box of size `kept`
    // starts at `from` in the input and lands at `at` in the output.
    const from = pads.begins.map((b) => Math.max(0, -b));
    const kept = dims.map((d, i) => Math.max(0, d - from[i]! - Math.max(0, -pads.ends[i]!)));
    const at = pads.begins.map((b) => Math.max(0, b));
    const inStrides = contiguousStrides(dims);
    const outStrides = contiguousStrides(outDims);
    if (mode === 'constant' && result.size !== sizeOf(kept)) fillTensor(result, constantValue(node, inputs));
    copyBox(x, offsetOf(from, inStrides), inStrides, result, offsetOf(at, outStrides), outStrides, kept);
    if (mode !== 'constant') fillBorders(node, mode, result, at, kept, outStrides);
    return [result];
  },
};

function offsetOf(index: readonly number[], strides: readonly number[]): number {
  return index.reduce((s, v, i) => s + v * strides[i]!, 0);
}

/**
 * Edge/reflect/wrap borders, innermost axis first: each border slab along axis k copies a slab
 * already complete on the axes after k (and inside the kept box on the axes before it).
 */
function fillBorders(node: NodeInfo, mode: Mode, result: Tensor, at: number[], kept: number[], strides: number[]): void {
  const dims = result.dims;
  for (let k = dims.length - 1; k >= 0; k--) {
    const n = kept[k]!;
    if (at[k] === 0 && n === dims[k]) continue;
    if (n === 0) invalidInput(node, `cannot ${mode}-pad axis ${k}, which keeps no elements`);
    const box = dims.map((d, j) => (j < k ? kept[j]! : j === k ? 1 : d));
    const base = offsetOf(at.slice(0, k), strides);
    for (let o = 0; o < dims[k]!; o++) {
      if (o === at[k]) o += n;
      if (o >= dims[k]!) break;
      const source = at[k]! + sourceIndex(mode, o - at[k]!, n);
      copyBox(result, base + source * strides[k]!, strides, result, base + o * strides[k]!, strides, box);
    }
  }
}
