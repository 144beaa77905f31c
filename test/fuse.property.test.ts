/**
 * The int8 linear-layer fusion is bit-exact: on random dynamically quantized linear layers,
 * DynamicQuantizeLinear → MatMulInteger → Cast → Mul(a_scale · w_scale) (→ Add bias), the
 * session with fusions (MatMulIntegerToFloat) gives the same bits as the op-by-op session.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { onnx } from '../src/proto.js';
import { InferenceSession } from '../src/session.js';
import { Tensor } from '../src/tensor.js';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT8 = onnx.TensorProto.DataType.INT8;
const UINT8 = onnx.TensorProto.DataType.UINT8;

/** Deterministic pseudo-random integers in [lo, hi]: fast-check shrinks the seed, not the data. */
function ints(seed: number, count: number, lo: number, hi: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s % (hi - lo + 1));
  });
}

const layerCase = fc.record({
  m: fc.integer({ min: 1, max: 13 }),
  k: fc.integer({ min: 1, max: 37 }),
  n: fc.integer({ min: 1, max: 21 }),
  wSigned: fc.boolean(),
  perColumnZero: fc.boolean(),
  perColumnScale: fc.boolean(),
  withBias: fc.boolean(),
  scaleFirst: fc.boolean(),
  biasFirst: fc.boolean(),
  range: fc.constantFrom(1e-3, 1, 40),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
});
type LayerCase = typeof layerCase extends fc.Arbitrary<infer T> ? T : never;

function layerModel(c: LayerCase): Uint8Array {
  const { k, n, wSigned, perColumnZero, perColumnScale, withBias, scaleFirst, biasFirst, seed } = c;
  const wType = wSigned ? INT8 : UINT8;
  const [lo, hi] = wSigned ? [-128, 127] : [0, 255];
  const zeroCount = perColumnZero ? n : 1;
  const scaleCount = perColumnScale ? n : 1;
  const initializer: onnx.ITensorProto[] = [
    { name: 'w', dataType: wType, dims: [k, n], int32Data: ints(seed + 1, k * n, lo, hi) },
    { name: 'w_zero', dataType: wType, dims: perColumnZero ? [n] : [], int32Data: ints(seed + 2, zeroCount, lo, hi) },
    { name: 'w_scale', dataType: FLOAT, dims: perColumnScale ? [n] : [], floatData: ints(seed + 3, scaleCount, 1, 1e6).map((v) => v * 1e-8) },
  ];
  const node: onnx.INodeProto[] = [
    { opType: 'DynamicQuantizeLinear', input: ['x'], output: ['x_q', 'x_scale', 'x_zero'] },
    { opType: 'MatMulInteger', input: ['x_q', 'w', 'x_zero', 'w_zero'], output: ['acc'] },
    { opType: 'Cast', input: ['acc'], output: ['acc_f'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] },
    { opType: 'Mul', input: ['x_scale', 'w_scale'], output: ['scale'] },
    { opType: 'Mul', input: scaleFirst ? ['scale', 'acc_f'] : ['acc_f', 'scale'], output: [withBias ? 'scaled' : 'y'] },
  ];
  if (withBias) {
    initializer.push({ name: 'bias', dataType: FLOAT, dims: [n], floatData: ints(seed + 4, n, -1e6, 1e6).map((v) => v * 1e-6) });
    node.push({ opType: 'Add', input: biasFirst ? ['bias', 'scaled'] : ['scaled', 'bias'], output: ['y'] });
  }
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 14 }],
    graph: {
      name: 'quantized_linear',
      node,
      initializer,
      input: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'm' }, { dimValue: k }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: FLOAT } } }],
    },
  }).finish();
}

describe('int8 linear-layer fusion', () => {
  it('is bit-identical to the op-by-op graph for any shape, weight type, zero points, scales and bias', async () => {
    await fc.assert(
      fc.asyncProperty(layerCase, async (c) => {
        const bytes = layerModel(c);
        const plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
        const fused = await InferenceSession.create(bytes);
        expect(fused.graph.nodes.map((n) => n.opType)).toEqual(['DynamicQuantizeLinear', 'MatMulIntegerToFloat']);
        const x = new Tensor(Float32Array.from(ints(c.seed, c.m * c.k, -1e6, 1e6), (v) => (v / 1e6) * c.range), [c.m, c.k]);
        const expected = (await plain.run({ x })).y!;
        const actual = (await fused.run({ x })).y!;
        expect(actual.dims).toEqual([c.m, c.n]);
        expect(new Uint32Array(actual.data.buffer, actual.data.byteOffset, actual.size)).toEqual(
          new Uint32Array(expected.data.buffer, expected.data.byteOffset, expected.size),
        );
      }),
      { numRuns: 60 },
    );
  });
});
