import { LambertError, describeNode } from '../errors.js';
import type { NumericArray } from '../tensor.js';
import { checkType, FLOATS } from './elementwise.js';
import type { OpDefinition } from './types.js';
import { fail, meta, need, needTensor } from './util.js';

/**
 * Dropout as onnxruntime runs it. Outside training it copies its input; the mask is all false
 * before opset 12 (onnxruntime's inference-only kernel zero-fills it; of the input's type before
 * opset 10, bool after) and all true from 12 on. Opset 12 made ratio and training_mode inputs;
 * in training mode with ratio > 0 elements are dropped at random and the rest scaled by
 * 1/(1 − ratio). The `seed` attribute is not honoured: no seed reproduces onnxruntime's generator.
 */
export const Dropout: OpDefinition = {
  opType: 'Dropout',
  domain: '',
  versions: [7, 21],
  noFold: true,
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    checkType(node, x.dtype, FLOATS);
    if (node.opset >= 12) {
      const ratio = inputs[1];
      if (ratio) checkType(node, ratio.dtype, FLOATS, 'ratio');
      const training = inputs[2];
      if (training && training.dtype !== 'bool') fail(node, `training_mode must be bool, got ${training.dtype}`);
    }
    return [meta(x.dtype, x.shape), meta(node.opset >= 10 ? 'bool' : x.dtype, x.shape)];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const src = x.data as NumericArray;
    const n = x.size;
    const y = out.alloc(0, x.type, x.dims);
    const dst = y.data as NumericArray;
    const wantMask = !!node.outputs[1];
    const mask = wantMask ? out.alloc(1, node.opset >= 10 ? 'bool' : x.type, x.dims) : undefined;
    const training = node.opset >= 12 && inputs[2] !== undefined && inputs[2].data[0] !== 0;
    const ratio = node.opset >= 12 ? (inputs[1] ? Number(inputs[1].data[0]) : 0.5) : 0;
    if (!training || ratio === 0) {
      dst.set(src);
      (mask?.data as NumericArray | undefined)?.fill(node.opset >= 12 ? 1 : 0);
      return mask ? [y, mask] : [y];
    }
    if (!(ratio > 0 && ratio < 1)) {
      throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ratio must be in [0, 1), got ${ratio}`);
    }
    const scale = 1 / (1 - ratio);
    const keep = mask?.data as Uint8Array | undefined;
    for (let i = 0; i < n; i++) {
      const kept = Math.random() >= ratio;
      dst[i] = kept ? src[i]! * scale : 0;
      if (keep) keep[i] = kept ? 1 : 0;
    }
    return mask ? [y, mask] : [y];
  },
};
