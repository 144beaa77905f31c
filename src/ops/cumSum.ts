import { LambertError, describeNode } from '../errors.js';
import { isBigIntType, type DType, type NumericArray } from '../tensor.js';
import type { OpDefinition } from './types.js';
import { fail, need, needTensor, toNumbers } from './util.js';

const TYPES: readonly DType[] = ['float32', 'float64', 'int32', 'uint32', 'int64', 'uint64'];

/**
 * Running sums written straight into the output's typed array: each partial sum is rounded
 * (float32) or wrapped (integers) to the element type before the next addition, exactly as
 * onnxruntime accumulates in T.
 */
export const CumSum: OpDefinition = {
  opType: 'CumSum',
  domain: '',
  // Opset 14 only added float16/bfloat16.
  versions: [11, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const axis = need(node, inputs, 1);
    if (!TYPES.includes(x.dtype)) fail(node, `input type ${x.dtype} is not supported`);
    if (axis.dtype !== 'int32' && axis.dtype !== 'int64') fail(node, `axis must be int32 or int64, got ${axis.dtype}`);
    if (axis.shape && axis.shape.length > 1) fail(node, `axis must be a scalar, got rank ${axis.shape.length}`);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const axisValues = toNumbers(needTensor(node, inputs, 1));
    const rank = x.dims.length;
    const requested = axisValues[0];
    if (axisValues.length !== 1 || requested === undefined) {
      throw new LambertError('INVALID_INPUT', `${describeNode(node)}: axis must hold one value, got ${axisValues.length}`);
    }
    const axis = requested < 0 ? requested + rank : requested;
    if (axis < 0 || axis >= rank) {
      throw new LambertError('INVALID_INPUT', `${describeNode(node)}: axis ${requested} is out of range for rank ${rank}`);
    }
    const exclusive = node.attrs.int('exclusive', 0) !== 0;
    const reverse = node.attrs.int('reverse', 0) !== 0;
    const y = out.alloc(0, x.type, x.dims);
    const src = x.data as NumericArray;
    const dst = y.data as NumericArray;
    const zero = (isBigIntType(x.type) ? 0n : 0) as number;
    const n = x.dims[axis]!;
    let inner = 1;
    for (let i = axis + 1; i < rank; i++) inner *= x.dims[i]!;
    const outer = n * inner === 0 ? 0 : x.size / (n * inner);
    // Walking the axis forwards or backwards is the same loop with a signed step, one row of
    // `inner` contiguous elements at a time.
    const step = reverse ? -inner : inner;
    for (let o = 0; o < outer; o++) {
      let prev = o * n * inner + (reverse ? (n - 1) * inner : 0);
      for (let i = 0; i < inner; i++) dst[prev + i] = exclusive ? zero : src[prev + i]!;
      for (let k = 1; k < n; k++) {
        const row = prev + step;
        const addend = exclusive ? prev : row;
        for (let i = 0; i < inner; i++) dst[row + i] = dst[prev + i]! + src[addend + i]!;
        prev = row;
      }
    }
    return [y];
  },
};
