import { dynamicQuantizeLinear } from '../../kernels/quantize.js';
import { checkType } from './quantParams.js';
import type { OpDefinition } from './types.js';
import { meta, need, needTensor } from './util.js';

export const DynamicQuantizeLinear: OpDefinition = {
  opType: 'DynamicQuantizeLinear',
  domain: '',
  versions: [11, 21],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    checkType(node, x, 'x', ['float32']);
    return [meta('uint8', x.shape), meta('float32', []), meta('uint8', [])];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const y = out.alloc(0, 'uint8', x.dims);
    const { scale, zeroPoint } = dynamicQuantizeLinear(x.data as Float32Array, 0, x.size, y.data, 0);
    const yScale = out.alloc(1, 'float32', []);
    yScale.data[0] = scale;
    const yZero = out.alloc(2, 'uint8', []);
    yZero.data[0] = zeroPoint;
    return [y, yScale, yZero];
  },
};
