import type { DType, NumericArray, Tensor } from '../tensor.js';
import type { NodeInfo, OpDefinition, ValueMeta } from './types.js';
import { invalidInput } from './movement.js';
import { fail, meta, need, needTensor } from './util.js';

const TYPES: readonly DType[] = ['float32', 'float64', 'int16', 'int32', 'int64'];

function scalar(node: NodeInfo, t: Tensor, what: string): number | bigint {
  if (t.size !== 1) invalidInput(node, `${what} must be a scalar, got [${t.dims.join(',')}]`);
  return t.data[0]!;
}

/**
 * onnxruntime's element count, ceil((limit - start) / delta) with the difference taken in the
 * input type and the division in double.
 */
function countOf(node: NodeInfo, start: Tensor, limit: Tensor, delta: Tensor): number {
  const s = scalar(node, start, 'start');
  const l = scalar(node, limit, 'limit');
  const d = scalar(node, delta, 'delta');
  let diff: number;
  if (typeof s === 'bigint') diff = Number(BigInt.asIntN(64, (l as bigint) - s));
  else if (start.type === 'float32') diff = Math.fround((l as number) - s);
  else if (start.type === 'int32') diff = ((l as number) - s) | 0;
  else diff = (l as number) - s;
  if (Number(d) === 0) invalidInput(node, 'delta must not be 0');
  const count = Math.ceil(diff / Number(d));
  // NaN or infinite bounds give no countable range (onnxruntime fails on them too).
  if (!Number.isFinite(count)) invalidInput(node, `start ${s}, limit ${l} and delta ${d} do not give a finite element count`);
  return Math.max(0, count);
}

function checkTypes(node: NodeInfo, metas: readonly ValueMeta[]): void {
  const dtype = metas[0]!.dtype;
  if (!TYPES.includes(dtype)) fail(node, `unsupported dtype ${dtype}`);
  if (metas.some((m) => m.dtype !== dtype)) {
    fail(node, `start, limit and delta mix dtypes ${metas.map((m) => m.dtype).join(', ')}`);
  }
}

export const Range: OpDefinition = {
  opType: 'Range',
  domain: '',
  versions: [11, 21],
  infer(node, inputs) {
    const metas = [0, 1, 2].map((i) => need(node, inputs, i));
    checkTypes(node, metas);
    const [start, limit, delta] = metas.map((m) => m.value);
    return [meta(metas[0]!.dtype, start && limit && delta ? [countOf(node, start, limit, delta)] : null)];
  },
  run(node, inputs, out) {
    const [start, limit, delta] = [0, 1, 2].map((i) => needTensor(node, inputs, i)) as [Tensor, Tensor, Tensor];
    const n = countOf(node, start, limit, delta);
    const result = out.alloc(0, start.type, [n]);
    if (n === 0) return [result];
    // onnxruntime accumulates `value += delta` in the output type: reading back each stored
    // element rounds (float32) or wraps (integers) exactly as that loop does.
    const data = result.data;
    if (data instanceof BigInt64Array) {
      const d = delta.data[0] as bigint;
      data[0] = start.data[0] as bigint;
      for (let i = 1; i < n; i++) data[i] = data[i - 1]! + d;
    } else {
      const values = data as NumericArray;
      const d = delta.data[0] as number;
      values[0] = start.data[0] as number;
      for (let i = 1; i < n; i++) values[i] = values[i - 1]! + d;
    }
    return [result];
  },
};
