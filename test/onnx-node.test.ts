/**
 * The official ONNX operator tests (Debian's libonnx-testdata): every test whose graph uses
 * only operators lambert registers runs here, so each op we implement meets every official
 * test for it. Exclusions are listed with their reason. ONNX_TEST_FILTER=regex narrows the run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, normalizeDomain } from '../src/load.js';
import { onnx } from '../src/proto.js';
import { registeredOps } from '../src/ops/registry.js';
import { InferenceSession } from '../src/session.js';
import { tensorFromProto } from '../src/tensorProto.js';
import { mismatch } from './helpers/compare.js';

const ROOT = '/usr/share/libonnx-testdata/data/node';

/** Tests of implemented ops that lambert deliberately does not run, and why. */
const EXCLUDED: Record<string, string> = {
  test_cast_BFLOAT16_to_FLOAT: 'lambert has no bfloat16 type',
  test_cast_DOUBLE_to_FLOAT16: 'lambert has no float16 type',
  test_cast_FLOAT16_to_DOUBLE: 'lambert has no float16 type',
  test_cast_FLOAT16_to_FLOAT: 'lambert has no float16 type',
  test_cast_FLOAT_to_BFLOAT16: 'lambert has no bfloat16 type',
  test_cast_FLOAT_to_FLOAT16: 'lambert has no float16 type',
  test_cast_FLOAT_to_STRING: 'lambert has no string type',
  test_cast_STRING_to_FLOAT: 'lambert has no string type',
  test_castlike_BFLOAT16_to_FLOAT_expanded: 'lambert has no bfloat16 type',
  test_castlike_DOUBLE_to_FLOAT16_expanded: 'lambert has no float16 type',
  test_castlike_FLOAT16_to_DOUBLE_expanded: 'lambert has no float16 type',
  test_castlike_FLOAT16_to_FLOAT_expanded: 'lambert has no float16 type',
  test_castlike_FLOAT_to_BFLOAT16_expanded: 'lambert has no bfloat16 type',
  test_castlike_FLOAT_to_FLOAT16_expanded: 'lambert has no float16 type',
  test_castlike_FLOAT_to_STRING_expanded: 'lambert has no string type',
  test_castlike_STRING_to_FLOAT_expanded: 'lambert has no string type',
  test_identity_opt: 'lambert has no optional type',
  test_identity_sequence: 'lambert has no sequence type',
  test_training_dropout: 'training-mode Dropout with ratio > 0 drops at random',
  test_training_dropout_default: 'training-mode Dropout with ratio > 0 drops at random',
  test_training_dropout_default_mask: 'training-mode Dropout with ratio > 0 drops at random',
  test_training_dropout_mask: 'training-mode Dropout with ratio > 0 drops at random',
};

// The loader folds these away, so graphs made of them alone still count as ours.
const LOADER_OPS = new Set(['Constant', 'Identity', 'Dropout']);

function opTypesOf(model: onnx.ModelProto): string[] {
  return (model.graph?.node ?? []).map((n) => `${normalizeDomain(n.domain)}::${n.opType}`);
}

function ourTests(): { name: string; dir: string }[] {
  if (!existsSync(ROOT)) return [];
  const known = new Set(registeredOps().map((d) => `${d.domain}::${d.opType}`));
  const filter = process.env.ONNX_TEST_FILTER ? new RegExp(process.env.ONNX_TEST_FILTER) : undefined;
  const tests: { name: string; dir: string }[] = [];
  for (const name of readdirSync(ROOT).sort()) {
    if (filter && !filter.test(name)) continue;
    const dir = join(ROOT, name);
    if (!existsSync(join(dir, 'model.onnx'))) continue;
    const ops = opTypesOf(decodeModel(readFileSync(join(dir, 'model.onnx'))));
    const ours = ops.every((op) => known.has(op) || LOADER_OPS.has(op.slice(2)));
    const touchesOurs = ops.some((op) => known.has(op));
    if (ours && touchesOurs) tests.push({ name, dir });
  }
  return tests;
}

function readTensor(path: string) {
  return tensorFromProto(onnx.TensorProto.decode(readFileSync(path)), path);
}

const tests = ourTests();

describe.skipIf(!existsSync(ROOT))('ONNX node tests (libonnx-testdata)', () => {
  it('finds the official tests for the registered ops', () => {
    expect(tests.length).toBeGreaterThan(0);
  });

  for (const { name, dir } of tests) {
    const excluded = EXCLUDED[name];
    if (excluded) {
      it.skip(`${name} — excluded: ${excluded}`, () => {});
      continue;
    }
    it(name, async () => {
      const session = await InferenceSession.create(readFileSync(join(dir, 'model.onnx')));
      const sets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort();
      expect(sets.length).toBeGreaterThan(0);
      for (const set of sets) {
        const setDir = join(dir, set);
        const files = readdirSync(setDir);
        const count = (prefix: string) => files.filter((f) => f.startsWith(prefix) && f.endsWith('.pb')).length;
        const feeds: Record<string, ReturnType<typeof readTensor>> = {};
        for (let i = 0; i < count('input_'); i++) feeds[session.inputNames[i]!] = readTensor(join(setDir, `input_${i}.pb`));
        const outputs = await session.run(feeds);
        for (let i = 0; i < count('output_'); i++) {
          const expected = readTensor(join(setDir, `output_${i}.pb`));
          const outName = session.outputNames[i]!;
          const problem = mismatch(outputs[outName]!, expected, { atol: 1e-7, rtol: 1e-3 });
          expect(problem, `${set} output "${outName}"`).toBeUndefined();
        }
      }
    });
  }
});
