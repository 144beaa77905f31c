/**
 * Hostile models and inputs get typed errors — never crashes, hangs or unbounded memory:
 * loader and planner bounds (maxMemoryBytes), broken graphs, bad feeds, and the Lambda handler
 * under a storm of mixed valid and invalid requests (in a child process, to measure its heap).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import Long from 'long';
import { beforeAll, describe, expect, it } from 'vitest';
import { LambertError, type LambertErrorCode } from '../src/errors.js';
import { runModel } from '../src/runModel.js';
import { InferenceSession } from '../src/session.js';
import { onnx } from '../src/proto.js';
import { Tensor } from '../src/tensor.js';
import { FLAWS } from './fuzz/cases.js';
import { flawModel } from './fuzz/fuzz.js';
import {
  DataLocation,
  DataType,
  EMBED,
  embedModel,
  embedWeights,
  encodeModel,
  int64Tensor,
  intAttr,
  model,
  node,
  valueInfo,
  type Graph,
} from './fuzz/models.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TINY_BERT = join(ROOT, 'test/fixtures/models/tiny-bert-cls.opset14.onnx');

function codeOf(run: () => unknown): LambertErrorCode | 'ok' | string {
  try {
    run();
    return 'ok';
  } catch (err) {
    return err instanceof LambertError ? err.code : `untyped ${String(err)}`;
  }
}

function errorOf(run: () => unknown): LambertError {
  try {
    run();
  } catch (err) {
    if (err instanceof LambertError) return err;
    throw err;
  }
  throw new Error('expected a LambertError');
}

function embedFeeds(batch: number, seq: number, id = 1n): Record<string, Tensor> {
  return {
    input_ids: new Tensor('int64', new BigInt64Array(batch * seq).fill(id), [batch, seq]),
    attention_mask: new Tensor('int64', new BigInt64Array(batch * seq).fill(1n), [batch, seq]),
    features: new Tensor('float32', new Float32Array(batch * seq * EMBED.FEATURES), [batch, seq, EMBED.FEATURES]),
  };
}

const x = valueInfo('x', DataType.FLOAT, [2, 3]);
const singleOp = (graph: Graph, opset = 13) => encodeModel(model({ name: 'g', input: [], output: [], initializer: [], node: [], ...graph }, opset));

describe('loading', () => {
  it('lists every unsupported op in one error, even behind attributes it cannot read', () => {
    const y = valueInfo('y', DataType.FLOAT, null);
    const graphAttr = { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: { name: 'then' } };
    const half = { name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [1], dataType: DataType.FLOAT16, rawData: new Uint8Array(2) } };
    const bytes = singleOp({
      input: [x, valueInfo('c', DataType.BOOL, [])],
      output: [y, valueInfo('z', DataType.FLOAT, null), valueInfo('h', DataType.FLOAT16, null)],
      node: [node('If', ['c'], ['z'], [graphAttr]), node('NonMaxSuppression', ['x'], ['y']), node('Constant', [], ['h'], [half])],
    });
    const err = errorOf(() => InferenceSession.createSync(bytes));
    expect(err.code).toBe('UNSUPPORTED_OP');
    expect(err.message).toMatch(/ai\.onnx::NonMaxSuppression/);
    expect(err.message).toMatch(/ai\.onnx::If/);
    expect(err.message).toMatch(/FLOAT16/);
  });

  it('rejects an Identity of an undefined value even when nothing reads its result', () => {
    const bytes = singleOp({
      input: [x],
      output: [valueInfo('y', DataType.FLOAT, null)],
      node: [node('Relu', ['x'], ['y']), node('Identity', ['nope'], ['unused'])],
    });
    expect(errorOf(() => InferenceSession.createSync(bytes)).message).toMatch(/"nope" is not defined/);
  });

  it("blames the model, not the caller, for a dtype clash that no input shape could fix", async () => {
    const bytes = singleOp({
      input: [valueInfo('x', DataType.FLOAT, ['batch', 3])],
      output: [valueInfo('y', DataType.FLOAT, null)],
      initializer: [int64Tensor('k', [3], [1, 2, 3])],
      node: [node('Add', ['x', 'k'], ['y'])],
    });
    const session = InferenceSession.createSync(bytes);
    await expect(session.run({ x: new Tensor('float32', new Float32Array(6), [2, 3]) })).rejects.toMatchObject({ code: 'INVALID_MODEL' });
  });

  it('bounds the model tensors by maxMemoryBytes', () => {
    const bytes = singleOp({
      input: [x],
      output: [valueInfo('y', DataType.FLOAT, null)],
      initializer: [
        { name: 'w', dims: [3, 1000], dataType: DataType.FLOAT, rawData: new Uint8Array(12_000) },
        { name: 'v', dims: [3, 1000], dataType: DataType.FLOAT, rawData: new Uint8Array(12_000) },
      ],
      node: [node('MatMul', ['x', 'w'], ['y'])],
    });
    expect(codeOf(() => InferenceSession.createSync(bytes, { maxMemoryBytes: 11_999 }))).toBe('RESOURCE_LIMIT');
    expect(codeOf(() => InferenceSession.createSync(bytes, { maxMemoryBytes: 23_999 }))).toBe('RESOURCE_LIMIT');
    expect(codeOf(() => InferenceSession.createSync(bytes, { maxMemoryBytes: 24_000 }))).toBe('ok');
  });

  it('estimates what decoding takes before decoding: tiny messages cost far more than their bytes', () => {
    // 2 bytes each on disk, hundreds of bytes each once decoded: 4 MB would take about 700 MB of heap.
    const bytes = singleOp({ initializer: Array.from({ length: 2_000_000 }, () => ({})) });
    const started = performance.now();
    const err = errorOf(() => InferenceSession.createSync(bytes, { maxMemoryBytes: 64 * 1024 * 1024 }));
    expect(err.code).toBe('RESOURCE_LIMIT');
    expect(err.message).toContain('decoding');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('reads model files only when they are regular files within the budget', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambert-model-file-'));
    const create = async (path: string, options = {}) => {
      try {
        await InferenceSession.create(path, options);
        return 'ok';
      } catch (err) {
        return err instanceof LambertError ? err.code : `untyped ${String(err)}`;
      }
    };
    expect(await create(dir)).toBe('IO_ERROR');
    expect(await create(join(dir, 'missing.onnx'))).toBe('IO_ERROR');
    expect(await create(TINY_BERT, { maxMemoryBytes: 1024 })).toBe('RESOURCE_LIMIT');
    writeFileSync(join(dir, 'garbage.onnx'), new Uint8Array([0xff, 0xff, 0xff]));
    expect(await create(join(dir, 'garbage.onnx'))).toBe('INVALID_MODEL');
  });

  it('ends every broken graph in its specific error code', () => {
    for (const flaw of FLAWS) {
      for (const variant of [0, 1, 2, 3]) {
        const { bytes, expect: code } = flawModel(flaw, variant);
        const outcome = codeOf(() => {
          const session = InferenceSession.createSync(bytes);
          session.runSync({ x: new Tensor('float32', new Float32Array(6), [2, 3]) });
        });
        expect(outcome, `${flaw} variant ${variant}`).toBe(code);
      }
    }
  });

  it('refuses external data outside the model folder, that is not a file, or that is too big', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambert-external-'));
    mkdirSync(join(dir, 'folder'));
    writeFileSync(join(dir, 'big.bin'), new Uint8Array(4096));
    writeFileSync(join(dir, 'w.bin'), new Uint8Array(48));
    const withLocation = (location: string, extra: { key: string; value: string }[] = []) =>
      singleOp({
        input: [x],
        output: [valueInfo('y', DataType.FLOAT, null)],
        initializer: [
          { name: 'w', dims: [3, 4], dataType: DataType.FLOAT, dataLocation: DataLocation.EXTERNAL, externalData: [{ key: 'location', value: location }, ...extra] },
        ],
        node: [node('MatMul', ['x', 'w'], ['y'])],
      });
    const create = (bytes: Uint8Array, maxMemoryBytes?: number) => () =>
      InferenceSession.createSync(bytes, { externalDataDir: dir, ...(maxMemoryBytes ? { maxMemoryBytes } : {}) });
    expect(codeOf(create(withLocation('w.bin')))).toBe('ok');
    expect(codeOf(() => InferenceSession.createSync(withLocation('w.bin')))).toBe('INVALID_MODEL');
    expect(codeOf(create(withLocation('../outside.bin')))).toBe('INVALID_MODEL');
    expect(codeOf(create(withLocation('folder')))).toBe('INVALID_MODEL');
    expect(codeOf(create(withLocation('missing.bin')))).toBe('IO_ERROR');
    expect(codeOf(create(withLocation('big.bin', [{ key: 'offset', value: '4090' }, { key: 'length', value: '48' }])))).toBe('INVALID_MODEL');
    expect(codeOf(create(withLocation('big.bin', [{ key: 'length', value: '48' }]), 1024))).toBe('RESOURCE_LIMIT');
  });

  it('rejects negative and unrepresentable declared dims', () => {
    const declared = (dims: (number | Long)[]) =>
      singleOp({ input: [valueInfo('x', DataType.FLOAT, dims)], output: [valueInfo('y', DataType.FLOAT, null)], node: [node('Abs', ['x'], ['y'])] });
    expect(codeOf(() => InferenceSession.createSync(declared([-1, 3])))).toBe('INVALID_MODEL');
    expect(codeOf(() => InferenceSession.createSync(declared([Long.fromString('9223372036854775807')])))).toBe('INVALID_MODEL');
  });

  it('reports protobuf nested too deep as INVALID_MODEL, quickly', () => {
    // ModelProto.graph → (GraphProto.node → NodeProto.attribute → AttributeProto.g)^depth, built outside in.
    const fields = [7, ...Array.from({ length: 20_000 }, () => [1, 5, 6]).flat()];
    const varint = (n: number) => {
      const out: number[] = [];
      for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
      out.push(n);
      return out;
    };
    const sizes = new Array<number>(fields.length + 1).fill(0);
    for (let i = fields.length - 1; i >= 0; i--) sizes[i] = 1 + varint(sizes[i + 1]!).length + sizes[i + 1]!;
    const bytes = new Uint8Array(sizes[0]!);
    let at = 0;
    fields.forEach((field, i) => {
      bytes[at++] = (field << 3) | 2;
      for (const b of varint(sizes[i + 1]!)) bytes[at++] = b;
    });
    const started = performance.now();
    expect(codeOf(() => InferenceSession.createSync(bytes))).toBe('INVALID_MODEL');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('loads and plans pathological graph structures in linear-ish time', () => {
    const n = 30_000;
    const chain = [];
    for (let i = 0; i < n; i++) chain.push(node('Identity', [i ? `a${i - 1}` : 'x'], [`a${i}`]));
    for (let i = 0; i < n; i++) chain.push(node('Abs', [`a${n - 1}`], [`b${i}`]));
    // Every other value dies early: the arena's free list is as fragmented as it gets.
    const fragmented = [];
    for (let i = 0; i < n; i++) fragmented.push(node('Abs', ['x'], [`c${i}`]));
    for (let i = 0; i < n; i += 2) fragmented.push(node('Abs', [`c${i}`], [`d${i}`]));
    fragmented.push(node('Concat', Array.from({ length: n }, (_, i) => (i % 2 ? `c${i}` : `d${i}`)), ['y'], [intAttr('axis', 0)]));
    // A long chain nobody reads: dead-node removal must not take a pass per link.
    const dead = [node('Abs', ['x'], ['y'])];
    for (let i = 0; i < n; i++) dead.push(node('Abs', [i ? `e${i - 1}` : 'x'], [`e${i}`]));
    for (const [name, nodes, output] of [
      ['identity chain with many readers', chain, `b${n - 1}`],
      ['fragmented arena', fragmented, 'y'],
      ['dead chain', dead, 'y'],
    ] as const) {
      const bytes = singleOp({ input: [valueInfo('x', DataType.FLOAT, [4])], output: [valueInfo(output, DataType.FLOAT, null)], node: nodes });
      const started = performance.now();
      InferenceSession.createSync(bytes).runSync({ x: new Tensor('float32', new Float32Array(4), [4]) });
      expect(performance.now() - started, name).toBeLessThan(5000);
    }
  });
});

describe('planning and running within maxMemoryBytes', () => {
  it('refuses a constant output over the budget at plan time, naming node and shape', () => {
    const bytes = singleOp({
      output: [valueInfo('y', DataType.FLOAT, null)],
      initializer: [int64Tensor('shape', [2], [100_000, 100_000])],
      node: [node('ConstantOfShape', ['shape'], ['y'])],
    });
    const err = errorOf(() => InferenceSession.createSync(bytes).runSync({}));
    expect(err.code).toBe('RESOURCE_LIMIT');
    expect(err.message).toContain('ConstantOfShape');
    expect(err.message).toContain('[100000,100000]');
  });

  it('refuses an arena over the budget, naming the input shapes', () => {
    const session = InferenceSession.createSync(embedModel(embedWeights()), { maxMemoryBytes: 1 << 20 });
    expect(codeOf(() => session.runSync(embedFeeds(2, 8)))).toBe('ok');
    const err = errorOf(() => session.runSync(embedFeeds(3000, 16)));
    expect(err.code).toBe('RESOURCE_LIMIT');
    expect(err.message).toContain('int64[3000,16]');
    // The failure leaves the session usable.
    expect(codeOf(() => session.runSync(embedFeeds(2, 8)))).toBe('ok');
  });

  it('checks allocations whose size is only known at run time', () => {
    const bytes = singleOp({
      input: [valueInfo('shape', DataType.INT64, [2])],
      output: [valueInfo('y', DataType.FLOAT, null)],
      node: [node('ConstantOfShape', ['shape'], ['y'])],
    });
    const session = InferenceSession.createSync(bytes, { maxMemoryBytes: 1 << 20 });
    const shape = (a: bigint, b: bigint) => ({ shape: new Tensor('int64', [a, b], [2]) });
    expect(session.runSync(shape(16n, 16n)).y!.dims).toEqual([16, 16]);
    expect(codeOf(() => session.runSync(shape(1024n, 1024n)))).toBe('RESOURCE_LIMIT');
    expect(codeOf(() => session.runSync(shape(1n << 40n, 1n << 40n)))).not.toMatch(/^untyped|^ok$/);
  });

  it('keeps the cached plans of many input shapes within the budget', () => {
    const session = InferenceSession.createSync(embedModel(embedWeights()), { maxMemoryBytes: 256 * 1024, maxCachedPlans: 100 });
    for (let seq = 1; seq <= 16; seq++) session.runSync(embedFeeds(40, seq));
    const plans = (session as unknown as { plans: Map<string, { bytes: number }> }).plans;
    const total = [...plans.values()].reduce((sum, p) => sum + p.bytes, 0);
    expect(total).toBeLessThanOrEqual(256 * 1024);
    expect(plans.size).toBeLessThan(16);
  });

  it('validates session options', () => {
    const bytes = embedModel(embedWeights());
    for (const options of [{ maxMemoryBytes: -1 }, { maxMemoryBytes: NaN }, { maxCachedPlans: 0 }, { maxCachedPlans: 1.5 }]) {
      expect(codeOf(() => InferenceSession.createSync(bytes, options))).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('feeds', () => {
  const session = InferenceSession.createSync(embedModel(embedWeights()));

  it('rejects wrong names, missing inputs, dtypes, ranks and mismatched dims with INVALID_INPUT', () => {
    const good = embedFeeds(2, 5);
    const cases: Record<string, Record<string, unknown>> = {
      unknown: { ...good, token_type_ids: good.attention_mask },
      missing: { input_ids: good.input_ids, features: good.features },
      dtype: { ...good, input_ids: new Tensor('int32', new Int32Array(10), [2, 5]) },
      rank: { ...good, attention_mask: new Tensor('int64', new BigInt64Array(10), [10]) },
      fixedDim: { ...good, features: new Tensor('float32', new Float32Array(50), [2, 5, 5]) },
      mask: { ...good, attention_mask: new Tensor('int64', new BigInt64Array(12), [2, 6]) },
      notTensor: { ...good, input_ids: [1, 2, 3] },
      tensorLike: { ...good, input_ids: { type: 'int64', data: new BigInt64Array(3), dims: [2, 5] } },
    };
    for (const [name, feeds] of Object.entries(cases)) {
      expect(codeOf(() => session.runSync(feeds as Record<string, Tensor>)), name).toBe('INVALID_INPUT');
    }
    const tampered = new Tensor('int64', new BigInt64Array(10), [2, 5]);
    Object.defineProperty(tampered, 'data', { value: new BigInt64Array(2) });
    expect(codeOf(() => session.runSync({ ...good, input_ids: tampered }))).toBe('INVALID_INPUT');
    expect(codeOf(() => session.runSync(null as never))).toBe('INVALID_INPUT');
    expect(codeOf(() => session.runSync(good, ['nope']))).toBe('INVALID_INPUT');
  });

  it('rejects ids outside the embedding table (negative ids count from the end, as in onnxruntime)', () => {
    expect(codeOf(() => session.runSync(embedFeeds(1, 4, BigInt(EMBED.VOCAB))))).toBe('INVALID_INPUT');
    expect(codeOf(() => session.runSync(embedFeeds(1, 4, -BigInt(EMBED.VOCAB) - 1n)))).toBe('INVALID_INPUT');
    expect(codeOf(() => session.runSync(embedFeeds(1, 4, 1n << 62n)))).toBe('INVALID_INPUT');
    expect(codeOf(() => session.runSync(embedFeeds(1, 4, -1n)))).toBe('ok');
  });

  it('reports a sequence longer than the position table as INVALID_INPUT naming the input shapes', () => {
    const err = errorOf(() => session.runSync(embedFeeds(1, EMBED.POSITIONS + 4)));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain(`"input_ids" int64[1,${EMBED.POSITIONS + 4}]`);
  });

  it('reports a BERT sequence longer than max_position_embeddings as INVALID_INPUT', () => {
    const bert = InferenceSession.createSync(readFileSync(TINY_BERT));
    const feeds = (seq: number) => {
      const ids = new Tensor('int64', new BigInt64Array(seq).fill(5n), [1, seq]);
      const ones = new Tensor('int64', new BigInt64Array(seq).fill(1n), [1, seq]);
      const zeros = new Tensor('int64', new BigInt64Array(seq), [1, seq]);
      return { input_ids: ids, attention_mask: ones, token_type_ids: zeros };
    };
    expect(bert.runSync(feeds(128)).logits!.dims).toEqual([1, 3]);
    const err = errorOf(() => bert.runSync(feeds(129)));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('"input_ids" int64[1,129]');
    expect(codeOf(() => bert.runSync({ ...feeds(8), input_ids: new Tensor('int64', new BigInt64Array(8).fill(1000n), [1, 8]) }))).toBe('INVALID_INPUT');
  });

  it('rejects NaN and Infinity in float feeds unless rejectNonFinite is off', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const feeds = embedFeeds(1, 3);
      (feeds.features!.data as Float32Array)[5] = bad;
      const err = errorOf(() => session.runSync(feeds));
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).toContain('"features"');
      const lenient = InferenceSession.createSync(embedModel(embedWeights()), { rejectNonFinite: false });
      expect(codeOf(() => lenient.runSync(feeds))).toBe('ok');
    }
  });

  it('runModel rejects bad ids and rows before building tensors', async () => {
    const bert = readFileSync(TINY_BERT);
    const code = async (tokens: unknown, options = {}) => {
      try {
        await runModel(bert, tokens as number[], options);
        return 'ok';
      } catch (err) {
        return err instanceof LambertError ? err.code : `untyped ${String(err)}`;
      }
    };
    expect(await code([101, 7, 102])).toBe('ok');
    expect(await code([101, -1, 102])).toBe('INVALID_INPUT');
    expect(await code([101, 1.5, 102])).toBe('INVALID_INPUT');
    expect(await code([101, 1000, 102])).toBe('INVALID_INPUT');
    expect(await code([])).toBe('INVALID_INPUT');
    expect(await code([[1], 2])).toBe('INVALID_INPUT');
    expect(await code('101 102')).toBe('INVALID_INPUT');
    expect(await code([101, 102], { padTokenId: -3 })).toBe('INVALID_INPUT');
    expect(await code([101, 102], { tokenTypeIds: [0] })).toBe('INVALID_INPUT');
    // One long row among many short ones pads every row to its length: refused before allocating.
    const ragged = [new Array(100_000).fill(1), ...Array.from({ length: 20_000 }, () => [1])];
    expect(await code(ragged)).toBe('RESOURCE_LIMIT');
  });
});

describe('Lambda handler', () => {
  let dir = '';

  /** Runs the handler in a fresh `node --expose-gc` process: mode 'storm' or 'events' (events on stdin). */
  function child(mode: 'storm' | 'events', env: Record<string, string>, input = ''): any {
    const stdout = execFileSync(process.execPath, ['--expose-gc', join(dir, 'driver.mjs'), mode], {
      input,
      env: { PATH: process.env.PATH ?? '', LAMBERT_MODEL: join(dir, 'model'), ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return JSON.parse(stdout.toString());
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lambert-hardening-'));
    const modelDir = join(dir, 'model');
    mkdirSync(modelDir);
    copyFileSync(TINY_BERT, join(modelDir, 'model.onnx'));
    // The fixture's vocabulary has 1000 ids: the first 1000 lines of BERT's.
    const vocab = readFileSync(join(ROOT, 'test/fixtures/vocab/bert-base-uncased-vocab.txt'), 'utf8').split('\n').slice(0, 1000);
    writeFileSync(join(modelDir, 'vocab.txt'), `${vocab.join('\n')}\n`);
    writeFileSync(
      join(modelDir, 'config.json'),
      JSON.stringify({ id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' }, max_position_embeddings: 128 }),
    );
    await build({
      entryPoints: [join(ROOT, 'test/fuzz/storm.ts')],
      outfile: join(dir, 'driver.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      logLevel: 'warning',
    });
  });

  it('answers 10,000 mixed requests with the right status, no heap or RSS growth, and no state carried over', () => {
    const report = child('storm', { LAMBERT_MAX_INPUTS: '8' });
    expect(report.mismatches).toEqual([]);
    expect(report.invocations).toBe(10_000);
    expect(report.after).toEqual(report.before);
    expect(report.heapAfter / report.heapBefore).toBeLessThan(1.05);
    expect(report.rssAfter / report.rssBefore).toBeLessThan(1.05);
  }, 300_000);

  it('answers 413 RESOURCE_LIMIT for a request that needs more than LAMBERT_MAX_MEMORY_BYTES', () => {
    const request = (inputs: string[]) => ({ httpMethod: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'classify', inputs }) });
    const long = Array.from({ length: 8 }, () => Array.from({ length: 200 }, () => '!').join(' '));
    const [big, small] = child('events', { LAMBERT_MAX_MEMORY_BYTES: '1500000' }, JSON.stringify([request(long), request(['short'])]));
    expect(big.statusCode).toBe(413);
    expect(JSON.parse(big.body).error.code).toBe('RESOURCE_LIMIT');
    expect(small.statusCode).toBe(200);
  });

  it('truncates long texts by default and answers 400 SEQUENCE_TOO_LONG with LAMBERT_TRUNCATE=false', () => {
    const long = { task: 'classify', inputs: ['short one', Array.from({ length: 300 }, () => '!').join(' ')] };
    const event = { httpMethod: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(long) };
    const [truncated] = child('events', {}, JSON.stringify([event]));
    expect(truncated.statusCode).toBe(200);
    const [strict, short] = child('events', { LAMBERT_TRUNCATE: 'false' }, JSON.stringify([event, { ...event, body: JSON.stringify({ task: 'classify', inputs: ['short'] }) }]));
    expect(strict.statusCode).toBe(400);
    expect(JSON.parse(strict.body).error.code).toBe('SEQUENCE_TOO_LONG');
    expect(JSON.parse(strict.body).error.message).toContain('text 1');
    expect(short.statusCode).toBe(200);
  });
});
