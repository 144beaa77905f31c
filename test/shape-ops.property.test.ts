/**
 * The data-movement ops reduce every dtype to word copies over coalesced strided boxes; these
 * properties check that machinery against element-by-element references on random shapes,
 * permutations, slices and pads, for every element width (1, 2, 4 and 8 bytes).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Attributes, type AttributeValue } from '../src/attributes.js';
import { Pad } from '../src/ops/pad.js';
import { Slice } from '../src/ops/slice.js';
import { Transpose } from '../src/ops/transpose.js';
import type { NodeInfo, OpDefinition } from '../src/ops/types.js';
import { freshAllocator } from '../src/plan.js';
import { sizeOf, Tensor, type DType } from '../src/tensor.js';

const DTYPES: readonly DType[] = ['float32', 'int64', 'uint8', 'int16', 'float64', 'bool'];

function nodeOf(opType: string, opset: number, attrs: Record<string, AttributeValue> = {}): NodeInfo {
  return {
    name: `${opType}_test`,
    opType,
    domain: '',
    opset,
    attrs: new Attributes(new Map(Object.entries(attrs)), { name: `${opType}_test`, opType }),
    inputs: [],
    outputs: ['y'],
    cache: new Map(),
  };
}

/** Distinct values per element, so a misplaced element always shows. */
function tensorOf(dtype: DType, dims: readonly number[]): Tensor {
  const n = sizeOf(dims);
  const values = Array.from({ length: n }, (_, i) => {
    if (dtype === 'int64') return BigInt(i) * 0x1_0000_0001n - 7n;
    if (dtype === 'bool') return i % 3 === 1 ? 1 : 0;
    if (dtype === 'uint8') return (i * 7) & 255;
    if (dtype === 'int16') return i * 31 - 500;
    return i * 1.25 - 3;
  });
  return new Tensor(dtype, values, dims);
}

const int64 = (values: readonly (number | bigint)[]) => new Tensor('int64', values.map((v) => BigInt(v)), [values.length]);

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  for (let i = dims.length - 1, acc = 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** Every multi-index of `dims` in row-major order. */
function* indices(dims: readonly number[]): Generator<number[]> {
  if (dims.some((d) => d === 0)) return;
  const idx = new Array<number>(dims.length).fill(0);
  for (;;) {
    yield [...idx];
    let a = dims.length - 1;
    for (; a >= 0; a--) {
      if (++idx[a]! < dims[a]!) break;
      idx[a] = 0;
    }
    if (a < 0) return;
  }
}

/** Builds the expected tensor by asking `source` where each output element comes from (undefined: `fill`). */
function reference(
  x: Tensor,
  dims: readonly number[],
  source: (out: number[]) => number[] | undefined,
  fill: number | bigint = 0,
): Tensor {
  const inStrides = strides(x.dims);
  const values: (number | bigint)[] = [];
  for (const out of indices(dims)) {
    const src = source(out);
    values.push(src ? x.data[src.reduce((s, v, i) => s + v * inStrides[i]!, 0)]! : fill);
  }
  return new Tensor(x.type, values, dims);
}

function runOp(def: OpDefinition, node: NodeInfo, inputs: (Tensor | undefined)[]): Tensor {
  const metas = inputs.map((t) => t && { dtype: t.type, shape: t.dims, value: t });
  const inferred = def.infer(node, metas)[0]!;
  const [result] = def.run(node, inputs, freshAllocator, undefined);
  expect(inferred.shape).toEqual(result!.dims);
  return result!;
}

function expectSame(actual: Tensor, expected: Tensor): void {
  expect(actual.type).toBe(expected.type);
  expect(actual.dims).toEqual(expected.dims);
  expect(Array.from(actual.data as ArrayLike<unknown>)).toEqual(Array.from(expected.data as ArrayLike<unknown>));
}

/** Small dims, with a long last axis now and then so row copies take the `set` path. */
const shapeArb = fc
  .tuple(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 5 }), fc.integer({ min: 0, max: 70 }), fc.boolean())
  .map(([dims, last, long]) => (long && dims.length > 0 ? [...dims.slice(0, -1), last] : dims))
  .filter((dims) => sizeOf(dims) <= 5000);

const dtypeArb = fc.constantFrom(...DTYPES);

describe('Transpose matches an element-by-element reference', () => {
  it('on random shapes, permutations and dtypes', () => {
    const arb = fc.tuple(shapeArb, dtypeArb).chain(([dims, dtype]) =>
      fc.tuple(fc.constant(dims), fc.constant(dtype), fc.shuffledSubarray([...dims.keys()], { minLength: dims.length })),
    );
    fc.assert(
      fc.property(arb, ([dims, dtype, perm]) => {
        const x = tensorOf(dtype, dims);
        const outDims = perm.map((p) => dims[p]!);
        const expected = reference(x, outDims, (out) => {
          const src = new Array<number>(dims.length);
          perm.forEach((p, i) => (src[p] = out[i]!));
          return src;
        });
        expectSame(runOp(Transpose, nodeOf('Transpose', 13, { perm }), [x]), expected);
      }),
      { numRuns: 400 },
    );
  });

  it('on the attention permutations of BERT-sized heads', () => {
    const arb = fc.tuple(
      fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 64 }),
      fc.constantFrom<number[]>([0, 2, 1, 3], [0, 2, 3, 1], [0, 1, 3, 2], [1, 0, 2, 3]),
      dtypeArb,
    );
    fc.assert(
      fc.property(arb, ([b, s, h, d, perm, dtype]) => {
        const dims = [b, s, h, d];
        const x = tensorOf(dtype, dims);
        const expected = reference(x, perm.map((p) => dims[p]!), (out) => {
          const src = new Array<number>(4);
          perm.forEach((p, i) => (src[p] = out[i]!));
          return src;
        });
        expectSame(runOp(Transpose, nodeOf('Transpose', 13, { perm }), [x]), expected);
      }),
      { numRuns: 100 },
    );
  });

  it('defaults to reversing the axes', () => {
    const x = tensorOf('float32', [2, 3, 4]);
    const expected = reference(x, [4, 3, 2], (out) => [out[2]!, out[1]!, out[0]!]);
    expectSame(runOp(Transpose, nodeOf('Transpose', 13), [x]), expected);
  });
});

/**
 * CPython's slice.indices(), an independent statement of the clamping rules, except where
 * ONNX (and onnxruntime) differ: a start still below 0 after adding the axis size reads from
 * 0 even when stepping backwards.
 */
function sliceRange(start: number, stop: number, step: number, len: number): number[] {
  const clampHigh = (v: number) => (v >= len ? (step < 0 ? len - 1 : len) : v);
  const from = clampHigh(start < 0 ? Math.max(start + len, 0) : start);
  const to = stop < 0 ? (stop + len < 0 ? (step < 0 ? -1 : 0) : stop + len) : clampHigh(stop);
  const out: number[] = [];
  if (step > 0) for (let i = from; i < to; i += step) out.push(i);
  else for (let i = from; i > to; i += step) out.push(i);
  return out;
}

const stepArb = fc.integer({ min: -4, max: 4 }).filter((s) => s !== 0);
const boundArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -9, max: 9 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(9223372036854775807n, -9223372036854775808n) },
);

describe('Slice matches a per-axis index reference', () => {
  it('on random shapes, axes, bounds and steps (opset 13 inputs)', () => {
    const arb = fc
      .tuple(shapeArb.filter((d) => d.length > 0), dtypeArb)
      .chain(([dims, dtype]) =>
        fc.tuple(
          fc.constant(dims),
          fc.constant(dtype),
          fc.shuffledSubarray([...dims.keys()], { minLength: 1 }).chain((axes) =>
            fc.tuple(
              fc.constant(axes),
              fc.array(fc.boolean(), { minLength: axes.length, maxLength: axes.length }),
              fc.array(boundArb, { minLength: axes.length, maxLength: axes.length }),
              fc.array(boundArb, { minLength: axes.length, maxLength: axes.length }),
              fc.array(stepArb, { minLength: axes.length, maxLength: axes.length }),
            ),
          ),
        ),
      );
    fc.assert(
      fc.property(arb, ([dims, dtype, [axes, negative, starts, ends, steps]]) => {
        const x = tensorOf(dtype, dims);
        const picks = dims.map((d) => Array.from({ length: d }, (_, i) => i));
        axes.forEach((a, i) => (picks[a] = sliceRange(Number(starts[i]), Number(ends[i]), steps[i]!, dims[a]!)));
        const expected = reference(x, picks.map((p) => p.length), (out) => out.map((o, a) => picks[a]![o]!));
        const axesInput = int64(axes.map((a, i) => (negative[i] ? a - dims.length : a)));
        const inputs = [x, int64(starts), int64(ends), axesInput, int64(steps)];
        expectSame(runOp(Slice, nodeOf('Slice', 13), inputs), expected);
      }),
      { numRuns: 500 },
    );
  });

  it('reads starts/ends/axes attributes before opset 10', () => {
    const x = tensorOf('int16', [4, 5]);
    const node = nodeOf('Slice', 9, { starts: [1, -3], ends: [1000, -1], axes: [1, 0] });
    const expected = reference(x, [2, 4], (out) => [out[0]! + 1, out[1]! + 1]);
    expectSame(runOp(Slice, node, [x]), expected);
  });
});

describe('Pad matches a per-element reference', () => {
  it('on random shapes, pads (negative ones crop) and modes', () => {
    const arb = fc
      .tuple(
        shapeArb.filter((d) => d.length > 0 && d.every((n) => n > 0)),
        dtypeArb,
        fc.constantFrom('constant', 'edge', 'reflect', 'wrap'),
      )
      .chain(([dims, dtype, mode]) =>
        fc.tuple(
          fc.constant(dims),
          fc.constant(dtype),
          fc.constant(mode),
          fc.array(fc.integer({ min: -2, max: 4 }), { minLength: 2 * dims.length, maxLength: 2 * dims.length }),
        ),
      )
      .filter(([dims, , , pads]) => dims.every((d, i) => d + pads[i]! + pads[i + dims.length]! >= 0));
    fc.assert(
      fc.property(arb, ([dims, dtype, mode, pads]) => {
        const rank = dims.length;
        const x = tensorOf(dtype, dims);
        const begins = pads.slice(0, rank);
        const outDims = dims.map((d, i) => d + begins[i]! + pads[i + rank]!);
        // Crop first, then pad around the kept range [lo, hi) of each axis.
        const lo = begins.map((b) => Math.max(0, -b));
        const hi = dims.map((d, i) => d - Math.max(0, -pads[i + rank]!));
        const empty = lo.some((l, i) => l >= hi[i]!);
        const inputs = [x, int64(pads), dtype === 'int64' ? new Tensor('int64', [5n], []) : new Tensor(dtype, [1], [])];
        const node = nodeOf('Pad', 19, { mode });
        if (mode !== 'constant' && empty && sizeOf(outDims) > 0) {
          expect(() => runOp(Pad, node, inputs)).toThrow(/keeps no elements/);
          return;
        }
        const fill = dtype === 'int64' ? 5n : 1;
        const expected = reference(
          x,
          outDims,
          (out) => {
            const src: number[] = [];
            for (let a = 0; a < rank; a++) {
              const n = hi[a]! - lo[a]!;
              let c = out[a]! - Math.max(0, begins[a]!);
              if (c < 0 || c >= n) {
                if (mode === 'constant') return undefined;
                if (mode === 'edge') c = c < 0 ? 0 : n - 1;
                else if (mode === 'wrap') c = ((c % n) + n) % n;
                else {
                  // numpy's reflect: bounce between the ends until inside.
                  while (c < 0 || c >= n) c = n === 1 ? 0 : c < 0 ? -c : 2 * (n - 1) - c;
                }
              }
              src.push(lo[a]! + c);
            }
            return src;
          },
          fill,
        );
        expectSame(runOp(Pad, node, inputs), expected);
      }),
      { numRuns: 400 },
    );
  });
});
