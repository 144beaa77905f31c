import { sizeOf, Tensor } from '../tensor.js';
import type { OpDefinition } from './types.js';
import { meta, need, needTensor } from './util.js';

export const Size: OpDefinition = {
  opType: 'Size',
  domain: '',
  versions: [1, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    if (!x.shape) return [meta('int64', [])];
    return [{ dtype: 'int64', shape: [], value: new Tensor('int64', [sizeOf(x.shape)], []) }];
  },
  run(node, inputs, out) {
    const result = out.alloc(0, 'int64', []);
    result.data[0] = BigInt(needTensor(node, inputs, 0).size);
    return [result];
  },
};
