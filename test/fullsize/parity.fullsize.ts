/**
 * Full-size parity (not in CI; `npm run check:fullsize`): TinyBERT 4L-312 and MiniLM-L6-H384
 * at batch 1 × seq 128 and batch 8 × seq 64, lambert against onnxruntime-node within 1e-4.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fullSizeModel, type FullSizeModel } from '../../bench/models.js';
import { InferenceSession } from '../../src/session.js';
import { Tensor } from '../../src/tensor.js';
import { mismatch } from '../helpers/compare.js';

function tokenFeeds(names: readonly string[], batch: number, seq: number) {
  let state = 12345;
  const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const n = batch * seq;
  // Row b keeps seq - 5b real tokens, so padding and masking are exercised.
  const real = (b: number) => Math.max(2, seq - 5 * b);
  const ids = BigInt64Array.from({ length: n }, (_, i) => {
    const [b, t] = [Math.floor(i / seq), i % seq];
    if (t >= real(b)) return 0n;
    return BigInt(t === 0 ? 101 : t === real(b) - 1 ? 102 : 1000 + Math.floor(rand() * 29000));
  });
  const mask = BigInt64Array.from({ length: n }, (_, i) => (i % seq < real(Math.floor(i / seq)) ? 1n : 0n));
  const types = BigInt64Array.from({ length: n }, (_, i) => (i % seq >= seq / 2 && mask[i] === 1n ? 1n : 0n));
  return Object.fromEntries(
    names.map((name) => [name, name.includes('mask') ? mask : name.includes('type') ? types : ids]),
  );
}

const cases: [FullSizeModel, number, number][] = [
  ['tinybert-cls', 1, 128],
  ['tinybert-cls', 8, 64],
  ['minilm-sbert', 1, 128],
  ['minilm-sbert', 8, 64],
];

describe('full-size models match onnxruntime-node', () => {
  for (const [name, batch, seq] of cases) {
    it(`${name} batch ${batch} × seq ${seq}`, async () => {
      const path = fullSizeModel(name);
      const bytes = readFileSync(path);
      const reference = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
      const session = await InferenceSession.create(bytes);
      const data = tokenFeeds(session.inputNames, batch, seq);
      const ortFeeds = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, new ort.Tensor('int64', v, [batch, seq])]));
      const ourFeeds = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, new Tensor('int64', v, [batch, seq])]));
      const expected = await reference.run(ortFeeds);
      const actual = await session.run(ourFeeds);
      for (const [output, value] of Object.entries(expected)) {
        const want = new Tensor('float32', value.data as Float32Array, value.dims);
        expect(mismatch(actual[output]!, want, { atol: 1e-4, rtol: 0 }), output).toBeUndefined();
      }
    });
  }
});
