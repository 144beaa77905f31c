/**
 * Model parity: every fixture model with a `.ref.json` (onnxruntime-node outputs) must match
 * on every output within 1e-4 absolute. Fixtures live in test/fixtures/models; the trained
 * models are read from ../shared when it is there.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/session.js';
import type { Tensor } from '../src/tensor.js';
import { fromRef, mismatch, type RefEntry } from './helpers/compare.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/models/', import.meta.url));
// Graphs saved by onnxruntime after its optimizations (com.microsoft fused ops).
const ORT_OPTIMIZED = fileURLToPath(new URL('./fixtures/ortopt/', import.meta.url));
const SHARED_TRAINED = fileURLToPath(new URL('../../shared/models/trained/', import.meta.url));

interface Ref {
  inputs: Record<string, RefEntry>;
  expected: Record<string, RefEntry>;
}

async function checkParity(modelPath: string, refPath: string) {
  const ref = JSON.parse(readFileSync(refPath, 'utf8')) as Ref;
  const session = await InferenceSession.create(modelPath);
  const feeds: Record<string, Tensor> = {};
  for (const meta of session.inputMetadata) {
    const entry = ref.inputs[meta.name];
    expect(entry, `ref has input ${meta.name}`).toBeDefined();
    feeds[meta.name] = fromRef(entry!, meta.type);
  }
  const outputs = await session.run(feeds);
  expect(Object.keys(ref.expected).length).toBeGreaterThan(0);
  for (const [name, entry] of Object.entries(ref.expected)) {
    const actual = outputs[name];
    expect(actual, `output ${name}`).toBeDefined();
    expect(mismatch(actual!, fromRef(entry), { atol: 1e-4, rtol: 0 }), `output ${name}`).toBeUndefined();
  }
}

function modelsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ref.json'))
    .map((f) => f.replace(/\.ref\.json$/, ''))
    .filter((base) => existsSync(join(dir, `${base}.onnx`)))
    .sort();
}
const fixtureModels = modelsIn(FIXTURES);

describe('fixture models match onnxruntime', () => {
  it('has the fp32 fixtures: BERT, Sentence-BERT and MobileBERT at opsets 11, 14, 17', () => {
    for (const family of ['tiny-bert-cls', 'tiny-sbert', 'tiny-mobilebert-cls']) {
      for (const opset of [11, 14, 17]) expect(fixtureModels).toContain(`${family}.opset${opset}`);
    }
  });
  for (const base of fixtureModels) {
    it(base, () => checkParity(join(FIXTURES, `${base}.onnx`), join(FIXTURES, `${base}.ref.json`)));
  }
});

describe('onnxruntime-optimized graphs match onnxruntime', () => {
  for (const base of modelsIn(ORT_OPTIMIZED)) {
    it(base, () => checkParity(join(ORT_OPTIMIZED, `${base}.onnx`), join(ORT_OPTIMIZED, `${base}.ref.json`)));
  }
});

describe.skipIf(!existsSync(SHARED_TRAINED))('trained models (../shared) match onnxruntime', () => {
  for (const name of ['sst2-tiny', 'sts-tiny']) {
    it(name, () => checkParity(join(SHARED_TRAINED, name, 'model.onnx'), join(SHARED_TRAINED, name, 'model.ref.json')));
  }
});
