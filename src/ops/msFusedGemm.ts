import type { PackedMatrix } from '../../kernels/gemm.js';
import { Attributes, type AttributeValue } from '../attributes.js';
import { LambertError, describeNode } from '../errors.js';
import { allocate, sizeOf, Tensor, type DType } from '../tensor.js';
import { Gemm } from './gemm.js';
import { Elu } from './elu.js';
import { HardSigmoid } from './hardSigmoid.js';
import { LeakyRelu } from './leakyRelu.js';
import { Relu } from './relu.js';
import { Sigmoid } from './sigmoid.js';
import { Tanh } from './tanh.js';
import type { NodeInfo, OpDefinition, OutputAllocator } from './types.js';
import { fail } from './util.js';

/** The ai.onnx activations FusedGemm applies, by its `activation` attribute. */
const ACTIVATIONS: Readonly<Record<string, OpDefinition>> = { Elu, HardSigmoid, LeakyRelu, Relu, Sigmoid, Tanh };

/** The ai.onnx opset whose Gemm (optional C, C broadcast) and activations FusedGemm fuses. */
const FUSED_OPSET = 13;

/** Holds the Gemm result between the two halves; one buffer per node, reused by every run. */
class Scratch implements OutputAllocator {
  private tensor: Tensor | undefined;
  alloc<T extends DType>(_index: number, dtype: T, dims: readonly number[]): Tensor<T> {
    const t = this.tensor;
    if (!t || t.type !== dtype || t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
      this.tensor = new Tensor(dtype, allocate(dtype, sizeOf(dims)), dims);
    }
    return this.tensor as Tensor<T>;
  }
}

interface Parts {
  readonly gemm: NodeInfo;
  readonly activation: OpDefinition;
  readonly activationNode: NodeInfo;
}

interface State extends Parts {
  readonly packed: readonly PackedMatrix[] | undefined;
  readonly scratch: Scratch;
}

/**
 * The two nodes onnxruntime fused: this node read as a Gemm, and an activation node whose
 * attributes are the `activation_*` ones without the prefix (activation_alpha → alpha).
 */
function partsOf(node: NodeInfo): Parts {
  const name = node.attrs.string('activation', '');
  if (!name) fail(node, 'needs an activation attribute');
  const activation = Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
  if (!activation) {
    throw new LambertError('UNSUPPORTED_OP', `${describeNode(node)}: activation "${name}" is not supported (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  }
  const attrs = new Map<string, AttributeValue>();
  for (const attr of node.attrs.names()) {
    if (attr.startsWith('activation_') && attr.length > 'activation_'.length) attrs.set(attr.slice('activation_'.length), node.attrs.float(attr));
  }
  const activationNode: NodeInfo = {
    ...node,
    opType: name,
    domain: '',
    opset: FUSED_OPSET,
    attrs: new Attributes(attrs, { name: node.name, opType: `${node.opType} ${name}` }),
    cache: new Map(),
  };
  return { gemm: { ...node, opset: FUSED_OPSET }, activation, activationNode };
}

/**
 * onnxruntime's fusion of Gemm with the activation after it: Y = activation(alpha·op(A)·op(B)
 * + beta·C), with Gemm's attributes and the activation's as activation_alpha/beta/gamma.
 */
export const FusedGemm: OpDefinition<State> = {
  opType: 'FusedGemm',
  domain: 'com.microsoft',
  versions: [1, 1],
  infer(node, inputs) {
    const { gemm, activation, activationNode } = partsOf(node);
    const product = Gemm.infer(gemm, inputs);
    if (product[0]!.dtype !== 'float32') fail(node, `only float32 is supported, got ${product[0]!.dtype}`);
    return activation.infer(activationNode, product);
  },
  prepare(node, inputs) {
    const parts = partsOf(node);
    return { ...parts, packed: Gemm.prepare?.(parts.gemm, inputs), scratch: new Scratch() };
  },
  run(_node, inputs, out, state) {
    const product = Gemm.run(state.gemm, inputs, state.scratch, state.packed);
    return state.activation.run(state.activationNode, product, out, undefined);
  },
};
