/**
 * The official ONNX operator tests (Debian's libonnx-testdata): every test whose graph touches
 * an operator lambert registers or the loader folds (Constant, Identity, Dropout) runs here,
 * so each op we implement meets every official test for it. The only exceptions are listed in
 * EXCLUDED with their reason, and a test fails when one is neither run nor listed.
 * ONNX_TEST_FILTER=regex narrows the run.
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

const NEEDS_NLL = 'needs NegativeLogLikelihoodLoss (a training loss, not implemented)';
const NEEDS_SEQUENCE_LOOP = 'needs Loop and sequence ops (control flow and sequence types are not supported)';

/** Official tests touching our ops that lambert deliberately does not run, and why. */
const EXCLUDED: Record<string, string> = {
  test_bernoulli_double_expanded: 'needs RandomUniformLike (random, not implemented)',
  test_bernoulli_expanded: 'needs RandomUniformLike (random, not implemented)',
  test_bernoulli_seed_expanded: 'needs RandomUniformLike (random, not implemented)',
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
  test_max_float16: 'lambert has no float16 type',
  test_min_float16: 'lambert has no float16 type',
  test_range_float_type_positive_delta_expanded: 'needs Loop (control flow is not supported)',
  test_range_int32_type_negative_delta_expanded: 'needs Loop (control flow is not supported)',
  test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn: 'needs Resize (not implemented)',
  test_sce_NCd1_mean_weight_negative_ii_expanded: NEEDS_NLL,
  test_sce_NCd1_mean_weight_negative_ii_log_prob_expanded: NEEDS_NLL,
  test_sce_NCd1d2d3_none_no_weight_negative_ii_expanded: NEEDS_NLL,
  test_sce_NCd1d2d3_none_no_weight_negative_ii_log_prob_expanded: NEEDS_NLL,
  test_sce_NCd1d2d3_sum_weight_high_ii_expanded: NEEDS_NLL,
  test_sce_NCd1d2d3_sum_weight_high_ii_log_prob_expanded: NEEDS_NLL,
  test_sce_NCd1d2d3d4d5_mean_weight_expanded: NEEDS_NLL,
  test_sce_NCd1d2d3d4d5_mean_weight_log_prob_expanded: NEEDS_NLL,
  test_sce_NCd1d2d3d4d5_none_no_weight_expanded: NEEDS_NLL,
  test_sce_NCd1d2d3d4d5_none_no_weight_log_prob_expanded: NEEDS_NLL,
  test_sce_mean_3d_expanded: NEEDS_NLL,
  test_sce_mean_3d_log_prob_expanded: NEEDS_NLL,
  test_sce_mean_expanded: NEEDS_NLL,
  test_sce_mean_log_prob_expanded: NEEDS_NLL,
  test_sce_mean_no_weight_ii_3d_expanded: NEEDS_NLL,
  test_sce_mean_no_weight_ii_3d_log_prob_expanded: NEEDS_NLL,
  test_sce_mean_no_weight_ii_4d_expanded: NEEDS_NLL,
  test_sce_mean_no_weight_ii_4d_log_prob_expanded: NEEDS_NLL,
  test_sce_mean_no_weight_ii_expanded: NEEDS_NLL,
  test_sce_mean_no_weight_ii_log_prob_expanded: NEEDS_NLL,
  test_sce_mean_weight_expanded: NEEDS_NLL,
  test_sce_mean_weight_ii_3d_expanded: NEEDS_NLL,
  test_sce_mean_weight_ii_3d_log_prob_expanded: NEEDS_NLL,
  test_sce_mean_weight_ii_4d_expanded: NEEDS_NLL,
  test_sce_mean_weight_ii_4d_log_prob_expanded: NEEDS_NLL,
  test_sce_mean_weight_ii_expanded: NEEDS_NLL,
  test_sce_mean_weight_ii_log_prob_expanded: NEEDS_NLL,
  test_sce_mean_weight_log_prob_expanded: NEEDS_NLL,
  test_sce_none_expanded: NEEDS_NLL,
  test_sce_none_log_prob_expanded: NEEDS_NLL,
  test_sce_none_weights_expanded: NEEDS_NLL,
  test_sce_none_weights_log_prob_expanded: NEEDS_NLL,
  test_sce_sum_expanded: NEEDS_NLL,
  test_sce_sum_log_prob_expanded: NEEDS_NLL,
  test_sequence_map_add_1_sequence_1_tensor_expanded: NEEDS_SEQUENCE_LOOP,
  test_sequence_map_add_2_sequences_expanded: NEEDS_SEQUENCE_LOOP,
  test_sequence_map_extract_shapes_expanded: NEEDS_SEQUENCE_LOOP,
  test_sequence_map_identity_1_sequence_1_tensor_expanded: NEEDS_SEQUENCE_LOOP,
  test_sequence_map_identity_1_sequence_expanded: NEEDS_SEQUENCE_LOOP,
  test_sequence_map_identity_2_sequences_expanded: NEEDS_SEQUENCE_LOOP,
  test_training_dropout: 'training-mode Dropout with ratio > 0 drops at random',
  test_training_dropout_default: 'training-mode Dropout with ratio > 0 drops at random',
  test_training_dropout_default_mask: 'training-mode Dropout with ratio > 0 drops at random',
  test_training_dropout_mask: 'training-mode Dropout with ratio > 0 drops at random',
};

// The loader folds these away: a graph using them is ours even when it uses nothing else.
const LOADER_OPS = new Set(['Constant', 'Identity', 'Dropout']);

interface OfficialTest {
  name: string;
  dir: string;
  /** The graph's ops lambert does not run (control flow among them); empty when it can run. */
  missing: string[];
}

function opTypesOf(model: onnx.ModelProto): string[] {
  return (model.graph?.node ?? []).map((n) => `${normalizeDomain(n.domain)}::${n.opType}`);
}

/**
 * Every official test whose graph touches an op of ours (registered or loader-folded), whether
 * or not lambert can run all of its graph. Control-flow ops carry their bodies as subgraphs;
 * they are never registered, so such a test lists its Loop / If / Scan as missing.
 */
function officialTests(): OfficialTest[] {
  if (!existsSync(ROOT)) return [];
  const known = new Set(registeredOps().map((d) => `${d.domain}::${d.opType}`));
  const ours = (op: string) => known.has(op) || LOADER_OPS.has(op.slice(2));
  const filter = process.env.ONNX_TEST_FILTER ? new RegExp(process.env.ONNX_TEST_FILTER) : undefined;
  const tests: OfficialTest[] = [];
  for (const name of readdirSync(ROOT).sort()) {
    if (filter && !filter.test(name)) continue;
    const dir = join(ROOT, name);
    if (!existsSync(join(dir, 'model.onnx'))) continue;
    const ops = opTypesOf(decodeModel(readFileSync(join(dir, 'model.onnx'))));
    if (!ops.some(ours)) continue;
    const missing = [...new Set(ops.filter((op) => !ours(op)).map((op) => (op.startsWith('::') ? op.slice(2) : op)))];
    tests.push({ name, dir, missing });
  }
  return tests;
}

function readTensor(path: string) {
  return tensorFromProto(onnx.TensorProto.decode(readFileSync(path)), path);
}

const tests = officialTests();

describe.skipIf(!existsSync(ROOT))('ONNX node tests (libonnx-testdata)', () => {
  it('finds the official tests for the registered ops', () => {
    expect(tests.length).toBeGreaterThan(0);
  });

  it('runs every official test of our ops or lists it in EXCLUDED', () => {
    const unlisted = tests
      .filter((t) => t.missing.length > 0 && !(t.name in EXCLUDED))
      .map((t) => `${t.name} (needs ${t.missing.join(', ')})`);
    expect(unlisted, 'official tests of our ops that neither run nor are in EXCLUDED').toEqual([]);
    // Stale entries: a name that is no longer an official test of ours (under ONNX_TEST_FILTER,
    // only the names it selects are checked).
    const filter = process.env.ONNX_TEST_FILTER ? new RegExp(process.env.ONNX_TEST_FILTER) : undefined;
    const found = new Set(tests.map((t) => t.name));
    const stale = Object.keys(EXCLUDED).filter((name) => (!filter || filter.test(name)) && !found.has(name));
    expect(stale, 'EXCLUDED entries that are not official tests of our ops').toEqual([]);
    // An entry excluded for a missing op must go once that op is registered.
    const runnable = tests.filter((t) => t.missing.length === 0 && EXCLUDED[t.name]?.startsWith('needs ')).map((t) => t.name);
    expect(runnable, 'EXCLUDED for a missing op, but every op of theirs is registered now').toEqual([]);
  });

  for (const { name, dir, missing } of tests) {
    const excluded = EXCLUDED[name];
    if (excluded) {
      it.skip(`${name} — excluded: ${excluded}`, () => {});
      continue;
    }
    if (missing.length > 0) continue; // reported by the EXCLUDED check above
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
