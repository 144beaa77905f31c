/**
 * What the fuzzer throws at lambert, as fast-check arbitraries over plain data (so a failing
 * case prints, replays and shrinks): random bytes, byte-level mutations of the fixture models,
 * structural edits of the official single-op tests, single-node graphs of registered ops with
 * random inputs and attributes, deliberately broken graphs, and hostile feeds for a known-good
 * model.
 */
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registeredOps } from '../../src/ops/registry.js';
import { onnx } from '../../src/proto.js';

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; from: number; length: number; to: number }
  | { kind: 'overwrite'; at: number; bytes: number[] };

/** An int64 as text, so values beyond 2^53 survive printing and replay. */
export type Int64Text = string;

export interface InputSpec {
  source: 'input' | 'initializer' | 'omitted';
  elemType: number;
  /** Declared dims: numbers, dim_param names, or null for no shape. */
  dims: (number | string)[] | null;
  /** Initializer values (used cyclically), as int64 text or floats by element type. */
  values: (Int64Text | number)[];
}

export interface AttrSpec {
  name: string;
  type: 'int' | 'ints' | 'float' | 'floats' | 'string' | 'strings' | 'tensor';
  ints: Int64Text[];
  floats: number[];
  strings: string[];
}

export interface OpSpec {
  domain: string;
  opType: string;
  opset: number;
  inputs: InputSpec[];
  attrs: AttrSpec[];
  outputs: number;
}

export const FLAWS = [
  'negativeDim',
  'overflowDims',
  'int64Dim',
  'rawDataShort',
  'rawDataLong',
  'typedCount',
  'missingInitializer',
  'cycle',
  'selfLoop',
  'identityCycle',
  'duplicateNodeOutput',
  'duplicateGraphOutput',
  'outputShadowsInput',
  'duplicateInput',
  'unnamedInitializer',
  'inputElemType',
  'initializerElemType',
  'unknownDomain',
  'domainNotImported',
  'opsetTooNew',
  'opsetZero',
  'noGraph',
  'externalData',
  'segment',
  'sparseInitializer',
  'graphAttribute',
  'refAttribute',
  'constantTwoValues',
  'constantString',
  'negativeInputDim',
  'hugeInputDim',
  'unproducedOutput',
  'extraNodeOutputs',
  'wrongInputDtype',
  'sequenceInput',
] as const;
export type Flaw = (typeof FLAWS)[number];

export const FEED_FLAWS = [
  'valid',
  'unknownName',
  'missing',
  'wrongDtype',
  'wrongRank',
  'wrongFixedDim',
  'maskMismatch',
  'idsTooLarge',
  'negativeIds',
  'hugeIds',
  'nonFinite',
  'longSequence',
  'tooLarge',
  'notTensor',
  'badTensorLike',
  'tamperedTensor',
  'emptySequence',
  'feedsNotObject',
  'unknownFetch',
] as const;
export type FeedFlaw = (typeof FEED_FLAWS)[number];

/** A structural edit of a decoded seed model; indices wrap around what the model has. */
export type SeedMutation =
  | { kind: 'attr'; node: number; attr: number; value: AttrSpec }
  | { kind: 'dropAttr'; node: number; attr: number }
  | { kind: 'dropInput'; node: number; input: number }
  | { kind: 'dim'; input: number; axis: number; value: number | string }
  | { kind: 'elemType'; input: number; elemType: number }
  | { kind: 'opset'; delta: number }
  | { kind: 'initValue'; init: number; index: number; value: Int64Text | number };

export type FuzzCase =
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'mutate'; model: number; mutations: Mutation[]; seed: number }
  | { kind: 'seed'; model: number; mutations: SeedMutation[]; seed: number; wild: boolean }
  | { kind: 'op'; spec: OpSpec; seed: number }
  | { kind: 'flaw'; flaw: Flaw; variant: number }
  | { kind: 'feeds'; flaw: FeedFlaw; batch: number; seq: number; seed: number };

const ROOT = findRoot();

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'src/ops'))) {
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

const NODE_TESTS = '/usr/share/libonnx-testdata/data/node';

/**
 * Small, valid graphs exercising one registered op each, whose attributes, inputs and types
 * the fuzzer edits: the official ONNX node tests of registered ops, and the contrib fixtures.
 */
export function seedModels(): { name: string; bytes: Uint8Array }[] {
  const known = new Set(registeredOps().map((d) => `${d.domain}::${d.opType}`));
  const out: { name: string; bytes: Uint8Array }[] = [];
  if (existsSync(NODE_TESTS)) {
    for (const name of readdirSync(NODE_TESTS).sort()) {
      const path = join(NODE_TESTS, name, 'model.onnx');
      if (!existsSync(path)) continue;
      const bytes = readFileSync(path);
      const ops = (onnx.ModelProto.decode(bytes).graph?.node ?? []).map((n) => `${n.domain === 'ai.onnx' ? '' : (n.domain ?? '')}::${n.opType}`);
      if (ops.length > 0 && ops.every((op) => known.has(op))) out.push({ name, bytes });
    }
  }
  const contrib = join(ROOT, 'test/fixtures/contrib');
  if (existsSync(contrib)) {
    for (const f of readdirSync(contrib).sort()) if (f.endsWith('.onnx')) out.push({ name: `contrib/${f}`, bytes: readFileSync(join(contrib, f)) });
  }
  return out;
}

/** The fixture models whose mutations are fuzzed: every .onnx under test/fixtures. */
export function fixtureModels(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const sub of ['models', 'contrib', 'ortopt']) {
    const dir = join(ROOT, 'test/fixtures', sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.onnx')) out.push({ name: `${sub}/${f}`, bytes: readFileSync(join(dir, f)) });
  }
  return out;
}

type AttrName = { name: string; type: AttrSpec['type'] };

/** Attribute names read in one source file, with the kind they are read as. */
function attributesIn(path: string): AttrName[] {
  if (!existsSync(path)) return [];
  const re = /attrs\.(int|float|ints|floats|string|strings|tensor)\('([A-Za-z_]+)'/g;
  return [...readFileSync(path, 'utf8').matchAll(re)].map((m) => ({ name: m[2]!, type: m[1] as AttrSpec['type'] }));
}

/** Attribute names the ops actually read, with the kind they read them as. */
function attributePool(): AttrName[] {
  const pool = new Map<string, AttrSpec['type']>();
  for (const dir of ['src/ops', 'kernels']) {
    const path = join(ROOT, dir);
    if (!existsSync(path)) continue;
    for (const f of readdirSync(path)) {
      if (f.endsWith('.ts')) for (const a of attributesIn(join(path, f))) pool.set(a.name, a.type);
    }
  }
  for (const [name, type] of [
    ['axis', 'int'],
    ['axes', 'ints'],
    ['perm', 'ints'],
    ['keepdims', 'int'],
    ['to', 'int'],
    ['mode', 'string'],
    ['split', 'ints'],
    ['value', 'tensor'],
  ] as const) {
    if (!pool.has(name)) pool.set(name, type);
  }
  return [...pool].map(([name, type]) => ({ name, type }));
}

const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';
const interestingInt = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -4, max: 6 }).map(String) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('16', '255', '256', '1000', '65536', '2147483647', '-2147483648', '4294967296', '1000000000'),
  },
  { weight: 1, arbitrary: fc.constantFrom('9007199254740991', '9007199254740993', '-9007199254740993', INT64_MAX, INT64_MIN) },
);
const interestingFloat = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 1, -1, 0.5, 2, -0.25, 3, 1e-5) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 1e30, -1e30, 1e-40, 3.4e38) },
  { weight: 2, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }) },
);
const interestingString = fc.constantFrom('', 'constant', 'reflect', 'edge', 'wrap', 'tanh', 'relu', 'none', 'NOTSET', 'gelu', 'x'.repeat(300));

/** Element types: mostly the computable ones, sometimes ones lambert rejects (string, float16, bogus). */
const elemType = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(1, 7, 1, 7, 6, 3, 2, 9, 11) },
  { weight: 2, arbitrary: fc.constantFrom(4, 5, 12, 13) },
  { weight: 1, arbitrary: fc.constantFrom(0, 8, 10, 16, 14, 99) },
);

const dimsArb = fc.oneof(
  { weight: 10, arbitrary: fc.array(fc.integer({ min: 0, max: 5 }).map((d) => (d === 0 ? 1 : d)), { maxLength: 4 }) },
  { weight: 2, arbitrary: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }) },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom('n', 'm')), { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constant(null) },
);

/**
 * Inputs mostly share the node's element type and shape (so elementwise ops get past their
 * checks and run), with int64 for shape-like operands and the odd stranger.
 */
function inputSpecs(): fc.Arbitrary<InputSpec[]> {
  const one = fc.record({
    source: fc.oneof(
      { weight: 10, arbitrary: fc.constant('input' as const) },
      { weight: 9, arbitrary: fc.constant('initializer' as const) },
      { weight: 1, arbitrary: fc.constant('omitted' as const) },
    ),
    typeChoice: fc.integer({ min: 0, max: 19 }),
    other: elemType,
    dimsChoice: fc.integer({ min: 0, max: 9 }),
    dims: dimsArb,
    values: fc.array(fc.oneof(interestingInt, interestingFloat), { minLength: 1, maxLength: 8 }),
  });
  return fc
    .record({ primary: elemType, base: dimsArb, inputs: fc.array(one, { minLength: 1, maxLength: 5 }) })
    .map(({ primary, base, inputs }) =>
      inputs.map(({ source, typeChoice, other, dimsChoice, dims, values }) => ({
        source,
        elemType: typeChoice < 12 ? primary : typeChoice < 17 ? 7 : other,
        dims: dimsChoice < 6 ? base : dimsChoice < 8 && base ? base.slice(1) : dims,
        values,
      })),
    );
}

/** The attributes an op's own file reads (op files are named after the op), if any. */
function opAttributes(domain: string, opType: string): AttrName[] {
  const camel = opType[0]!.toLowerCase() + opType.slice(1);
  const file = domain === 'com.microsoft' ? `ms${opType}.ts` : `${camel}.ts`;
  const seen = new Map<string, AttrName>();
  for (const a of attributesIn(join(ROOT, 'src/ops', file))) seen.set(a.name, a);
  return [...seen.values()];
}

function attrSpec(own: AttrName[], pool: AttrName[]): fc.Arbitrary<AttrSpec> {
  const named = fc.oneof(
    { weight: own.length > 0 ? 12 : 0, arbitrary: fc.constantFrom(...(own.length > 0 ? own : pool)) },
    { weight: 4, arbitrary: fc.constantFrom(...pool) },
    {
      weight: 1,
      arbitrary: fc.record({
        name: fc.constantFrom('bogus', ''),
        type: fc.constantFrom('int' as const, 'string' as const),
      }),
    },
  );
  return fc
    .record({
      named,
      retype: fc.integer({ min: 0, max: 9 }),
      other: fc.constantFrom('int' as const, 'ints' as const, 'float' as const, 'floats' as const, 'string' as const, 'strings' as const, 'tensor' as const),
      ints: fc.array(interestingInt, { maxLength: 5 }),
      floats: fc.array(interestingFloat, { maxLength: 4 }),
      strings: fc.array(interestingString, { maxLength: 2 }),
    })
    .map(({ named, retype, other, ints, floats, strings }) => ({
      name: named.name,
      type: retype === 0 ? other : named.type,
      ints: ints.length === 0 && (named.type === 'int' || retype === 0) ? ['0'] : ints,
      floats: floats.length === 0 ? [1] : floats,
      strings: strings.length === 0 ? [''] : strings,
    }));
}

function opSpec(): fc.Arbitrary<OpSpec> {
  const pool = attributePool();
  const ops = registeredOps().map((d) => ({ domain: d.domain, opType: d.opType, versions: d.versions, own: opAttributes(d.domain, d.opType) }));
  return fc
    .constantFrom(...ops)
    .chain((op) =>
      fc.record({
        op: fc.constant(op),
        opsetPick: fc.integer({ min: 0, max: 19 }),
        wildOpset: fc.integer({ min: -2, max: 30 }),
        inputs: inputSpecs(),
        attrs: fc.array(attrSpec(op.own, pool), { maxLength: 4 }),
        outputs: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 4 }) }),
      }),
    )
    .map(({ op, opsetPick, wildOpset, inputs, attrs, outputs }) => {
      const low = op.versions[0];
      const high = Math.min(op.versions[1], 21);
      const opset = opsetPick === 0 ? wildOpset : low + (opsetPick % (high - low + 1));
      return { domain: op.domain, opType: op.opType, opset, inputs, attrs, outputs };
    });
}

function mutation(): fc.Arbitrary<Mutation> {
  // A uniform fraction of the file: fast-check's doubles cluster near 0 and would hit only the first bytes.
  const at = fc.noBias(fc.integer({ min: 0, max: 2 ** 30 - 1 })).map((n) => n / 2 ** 30);
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('duplicate' as const), from: at, length: fc.integer({ min: 1, max: 4096 }), to: at }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('overwrite' as const),
        at,
        bytes: fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x00, 0x7f, 0x80, 0xff)), { minLength: 1, maxLength: 12 }),
      }),
    },
  );
}

function seedMutation(pool: AttrName[]): fc.Arbitrary<SeedMutation> {
  const index = fc.nat({ max: 15 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('attr' as const), node: index, attr: fc.integer({ min: -1, max: 7 }), value: attrSpec([], pool) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropAttr' as const), node: index, attr: index }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropInput' as const), node: index, input: index }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('dim' as const),
        input: index,
        axis: index,
        value: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom('n', 'm', 17, 64)),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('elemType' as const), input: index, elemType }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('opset' as const), delta: fc.integer({ min: -8, max: 8 }) }) },
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('initValue' as const), init: index, index: fc.nat({ max: 63 }), value: fc.oneof(interestingInt, interestingFloat) }),
    },
  );
}

/** Every fuzz case, weighted so the slow ones (running real models) stay a minority. */
export function fuzzCase(modelCount: number, seedCount: number): fc.Arbitrary<FuzzCase> {
  const seed = fc.integer({ min: 0, max: 0x7fffffff });
  return fc.oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('bytes' as const),
        bytes: fc.oneof(
          fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }),
          fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 2048 }),
        ),
      }),
    },
    {
      weight: modelCount > 0 ? 3 : 0,
      arbitrary: fc.record({
        kind: fc.constant('mutate' as const),
        model: fc.integer({ min: 0, max: Math.max(0, modelCount - 1) }),
        mutations: fc.array(mutation(), { minLength: 1, maxLength: 6 }),
        seed,
      }),
    },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('op' as const), spec: opSpec(), seed }) },
    {
      weight: seedCount > 0 ? 6 : 0,
      arbitrary: fc.record({
        kind: fc.constant('seed' as const),
        model: fc.nat({ max: Math.max(0, seedCount - 1) }),
        mutations: fc.array(seedMutation(attributePool()), { maxLength: 3 }),
        seed,
        wild: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('flaw' as const), flaw: fc.constantFrom(...FLAWS), variant: fc.integer({ min: 0, max: 7 }) }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('feeds' as const),
        flaw: fc.constantFrom(...FEED_FLAWS),
        batch: fc.integer({ min: 1, max: 3 }),
        seq: fc.integer({ min: 1, max: 12 }),
        seed,
      }),
    },
  );
}

/** A short, replayable description of a case for reports. */
export function describeCase(c: FuzzCase, modelNames: readonly string[], seedNames: readonly string[]): string {
  switch (c.kind) {
    case 'bytes':
      return `bytes(${c.bytes.length}): ${Buffer.from(c.bytes.slice(0, 48)).toString('hex')}${c.bytes.length > 48 ? '…' : ''}`;
    case 'mutate':
      return `mutate ${modelNames[c.model] ?? c.model} ${JSON.stringify(c.mutations)} seed ${c.seed}`;
    case 'seed':
      return `seed ${seedNames[c.model] ?? c.model} ${JSON.stringify(c.mutations)} seed ${c.seed}${c.wild ? ' wild' : ''}`;
    case 'op':
      return `op ${JSON.stringify(c.spec)} seed ${c.seed}`;
    case 'flaw':
      return `flaw ${c.flaw} variant ${c.variant}`;
    case 'feeds':
      return `feeds ${c.flaw} batch ${c.batch} seq ${c.seq} seed ${c.seed}`;
  }
}
