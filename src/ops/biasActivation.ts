/**
 * Shared by com.microsoft's Gelu, BiasGelu and FastGelu: a float32 activation applied element
 * by element, after adding a bias broadcast along the last axis when the op takes one.
 */
import { LambertError, describeNode } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { OpDefinition } from './types.js';
import { fail, meta, need, needTensor, shapeText } from './util.js';

/** dst[dstOff + i] = f(src[srcOff + i]) for i < n; src and dst may be the same run. */
type Activation = (src: Float32Array, srcOff: number, dst: Float32Array, dstOff: number, n: number) => void;
/** The activation of (rows, cols) src plus bias (cols) broadcast over the rows. */
type BiasedActivation = (
  src: Float32Array,
  srcOff: number,
  bias: Float32Array,
  biasOff: number,
  dst: Float32Array,
  dstOff: number,
  rows: number,
  cols: number,
) => void;

export interface BiasActivationSpec {
  readonly opType: string;
  readonly bias: 'none' | 'optional' | 'required';
  readonly activation: Activation;
  /** A fused kernel for the biased case; without one the float32 sum is written first. */
  readonly biased?: BiasedActivation;
}

function checkBias(x: readonly number[], bias: readonly number[], error: (msg: string) => never): void {
  if (bias.length !== 1 || x.length === 0 || bias[0] !== x[x.length - 1]) {
    error(`bias ${shapeText(bias)} must be 1-D with as many values as the last axis of input ${shapeText(x)}`);
  }
}

export function biasActivationOp(spec: BiasActivationSpec): OpDefinition {
  return {
    opType: spec.opType,
    domain: 'com.microsoft',
    versions: [1, 1],
    infer(node, inputs) {
      const x = need(node, inputs, 0);
      const bias = spec.bias === 'required' ? need(node, inputs, 1) : spec.bias === 'optional' ? inputs[1] : undefined;
      if (spec.bias === 'none' && inputs.length > 1) fail(node, 'takes one input');
      for (const t of [x, bias]) if (t && t.dtype !== 'float32') fail(node, `only float32 is supported, got ${t.dtype}`);
      if (bias?.shape && x.shape) checkBias(x.shape, bias.shape, (msg) => fail(node, msg));
      return [meta('float32', x.shape)];
    },
    run(node, inputs, out) {
      const x = needTensor(node, inputs, 0);
      const bias: Tensor | undefined = spec.bias === 'none' ? undefined : inputs[1];
      const y = out.alloc(0, 'float32', x.dims);
      const src = x.data as Float32Array;
      const dst = y.data;
      if (!bias) {
        spec.activation(src, 0, dst, 0, x.size);
        return [y];
      }
      checkBias(x.dims, bias.dims, (msg) => {
        throw new LambertError('INVALID_INPUT', `${describeNode(node)}: ${msg}`);
      });
      const b = bias.data as Float32Array;
      const cols = b.length;
      const rows = cols === 0 ? 0 : x.size / cols;
      if (spec.biased) {
        spec.biased(src, 0, b, 0, dst, 0, rows, cols);
        return [y];
      }
      for (let r = 0, i = 0; r < rows; r++) for (let j = 0; j < cols; j++, i++) dst[i] = src[i]! + b[j]!;
      spec.activation(dst, 0, dst, 0, x.size);
      return [y];
    },
  };
}
