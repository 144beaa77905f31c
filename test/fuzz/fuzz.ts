/**
 * The hostile-model fuzzer. Every case must end in a LambertError with a specific code (not
 * INTERNAL_ERROR) or a correct result, within 2 s, and the process's peak memory must stay
 * within the sessions' maxMemoryBytes plus slack. Cases whose outcome is known (broken graphs,
 * bad feeds for the known-good model) must also end the expected way.
 *
 *   npm run fuzz -- --cases 100000 [--seed N] [--max-memory BYTES] [--verbose]
 *
 * prints one summary line: `fuzz: cases N, ok N, typed errors N, untyped errors N, hangs N`,
 * preceded by a line per failure (and, unless --no-shrink, a shrunk reproduction).
 */
import fc from 'fast-check';
import Long from 'long';
import { pathToFileURL } from 'node:url';
import { LambertError, type LambertErrorCode } from '../../src/errors.js';
import { InferenceSession } from '../../src/session.js';
import { isBigIntType, Tensor, type DType } from '../../src/tensor.js';
import { onnx } from '../../src/proto.js';
import {
  describeCase,
  fixtureModels,
  fuzzCase,
  seedModels,
  type FeedFlaw,
  type Flaw,
  type FuzzCase,
  type Mutation,
  type OpSpec,
  type SeedMutation,
} from './cases.js';
import {
  AttributeType,
  DataLocation,
  DataType,
  EMBED,
  embedModel,
  embedReference,
  embedWeights,
  encodeModel,
  floatTensor,
  intAttr,
  model,
  node,
  rng,
  valueInfo,
  type AttributeProps,
  type Graph,
  type Model,
  type TensorProps,
} from './models.js';

export interface FuzzOptions {
  cases: number;
  seed?: number;
  /** maxMemoryBytes of every session the fuzzer creates. Default 64 MiB. */
  maxMemoryBytes?: number;
  /** A case slower than this is a hang. Default 2000 ms. */
  hangMs?: number;
  /** Shrink the first failure to a minimal reproduction. Default true. */
  shrink?: boolean;
  log?: (line: string) => void;
  verbose?: boolean;
}

export interface FuzzStats {
  cases: number;
  ok: number;
  typed: number;
  untyped: number;
  hangs: number;
  /** Cases that ended in a typed error or a result, but not the one their construction implies. */
  unexpected: number;
  byCode: Record<string, number>;
  /** Cases and results per kind of case. */
  byKind: Record<string, { cases: number; ok: number }>;
  slowestMs: number;
  failures: string[];
  /** Growth of the process's peak RSS over the run, in bytes. */
  peakRssGrowth: number;
  seed: number;
}

type Outcome = { kind: 'ok' } | { kind: 'typed'; code: LambertErrorCode; message: string } | { kind: 'untyped'; error: unknown };
/** What a case must end in when its construction decides it; 'any' when only "typed or ok" is known. */
type Expectation = 'ok' | LambertErrorCode | 'any';

const INT_TYPES: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
};

/**
 * Feeds for whatever a model declares, kept small: dims over 64 or 65536 elements are clamped
 * (and then rejected). `wild` integer feeds hold extreme values (negative, out of any range).
 */
function synthesizeFeeds(session: InferenceSession, seed: number, wild = false): Record<string, Tensor> {
  const random = rng(seed);
  const symbols = new Map<string, number>();
  const feeds: Record<string, Tensor> = {};
  for (const decl of session.inputMetadata) {
    let dims = (decl.dims ?? [2]).map((d) => {
      if (typeof d === 'number') return Math.min(d, 64);
      if (typeof d === 'string') {
        if (!symbols.has(d)) symbols.set(d, 1 + Math.floor(random() * 4));
        return symbols.get(d)!;
      }
      return 2;
    });
    if (dims.reduce((a, b) => a * b, 1) > 65536) dims = dims.map(() => 1);
    feeds[decl.name] = randomTensor(decl.type as DType, dims, decl.name, random, wild);
  }
  return feeds;
}

const WILD_INTS = [-1, -2, 0, 1, 2, 7, 255, 1000, -1000, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 40];

function randomTensor(dtype: DType, dims: number[], name: string, random: () => number, wild: boolean): Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  const ids = /ids$/.test(name);
  const mask = /mask/.test(name);
  const pick = (): number =>
    wild && random() < 0.3
      ? WILD_INTS[Math.floor(random() * WILD_INTS.length)]!
      : ids
        ? Math.floor(random() * 1000)
        : mask
          ? 1
          : Math.floor(random() * 4);
  if (isBigIntType(dtype)) {
    const data = dtype === 'int64' ? new BigInt64Array(size) : new BigUint64Array(size);
    for (let i = 0; i < size; i++) data[i] = BigInt(dtype === 'uint64' ? Math.abs(pick()) : pick());
    return new Tensor(dtype, data, dims);
  }
  if (dtype === 'float32' || dtype === 'float64') {
    const data = dtype === 'float32' ? new Float32Array(size) : new Float64Array(size);
    for (let i = 0; i < size; i++) data[i] = random() * 4 - 2;
    return new Tensor(dtype, data, dims);
  }
  const range = INT_TYPES[dtype] ?? [0, 1];
  const values = Array.from({ length: size }, () => (dtype === 'bool' ? Math.round(random()) : Math.max(range[0], Math.min(range[1], pick()))));
  return new Tensor(dtype, values, dims);
}

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = Uint8Array.from(bytes);
  const pos = (f: number) => Math.min(out.length, Math.floor(f * out.length));
  for (const m of mutations) {
    if (out.length === 0) break;
    switch (m.kind) {
      case 'flip': {
        const at = Math.min(pos(m.at), out.length - 1);
        out[at]! ^= 1 << m.bit;
        break;
      }
      case 'truncate':
        out = out.slice(0, pos(m.at));
        break;
      case 'duplicate': {
        const from = pos(m.from);
        const span = out.slice(from, from + m.length);
        const to = pos(m.to);
        const next = new Uint8Array(out.length + span.length);
        next.set(out.subarray(0, to));
        next.set(span, to);
        next.set(out.subarray(to), to + span.length);
        out = next;
        break;
      }
      case 'overwrite': {
        const at = pos(m.at);
        for (let i = 0; i < m.bytes.length && at + i < out.length; i++) out[at + i] = m.bytes[i]!;
        break;
      }
    }
  }
  return out;
}

const ELEM_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 11: 8, 12: 4, 13: 8 };

function int64(text: string | number): Long {
  return typeof text === 'number' ? Long.fromNumber(Math.trunc(Number.isFinite(text) ? text : 0)) : Long.fromString(text);
}

/** An initializer of the spec's type and dims, values cycled from the spec; typed fields or raw data. */
function specTensor(name: string, elemType: number, dims: number[], values: readonly (string | number)[], raw: boolean): TensorProps {
  const size = dims.reduce((a, b) => a * b, 1);
  const at = (i: number) => values[i % values.length]!;
  const num = (i: number) => {
    const v = at(i);
    return typeof v === 'number' ? v : Number(v);
  };
  const base: TensorProps = { name, dims, dataType: elemType };
  if (elemType === DataType.INT64 || elemType === DataType.UINT64) {
    const longs = Array.from({ length: size }, (_, i) => {
      const l = int64(at(i));
      return elemType === DataType.UINT64 ? l.toUnsigned() : l;
    });
    return elemType === DataType.INT64 ? { ...base, int64Data: longs } : { ...base, uint64Data: longs };
  }
  if (elemType === DataType.FLOAT || elemType === DataType.DOUBLE) {
    const data = Array.from({ length: size }, (_, i) => num(i));
    if (raw) {
      const typed = elemType === DataType.FLOAT ? Float32Array.from(data) : Float64Array.from(data);
      return { ...base, rawData: new Uint8Array(typed.buffer) };
    }
    return elemType === DataType.FLOAT ? { ...base, floatData: data } : { ...base, doubleData: data };
  }
  if (elemType === DataType.UINT32) return { ...base, uint64Data: Array.from({ length: size }, (_, i) => int64(at(i)).toUnsigned()) };
  const width = ELEM_BYTES[elemType];
  if (raw && width) return { ...base, rawData: new Uint8Array(size * width).map((_, i) => num(i) & 0xff) };
  return { ...base, int32Data: Array.from({ length: size }, (_, i) => num(i) | 0) };
}

function attribute(spec: OpSpec['attrs'][number]): AttributeProps {
  const text = (s: string) => new TextEncoder().encode(s);
  switch (spec.type) {
    case 'int':
      return { name: spec.name, type: AttributeType.INT, i: int64(spec.ints[0] ?? '0') };
    case 'ints':
      return { name: spec.name, type: AttributeType.INTS, ints: spec.ints.map(int64) };
    case 'float':
      return { name: spec.name, type: AttributeType.FLOAT, f: spec.floats[0] ?? 0 };
    case 'floats':
      return { name: spec.name, type: AttributeType.FLOATS, floats: spec.floats };
    case 'string':
      return { name: spec.name, type: AttributeType.STRING, s: text(spec.strings[0] ?? '') };
    case 'strings':
      return { name: spec.name, type: AttributeType.STRINGS, strings: spec.strings.map(text) };
    case 'tensor':
      return {
        name: spec.name,
        type: AttributeType.TENSOR,
        t: specTensor('', spec.floats.length > 1 ? DataType.FLOAT : DataType.INT64, spec.ints.length > 1 ? [spec.ints.length] : [], spec.ints.length > 1 ? spec.ints : spec.floats, false),
      };
  }
}

/** Applies structural edits to a decoded model; every index wraps around what is there. */
function mutateSeed(bytes: Uint8Array, mutations: readonly SeedMutation[]): Uint8Array {
  const m = onnx.ModelProto.decode(bytes) as Model;
  const graph = m.graph ?? {};
  const nodes = graph.node ?? [];
  const inputs = graph.input ?? [];
  const pickFrom = <T>(list: readonly T[] | null | undefined, i: number): T | undefined =>
    !list || list.length === 0 ? undefined : list[i % list.length];
  for (const mu of mutations) {
    switch (mu.kind) {
      case 'attr': {
        const n = pickFrom(nodes, mu.node);
        if (!n) break;
        const existing = mu.attr >= 0 ? pickFrom(n.attribute, mu.attr) : undefined;
        const value = attribute(existing?.name ? { ...mu.value, name: existing.name } : mu.value);
        n.attribute = [...(n.attribute ?? []).filter((a) => a.name !== value.name), value];
        break;
      }
      case 'dropAttr': {
        const n = pickFrom(nodes, mu.node);
        if (n?.attribute?.length) n.attribute.splice(mu.attr % n.attribute.length, 1);
        break;
      }
      case 'dropInput': {
        const n = pickFrom(nodes, mu.node);
        if (n?.input?.length) n.input[mu.input % n.input.length] = '';
        break;
      }
      case 'dim': {
        const dims = pickFrom(inputs, mu.input)?.type?.tensorType?.shape?.dim;
        if (!dims || dims.length === 0) break;
        dims[mu.axis % dims.length] = typeof mu.value === 'string' ? { dimParam: mu.value } : { dimValue: mu.value };
        break;
      }
      case 'elemType': {
        const tensorType = pickFrom(inputs, mu.input)?.type?.tensorType;
        if (tensorType) tensorType.elemType = mu.elemType;
        break;
      }
      case 'opset':
        for (const imp of m.opsetImport ?? []) if (!imp.domain) imp.version = Long.fromValue(imp.version ?? 0).add(mu.delta);
        break;
      case 'initValue': {
        const init = pickFrom(graph.initializer, mu.init);
        if (!init) break;
        const width = ELEM_BYTES[init.dataType ?? 0];
        if (init.rawData?.length && width) {
          const raw = Uint8Array.from(init.rawData);
          const at = (mu.index % (raw.length / width)) * width;
          const view = new DataView(raw.buffer);
          if (init.dataType === DataType.INT64) view.setBigInt64(at, BigInt.asIntN(64, BigInt(int64(mu.value).toString())), true);
          else if (init.dataType === DataType.FLOAT) view.setFloat32(at, Number(mu.value), true);
          else if (init.dataType === DataType.INT32) view.setInt32(at, Number(mu.value) | 0, true);
          else raw[at] = Number(mu.value) & 0xff;
          init.rawData = raw;
        } else if (init.int64Data?.length) {
          init.int64Data[mu.index % init.int64Data.length] = int64(mu.value);
        } else if (init.floatData?.length) {
          init.floatData[mu.index % init.floatData.length] = Number(mu.value);
        }
        break;
      }
    }
  }
  return encodeModel(m);
}

function opModel(spec: OpSpec, seed: number): Uint8Array {
  const random = rng(seed);
  const graph: Graph = { name: 'op', input: [], initializer: [], node: [], output: [] };
  const inputNames = spec.inputs.map((input, i) => {
    const name = `x${i}`;
    if (input.source === 'omitted') return '';
    if (input.source === 'input') {
      graph.input!.push(valueInfo(name, input.elemType, input.dims));
    } else {
      const dims = (input.dims ?? [input.values.length]).map((d) => (typeof d === 'number' ? d : 2));
      graph.initializer!.push(specTensor(name, input.elemType, dims, input.values, random() < 0.5));
    }
    return name;
  });
  const outputs = Array.from({ length: spec.outputs }, (_, i) => `y${i}`);
  graph.node!.push({ ...node(spec.opType, inputNames, outputs, spec.attrs.map(attribute), spec.domain), name: 'fuzzed' });
  graph.output = outputs.map((name) => valueInfo(name, DataType.FLOAT, null));
  const imports = spec.domain === '' ? [] : [{ domain: spec.domain, version: spec.opset }];
  const m = model(graph, spec.domain === '' ? spec.opset : 17, imports);
  return encodeModel(m);
}

/** A valid two-input MatMul model, then one flaw; the code each flaw must produce. */
export function flawModel(flaw: Flaw, variant: number): { bytes: Uint8Array; expect: Expectation } {
  const w = () => floatTensor('w', [3, 4], Array.from({ length: 12 }, (_, i) => i / 8));
  const graph: Graph = {
    name: 'flawed',
    input: [valueInfo('x', DataType.FLOAT, [2, 3])],
    output: [valueInfo('y', DataType.FLOAT, [2, 4])],
    initializer: [w()],
    node: [node('MatMul', ['x', 'w'], ['y'])],
  };
  const m: Model = model(graph, 13);
  const init = graph.initializer![0]!;
  const matmul = graph.node![0]!;
  let expect: Expectation = 'INVALID_MODEL';
  switch (flaw) {
    case 'negativeDim':
      init.dims = [-1 - variant, 4];
      break;
    case 'overflowDims':
      init.dims = [2 ** (30 + variant), 2 ** 40, 3];
      break;
    case 'int64Dim':
      init.dims = [Long.fromString(variant % 2 ? '-9223372036854775808' : '9223372036854775807'), 1];
      break;
    case 'rawDataShort':
      init.rawData = init.rawData!.subarray(0, 47 - variant);
      break;
    case 'rawDataLong':
      init.rawData = new Uint8Array(49 + variant * 7);
      break;
    case 'typedCount':
      graph.initializer![0] = { name: 'w', dims: [3, 4], dataType: DataType.FLOAT, floatData: new Array(11 + (variant % 2) * 2).fill(1) };
      break;
    case 'missingInitializer':
      graph.initializer = [];
      break;
    case 'cycle':
      graph.node = [node('MatMul', ['x', 'b'], ['a']), node('MatMul', ['a', 'w'], ['b']), node('MatMul', ['x', 'w'], ['y'])];
      break;
    case 'selfLoop':
      graph.node = [node('MatMul', ['x', 'y'], ['y'])];
      break;
    case 'identityCycle':
      graph.node = [node('Identity', ['q'], ['p']), node('Identity', ['p'], ['q']), node('MatMul', ['x', 'p'], ['y'])];
      break;
    case 'duplicateNodeOutput':
      graph.node = [node('MatMul', ['x', 'w'], ['y']), node('MatMul', ['x', 'w'], ['y'])];
      break;
    case 'duplicateGraphOutput':
      graph.output = [valueInfo('y', DataType.FLOAT, [2, 4]), valueInfo('y', DataType.FLOAT, [2, 4])];
      break;
    case 'outputShadowsInput':
      graph.node = [node('MatMul', ['x', 'w'], [variant % 2 ? 'w' : 'x'])];
      break;
    case 'duplicateInput':
      graph.input = [valueInfo('x', DataType.FLOAT, [2, 3]), valueInfo('x', DataType.FLOAT, [2, 3])];
      break;
    case 'unnamedInitializer':
      init.name = '';
      break;
    case 'inputElemType':
      graph.input = [valueInfo('x', [0, 8, 10, 16, 99, 17, 14, 15][variant]!, [2, 3])];
      expect = 'UNSUPPORTED_TYPE';
      break;
    case 'initializerElemType':
      init.dataType = [8, 10, 16, 99, 0, 17, 14, 15][variant]!;
      expect = 'UNSUPPORTED_TYPE';
      break;
    case 'unknownDomain':
      matmul.domain = ['com.example', 'ai.onnx.ml', 'ai.onnx.training', 'com.microsoft'][variant % 4]!;
      m.opsetImport!.push({ domain: matmul.domain, version: 1 });
      expect = 'UNSUPPORTED_OP';
      break;
    case 'domainNotImported':
      graph.node = [node('FusedMatMul', ['x', 'w'], ['y'], [], 'com.microsoft')];
      expect = 'UNSUPPORTED_OP';
      break;
    case 'opsetTooNew':
      m.opsetImport = [{ domain: '', version: 99 + variant }];
      expect = 'UNSUPPORTED_OP';
      break;
    case 'opsetZero':
      m.opsetImport = [{ domain: '', version: -variant }];
      expect = 'UNSUPPORTED_OP';
      break;
    case 'noGraph':
      delete m.graph;
      break;
    case 'externalData':
      init.rawData = new Uint8Array(0);
      init.dataLocation = DataLocation.EXTERNAL;
      init.externalData = [{ key: 'location', value: ['../../../etc/passwd', 'weights.bin', '', '/dev/zero'][variant % 4]! }];
      break;
    case 'segment':
      init.segment = { begin: 0, end: 1 };
      break;
    case 'sparseInitializer':
      graph.sparseInitializer = [{ values: floatTensor('s', [1], [1]), dims: [2, 2] }];
      expect = 'UNSUPPORTED_TYPE';
      break;
    case 'graphAttribute':
      matmul.attribute = [{ name: 'body', type: AttributeType.GRAPH, g: { name: 'inner' } }];
      expect = 'UNSUPPORTED_OP';
      break;
    case 'refAttribute':
      matmul.attribute = [{ name: 'alpha', refAttrName: 'outer_alpha', type: AttributeType.FLOAT }];
      break;
    case 'constantTwoValues':
      graph.initializer = [];
      graph.node = [
        node('Constant', [], ['w'], [{ name: 'value_float', type: AttributeType.FLOAT, f: 1 }, intAttr('value_int', 1)]),
        matmul,
      ];
      break;
    case 'constantString':
      graph.initializer = [];
      graph.node = [node('Constant', [], ['w'], [{ name: 'value_string', type: AttributeType.STRING, s: new Uint8Array([65]) }]), matmul];
      expect = 'UNSUPPORTED_TYPE';
      break;
    case 'negativeInputDim':
      graph.input = [valueInfo('x', DataType.FLOAT, [-2 - variant, 3])];
      break;
    case 'hugeInputDim':
      graph.input = [valueInfo('x', DataType.FLOAT, [2 ** (40 + variant), 3])];
      expect = 'INVALID_INPUT';
      break;
    case 'unproducedOutput':
      graph.output = [valueInfo('z', DataType.FLOAT, [2, 4])];
      break;
    case 'extraNodeOutputs':
      matmul.output = ['y', 'y2', 'y3'].slice(0, 2 + (variant % 2));
      break;
    case 'wrongInputDtype':
      graph.node = [node('Gather', ['w', 'x'], ['y'])];
      break;
    case 'sequenceInput':
      graph.input = [{ name: 'x', type: { sequenceType: { elemType: { tensorType: { elemType: DataType.FLOAT } } } } }];
      expect = 'UNSUPPORTED_TYPE';
      break;
  }
  return { bytes: encodeModel(m), expect };
}

interface EmbedFeeds {
  ids: BigInt64Array;
  mask: BigInt64Array;
  features: Float32Array;
  batch: number;
  seq: number;
}

interface EmbedFixture {
  session: InferenceSession;
  weights: ReturnType<typeof embedWeights>;
}

/** Feeds for the known-good model with one flaw each, and the result they must produce. */
function hostileFeeds(
  flaw: FeedFlaw,
  batch: number,
  seq: number,
  seed: number,
  limit: number,
): { feeds: unknown; fetches?: string[]; expect: Expectation; embed: EmbedFeeds } {
  const random = rng(seed);
  const { VOCAB, POSITIONS, FEATURES } = EMBED;
  if (flaw === 'longSequence') seq = POSITIONS + 1 + Math.floor(random() * 24);
  if (flaw === 'emptySequence') seq = 0;
  if (flaw === 'tooLarge') {
    // Word, position and joined vectors (80 bytes a token) are alive together: more than the budget holds.
    batch = Math.ceil(limit / 60 / 4);
    seq = 4;
  }
  const n = batch * seq;
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(Math.floor(random() * VOCAB));
  if (flaw === 'negativeIds') for (let i = 0; i < n; i += 2) ids[i] = BigInt(-1 - Math.floor(random() * VOCAB));
  if (flaw === 'idsTooLarge') ids[Math.floor(random() * n)] = BigInt(VOCAB + Math.floor(random() * 10));
  if (flaw === 'hugeIds') ids[Math.floor(random() * n)] = [-(2n ** 62n), 2n ** 40n, BigInt(-VOCAB - 1), 2n ** 63n - 1n][seed % 4]!;
  const mask = new BigInt64Array(n).fill(1n);
  const features = new Float32Array(n * FEATURES).map(() => random() * 2 - 1);
  if (flaw === 'nonFinite') features[Math.floor(random() * features.length)] = [NaN, Infinity, -Infinity][seed % 3]!;
  const embed = { ids, mask, features, batch, seq };
  const feeds: Record<string, unknown> = {
    input_ids: new Tensor('int64', ids, [batch, seq]),
    attention_mask: new Tensor('int64', mask, [batch, seq]),
    features: new Tensor('float32', features, [batch, seq, FEATURES]),
  };
  let expect: Expectation = 'INVALID_INPUT';
  let fetches: string[] | undefined;
  switch (flaw) {
    case 'valid':
    case 'negativeIds':
      expect = 'ok';
      break;
    case 'emptySequence':
      expect = 'any';
      break;
    case 'tooLarge':
      expect = 'RESOURCE_LIMIT';
      break;
    case 'unknownName':
      feeds.token_type_ids = feeds.attention_mask;
      break;
    case 'missing':
      delete feeds[['input_ids', 'attention_mask', 'features'][seed % 3]!];
      break;
    case 'wrongDtype':
      feeds.input_ids = new Tensor('int32', Int32Array.from(ids, Number), [batch, seq]);
      break;
    case 'wrongRank':
      feeds.attention_mask = new Tensor('int64', mask, [n]);
      break;
    case 'wrongFixedDim':
      feeds.features = new Tensor('float32', new Float32Array(n * (FEATURES + 1)), [batch, seq, FEATURES + 1]);
      break;
    case 'maskMismatch':
      feeds.attention_mask = new Tensor('int64', new BigInt64Array(batch * (seq + 1)), [batch, seq + 1]);
      break;
    case 'notTensor':
      feeds.input_ids = [42, 'abc', null, [1, 2, 3], { dims: 'x' }][seed % 5];
      break;
    case 'badTensorLike':
      feeds.input_ids = [
        { type: 'int64', data: [1, 2], dims: [5] },
        { type: 'string', data: ['a'], dims: [1] },
        { type: 'int64', data: new BigInt64Array(2), dims: [-1, -2] },
        { type: 'int64', data: new Float32Array(n), dims: [batch, seq] },
      ][seed % 4];
      break;
    case 'tamperedTensor': {
      const t = new Tensor('int64', ids, [batch, seq]);
      Object.defineProperty(t, 'data', { value: new BigInt64Array(Math.max(0, n - 1)) });
      feeds.input_ids = t;
      break;
    }
    case 'feedsNotObject':
      return { feeds: [null, 7, 'input_ids', undefined][seed % 4], expect, embed };
    case 'unknownFetch':
      fetches = ['logits', 'nope'];
      break;
  }
  return { feeds, fetches, expect, embed };
}

function classify(err: unknown): Outcome {
  if (err instanceof LambertError && err.code !== 'INTERNAL_ERROR') return { kind: 'typed', code: err.code, message: err.message };
  return { kind: 'untyped', error: err };
}

class Fuzzer {
  readonly fixtures = fixtureModels();
  readonly names = this.fixtures.map((f) => f.name);
  readonly seeds = seedModels();
  readonly seedNames = this.seeds.map((f) => f.name);
  private embed: EmbedFixture | undefined;
  constructor(readonly limit: number) {}

  private session(bytes: Uint8Array): InferenceSession {
    return InferenceSession.createSync(bytes, { maxMemoryBytes: this.limit });
  }

  private embedFixture(): EmbedFixture {
    if (!this.embed) {
      const weights = embedWeights();
      this.embed = { session: this.session(embedModel(weights)), weights };
    }
    return this.embed;
  }

  /** Runs one case: its outcome, and why it differs from what its construction implies, if it does. */
  execute(c: FuzzCase): { outcome: Outcome; mismatch?: string } {
    let expect: Expectation = 'any';
    let check: (() => string | undefined) | undefined;
    let outcome: Outcome;
    try {
      switch (c.kind) {
        case 'bytes':
          this.runLoaded(Uint8Array.from(c.bytes), 0);
          break;
        case 'mutate':
          this.runLoaded(mutate(this.fixtures[c.model]!.bytes, c.mutations), c.seed);
          break;
        case 'op':
          this.runLoaded(opModel(c.spec, c.seed), c.seed);
          break;
        case 'seed':
          this.runLoaded(mutateSeed(this.seeds[c.model]!.bytes, c.mutations), c.seed, c.wild);
          break;
        case 'flaw': {
          const built = flawModel(c.flaw, c.variant);
          expect = built.expect;
          this.runLoaded(built.bytes, c.variant);
          break;
        }
        case 'feeds': {
          const { session, weights } = this.embedFixture();
          const hostile = hostileFeeds(c.flaw, c.batch, c.seq, c.seed, this.limit);
          expect = hostile.expect;
          const out = session.runSync(hostile.feeds as Record<string, Tensor>, hostile.fetches);
          if (expect === 'ok') {
            const { ids, mask, features, batch, seq } = hostile.embed;
            const wrapped = BigInt64Array.from(ids, (v) => (v < 0n ? v + BigInt(EMBED.VOCAB) : v));
            const ref = embedReference(weights, wrapped, mask, features, batch, seq);
            check = () => compareEmbed(out, ref);
          }
          break;
        }
      }
      outcome = { kind: 'ok' };
    } catch (err) {
      outcome = classify(err);
    }
    return { outcome, mismatch: mismatchOf(expect, outcome, check) };
  }

  private runLoaded(bytes: Uint8Array, seed: number, wild = false): void {
    const session = this.session(bytes);
    session.runSync(synthesizeFeeds(session, seed, wild));
  }
}

function compareEmbed(out: Record<string, Tensor>, ref: { logits: Float32Array; tokens: BigInt64Array }): string | undefined {
  const logits = out.logits?.data as Float32Array | undefined;
  const tokens = out.tokens?.data as BigInt64Array | undefined;
  if (!logits || !tokens || logits.length !== ref.logits.length || tokens.length !== ref.tokens.length) return 'outputs have the wrong size';
  for (let i = 0; i < logits.length; i++) {
    if (!(Math.abs(logits[i]! - ref.logits[i]!) <= 1e-4)) return `logits[${i}] = ${logits[i]}, reference ${ref.logits[i]}`;
  }
  for (let i = 0; i < tokens.length; i++) if (tokens[i] !== ref.tokens[i]) return `tokens[${i}] = ${tokens[i]}, reference ${ref.tokens[i]}`;
  return undefined;
}

function mismatchOf(expect: Expectation, outcome: Outcome, check: (() => string | undefined) | undefined): string | undefined {
  if (outcome.kind === 'untyped') return undefined;
  // The engine's last resort for an op whose scratch space outgrew the heap or stack: the bounds missed it.
  if (outcome.kind === 'typed' && /allocation failed|call stack size/i.test(outcome.message)) return `unbounded: ${outcome.message}`;
  if (expect === 'any') return undefined;
  if (expect === 'ok') return outcome.kind === 'ok' ? check?.() : `expected a result, got ${outcome.code}: ${outcome.message}`;
  if (outcome.kind === 'ok') return `expected ${expect}, got a result`;
  if (outcome.code !== expect) return `expected ${expect}, got ${outcome.code}: ${outcome.message}`;
  return undefined;
}

function describeOutcome(outcome: Outcome): string {
  if (outcome.kind === 'ok') return 'ok';
  if (outcome.kind === 'typed') return `${outcome.code}: ${outcome.message}`;
  const err = outcome.error as Error;
  const stack = err?.stack?.split('\n').slice(0, 4).join(' | ') ?? String(err);
  return `untyped ${err instanceof LambertError ? err.code : (err?.name ?? typeof err)}: ${stack}`;
}

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export function runFuzz(options: FuzzOptions): FuzzStats {
  const seed = options.seed ?? Date.now() % 0x7fffffff;
  const limit = options.maxMemoryBytes ?? 64 * 1024 * 1024;
  const hangMs = options.hangMs ?? 2000;
  const log = options.log ?? ((line: string) => console.log(line));
  const fuzzer = new Fuzzer(limit);
  const stats: FuzzStats = {
    cases: 0,
    ok: 0,
    typed: 0,
    untyped: 0,
    hangs: 0,
    unexpected: 0,
    byCode: {},
    byKind: {},
    slowestMs: 0,
    failures: [],
    peakRssGrowth: 0,
    seed,
  };
  const arbitrary = fuzzCase(fuzzer.fixtures.length, fuzzer.seeds.length);
  /** Runs a case; what is wrong with how it ended, if anything. */
  const judge = (c: FuzzCase) => {
    const started = performance.now();
    const { outcome, mismatch } = fuzzer.execute(c);
    const ms = performance.now() - started;
    const problem =
      outcome.kind === 'untyped'
        ? describeOutcome(outcome)
        : ms > hangMs
          ? `hang: ${ms.toFixed(0)} ms`
          : mismatch && `unexpected: ${mismatch}`;
    return { outcome, mismatch, ms, problem };
  };

  const rssBefore = peakRss();
  fc.check(
    fc.property(arbitrary, (c) => {
      const { outcome, mismatch, ms, problem } = judge(c);
      stats.cases++;
      stats.slowestMs = Math.max(stats.slowestMs, ms);
      const kind = (stats.byKind[c.kind] ??= { cases: 0, ok: 0 });
      kind.cases++;
      if (outcome.kind === 'ok') {
        stats.ok++;
        kind.ok++;
      } else if (outcome.kind === 'typed') {
        stats.typed++;
        stats.byCode[outcome.code] = (stats.byCode[outcome.code] ?? 0) + 1;
      } else stats.untyped++;
      if (ms > hangMs) stats.hangs++;
      if (mismatch) stats.unexpected++;
      if (problem && stats.failures.length < 50) stats.failures.push(`${problem} — ${describeCase(c, fuzzer.names, fuzzer.seedNames)}`);
      return true;
    }),
    { numRuns: options.cases, seed },
  );
  stats.peakRssGrowth = Math.max(0, peakRss() - rssBefore);

  for (const f of stats.failures) log(`fuzz failure: ${f}`);
  if (stats.failures.length > 0 && options.shrink !== false) {
    const shrunk = fc.check(
      fc.property(arbitrary, (c) => !judge(c).problem),
      { numRuns: options.cases, seed },
    );
    if (shrunk.failed && shrunk.counterexample) {
      const c = shrunk.counterexample[0];
      log(`fuzz minimal reproduction: ${describeCase(c, fuzzer.names, fuzzer.seedNames)} → ${judge(c).problem ?? 'passes on replay'}`);
    }
  }
  if (options.verbose) {
    log(
      `fuzz: seed ${seed}, kinds ${JSON.stringify(stats.byKind)}, codes ${JSON.stringify(stats.byCode)}, ` +
        `unexpected ${stats.unexpected}, slowest ${stats.slowestMs.toFixed(0)} ms, peak RSS growth ${(stats.peakRssGrowth / 2 ** 20).toFixed(1)} MiB`,
    );
  }
  log(`fuzz: cases ${stats.cases}, ok ${stats.ok}, typed errors ${stats.typed}, untyped errors ${stats.untyped}, hangs ${stats.hangs}`);
  return stats;
}

function parseArgs(argv: readonly string[]): FuzzOptions {
  const options: FuzzOptions = { cases: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${arg} needs a non-negative integer`);
      return v;
    };
    if (arg === '--cases') options.cases = value();
    else if (arg === '--seed') options.seed = value();
    else if (arg === '--max-memory') options.maxMemoryBytes = value();
    else if (arg === '--verbose') options.verbose = true;
    else if (arg === '--no-shrink') options.shrink = false;
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const stats = runFuzz(parseArgs(process.argv.slice(2)));
  process.exitCode = stats.untyped > 0 || stats.hangs > 0 || stats.unexpected > 0 ? 1 : 0;
}
