/**
 * Parity of the dynamically quantized fixtures (DynamicQuantizeLinear → MatMulInteger chains,
 * per-tensor `int8` and per-channel `int8pc` weights) with onnxruntime: every output within
 * 1e-4 absolute of the `.ref.json` onnxruntime-node wrote.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/session.js';
import type { Tensor } from '../src/tensor.js';
import { fromRef, mismatch, type RefEntry } from './helpers/compare.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/models/', import.meta.url));

const MODELS = ['tiny-bert-cls', 'tiny-sbert', 'tiny-mobilebert-cls'].flatMap((family) =>
  ['int8', 'int8pc'].map((variant) => `${family}.opset14.${variant}`),
);

interface Ref {
  inputs: Record<string, RefEntry>;
  expected: Record<string, RefEntry>;
}

describe('int8 fixture models match onnxruntime', () => {
  it('has all six quantized fixtures', () => {
    for (const base of MODELS) {
      expect(existsSync(join(FIXTURES, `${base}.onnx`)), `${base}.onnx`).toBe(true);
      expect(existsSync(join(FIXTURES, `${base}.ref.json`)), `${base}.ref.json`).toBe(true);
    }
  });

  for (const base of MODELS) {
    it(base, async () => {
      const ref = JSON.parse(readFileSync(join(FIXTURES, `${base}.ref.json`), 'utf8')) as Ref;
      const session = await InferenceSession.create(join(FIXTURES, `${base}.onnx`));
      const feeds: Record<string, Tensor> = {};
      for (const input of session.inputMetadata) {
        const entry = ref.inputs[input.name];
        expect(entry, `ref has input ${input.name}`).toBeDefined();
        feeds[input.name] = fromRef(entry!, input.type);
      }
      const outputs = await session.run(feeds);
      expect(Object.keys(ref.expected)).not.toHaveLength(0);
      for (const [name, entry] of Object.entries(ref.expected)) {
        expect(outputs[name], `output ${name}`).toBeDefined();
        expect(mismatch(outputs[name]!, fromRef(entry), { atol: 1e-4, rtol: 0 }), `output ${name}`).toBeUndefined();
      }
    });
  }
});
