/**
 * The onnxruntime-common API surface, checked against onnxruntime-node itself: run()'s fetches /
 * options overloads, input and output metadata, Tensor construction from plain arrays, and
 * InferenceSession.create()'s buffer forms. Where onnxruntime succeeds lambert must give the same
 * answer; where it throws (TypeError, RangeError, Error) lambert must throw a LambertError with the
 * code the README's error table gives — never a TypeError.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambertError, type LambertErrorCode } from '../src/errors.js';
import { onnx } from '../src/proto.js';
import { InferenceSession } from '../src/session.js';
import { Tensor } from '../src/tensor.js';

const MODELS = fileURLToPath(new URL('./fixtures/models/', import.meta.url));
const BERT = join(MODELS, 'tiny-bert-cls.opset14.onnx');
const SBERT = join(MODELS, 'tiny-sbert.opset14.onnx');
const bertBytes = readFileSync(BERT);

type Outcome = { ok: Record<string, { type: string; dims: readonly number[]; data: ArrayLike<number | bigint> }> } | { error: unknown };

async function outcome(f: () => Promise<Record<string, { type: string; dims: readonly number[]; data: unknown }>>): Promise<Outcome> {
  try {
    return { ok: (await f()) as never };
  } catch (error) {
    return { error };
  }
}

function codeOf(error: unknown): LambertErrorCode | string {
  if (error instanceof LambertError) return error.code;
  return `not a LambertError: ${String(error)}`;
}

/** lambert and onnxruntime give the same outputs (names, types, dims, values within 1e-4). */
function expectSameOutputs(lam: Outcome, ortOut: Outcome): void {
  if ('error' in ortOut) throw new Error(`onnxruntime failed: ${String(ortOut.error)}`);
  if ('error' in lam) throw new Error(`lambert failed: ${String(lam.error)}`);
  expect(Object.keys(lam.ok)).toEqual(Object.keys(ortOut.ok));
  for (const [name, expected] of Object.entries(ortOut.ok)) {
    const actual = lam.ok[name]!;
    expect(actual.type, name).toBe(expected.type);
    expect([...actual.dims], name).toEqual([...expected.dims]);
    const a = Array.from(actual.data as ArrayLike<number>, Number);
    const e = Array.from(expected.data as ArrayLike<number>, Number);
    expect(a.length).toBe(e.length);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - e[i]!), `${name}[${i}]`).toBeLessThanOrEqual(1e-4);
  }
}

/** onnxruntime threw; lambert threw a LambertError with `code`. */
function expectBothReject(lam: Outcome, ortOut: Outcome, code: LambertErrorCode): void {
  expect('error' in ortOut, 'onnxruntime rejects').toBe(true);
  expect('error' in lam, 'lambert rejects').toBe(true);
  const error = (lam as { error: unknown }).error;
  expect(error).toBeInstanceOf(LambertError);
  expect(codeOf(error)).toBe(code);
}

const ids = [1n, 42n, 7n, 2n];
const lamFeeds = {
  input_ids: new Tensor('int64', BigInt64Array.from(ids), [1, 4]),
  attention_mask: new Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]),
  token_type_ids: new Tensor('int64', new BigInt64Array(4), [1, 4]),
};
const ortFeeds = {
  input_ids: new ort.Tensor('int64', BigInt64Array.from(ids), [1, 4]),
  attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]),
  token_type_ids: new ort.Tensor('int64', new BigInt64Array(4), [1, 4]),
};

/** Two outputs without a declared shape / with an unnamed, a fixed and a named dim: Y = |A| (float32), Z = B ∧ B (bool). */
function twoOutputModel(): Uint8Array {
  const T = onnx.TensorProto.DataType;
  const shape = { dim: [{}, { dimValue: 2 }, { dimParam: 'n' }] };
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'two',
      node: [
        { opType: 'Abs', input: ['A'], output: ['Y'] },
        { opType: 'And', input: ['B', 'B'], output: ['Z'] },
      ],
      input: [
        { name: 'A', type: { tensorType: { elemType: T.FLOAT } } },
        { name: 'B', type: { tensorType: { elemType: T.BOOL, shape } } },
      ],
      output: [
        { name: 'Y', type: { tensorType: { elemType: T.FLOAT } } },
        { name: 'Z', type: { tensorType: { elemType: T.BOOL, shape } } },
      ],
    },
  }).finish();
}

let lam: InferenceSession;
let ortSession: ort.InferenceSession;

beforeAll(async () => {
  lam = await InferenceSession.create(BERT);
  ortSession = await ort.InferenceSession.create(BERT, { intraOpNumThreads: 1 });
});

afterAll(async () => {
  await lam.release();
  await ortSession.release();
});

describe('run(feeds, fetches | options, options?) as onnxruntime-common', () => {
  // [label, second argument, third argument, what lambert throws when onnxruntime does]
  const cases: [string, unknown, unknown, LambertErrorCode | null][] = [
    ['no fetches, no options', undefined, undefined, null],
    ['RunOptions as the 2nd argument', { logSeverityLevel: 3 }, undefined, null],
    ['every RunOptions field', { logSeverityLevel: 0, logVerbosityLevel: 0, terminate: false, tag: 'x', extra: { a: 1 } }, undefined, null],
    ['an empty object is options', {}, undefined, null],
    ['an object naming no output is options (all outputs)', { nope: null }, undefined, null],
    ['an object naming an output and a non-output: fetches, the other key ignored', { logits: null, nope: null }, undefined, null],
    ['an output name whose value is not null or a Tensor is options', { logits: 5 }, undefined, null],
    ['an array of output names', ['logits'], undefined, null],
    ['fetches array then options', ['logits'], { logSeverityLevel: 3 }, null],
    ['fetches object then options', { logits: null }, { logSeverityLevel: 3 }, null],
    ['options then anything: the 3rd argument is ignored', { logSeverityLevel: 3 }, 5, null],
    ['an unknown name in a fetches array', ['nope'], undefined, 'INVALID_INPUT'],
    ['an empty fetches array', [], undefined, 'INVALID_ARGUMENT'],
    ['a fetches array holding a non-string', [5], undefined, 'INVALID_ARGUMENT'],
    ['null', null, undefined, 'INVALID_ARGUMENT'],
    ['a number', 5, undefined, 'INVALID_ARGUMENT'],
    ['a string', 'logits', undefined, 'INVALID_ARGUMENT'],
    ['a boolean', true, undefined, 'INVALID_ARGUMENT'],
    ['a Tensor', 'TENSOR', undefined, 'INVALID_ARGUMENT'],
    ['fetches array then a number', ['logits'], 5, 'INVALID_ARGUMENT'],
    ['fetches array then null', ['logits'], null, 'INVALID_ARGUMENT'],
    ['fetches object then a number', { logits: null }, 5, 'INVALID_ARGUMENT'],
    ['logSeverityLevel out of range', { logSeverityLevel: 9 }, undefined, 'INVALID_ARGUMENT'],
    ['logSeverityLevel not an integer', { logSeverityLevel: 2.5 }, undefined, 'INVALID_ARGUMENT'],
    ['logSeverityLevel not a number', { logSeverityLevel: 'x' }, undefined, 'INVALID_ARGUMENT'],
    ['tag not a string', { tag: 5 }, undefined, 'INVALID_ARGUMENT'],
  ];
  for (const [label, arg1, arg2, code] of cases) {
    it(label, async () => {
      const args = (tensor: unknown) => [arg1 === 'TENSOR' ? tensor : arg1, arg2].slice(0, arg2 === undefined ? (arg1 === undefined ? 0 : 1) : 2);
      const run = (session: { run: (...a: never[]) => Promise<never> }, feeds: object, tensor: unknown) =>
        outcome(() => session.run(...([feeds, ...args(tensor)] as never[])));
      const ortOut = await run(ortSession as never, ortFeeds, ortFeeds.input_ids);
      const lamOut = await run(lam as never, lamFeeds, lamFeeds.input_ids);
      if (code === null) expectSameOutputs(lamOut, ortOut);
      else expectBothReject(lamOut, ortOut, code);
      // runSync takes the same arguments and behaves the same, synchronously.
      let sync: Outcome;
      try {
        sync = { ok: (lam.runSync as (...a: unknown[]) => never)(lamFeeds, ...args(lamFeeds.input_ids)) };
      } catch (error) {
        sync = { error };
      }
      if (code === null) expectSameOutputs(sync, ortOut);
      else expect(codeOf((sync as { error: unknown }).error)).toBe(code);
    });
  }

  it('a pre-allocated output tensor in fetches is filled, and a new tensor returned (as onnxruntime)', async () => {
    const ortTarget = new ort.Tensor('float32', new Float32Array(3), [1, 3]);
    const lamTarget = new Tensor('float32', new Float32Array(3), [1, 3]);
    const ortOut = await outcome(() => ortSession.run(ortFeeds, { logits: ortTarget }));
    const lamOut = await outcome(() => lam.run(lamFeeds, { logits: lamTarget }));
    expectSameOutputs(lamOut, ortOut);
    const ortResult = (ortOut as { ok: Record<string, { data: unknown }> }).ok.logits!;
    const lamResult = (lamOut as { ok: Record<string, { data: unknown }> }).ok.logits!;
    expect(ortResult.data).not.toBe(ortTarget.data);
    expect(lamResult.data).not.toBe(lamTarget.data);
    expect([...lamTarget.data]).toEqual([...(lamResult.data as Float32Array)]);
    expect([...ortTarget.data]).toEqual([...(ortResult.data as Float32Array)]);
  });

  const targets: [string, () => ort.Tensor, () => Tensor][] = [
    ['wrong dims', () => new ort.Tensor('float32', new Float32Array(4), [1, 4]), () => new Tensor('float32', new Float32Array(4), [1, 4])],
    ['wrong type', () => new ort.Tensor('int32', new Int32Array(3), [1, 3]), () => new Tensor('int32', new Int32Array(3), [1, 3])],
  ];
  for (const [label, ortTarget, lamTarget] of targets) {
    it(`a pre-allocated output tensor of the ${label} is rejected`, async () => {
      const ortOut = await outcome(() => ortSession.run(ortFeeds, { logits: ortTarget() }));
      const lamOut = await outcome(() => lam.run(lamFeeds, { logits: lamTarget() }));
      expectBothReject(lamOut, ortOut, 'INVALID_INPUT');
    });
  }

  const badFeeds: [string, (t: unknown) => unknown][] = [
    ['an array', () => []],
    ['a Tensor', (t) => t],
    ['null', () => null],
    ['a number', () => 5],
    ['missing an input', (t) => ({ input_ids: t })],
  ];
  for (const [label, feeds] of badFeeds) {
    it(`feeds that are ${label} are INVALID_INPUT`, async () => {
      const ortOut = await outcome(() => ortSession.run(feeds(ortFeeds.input_ids) as never));
      const lamOut = await outcome(() => lam.run(feeds(lamFeeds.input_ids) as never));
      expectBothReject(lamOut, ortOut, 'INVALID_INPUT');
    });
  }

  it('fetches pick a subset of several outputs, in either form', async () => {
    const lamS = await InferenceSession.create(SBERT);
    const ortS = await ort.InferenceSession.create(SBERT, { intraOpNumThreads: 1 });
    try {
      for (const fetches of [['sentence_embedding'], { sentence_embedding: null }, { sentence_embedding: null, nope: null }, { nope: null }]) {
        const ortOut = await outcome(() => ortS.run(ortFeeds, fetches as never));
        const lamOut = await outcome(() => lamS.run(lamFeeds, fetches as never));
        expectSameOutputs(lamOut, ortOut);
      }
    } finally {
      await lamS.release();
      await ortS.release();
    }
  });
});

describe('inputMetadata / outputMetadata as onnxruntime-node', () => {
  const strip = (m: readonly object[]) =>
    m.map((v) => {
      const { name, isTensor, type, shape } = v as { name: string; isTensor: boolean; type: string; shape: unknown };
      return { name, isTensor, type, shape };
    });

  it('tiny BERT: name, isTensor, type, shape', () => {
    expect(strip(lam.inputMetadata)).toEqual(strip(ortSession.inputMetadata));
    expect(strip(lam.outputMetadata)).toEqual(strip(ortSession.outputMetadata));
    expect(lam.outputMetadata[0]).toMatchObject({ name: 'logits', isTensor: true, type: 'float32', shape: ['batch', 3] });
  });

  it('keeps lambert dims (null for an unknown dim or shape) next to shape', async () => {
    const bytes = twoOutputModel();
    const lamS = InferenceSession.createSync(bytes);
    const ortS = await ort.InferenceSession.create(bytes);
    try {
      expect(strip(lamS.inputMetadata)).toEqual(strip(ortS.inputMetadata));
      expect(strip(lamS.outputMetadata)).toEqual(strip(ortS.outputMetadata));
      expect(lamS.inputMetadata.map((m) => m.shape)).toEqual([[], ['', 2, 'n']]);
      expect(lamS.inputMetadata.map((m) => m.dims)).toEqual([null, [null, 2, 'n']]);
      expect(lam.inputMetadata[0]!.dims).toEqual(['batch', 'sequence']);
    } finally {
      await ortS.release();
    }
  });
});

describe('new Tensor(...) as onnxruntime-common', () => {
  // [label, constructor arguments, what lambert throws when onnxruntime throws]
  const cases: [string, unknown[], LambertErrorCode | null][] = [
    ['boolean[] with dims', [[true, false], [2]], null],
    ['boolean[] without dims', [[true, false, true]], null],
    ["'bool' with boolean[]", ['bool', [true, false], [1, 2]], null],
    ["'bool' with a Uint8Array", ['bool', Uint8Array.from([1, 0])], null],
    ["'float32' with number[]", ['float32', [1, 2.5], [2]], null],
    ["'int64' with number[]", ['int64', [1, -2], [2]], null],
    ["'int64' with bigint[]", ['int64', [1n, 2n], [2]], null],
    ["'uint8' with a Uint8ClampedArray", ['uint8', Uint8ClampedArray.from([1, 255])], null],
    ['a Uint8ClampedArray', [Uint8ClampedArray.from([1, 255])], null],
    ['a BigInt64Array', [BigInt64Array.from([3n]), [1, 1]], null],
    ['number[] without a type', [[1, 2], [2]], 'INVALID_INPUT'],
    ['bigint[] without a type', [[1n, 2n], [2]], 'INVALID_INPUT'],
    ['an empty array without a type', [[], [0]], 'INVALID_INPUT'],
    ["'int64' with a non-integer", ['int64', [1.5], [1]], 'INVALID_INPUT'],
    ["'int32' with bigint[]", ['int32', [1n], [1]], 'INVALID_INPUT'],
    ['an unknown type name', ['float', [1], [1]], 'INVALID_INPUT'],
    ["'int8' with a Uint8ClampedArray", ['int8', Uint8ClampedArray.from([1])], 'INVALID_INPUT'],
    ['a typed array of another type', ['float32', new Int32Array(2), [2]], 'INVALID_INPUT'],
    ['dims that are a number', ['float32', [1], 5], 'INVALID_INPUT'],
    ['dims that are a typed array', ['float32', [1], Int32Array.from([1])], 'INVALID_INPUT'],
    ['fractional dims', ['float32', [1], [1.5]], 'INVALID_INPUT'],
    ['negative dims', ['float32', [], [-1]], 'INVALID_INPUT'],
    ['dims that disagree with the data', ['float32', [1, 2], [3]], 'INVALID_INPUT'],
    ['null', [null], 'INVALID_INPUT'],
  ];
  for (const [label, args, code] of cases) {
    it(label, () => {
      let ortTensor: ort.Tensor | undefined;
      let ortError: unknown;
      try {
        ortTensor = new (ort.Tensor as unknown as new (...a: unknown[]) => ort.Tensor)(...args);
      } catch (error) {
        ortError = error;
      }
      let lamTensor: Tensor | undefined;
      let lamError: unknown;
      try {
        lamTensor = new (Tensor as unknown as new (...a: unknown[]) => Tensor)(...args);
      } catch (error) {
        lamError = error;
      }
      if (code === null) {
        expect(ortError, 'onnxruntime accepts').toBeUndefined();
        expect(lamError, 'lambert accepts').toBeUndefined();
        expect(lamTensor!.type).toBe(ortTensor!.type);
        expect([...lamTensor!.dims]).toEqual([...ortTensor!.dims]);
        expect(lamTensor!.size).toBe(ortTensor!.size);
        expect(lamTensor!.data.constructor).toBe(ortTensor!.data.constructor);
        expect(Array.from(lamTensor!.data as ArrayLike<number>)).toEqual(Array.from(ortTensor!.data as ArrayLike<number>));
      } else {
        expect(ortError, 'onnxruntime rejects').toBeDefined();
        expect(lamError).toBeInstanceOf(LambertError);
        expect(codeOf(lamError)).toBe(code);
      }
    });
  }

  it('string tensors, which onnxruntime has, are UNSUPPORTED_TYPE', () => {
    expect(new ort.Tensor(['a', 'b'], [2]).type).toBe('string');
    expect(new ort.Tensor('string', ['a'], [1]).type).toBe('string');
    for (const args of [[['a', 'b'], [2]], ['string', ['a'], [1]]]) {
      let error: unknown;
      try {
        new (Tensor as unknown as new (...a: unknown[]) => Tensor)(...args);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LambertError);
      expect(codeOf(error)).toBe('UNSUPPORTED_TYPE');
    }
  });

  it('a bool tensor from a boolean array runs like onnxruntime', async () => {
    const bytes = twoOutputModel();
    const lamS = InferenceSession.createSync(bytes);
    const ortS = await ort.InferenceSession.create(bytes);
    try {
      const values = [true, false, false, true];
      const ortOut = await outcome(() => ortS.run({ A: new ort.Tensor('float32', [-1.5], [1]), B: new ort.Tensor(values, [1, 2, 2]) }));
      const lamOut = await outcome(() => lamS.run({ A: new Tensor('float32', [-1.5], [1]), B: new Tensor(values, [1, 2, 2]) }));
      expectSameOutputs(lamOut, ortOut);
      expect((lamOut as { ok: Record<string, { type: string }> }).ok.Z!.type).toBe('bool');
    } finally {
      await ortS.release();
    }
  });
});

describe('InferenceSession.create(buffer) as onnxruntime-common', () => {
  const arrayBuffer = (): ArrayBuffer => bertBytes.buffer.slice(bertBytes.byteOffset, bertBytes.byteOffset + bertBytes.byteLength) as ArrayBuffer;

  async function logitsOf(session: InferenceSession): Promise<number[]> {
    return [...((await session.run(lamFeeds)).logits!.data as Float32Array)];
  }

  it('accepts a SharedArrayBuffer like an ArrayBuffer (onnxruntime-common does; onnxruntime-node’s binding does not)', async () => {
    const shared = new SharedArrayBuffer(bertBytes.byteLength);
    new Uint8Array(shared).set(bertBytes);
    const fromShared = await InferenceSession.create(shared);
    const fromView = InferenceSession.createSync(new Uint8Array(shared));
    const fromBuffer = await InferenceSession.create(arrayBuffer());
    // The model bytes are copied out of shared memory: changing them afterwards changes nothing.
    const expected = await logitsOf(fromBuffer);
    new Uint8Array(shared).fill(0);
    expect(await logitsOf(fromShared)).toEqual(expected);
    expect(await logitsOf(fromView)).toEqual(expected);
    expectSameOutputs(await outcome(() => fromShared.run(lamFeeds)), await outcome(() => ortSession.run(ortFeeds)));
  });

  it('create(arrayBuffer, byteOffset, byteLength, options)', async () => {
    const padded = new ArrayBuffer(bertBytes.byteLength + 24);
    new Uint8Array(padded).set(bertBytes, 16);
    const ortS = await ort.InferenceSession.create(padded, 16, bertBytes.byteLength, { intraOpNumThreads: 1 });
    const lamS = await InferenceSession.create(padded, 16, bertBytes.byteLength, { maxCachedPlans: 2 });
    expectSameOutputs(await outcome(() => lamS.run(lamFeeds)), await outcome(() => ortS.run(ortFeeds)));
    await ortS.release();
    // Without byteLength: the rest of the buffer.
    const tail = new ArrayBuffer(bertBytes.byteLength + 8);
    new Uint8Array(tail).set(bertBytes, 8);
    expect(await logitsOf(await InferenceSession.create(tail, 8))).toEqual(await logitsOf(lamS));
  });

  const bad: [string, unknown[]][] = [
    ['a number', [5]],
    ['null', [null]],
    ['an Int8Array', [new Int8Array(4)]],
    ['bytes with options that are a number', ['BYTES', 5]],
    ['bytes with null options', ['BYTES', null]],
    ['a byteOffset out of range', ['BUFFER', 1e9]],
    ['a negative byteOffset', ['BUFFER', -1]],
    ['a fractional byteOffset', ['BUFFER', 1.5]],
    ['a byteLength of 0', ['BUFFER', 0, 0]],
    ['a byteLength past the end', ['BUFFER', 8, 1e9]],
    ['a byteLength that is not a number', ['BUFFER', 0, 'x']],
    ['options that are a number after byteLength', ['BUFFER', 0, 10, 5]],
  ];
  for (const [label, args] of bad) {
    it(`rejects ${label} (INVALID_ARGUMENT)`, async () => {
      const real = (a: unknown) => (a === 'BYTES' ? new Uint8Array(bertBytes) : a === 'BUFFER' ? arrayBuffer() : a);
      const ortOut = await outcome(() => (ort.InferenceSession.create as (...a: unknown[]) => Promise<never>)(...args.map(real)));
      const lamOut = await outcome(() => (InferenceSession.create as (...a: unknown[]) => Promise<never>)(...args.map(real)));
      expectBothReject(lamOut, ortOut, 'INVALID_ARGUMENT');
      expect(codeOf(((() => {
        try {
          (InferenceSession.createSync as (...a: unknown[]) => unknown)(...args.map(real));
        } catch (error) {
          return error;
        }
        return undefined;
      })()))).toBe('INVALID_ARGUMENT');
    });
  }
});
