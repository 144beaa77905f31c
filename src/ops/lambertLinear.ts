import { gemmPacked, type PackedMatrix } from '../../kernels/gemm.js';
import { LambertError, describeNode } from '../errors.js';
import { sizeOf } from '../tensor.js';
import { packedWeights } from './matmulCommon.js';
import type { OpDefinition } from './types.js';
import { fail, meta, need, needTensor, shapeText } from './util.js';

/**
 * Y = X · W + bias for float32 X (…, K), constant W (K, N) and bias (N): what src/fuse.ts
 * rewrites MatMul → Add into, so the bias is added in the GEMM's epilogue instead of in a
 * second pass over Y. Internal to lambert: the loader refuses the 'lambert' domain in models.
 */
export const Linear: OpDefinition<PackedMatrix> = {
  opType: 'Linear',
  domain: 'lambert',
  versions: [1, 1],
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    const w = need(node, inputs, 1);
    const bias = need(node, inputs, 2);
    if (x.dtype !== 'float32' || w.dtype !== 'float32' || bias.dtype !== 'float32') fail(node, 'only float32 is supported');
    if (!w.value || !bias.value || w.value.dims.length !== 2) fail(node, 'weights must be a constant matrix and bias a constant');
    const [K, N] = w.value.dims as [number, number];
    if (bias.value.dims.length !== 1 || bias.value.dims[0] !== N) fail(node, `bias ${shapeText(bias.value.dims)} must be (${N})`);
    if (!x.shape) return [meta('float32', null)];
    if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== K) fail(node, `input ${shapeText(x.shape)} does not end in ${K}`);
    return [meta('float32', [...x.shape.slice(0, -1), N])];
  },
  prepare(node, inputs) {
    const w = inputs[1]!.value!;
    return packedWeights(node, w, 1, w.dims[0]!, w.dims[1]!, false)[0]!;
  },
  run(node, inputs, out, packed) {
    const x = needTensor(node, inputs, 0);
    const bias = needTensor(node, inputs, 2);
    const { K, N } = packed;
    if (x.dims.length === 0 || x.dims[x.dims.length - 1] !== K) {
      throw new LambertError('INVALID_INPUT', `${describeNode(node)}: input ${shapeText(x.dims)} does not end in ${K}`);
    }
    const y = out.alloc(0, 'float32', [...x.dims.slice(0, -1), N]);
    gemmPacked(sizeOf(x.dims.slice(0, -1)), N, K, x.data as Float32Array, 0, K, false, packed, y.data, 0, N, bias.data as Float32Array, 0, false);
    return [y];
  },
};
