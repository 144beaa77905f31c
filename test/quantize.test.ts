/**
 * The quantizer must write what onnxruntime's dynamic quantization (as reproduced by
 * shared/tools/quantize_like_ort.py) writes: same graph, same int8 bytes, same scales.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambertError } from '../src/errors.js';
import { onnx } from '../src/proto.js';
import { InferenceSession } from '../src/session.js';
import { Tensor } from '../src/tensor.js';
import { tensorFromProto } from '../src/tensorProto.js';
import { quantizeModel, type QuantizeOptions, type QuantizeReport } from '../weights/quantize.js';
import { fromRef, mismatch, type RefEntry } from './helpers/compare.js';
import { forOrtOracle, ortRun, withUint8Weights } from './helpers/ort.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/models/', import.meta.url));
const SHARED = fileURLToPath(new URL('../../shared/', import.meta.url));
const SST2 = join(SHARED, 'models/trained/sst2-tiny/');
const SCRIPT = join(SHARED, 'tools/quantize_like_ort.py');
const PYTHON = '/usr/bin/python3';
// libonnx-testdata alone makes `import onnx` succeed (a namespace package holding only the test
// data), so the probe asks for what the script really uses.
const pythonHasOnnx =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy, onnx, onnx.numpy_helper'], { stdio: 'ignore' }).status === 0;

const T = onnx.TensorProto.DataType;

function decode(bytes: Uint8Array): onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

function initializer(model: onnx.ModelProto, name: string) {
  const proto = model.graph!.initializer!.find((t) => t.name === name);
  if (!proto) throw new Error(`no initializer ${name}`);
  return tensorFromProto(proto, 'initializer');
}

/** Everything about a graph that quantization could change, in comparable form. */
function structure(model: onnx.ModelProto) {
  const g = model.graph!;
  return {
    opsets: (model.opsetImport ?? []).map((o) => `${o.domain ?? ''}:${String(o.version)}`),
    inputs: (g.input ?? []).map((v) => v.name),
    outputs: (g.output ?? []).map((v) => v.name),
    nodes: (g.node ?? []).map((n) => ({
      opType: n.opType,
      domain: n.domain ?? '',
      name: n.name,
      input: n.input,
      output: n.output,
      attributes: (n.attribute ?? []).map((a) => `${a.name}=${String(a.i)}/${a.f}/${a.type}`),
    })),
    initializers: (g.initializer ?? []).map((t) => {
      const tensor = tensorFromProto(t, 'initializer');
      return { name: t.name, type: t.dataType, dims: tensor.dims, bytes: Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength).toString('base64') };
    }),
  };
}

/** input X [batch, K] → MatMul(W [K, N]) → Y, plus an embedding Gather when `table` is given. */
function tinyModel(w: number[][], options: { opset?: number; table?: number[][]; name?: string; initializersAsInputs?: boolean } = {}): Uint8Array {
  const k = w.length;
  const n = w[0]!.length;
  const floatInfo = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
  const raw = (values: number[][]) => new Uint8Array(Float32Array.from(values.flat()).buffer);
  const initializers = [onnx.TensorProto.create({ name: 'W', dims: [k, n], dataType: T.FLOAT, rawData: raw(w) })];
  const nodes = [onnx.NodeProto.create({ opType: 'MatMul', name: options.name ?? 'mm', input: ['X', 'W'], output: ['Y'] })];
  const inputs = [floatInfo('X', ['batch', k])];
  const outputs = [floatInfo('Y', ['batch', n])];
  if (options.table) {
    initializers.push(onnx.TensorProto.create({ name: 'E', dims: [options.table.length, options.table[0]!.length], dataType: T.FLOAT, rawData: raw(options.table) }));
    nodes.push(onnx.NodeProto.create({ opType: 'Gather', name: 'emb', input: ['E', 'ids'], output: ['Z'] }));
    inputs.push(onnx.ValueInfoProto.create({ name: 'ids', type: { tensorType: { elemType: T.INT64, shape: { dim: [{ dimParam: 'n' }] } } } }));
    outputs.push(floatInfo('Z', ['n', options.table[0]!.length]));
  }
  if (options.initializersAsInputs) inputs.push(floatInfo('W', [k, n]));
  return onnx.ModelProto.encode({
    irVersion: 7,
    producerName: 'lambert-test',
    opsetImport: [{ domain: '', version: options.opset ?? 14 }],
    metadataProps: [{ key: 'kept', value: 'yes' }],
    graph: { name: 'g', node: nodes, initializer: initializers, input: inputs, output: outputs },
  }).finish();
}

describe('quantizeModel on small graphs', () => {
  it('rewrites MatMul into DynamicQuantizeLinear → MatMulInteger → Cast → Mul with ORT names', () => {
    const { bytes, report } = quantizeModel(tinyModel([[1, -2], [0.5, 4]]));
    const s = structure(decode(bytes));
    expect(s.nodes.map((n) => n.opType)).toEqual(['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Mul']);
    expect(s.nodes.map((n) => n.name)).toEqual(['mm_dql', 'mm_quant', 'mm_cast', 'mm_scales_mul', 'mm_out_mul']);
    expect(s.nodes[1]!.input).toEqual(['X_quantized', 'W_quantized', 'X_zero_point', 'W_zero_point']);
    expect(s.nodes[4]!.output).toEqual(['Y']);
    expect(s.initializers.map((t) => t.name)).toEqual(['W_quantized', 'W_scale', 'W_zero_point']);
    expect(report).toMatchObject({ quantizedNodes: ['mm'], skipped: [] });
    expect(decode(bytes).metadataProps).toEqual([expect.objectContaining({ key: 'kept', value: 'yes' })]);
  });

  it('raises an older opset to 11 only when no op changed its signature on the way', () => {
    const raised = decode(quantizeModel(tinyModel([[1, -2], [0.5, 4]], { opset: 10 })).bytes);
    expect(Number(raised.opsetImport!.find((o) => !o.domain)!.version)).toBe(11);
    // A Clip-6 with min/max attributes would read as a Clip-11 that ignores them.
    const model = decode(tinyModel([[1, -2], [0.5, 4]], { opset: 10 }));
    model.graph!.node!.push(
      onnx.NodeProto.create({
        opType: 'Clip',
        name: 'clip',
        input: ['Y'],
        output: ['Yc'],
        attribute: [{ name: 'min', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0 }],
      }),
    );
    model.graph!.output![0]!.name = 'Yc';
    expect(() => quantizeModel(onnx.ModelProto.encode(model).finish())).toThrow(/opset 10 and uses Clip \(changed at opset 11\)/);
  });

  it('rounds halves to even on the float32 quotient and clips symmetric, as numpy does', () => {
    // max |w| = 127 → scale exactly 1, so w / scale = w.
    const { bytes } = quantizeModel(tinyModel([[127, 0.5, 1.5, 2.5], [-0.5, -1.5, -2.5, -127]]));
    const model = decode(bytes);
    expect([...initializer(model, 'W_quantized').data]).toEqual([127, 0, 2, 2, 0, -2, -2, -127]);
    expect([...initializer(model, 'W_scale').data]).toEqual([1]);
    expect(initializer(model, 'W_scale').dims).toEqual([]);
    expect([...initializer(model, 'W_zero_point').data]).toEqual([0]);
  });

  it('computes one scale per output column with --per-channel and 7-bit weights with reduceRange', () => {
    const w = [[63, -1, 0], [31.5, 2, 0]];
    const { bytes } = quantizeModel(tinyModel(w), { perChannel: true, reduceRange: true });
    const model = decode(bytes);
    expect([...initializer(model, 'W_scale').data]).toEqual([1, Math.fround(2 / 63), Math.fround(Math.fround(1e-8) / 63)]);
    expect([...initializer(model, 'W_quantized').data]).toEqual([63, -31, 0, 32, 63, 0]);
    expect(initializer(model, 'W_zero_point').dims).toEqual([3]);
  });

  it('quantizes embedding tables behind a DequantizeLinear, unless told not to', () => {
    const table = [[0.25, -1], [2, 0.125]];
    const on = structure(decode(quantizeModel(tinyModel([[1]], { table })).bytes));
    expect(on.nodes.slice(-2).map((n) => [n.opType, n.name, n.input, n.output])).toEqual([
      ['Gather', 'emb', ['E_quantized', 'ids'], ['Z_quantized']],
      ['DequantizeLinear', 'emb_dequant', ['Z_quantized', 'E_scale', 'E_zero_point'], ['Z']],
    ]);
    const off = quantizeModel(tinyModel([[1]], { table }), { quantizeEmbeddings: false });
    expect(off.report.skipped).toEqual([{ node: 'emb', reason: 'embedding quantization is off' }]);
    expect(structure(decode(off.bytes)).initializers.map((t) => t.name)).toEqual(['E', 'W_quantized', 'W_scale', 'W_zero_point']);
  });

  it('leaves excluded nodes alone and keeps their weights', () => {
    const source = tinyModel([[1, 2]]);
    const { bytes, report } = quantizeModel(source, { exclude: ['mm'] });
    expect(report.skipped).toEqual([{ node: 'mm', reason: 'excluded' }]);
    expect(structure(decode(bytes))).toEqual(structure(decode(source)));
  });

  it('raises opsets below 11 to 11 (DynamicQuantizeLinear) and drops quantized weights from graph inputs', () => {
    const { bytes } = quantizeModel(tinyModel([[1, 2]], { opset: 9, initializersAsInputs: true }));
    const s = structure(decode(bytes));
    expect(s.opsets).toEqual([':11']);
    expect(s.inputs).toEqual(['X']);
  });

  it('shares one DynamicQuantizeLinear per activation and one int8 copy per weight; keeps weights still read in float32', () => {
    const source = decode(tinyModel([[1, 2], [3, 4]]));
    const g = source.graph!;
    g.node!.push(
      onnx.NodeProto.create({ opType: 'MatMul', name: 'mm2', input: ['X', 'W'], output: ['Y2'] }),
      onnx.NodeProto.create({ opType: 'Add', name: 'add', input: ['Y2', 'W'], output: ['Y3'] }),
    );
    const { bytes, report } = quantizeModel(onnx.ModelProto.encode(source).finish());
    const s = structure(decode(bytes));
    expect(report.quantizedNodes).toEqual(['mm', 'mm2']);
    expect(s.nodes.map((n) => n.opType)).toEqual(['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Mul', 'MatMulInteger', 'Cast', 'Mul', 'Mul', 'Add']);
    expect(s.initializers.map((t) => t.name)).toEqual(['W', 'W_quantized', 'W_scale', 'W_zero_point']);
  });

  it('keeps a table float32 for a reader that would need it quantized differently', () => {
    const source = decode(tinyModel([[1, 2], [3, 4]], { table: [[1]] }));
    source.graph!.node![1]!.input = ['W', 'ids'];
    const { report } = quantizeModel(onnx.ModelProto.encode(source).finish(), { perChannel: true });
    expect(report.quantizedNodes).toEqual(['mm']);
    expect(report.skipped).toEqual([{ node: 'emb', reason: 'weight "W" is already quantized differently for another node' }]);
  });

  it('reports progress per rewritten node', () => {
    const calls: [number, number, string][] = [];
    quantizeModel(tinyModel([[1]], { table: [[1]] }), { onProgress: (done, total, name) => calls.push([done, total, name]) });
    expect(calls).toEqual([[1, 2, 'mm'], [2, 2, 'emb']]);
  });

  it('rejects bytes that are not a model', () => {
    expect(() => quantizeModel(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(LambertError);
  });

  it('gives onnxruntime-node a model it runs, close to the fp32 result', async () => {
    const w = [[0.5, -0.25, 1], [0.75, 0.1, -1], [-0.3, 0.2, 0.05]];
    const x = new Tensor('float32', Float32Array.from([1, 2, 3, -1, 0.5, 0.25]), [2, 3]);
    const fp32 = await ortRun(tinyModel(w), { X: x });
    for (const perChannel of [false, true]) {
      const { bytes } = quantizeModel(tinyModel(w), { perChannel });
      // The file itself loads and runs; its values are compared through the host-independent twin (helpers/ort.ts).
      await ortRun(bytes, { X: x });
      const int8 = await ortRun(await forOrtOracle(bytes), { X: x });
      expect(mismatch(int8.Y!, fp32.Y!, { atol: 0.05, rtol: 0 })).toBeUndefined();
    }
  });
});

describe('quantizeModel reproduces the int8 fixtures byte for byte', () => {
  // The fixtures were written by quantize_like_ort.py: --gather per tensor, no --gather per channel.
  const cases: [string, string, QuantizeOptions][] = ['tiny-bert-cls', 'tiny-sbert', 'tiny-mobilebert-cls'].flatMap((m) => [
    [m, 'int8', {}],
    [m, 'int8pc', { perChannel: true, quantizeEmbeddings: false }],
  ] as [string, string, QuantizeOptions][]);
  for (const [model, kind, options] of cases) {
    it(`${model}.opset14.${kind}`, () => {
      const fixture = join(FIXTURES, `${model}.opset14.${kind}.onnx`);
      const { bytes } = quantizeModel(readFileSync(join(FIXTURES, `${model}.opset14.onnx`)), options);
      expect(Buffer.compare(Buffer.from(bytes), readFileSync(fixture))).toBe(0);
    });
  }
});

interface Ref {
  inputs: Record<string, RefEntry>;
  expected: Record<string, { dims: number[]; head?: number[] }>;
}

describe.skipIf(!existsSync(join(SST2, 'model.onnx')))('sst2-tiny quantized', () => {
  const variants = { 'per tensor': { perChannel: false }, 'per channel': { perChannel: true } } as const;
  let fp32: Uint8Array = new Uint8Array();
  let dir = '';
  const feeds: Record<string, Tensor> = {};
  beforeAll(() => {
    fp32 = readFileSync(join(SST2, 'model.onnx'));
    dir = mkdtempSync(join(tmpdir(), 'lambert-quantize-'));
    const ref = JSON.parse(readFileSync(join(SST2, 'model.ref.json'), 'utf8')) as { inputs: Ref['inputs'] };
    for (const [name, entry] of Object.entries(ref.inputs)) feeds[name] = fromRef(entry, 'int64');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [label, options] of Object.entries(variants)) {
    describe(label, () => {
      let bytes: Uint8Array = new Uint8Array();
      let report: QuantizeReport;
      beforeAll(() => ({ bytes, report } = quantizeModel(fp32, options)));

      it('is at least 3.5× smaller', () => {
        expect(report.before).toBe(fp32.length);
        expect(report.after).toBe(bytes.length);
        expect(report.before / report.after).toBeGreaterThanOrEqual(3.5);
        expect(report.quantizedNodes).toHaveLength(15);
      });

      it.skipIf(!pythonHasOnnx)('matches quantize_like_ort.py: same nodes, same int8 weights and scales', async () => {
        const out = join(dir, `script-${options.perChannel}.onnx`);
        const args = [SCRIPT, join(SST2, 'model.onnx'), out, '--gather', ...(options.perChannel ? ['--per-channel'] : [])];
        const run = spawnSync(PYTHON, args, { encoding: 'utf8' });
        expect(run.status, run.stderr).toBe(0);
        const script = readFileSync(out);
        const ours = structure(decode(bytes));
        const theirs = structure(decode(script));
        expect(ours.nodes.map((n) => n.opType)).toEqual(theirs.nodes.map((n) => n.opType));
        expect(ours).toEqual(theirs);
        const [a, b] = await Promise.all([ortRun(bytes, feeds), ortRun(script, feeds)]);
        expect([...a.logits!.data]).toEqual([...b.logits!.data]);
      });

      it('runs in onnxruntime-node and keeps the fp32 predictions', async () => {
        const [int8, ref] = await Promise.all([ortRun(await forOrtOracle(bytes), feeds), ortRun(fp32, feeds)]);
        const argmax = (t: Tensor) => [0, 1].map((r) => (Number(t.data[r * 2]) >= Number(t.data[r * 2 + 1]) ? 0 : 1));
        expect(argmax(int8.logits!)).toEqual(argmax(ref.logits!));
        expect(mismatch(int8.logits!, ref.logits!, { atol: 0.25, rtol: 0 })).toBeUndefined();
      });

      it('has a uint8-weight twin (what a saturating onnxruntime is given) with bit-identical outputs', async () => {
        const twin = withUint8Weights(bytes);
        const weights = decode(twin).graph!.node!.filter((n) => n.opType === 'MatMulInteger').map((n) => n.input![1]);
        expect(weights.length).toBeGreaterThan(0);
        for (const name of weights) expect(name).toMatch(/__as_uint8$/);
        const [a, b] = await Promise.all([bytes, twin].map(async (m) => (await InferenceSession.create(m)).run(feeds)));
        expect([...b!.logits!.data]).toEqual([...a!.logits!.data]);
      });

      it('runs in lambert with onnxruntime-node outputs within 1e-4', async () => {
        const expected = await ortRun(await forOrtOracle(bytes), feeds);
        const session = await InferenceSession.create(bytes);
        const actual = await session.run(feeds);
        expect(mismatch(actual.logits!, expected.logits!, { atol: 1e-4, rtol: 0 })).toBeUndefined();
      });
    });
  }
});
