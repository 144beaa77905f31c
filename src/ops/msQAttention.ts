import type { PackedQuantB } from '../../kernels/qgemm.js';
import { LambertError, describeNode } from '../errors.js';
import { Tensor, sizeOf } from '../tensor.js';
import { inferSelfAttention, runSelfAttention } from './msAttention.js';
import { prepackB } from './quantMatMul.js';
import { checkScalarScale, inferToFloat, runToFloat } from './quantMatMulToFloat.js';
import { QUANT_TYPES, checkType, checkZeroPointType } from './quantParams.js';
import type { NodeInfo, OpDefinition, OutputAllocator } from './types.js';
import { fail, need, needTensor, shapeText } from './util.js';

const INPUT = 0;
const WEIGHTS = 1;
const BIAS = 2;
const INPUT_SCALE = 3;
const WEIGHT_SCALE = 4;
const MASK = 5;
const INPUT_ZERO_POINT = 6;
const WEIGHT_ZERO_POINT = 7;
const PAST = 8;

function checkSupported(node: NodeInfo, present: (i: number) => boolean): void {
  if (present(PAST) || node.outputs[1]) {
    throw new LambertError('UNSUPPORTED_OP', `${describeNode(node)}: past/present key-value state is not supported`);
  }
}

/** The projection's output, (batch·seq, 3·hidden) float32, lent to runToFloat as if it were an op output. */
function into(qkv: Float32Array): OutputAllocator {
  return {
    alloc(_index, _dtype, dims) {
      return new Tensor('float32', qkv.subarray(0, sizeOf(dims)), dims) as Tensor<never>;
    },
  };
}

/**
 * onnxruntime's quantized BERT self-attention, what its quantizer makes of an Attention node:
 * Q, K, V = float(Σ (input − input_zero_point)(weights − weight_zero_point)) ·
 * fround(input_scale · weight_scale) + bias, the scale and zero point of the weights per tensor
 * or per column, every step rounded as onnxruntime's kernel does; then the attention of the
 * Attention op (msAttention.ts), the same mask forms and attributes. input and weights are each
 * uint8 or int8 (onnxruntime's CPU kernel takes uint8 input only). Past/present state is
 * rejected with UNSUPPORTED_OP.
 */
export const QAttention: OpDefinition<PackedQuantB[] | undefined> = {
  opType: 'QAttention',
  domain: 'com.microsoft',
  versions: [1, 1],
  infer(node, inputs) {
    checkSupported(node, (i) => inputs[i] !== undefined);
    const input = need(node, inputs, INPUT);
    const ops = { input, weights: need(node, inputs, WEIGHTS), bias: need(node, inputs, BIAS), mask: inputs[MASK], attentionBias: undefined };
    const inputScale = need(node, inputs, INPUT_SCALE);
    const inputZero = inputs[INPUT_ZERO_POINT];
    checkType(node, input, 'input', QUANT_TYPES);
    checkType(node, inputScale, 'input_scale', ['float32']);
    checkScalarScale(node, 'input_scale', inputScale.shape);
    checkZeroPointType(node, inputZero, 'input_zero_point', input);
    if (inputZero?.shape && sizeOf(inputZero.shape) !== 1) fail(node, `input_zero_point ${shapeText(inputZero.shape)} must hold one value`);
    // The weights' type, scale, zero point and the bias against the projection's shape.
    inferToFloat(node, input.shape, { b: ops.weights, bScale: need(node, inputs, WEIGHT_SCALE), bZero: inputs[WEIGHT_ZERO_POINT], bias: ops.bias });
    return inferSelfAttention(node, ops);
  },
  prepare(node, inputs) {
    return prepackB(node, inputs[WEIGHTS]);
  },
  run(node, inputs, out, packed) {
    checkSupported(node, (i) => inputs[i] !== undefined);
    const ops = {
      input: needTensor(node, inputs, INPUT),
      weights: needTensor(node, inputs, WEIGHTS),
      bias: needTensor(node, inputs, BIAS),
      mask: inputs[MASK],
      attentionBias: undefined,
    };
    const inputScale = needTensor(node, inputs, INPUT_SCALE);
    checkScalarScale(node, 'input_scale', inputScale.dims);
    const inputZero = inputs[INPUT_ZERO_POINT];
    if (inputZero && sizeOf(inputZero.dims) !== 1) {
      throw new LambertError('INVALID_INPUT', `${describeNode(node)}: input_zero_point ${shapeText(inputZero.dims)} must hold one value`);
    }
    const toFloat = { b: ops.weights, bScale: needTensor(node, inputs, WEIGHT_SCALE), bZero: inputs[WEIGHT_ZERO_POINT], bias: ops.bias };
    return runSelfAttention(node, ops, out, (qkv) => {
      runToFloat(node, ops.input, inputZero, (inputScale.data as Float32Array)[0]!, toFloat, packed, into(qkv));
    });
  },
};
