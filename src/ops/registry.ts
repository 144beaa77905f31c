/**
 * Every operator lambert runs, with the opset range each definition covers. Loading checks
 * each node against this list; nothing else decides whether a model is supported.
 */
import type { OpDefinition } from './types.js';
// ---- elementwise & logic ----
import { Abs } from './abs.js';
import { Add } from './add.js';
import { And } from './and.js';
import { Cast } from './cast.js';
import { Ceil } from './ceil.js';
import { Clip } from './clip.js';
import { Cos } from './cos.js';
import { Div } from './div.js';
import { Dropout } from './dropout.js';
import { Elu } from './elu.js';
import { Equal } from './equal.js';
import { Erf } from './erf.js';
import { Exp } from './exp.js';
import { Floor } from './floor.js';
import { Greater } from './greater.js';
import { GreaterOrEqual } from './greaterOrEqual.js';
import { HardSigmoid } from './hardSigmoid.js';
import { LeakyRelu } from './leakyRelu.js';
import { Identity } from './identity.js';
import { Less } from './less.js';
import { LessOrEqual } from './lessOrEqual.js';
import { Log } from './log.js';
import { Max } from './max.js';
import { Min } from './min.js';
import { Mul } from './mul.js';
import { Neg } from './neg.js';
import { Not } from './not.js';
import { Or } from './or.js';
import { Pow } from './pow.js';
import { Reciprocal } from './reciprocal.js';
import { Relu } from './relu.js';
import { Round } from './round.js';
import { Sigmoid } from './sigmoid.js';
import { Sqrt } from './sqrt.js';
import { Sub } from './sub.js';
import { Tanh } from './tanh.js';
import { Where } from './where.js';
import { Xor } from './xor.js';
// ---- reductions, normalization, matmul ----
import { CumSum } from './cumSum.js';
import { Gemm } from './gemm.js';
import { LayerNormalization } from './layerNormalization.js';
import { LogSoftmax } from './logSoftmax.js';
import { MatMul } from './matMul.js';
import { ReduceL1 } from './reduceL1.js';
import { ReduceL2 } from './reduceL2.js';
import { ReduceLogSum } from './reduceLogSum.js';
import { ReduceLogSumExp } from './reduceLogSumExp.js';
import { ReduceMax } from './reduceMax.js';
import { ReduceMean } from './reduceMean.js';
import { ReduceMin } from './reduceMin.js';
import { ReduceProd } from './reduceProd.js';
import { ReduceSum } from './reduceSum.js';
import { ReduceSumSquare } from './reduceSumSquare.js';
import { Softmax } from './softmax.js';
// ---- shape & data movement ----
import { Concat } from './concat.js';
import { ConstantOfShape } from './constantOfShape.js';
import { Expand } from './expand.js';
import { Flatten } from './flatten.js';
import { Gather } from './gather.js';
import { GatherElements } from './gatherElements.js';
import { Pad } from './pad.js';
import { Range } from './range.js';
import { Reshape } from './reshape.js';
import { Shape } from './shape.js';
import { Size } from './size.js';
import { Slice } from './slice.js';
import { Split } from './split.js';
import { Squeeze } from './squeeze.js';
import { Tile } from './tile.js';
import { Transpose } from './transpose.js';
import { Unsqueeze } from './unsqueeze.js';
// ---- quantization ----
import { DequantizeLinear } from './dequantizeLinear.js';
import { DynamicQuantizeLinear } from './dynamicQuantizeLinear.js';
import { MatMulInteger } from './matMulInteger.js';
import { QLinearMatMul } from './qLinearMatMul.js';
import { QuantizeLinear } from './quantizeLinear.js';
// ---- com.microsoft ----
import { Attention } from './msAttention.js';
import { BiasGelu } from './msBiasGelu.js';
import { DynamicQuantizeMatMul } from './msDynamicQuantizeMatMul.js';
import { EmbedLayerNormalization } from './msEmbedLayerNormalization.js';
import { FastGelu } from './msFastGelu.js';
import { FusedGemm } from './msFusedGemm.js';
import { FusedMatMul } from './msFusedMatMul.js';
import { Gelu } from './msGelu.js';
import { MatMulIntegerToFloat } from './msMatMulIntegerToFloat.js';
import { QAttention } from './msQAttention.js';
import { QEmbedLayerNormalization } from './msQEmbedLayerNormalization.js';
import { SkipLayerNormalization } from './msSkipLayerNormalization.js';
// ---- lambert internal (fusions) ----
import { Linear } from './lambertLinear.js';
import { AttentionCore } from './lambertAttentionCore.js';

const definitions: readonly OpDefinition<any>[] = [
  // ---- elementwise & logic ----
  Abs,
  Add,
  And,
  Cast,
  Ceil,
  Clip,
  Cos,
  Div,
  Dropout,
  Elu,
  Equal,
  Erf,
  Exp,
  Floor,
  Greater,
  GreaterOrEqual,
  HardSigmoid,
  LeakyRelu,
  Identity,
  Less,
  LessOrEqual,
  Log,
  Max,
  Min,
  Mul,
  Neg,
  Not,
  Or,
  Pow,
  Reciprocal,
  Relu,
  Round,
  Sigmoid,
  Sqrt,
  Sub,
  Tanh,
  Where,
  Xor,
  // ---- reductions, normalization, matmul ----
  CumSum,
  Gemm,
  LayerNormalization,
  LogSoftmax,
  MatMul,
  ReduceL1,
  ReduceL2,
  ReduceLogSum,
  ReduceLogSumExp,
  ReduceMax,
  ReduceMean,
  ReduceMin,
  ReduceProd,
  ReduceSum,
  ReduceSumSquare,
  Softmax,
  // ---- shape & data movement ----
  Concat,
  ConstantOfShape,
  Expand,
  Flatten,
  Gather,
  GatherElements,
  Pad,
  Range,
  Reshape,
  Shape,
  Size,
  Slice,
  Split,
  Squeeze,
  Tile,
  Transpose,
  Unsqueeze,
  // ---- quantization ----
  DequantizeLinear,
  DynamicQuantizeLinear,
  MatMulInteger,
  QLinearMatMul,
  QuantizeLinear,
  // ---- com.microsoft ----
  Attention,
  BiasGelu,
  DynamicQuantizeMatMul,
  EmbedLayerNormalization,
  FastGelu,
  FusedGemm,
  FusedMatMul,
  Gelu,
  MatMulIntegerToFloat,
  QAttention,
  QEmbedLayerNormalization,
  SkipLayerNormalization,
  // ---- lambert internal (fusions) ----
  Linear,
  AttentionCore,
];

const byKey = new Map<string, OpDefinition<any>[]>();
for (const def of definitions) {
  const key = `${def.domain}::${def.opType}`;
  const list = byKey.get(key) ?? [];
  list.push(def);
  byKey.set(key, list);
}

export function findOp(domain: string, opType: string, opset: number): OpDefinition<any> | undefined {
  return byKey.get(`${domain}::${opType}`)?.find((d) => opset >= d.versions[0] && opset <= d.versions[1]);
}

/** "11-17" style description of the opsets an op is supported at, or undefined if not at all. */
export function supportedOpsets(domain: string, opType: string): string | undefined {
  const list = byKey.get(`${domain}::${opType}`);
  return list?.map((d) => `${d.versions[0]}-${d.versions[1]}`).join(', ');
}

export function registeredOps(): readonly OpDefinition<any>[] {
  return definitions;
}
