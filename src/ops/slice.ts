import type { InputMetas, Inputs, NodeInfo, OpDefinition } from './types.js';
import { contiguousStrides, copyBox, intsArg } from './movement.js';
import { fail, meta, need, needTensor, normalizeAxis } from './util.js';

/** Per input axis: first index read, step between reads, and count of reads. */
interface Window {
  readonly starts: number[];
  readonly steps: number[];
  readonly dims: number[];
}

interface SliceArgs {
  readonly starts: number[];
  readonly ends: number[];
  readonly axes: number[] | undefined;
  readonly steps: number[] | undefined;
}

/**
 * Slice-1 took starts/ends/axes as attributes; opset 10 moved them to inputs 1-3 and added
 * steps (input 4). null when some argument is not known at plan time.
 */
function argsOf(node: NodeInfo, inputs: Inputs | InputMetas): SliceArgs | null {
  const starts = intsArg(node, inputs, 1, 'starts', 10);
  const ends = intsArg(node, inputs, 2, 'ends', 10);
  const axes = intsArg(node, inputs, 3, 'axes', 10);
  const steps = intsArg(node, inputs, 4, 'steps', 10);
  if (starts === null || ends === null || axes === null || steps === null) return null;
  if (!starts || !ends) fail(node, 'starts and ends are required');
  return { starts, ends, axes, steps };
}

function windowOf(node: NodeInfo, dims: readonly number[], args: SliceArgs): Window {
  const { starts, ends } = args;
  const axes = args.axes ?? starts.map((_, i) => i);
  const steps = args.steps ?? starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    fail(node, `starts [${starts}], ends [${ends}], axes [${axes}] and steps [${steps}] differ in length`);
  }
  const window: Window = { starts: dims.map(() => 0), steps: dims.map(() => 1), dims: [...dims] };
  const seen = new Set<number>();
  for (let i = 0; i < starts.length; i++) {
    const axis = normalizeAxis(node, axes[i]!, dims.length);
    if (seen.has(axis)) fail(node, `axis ${axes[i]} appears twice in axes [${axes}]`);
    seen.add(axis);
    const d = dims[axis]!;
    const step = steps[i]!;
    if (step === 0) fail(node, 'steps must not be 0');
    // INT64_MAX/MIN bounds arrive saturated to ±(2^53-1), still far outside any dim.
    let start = starts[i]! < 0 ? starts[i]! + d : starts[i]!;
    let end = ends[i]! < 0 ? ends[i]! + d : ends[i]!;
    if (step > 0) {
      start = Math.min(Math.max(start, 0), d);
      end = Math.min(Math.max(end, 0), d);
    } else {
      start = Math.min(Math.max(start, 0), d - 1);
      end = Math.min(Math.max(end, -1), d - 1);
    }
    const count = Math.max(0, Math.ceil((end - start) / step));
    window.starts[axis] = count > 0 ? start : 0;
    window.steps[axis] = step;
    window.dims[axis] = count;
  }
  return window;
}

export const Slice: OpDefinition = {
  opType: 'Slice',
  domain: '',
  versions: [1, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const args = argsOf(node, inputs);
    if (!x.shape || !args) return [meta(x.dtype, null)];
    return [meta(x.dtype, windowOf(node, x.shape, args).dims)];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const window = windowOf(node, x.dims, argsOf(node, inputs)!);
    const result = out.alloc(0, x.type, window.dims);
    const strides = contiguousStrides(x.dims);
    let offset = 0;
    for (let i = 0; i < strides.length; i++) offset += window.starts[i]! * strides[i]!;
    copyBox(x, offset, strides.map((s, i) => s * window.steps[i]!), result, 0, contiguousStrides(window.dims), window.dims);
    return [result];
  },
};
