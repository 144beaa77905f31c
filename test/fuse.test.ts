/**
 * Fusions must not change results beyond float32 rounding: on every fixture the fused graph
 * agrees with the op-by-op one within 1e-5 and both match onnxruntime within 1e-4, and each
 * fusion fires where the exporter wrote its pattern. (Bit-exactness of the int8 linear-layer
 * fusion on its own is checked by test/fuse.property.test.ts.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadGraph } from '../src/load.js';
import { onnx } from '../src/proto.js';
import { InferenceSession } from '../src/session.js';
import { LambertError } from '../src/errors.js';
import { Tensor } from '../src/tensor.js';
import { fromRef, mismatch, type RefEntry } from './helpers/compare.js';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INTS = onnx.AttributeProto.AttributeType.INTS;

const FIXTURES = fileURLToPath(new URL('./fixtures/models/', import.meta.url));
const models = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.onnx'))
  .sort();

interface Ref {
  inputs: Record<string, RefEntry>;
  expected: Record<string, RefEntry>;
}

type Counts = Record<string, number>;

/**
 * BERT-like fixtures: per layer six linears (Q, K, V, attention output, intermediate, output),
 * one attention core (its two activation MatMuls stay unfused in DistilBERT, which scales Q
 * before the scores and masks with Where), one GELU and two residual layer norms; plus the
 * embeddings' sum and layer norm, which fuse to SkipLayerNormalization as well.
 */
const LAYERS = 2;
const bertLike = (int8: boolean, attention: boolean): Counts => ({
  Linear: int8 ? 0 : 6 * LAYERS,
  MatMulIntegerToFloat: int8 ? 6 * LAYERS : 0,
  AttentionCore: attention ? LAYERS : 0,
  MatMul: attention ? 0 : 2 * LAYERS,
  Softmax: attention ? 0 : LAYERS,
  Gelu: LAYERS,
  SkipLayerNormalization: 2 * LAYERS + 1,
  LayerNormalization: 0,
  ReduceMean: 0,
  Erf: 0,
  Pow: 0,
  Sqrt: 0,
});

/** The fused graph's op counts each fixture family must show. */
function expectedCounts(file: string): Counts {
  const int8 = /\.int8/.test(file);
  if (file.startsWith('tiny-mobilebert')) {
    // MobileBERT: bottleneck linears and NoNorm (Mul, Add) instead of layer norm, ReLU FFNs.
    return { Linear: int8 ? 0 : 31, MatMulIntegerToFloat: int8 ? 31 : 0, AttentionCore: 2, MatMul: 0, Gelu: 0, SkipLayerNormalization: 0, LayerNormalization: 0 };
  }
  return bertLike(int8, !file.startsWith('tiny-distilbert'));
}

function count(session: InferenceSession, opType: string): number {
  return session.graph.nodes.filter((n) => n.opType === opType).length;
}

describe('graph fusions', () => {
  it('covers the fp32 and int8 fixtures', () => expect(models.length).toBeGreaterThanOrEqual(24));

  for (const file of models) {
    it(`${file}: fusions fire, outputs agree with the unfused graph and onnxruntime`, async () => {
      const bytes = readFileSync(FIXTURES + file);
      const ref = JSON.parse(readFileSync(FIXTURES + file.replace(/\.onnx$/, '.ref.json'), 'utf8')) as Ref;
      const plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
      const fused = await InferenceSession.create(bytes);
      const counts = Object.fromEntries(Object.keys(expectedCounts(file)).map((op) => [op, count(fused, op)]));
      expect(counts).toEqual(expectedCounts(file));
      expect(count(fused, 'MatMulInteger')).toBe(0);
      expect(fused.graph.nodes.length).toBeLessThan(plain.graph.nodes.length);

      const feeds = Object.fromEntries(plain.inputMetadata.map((m) => [m.name, fromRef(ref.inputs[m.name]!, m.type)]));
      const a = await plain.run(feeds);
      const b = await fused.run(feeds);
      for (const name of plain.outputNames) {
        expect(mismatch(b[name]!, a[name]!, { atol: 1e-5, rtol: 0 }), `${name} fused vs unfused`).toBeUndefined();
        const expected = fromRef(ref.expected[name]!);
        expect(mismatch(a[name]!, expected, { atol: 1e-4, rtol: 0 }), `${name} unfused vs onnxruntime`).toBeUndefined();
        expect(mismatch(b[name]!, expected, { atol: 1e-4, rtol: 0 }), `${name} fused vs onnxruntime`).toBeUndefined();
      }
    });
  }

  describe('on hand-written graphs', () => {
    const H = 4;
    const scalar = (name: string, v: number): onnx.ITensorProto => ({ name, dataType: FLOAT, dims: [], floatData: [v] });
    const vector = (name: string, v: number[]): onnx.ITensorProto => ({ name, dataType: FLOAT, dims: [v.length], floatData: v });
    const gamma = vector('gamma', [1.5, -0.5, 0.25, 2]);
    const beta = vector('beta', [0.1, 0.2, -0.3, 0]);
    const mean = (opset: number, input: string, output: string): onnx.INodeProto =>
      opset >= 18
        ? { opType: 'ReduceMean', input: [input, 'axes'], output: [output] }
        : { opType: 'ReduceMean', input: [input], output: [output], attribute: [{ name: 'axes', type: INTS, ints: [-1] }] };
    /** The opset 11/14 export's spelled-out layer norm of `input`. */
    const layerNorm = (opset: number, input: string): onnx.INodeProto[] => [
      mean(opset, input, 'mu'),
      { opType: 'Sub', input: [input, 'mu'], output: ['d'] },
      { opType: 'Pow', input: ['d', 'two'], output: ['d2'] },
      mean(opset, 'd2', 'var'),
      { opType: 'Add', input: ['var', 'eps'], output: ['var_eps'] },
      { opType: 'Sqrt', input: ['var_eps'], output: ['std'] },
      { opType: 'Div', input: ['d', 'std'], output: ['normed'] },
      { opType: 'Mul', input: ['gamma', 'normed'], output: ['scaled'] },
      { opType: 'Add', input: ['scaled', 'beta'], output: ['y'] },
    ];
    const lnConstants = [scalar('two', 2), scalar('eps', 1e-12), gamma, beta];

    function model(node: onnx.INodeProto[], initializer: onnx.ITensorProto[], opset = 14, outputs = ['y'], rDims = [2, 3, H]): Uint8Array {
      const input = (['x', 'r'] as const).map((name) => {
        const dims = name === 'x' ? [2, 3, H] : rDims;
        return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
      });
      const used = new Set(node.flatMap((n) => n.input ?? []));
      return onnx.ModelProto.encode({
        irVersion: 8,
        opsetImport: [{ domain: '', version: opset }],
        graph: {
          name: 'g',
          node,
          initializer: [...initializer, ...(opset >= 18 ? [{ name: 'axes', dataType: INT64, dims: [1], int64Data: [-1] }] : [])],
          input: input.filter((i) => used.has(i.name)),
          output: outputs.map((name) => ({ name, type: { tensorType: { elemType: FLOAT } } })),
        },
      }).finish();
    }

    /** The fused graph's op types, after checking it computes what the unfused one does. */
    async function fusedOps(bytes: Uint8Array): Promise<string[]> {
      const plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
      const fused = await InferenceSession.create(bytes);
      const values = Float32Array.from({ length: 2 * 3 * H }, (_, i) => Math.sin(i * 1.7) * 3);
      const feeds = Object.fromEntries(
        plain.inputMetadata.map((m, j) => {
          const dims = m.dims as number[];
          return [m.name, new Tensor(values.slice(0, dims.reduce((a, b) => a * b, 1)).map((v) => v + j), dims)];
        }),
      );
      const [a, b] = [await plain.run(feeds), await fused.run(feeds)];
      for (const name of plain.outputNames) expect(mismatch(b[name]!, a[name]!, { atol: 1e-5, rtol: 0 }), name).toBeUndefined();
      return fused.graph.nodes.map((n) => n.opType);
    }

    const geluTail = (x: string): onnx.INodeProto[] => [
      { opType: 'Div', input: [x, 'sqrt2'], output: ['s'] },
      { opType: 'Erf', input: ['s'], output: ['e'] },
      { opType: 'Add', input: ['one', 'e'], output: ['e1'] },
      { opType: 'Mul', input: ['e1', x], output: ['g'] },
      { opType: 'Mul', input: ['g', 'half'], output: ['y'] },
    ];
    const geluConstants = [scalar('sqrt2', 1.4142135), scalar('one', 1), scalar('half', 0.5)];

    it('fuses bias + erf GELU into BiasGelu', async () => {
      const bytes = model([{ opType: 'Add', input: ['x', 'bias'], output: ['xb'] }, ...geluTail('xb')], [...geluConstants, vector('bias', [1, 2, 3, 4])]);
      expect(await fusedOps(bytes)).toEqual(['BiasGelu']);
    });

    it('fuses GELU written as Mul(x, 0.5) · (1 + erf(x · 1/√2))', async () => {
      const bytes = model(
        [
          { opType: 'Mul', input: ['x', 'half'], output: ['h'] },
          { opType: 'Mul', input: ['rsqrt2', 'x'], output: ['s'] },
          { opType: 'Erf', input: ['s'], output: ['e'] },
          { opType: 'Add', input: ['e', 'one'], output: ['e1'] },
          { opType: 'Mul', input: ['h', 'e1'], output: ['y'] },
        ],
        [scalar('rsqrt2', Math.SQRT1_2), scalar('one', 1), scalar('half', 0.5)],
      );
      expect(await fusedOps(bytes)).toEqual(['Gelu']);
    });

    it('leaves GELU alone when an intermediate is a graph output or a constant is off', async () => {
      expect(await fusedOps(model(geluTail('x'), geluConstants, 14, ['y', 'e']))).toEqual(['Div', 'Erf', 'Add', 'Mul', 'Mul']);
      expect(await fusedOps(model(geluTail('x'), [scalar('sqrt2', 1.5), scalar('one', 1), scalar('half', 0.5)]))).toHaveLength(5);
    });

    for (const opset of [11, 14, 18]) {
      it(`fuses the spelled-out layer norm at opset ${opset}, and with its residual Add into SkipLayerNormalization`, async () => {
        expect(await fusedOps(model(layerNorm(opset, 'x'), lnConstants, opset))).toEqual(['LayerNormalization']);
        const residual = model([{ opType: 'Add', input: ['x', 'r'], output: ['sum'] }, ...layerNorm(opset, 'sum')], lnConstants, opset);
        expect(await fusedOps(residual)).toEqual(['SkipLayerNormalization']);
      });
    }

    it('falls back to the nodes a fusion replaced when the fused op rejects the actual shapes', async () => {
      // BiasGelu takes a bias along the last axis only; Add broadcasts a one-element one too.
      const scalarBias = model([{ opType: 'Add', input: ['x', 'bias'], output: ['xb'] }, ...geluTail('xb')], [...geluConstants, vector('bias', [0.5])]);
      expect(await fusedOps(scalarBias)).toEqual(['BiasGelu']);
      // SkipLayerNormalization takes a skip of the input's shape; Add broadcasts (3, H), (H) and (2, 3, 1) as well.
      for (const rDims of [[3, H], [H], [2, 3, 1], [1, 3, H]]) {
        const residual = model([{ opType: 'Add', input: ['x', 'r'], output: ['sum'] }, ...layerNorm(14, 'sum')], lnConstants, 14, ['y'], rDims);
        expect(await fusedOps(residual), `skip ${rDims.join('x')}`).toEqual(['SkipLayerNormalization']);
      }
    });

    describe('attention core', () => {
      // Q, K, V (B, S, heads·D) = (2, 3, 2·2), split into heads; an int64 key-padding mask (B, S).
      const [B, S, HEADS, D] = [2, 3, 2, 2];
      const ints = (name: string, v: number[]): onnx.ITensorProto => ({ name, dataType: INT64, dims: [v.length], int64Data: v });
      const split = (x: string): onnx.INodeProto => ({ opType: 'Reshape', input: [x, 'heads'], output: [`${x}4`] });
      const transpose = (x: string, perm: number[], output: string): onnx.INodeProto => ({ opType: 'Transpose', input: [x], output: [output], attribute: [{ name: 'perm', type: INTS, ints: perm }] });
      const maskNodes = (mask: string): onnx.INodeProto[] => [
        { opType: 'Unsqueeze', input: [mask, 'ax1'], output: ['m3'] },
        { opType: 'Unsqueeze', input: ['m3', 'ax2'], output: ['m4'] },
        { opType: 'Cast', input: ['m4'], output: ['mf'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] },
        { opType: 'Sub', input: ['one', 'mf'], output: ['inv'] },
        { opType: 'Mul', input: ['inv', 'big'], output: ['additive'] },
      ];
      const core = (opts: { softmaxAxis?: number; mask?: string } = {}): onnx.INodeProto[] => [
        split('q'), split('k'), split('v'),
        transpose('q4', [0, 2, 1, 3], 'qt'), transpose('k4', [0, 2, 3, 1], 'kt'), transpose('v4', [0, 2, 1, 3], 'vt'),
        { opType: 'MatMul', input: ['qt', 'kt'], output: ['scores'] },
        { opType: 'Div', input: ['scores', 'sqrtD'], output: ['scaled'] },
        { opType: 'Add', input: ['scaled', opts.mask ?? 'additive'], output: ['masked'] },
        { opType: 'Softmax', input: ['masked'], output: ['p'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: opts.softmaxAxis ?? -1 }] },
        { opType: 'MatMul', input: ['p', 'vt'], output: ['o'] },
        transpose('o', [0, 2, 1, 3], 'y'),
      ];
      const constants = [ints('heads', [B, S, HEADS, D]), ints('ax1', [1]), ints('ax2', [2]), scalar('one', 1), scalar('big', -10000), scalar('sqrtD', Math.SQRT2)];

      function attentionModel(node: onnx.INodeProto[], outputs = ['y'], maskType = INT64, maskDims = [B, S]): Uint8Array {
        const value = (name: string, elemType: number, dims: number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } } });
        return onnx.ModelProto.encode({
          irVersion: 8,
          opsetImport: [{ domain: '', version: 14 }],
          graph: {
            name: 'g',
            node,
            initializer: constants,
            input: [...['q', 'k', 'v'].map((n) => value(n, FLOAT, [B, S, HEADS * D])), value('mask', maskType, maskDims)],
            output: outputs.map((name) => ({ name, type: { tensorType: { elemType: FLOAT } } })),
          },
        }).finish();
      }

      /** The fused graph's op types, after checking it computes what the unfused one does (key 2 of batch 1 padded). */
      async function fusedAttentionOps(bytes: Uint8Array, mask: Tensor): Promise<string[]> {
        const plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
        const fused = await InferenceSession.create(bytes);
        const feeds: Record<string, Tensor> = { mask };
        ['q', 'k', 'v'].forEach((name, j) => (feeds[name] = new Tensor(Float32Array.from({ length: B * S * HEADS * D }, (_, i) => Math.sin(i * 1.3 + j) * 2), [B, S, HEADS * D])));
        const [a, b] = [await plain.run(feeds), await fused.run(feeds)];
        for (const name of plain.outputNames) expect(mismatch(b[name]!, a[name]!, { atol: 1e-6, rtol: 0 }), name).toBeUndefined();
        return fused.graph.nodes.map((n) => n.opType);
      }
      const padding = new Tensor('int64', [1n, 1n, 1n, 1n, 1n, 0n], [B, S]);

      it('fuses Transpose → MatMul → Div → Add(mask) → Softmax → MatMul → Transpose into AttentionCore', async () => {
        const ops = await fusedAttentionOps(attentionModel([...maskNodes('mask'), ...core()]), padding);
        expect(ops.filter((op) => op !== 'Reshape')).toEqual(['Unsqueeze', 'Unsqueeze', 'Cast', 'Sub', 'Mul', 'AttentionCore']);
      });

      it('leaves it alone when Softmax is not over the keys, an intermediate is an output, or the mask is not (B, 1, 1, S) by construction', async () => {
        const unfused = (ops: string[]) => expect(ops).not.toContain('AttentionCore');
        unfused(await fusedAttentionOps(attentionModel([...maskNodes('mask'), ...core({ softmaxAxis: 2 })]), padding));
        unfused(await fusedAttentionOps(attentionModel([...maskNodes('mask'), ...core()], ['y', 'p']), padding));
        const square = new Tensor(Float32Array.from({ length: B * S * S }, (_, i) => (i % 4 === 3 ? -10000 : 0)), [B, 1, S, S]);
        unfused(await fusedAttentionOps(attentionModel(core({ mask: 'mask' }), ['y'], FLOAT, [B, 1, S, S]), square));
      });
    });

    it('keeps the residual Add when its sum is read elsewhere', async () => {
      const bytes = model([{ opType: 'Add', input: ['x', 'r'], output: ['sum'] }, ...layerNorm(14, 'sum')], lnConstants, 14, ['y', 'sum']);
      expect(await fusedOps(bytes)).toEqual(['Add', 'LayerNormalization']);
    });
  });

  it("refuses models that use the fusions' internal 'lambert' domain", () => {
    const model = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }, { domain: 'lambert', version: 1 }],
      graph: {
        name: 'g',
        input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: 1 } } }],
        node: [{ opType: 'Linear', domain: 'lambert', input: ['x', 'w', 'b'], output: ['y'] }],
      },
    }).finish();
    expect(() => loadGraph(model)).toThrow(LambertError);
    expect(() => loadGraph(model)).toThrow(/lambert::Linear \(internal/);
  });
});
