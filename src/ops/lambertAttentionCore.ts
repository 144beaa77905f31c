import { attention } from '../../kernels/attention.js';
import { LambertError, describeNode } from '../errors.js';
import type { OpDefinition } from './types.js';
import { fail, meta, need, needTensor, shapeText } from './util.js';

/**
 * O = softmax(scale · Q·Kᵀ + mask) · V per (batch, head), for float32 Q (B, Sq, H, D),
 * K and V (B, Sk, H, D) and an optional additive mask (1 or B, 1, 1, Sk); O is (B, Sq, H, D).
 * What src/fuse.ts rewrites the exported attention core into (the head-splitting Reshapes'
 * outputs through the transpose back), so that no transposed copy or (B, H, Sq, Sk) score
 * tensor is ever materialised. Internal to lambert: the loader refuses the 'lambert' domain.
 */
export const AttentionCore: OpDefinition = {
  opType: 'AttentionCore',
  domain: 'lambert',
  versions: [1, 1],
  infer(node, inputs) {
    const metas = [0, 1, 2].map((i) => need(node, inputs, i));
    const mask = inputs[3];
    if (metas.some((m) => m.dtype !== 'float32') || (mask && mask.dtype !== 'float32')) fail(node, 'only float32 is supported');
    const shapes = [...metas.map((m) => m.shape), mask?.shape ?? []];
    if (shapes.some((s) => s === null)) return [meta('float32', null)];
    const problem = shapeProblem(shapes[0]!, shapes[1]!, shapes[2]!, mask ? shapes[3]! : null);
    if (problem) fail(node, problem);
    return [meta('float32', shapes[0]!)];
  },
  run(node, inputs, out) {
    const [q, k, v] = [0, 1, 2].map((i) => needTensor(node, inputs, i));
    const mask = inputs[3];
    const problem = shapeProblem(q!.dims, k!.dims, v!.dims, mask ? mask.dims : null);
    if (problem) throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${problem}`);
    const [batch, seqQ, heads, headDim] = q!.dims as [number, number, number, number];
    const seqK = k!.dims[1]!;
    const width = heads * headDim;
    const scale = node.attrs.float('scale', 1);
    const o = out.alloc(0, 'float32', q!.dims);
    const maskData = mask ? (mask.data as Float32Array) : null;
    const maskBatchStride = mask && mask.dims[0] !== 1 ? seqK : 0;
    attention(
      q!.data as Float32Array, 0, k!.data as Float32Array, 0, v!.data as Float32Array, 0, o.data, 0,
      batch, heads, seqQ, seqK, headDim, width, width, width, width,
      scale, maskData, 0, maskBatchStride,
    );
    return [o];
  },
};

function shapeProblem(q: readonly number[], k: readonly number[], v: readonly number[], mask: readonly number[] | null): string | undefined {
  const text = `Q ${shapeText(q)}, K ${shapeText(k)}, V ${shapeText(v)}${mask ? `, mask ${shapeText(mask)}` : ''}`;
  if (q.length !== 4 || k.length !== 4 || v.length !== 4) return `${text}: Q, K and V must be (batch, seq, heads, headDim)`;
  if (k.some((d, i) => d !== v[i]) || k[0] !== q[0] || k[2] !== q[2] || k[3] !== q[3]) return `${text}: K and V must match Q's batch, heads and headDim`;
  if (mask && (mask.length !== 4 || (mask[0] !== 1 && mask[0] !== q[0]) || mask[1] !== 1 || mask[2] !== 1 || mask[3] !== k[1])) {
    return `${text}: mask must be (batch or 1, 1, 1, keys)`;
  }
  return undefined;
}
