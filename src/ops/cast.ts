import { describeNode } from '../errors.js';
import { isBigIntType, isFloatType, type BigIntArray, type DType, type NumericArray, type Tensor } from '../tensor.js';
import { dtypeFromOnnx } from '../tensorProto.js';
import { bigintToFloat32, toInt32, toInt64, toUint32, toUint64 } from './elementwise.js';
import type { NodeInfo, OpDefinition } from './types.js';
import { meta, need, needTensor } from './util.js';

/** The `to` dtype; string, float16, bfloat16 and float8 targets are reported as unsupported. */
function target(node: NodeInfo): DType {
  return dtypeFromOnnx(node.attrs.int('to'), `${describeNode(node)} attribute "to"`);
}

/**
 * C++ static_cast semantics, as onnxruntime's Cast computes them: integers wrap to the target's
 * width, anything nonzero (NaN included) is true, floats round to nearest, and floats to
 * integers go through the x86 conversions in elementwise.ts.
 */
function convert(x: Tensor, o: Tensor): void {
  const n = x.size;
  const from = x.type;
  const to = o.type;
  if (to === 'bool') {
    const dst = o.data as Uint8Array;
    if (isBigIntType(from)) {
      const src = x.data as BigIntArray;
      for (let i = 0; i < n; i++) dst[i] = src[i] !== 0n ? 1 : 0;
    } else {
      const src = x.data as NumericArray;
      for (let i = 0; i < n; i++) dst[i] = src[i] !== 0 ? 1 : 0;
    }
    return;
  }
  if (isBigIntType(from)) {
    const src = x.data as BigIntArray;
    if (isBigIntType(to)) (o.data as BigIntArray).set(src);
    else {
      const dst = o.data as NumericArray;
      if (to === 'float64') for (let i = 0; i < n; i++) dst[i] = Number(src[i]!);
      else if (to === 'float32') for (let i = 0; i < n; i++) dst[i] = bigintToFloat32(src[i]!);
      else for (let i = 0; i < n; i++) dst[i] = Number(BigInt.asIntN(32, src[i]!));
    }
    return;
  }
  const src = x.data as NumericArray;
  const fromFloat = isFloatType(from);
  if (isBigIntType(to)) {
    const dst = o.data as BigIntArray;
    if (!fromFloat) for (let i = 0; i < n; i++) dst[i] = BigInt(src[i]!);
    else {
      const f = to === 'int64' ? toInt64 : toUint64;
      for (let i = 0; i < n; i++) dst[i] = f(src[i]!);
    }
  } else if (fromFloat && !isFloatType(to)) {
    const dst = o.data as NumericArray;
    const f = to === 'uint32' ? toUint32 : toInt32;
    for (let i = 0; i < n; i++) dst[i] = f(src[i]!);
  } else {
    // Typed-array copies convert per element exactly as needed here: integer targets wrap,
    // float targets round to nearest.
    (o.data as NumericArray).set(src);
  }
}

// Opset 1 named the target type with a string; 19 added float8 (and `saturate`, which only
// concerns float8), 21 int4 — neither changes the types lambert has.
export const Cast: OpDefinition = {
  opType: 'Cast',
  domain: '',
  versions: [6, 21],
  infer(node, inputs) {
    return [meta(target(node), need(node, inputs, 0).shape)];
  },
  run(node, inputs, out) {
    const x = needTensor(node, inputs, 0);
    const o = out.alloc(0, target(node), x.dims);
    convert(x, o);
    return [o];
  },
};
