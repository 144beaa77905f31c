/**
 * The elementwise engine walks broadcasts as merged runs with fast paths (same shape, scalar
 * operand, trailing bias-like operand); these properties hold every path, for float32's
 * dedicated loops and the generic per-dtype ones, to an element-by-element numpy-broadcasting
 * reference on random shapes, including rank-0 operands and size-0 dimensions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Attributes } from '../src/attributes.js';
import { Add } from '../src/ops/add.js';
import { Div } from '../src/ops/div.js';
import { BroadcastRuns } from '../src/ops/elementwise.js';
import { Equal } from '../src/ops/equal.js';
import { Less } from '../src/ops/less.js';
import { Mul } from '../src/ops/mul.js';
import { Pow } from '../src/ops/pow.js';
import { Sub } from '../src/ops/sub.js';
import type { NodeInfo, OpDefinition } from '../src/ops/types.js';
import { Where } from '../src/ops/where.js';
import { freshAllocator } from '../src/plan.js';
import { allocate, sizeOf, Tensor, type DType } from '../src/tensor.js';

function nodeOf(opType: string, opset: number): NodeInfo {
  return {
    name: `${opType}_test`,
    opType,
    domain: '',
    opset,
    attrs: new Attributes(new Map(), { name: `${opType}_test`, opType }),
    inputs: [],
    outputs: ['y'],
    cache: new Map(),
  };
}

function run(def: OpDefinition, opset: number, inputs: Tensor[]): Tensor {
  return def.run(nodeOf(def.opType, opset), inputs, freshAllocator, undefined)[0]!;
}

/** Numpy's broadcast of `shapes`, written out independently of src/ops/broadcast.ts. */
function broadcastOf(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => {
    const ds = shapes.map((s) => s[s.length - rank + i] ?? 1);
    return ds.find((d) => d !== 1) ?? 1;
  });
}

/** For each output element in order, the flat index of the element each operand supplies. */
function sourceIndices(outDims: readonly number[], shapes: readonly (readonly number[])[]): number[][] {
  const n = sizeOf(outDims);
  const result: number[][] = [];
  for (let flat = 0; flat < n; flat++) {
    let rest = flat;
    const idx = new Array<number>(outDims.length);
    for (let i = outDims.length - 1; i >= 0; i--) {
      idx[i] = rest % outDims[i]!;
      rest = Math.floor(rest / outDims[i]!);
    }
    result.push(
      shapes.map((s) => {
        let at = 0;
        for (let i = 0; i < s.length; i++) at = at * s[i]! + (s[i] === 1 ? 0 : idx[outDims.length - s.length + i]!);
        return at;
      }),
    );
  }
  return result;
}

/** Varied values of each dtype, from a seed; `nonzero` keeps integer divisors legal. */
function tensorOf(dtype: DType, dims: readonly number[], seed: number, nonzero = false): Tensor {
  const n = sizeOf(dims);
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) {
    const k = ((i + 1) * 7919 + seed * 104729) % 211;
    const v = k - 105 === 0 && nonzero ? 1 : k - 105;
    if (dtype === 'int64') (data as BigInt64Array)[i] = BigInt(v) * 0x1_0000_0001n;
    else if (dtype === 'bool') (data as Uint8Array)[i] = k & 1;
    else if (dtype === 'float32' || dtype === 'float64') (data as Float64Array)[i] = v / 8;
    else if (dtype === 'int32') (data as Int32Array)[i] = v * 40_000_001;
    else (data as Uint8Array)[i] = v;
  }
  return new Tensor(dtype, data, dims);
}

const dim = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 9, arbitrary: fc.integer({ min: 1, max: 4 }) });

/** An operand broadcastable to `out`: all of it, a trailing part (bias-like), a scalar, or mixed 1s. */
function operandOf(out: readonly number[]): fc.Arbitrary<number[]> {
  return fc.oneof(
    fc.constant([...out]),
    fc.integer({ min: 0, max: out.length }).map((r) => out.slice(out.length - r)),
    fc.constantFrom<number[]>([], [1]),
    fc
      .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
      .map(([r, ones]) => out.slice(out.length - r).map((d, i) => (ones[out.length - r + i] ? 1 : d))),
  ).map((shape) => [...shape]);
}

const shapePair = fc.array(dim, { maxLength: 5 }).chain((out) => fc.tuple(operandOf(out), operandOf(out)));
const shapeTriple = fc.array(dim, { maxLength: 5 }).chain((out) => fc.tuple(operandOf(out), operandOf(out), operandOf(out)));
const seed = fc.integer({ min: 0, max: 1000 });

/** Holds `def` on inputs of `dtypes` to `expected(a, b)`, stored through an `outType` array. */
function checkBinary(
  def: OpDefinition,
  opset: number,
  dtypes: [DType, DType],
  outType: DType,
  expected: (a: any, b: any) => number | bigint,
  nonzeroDivisor = false,
) {
  fc.assert(
    fc.property(shapePair, seed, ([sa, sb], s) => {
      const a = tensorOf(dtypes[0], sa, s);
      const b = tensorOf(dtypes[1], sb, s + 1, nonzeroDivisor);
      const out = run(def, opset, [a, b]);
      const dims = broadcastOf([sa, sb]);
      expect(out.dims).toEqual(dims);
      expect(out.type).toBe(outType);
      const want = allocate(outType, sizeOf(dims)) as unknown as (number | bigint)[];
      sourceIndices(dims, [sa, sb]).forEach(([i, j], k) => (want[k] = expected(a.data[i!], b.data[j!])));
      expect(out.data).toEqual(want);
    }),
    { numRuns: 150 },
  );
}

describe('broadcast runs', () => {
  it('visit exactly the elements numpy broadcasting pairs with each output element', () => {
    fc.assert(
      fc.property(shapeTriple, (shapes) => {
        const dims = broadcastOf(shapes);
        const n = sizeOf(dims);
        const runs = new BroadcastRuns(dims, shapes);
        const seen: number[][] = [];
        for (let r = 0; r < runs.count; r++) {
          for (let j = 0; j < runs.length; j++) seen.push(runs.offsets.map((o, k) => o + j * runs.steps[k]!));
          runs.next();
        }
        expect(n === 0 ? [] : seen).toEqual(sourceIndices(dims, shapes));
      }),
      { numRuns: 300 },
    );
  });
});

describe('binary arithmetic matches a naive broadcast', () => {
  it('float32 Add, Sub, Mul, Div (dedicated loops)', () => {
    checkBinary(Add, 14, ['float32', 'float32'], 'float32', (x, y) => Math.fround(x + y));
    checkBinary(Sub, 14, ['float32', 'float32'], 'float32', (x, y) => Math.fround(x - y));
    checkBinary(Mul, 14, ['float32', 'float32'], 'float32', (x, y) => Math.fround(x * y));
    checkBinary(Div, 14, ['float32', 'float32'], 'float32', (x, y) => Math.fround(x / y));
  });

  it('int32 Mul wraps like C, int32 Div truncates toward zero', () => {
    checkBinary(Mul, 14, ['int32', 'int32'], 'int32', (x, y) => Number(BigInt.asIntN(32, BigInt(x) * BigInt(y))));
    checkBinary(Div, 14, ['int32', 'int32'], 'int32', (x, y) => Math.trunc(x / y), true);
  });

  it('int64, uint8 and float64 through the generic loops', () => {
    checkBinary(Sub, 14, ['int64', 'int64'], 'int64', (x: bigint, y: bigint) => BigInt.asIntN(64, x - y));
    checkBinary(Div, 14, ['int64', 'int64'], 'int64', (x, y) => x / y, true);
    checkBinary(Add, 14, ['uint8', 'uint8'], 'uint8', (x, y) => (x + y) & 255);
    checkBinary(Mul, 14, ['float64', 'float64'], 'float64', (x, y) => x * y);
  });

  it('Pow, float32 and int64 bases, on values where every path is exact', () => {
    // Exponents in {-1, 0, 1, 2, 3} on bases of at most 105 (in eighths for float32): pow and
    // the x·x / x·x·x shortcuts onnxruntime takes for per-span exponents agree exactly there.
    const exponents = (t: Tensor) => {
      const data = t.data as Float32Array;
      for (let i = 0; i < data.length; i++) data[i] = (Math.abs(data[i]! * 8) % 5) - 1;
      return t;
    };
    const int64Of = (t: Tensor) => new Tensor('int64', Array.from(t.data as Float32Array, (v) => BigInt(v * 8)), t.dims);
    fc.assert(
      fc.property(shapePair, seed, ([sa, sb], s) => {
        const a = tensorOf('float32', sa, s);
        const ai = int64Of(a);
        const b = exponents(tensorOf('float32', sb, s + 1));
        const dims = broadcastOf([sa, sb]);
        const pairs = sourceIndices(dims, [sa, sb]);
        const base = a.data as Float32Array;
        const exponent = b.data as Float32Array;
        const floats = run(Pow, 15, [a, b]);
        expect(floats.dims).toEqual(dims);
        expect(Array.from(floats.data as Float32Array)).toEqual(pairs.map(([i, j]) => Math.fround(base[i!]! ** exponent[j!]!)));
        const ints = run(Pow, 15, [ai, b]);
        const want = pairs.map(([i, j]) => {
          const x = ai.data[i!] as bigint;
          const e = exponent[j!]!;
          if (e >= 0) return x ** BigInt(e);
          // 1/x truncates to 0 unless |x| = 1; 1/0 is infinite, which converts to INT64_MIN.
          return x === 0n ? -(2n ** 63n) : x === 1n || x === -1n ? x : 0n;
        });
        expect(Array.from(ints.data as BigInt64Array)).toEqual(want);
      }),
      { numRuns: 150 },
    );
  });
});

describe('comparisons and Where match a naive broadcast', () => {
  it('Less on float32 (dedicated loop) and int64, Equal on bool', () => {
    checkBinary(Less, 13, ['float32', 'float32'], 'bool', (x, y) => (x < y ? 1 : 0));
    checkBinary(Less, 13, ['int64', 'int64'], 'bool', (x, y) => (x < y ? 1 : 0));
    checkBinary(Equal, 13, ['bool', 'bool'], 'bool', (x, y) => (x === y ? 1 : 0));
  });

  it('Where broadcasts all three inputs, float32 and int64', () => {
    fc.assert(
      fc.property(shapeTriple, seed, fc.constantFrom<DType>('float32', 'int64'), ([sc, sx, sy], s, dtype) => {
        const c = tensorOf('bool', sc, s);
        const x = tensorOf(dtype, sx, s + 1);
        const y = tensorOf(dtype, sy, s + 2);
        const out = run(Where, 16, [c, x, y]);
        const dims = broadcastOf([sc, sx, sy]);
        expect(out.dims).toEqual(dims);
        const want = sourceIndices(dims, [sc, sx, sy]).map(([i, j, k]) => (c.data[i!] ? x.data[j!] : y.data[k!]));
        expect(Array.from(out.data as Float32Array)).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });
});
