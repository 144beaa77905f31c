/**
 * onnxruntime's com.microsoft contrib ops against onnxruntime itself: small graphs built by
 * test/fixtures/contrib/generate.py (one or two contrib nodes each, BERT-like shapes with padded
 * rows) and the outputs onnxruntime-node gave for them (reference.mjs). float32 outputs match
 * within 1e-4 absolute, integer outputs exactly, and the int8 matmuls bit for bit (their float
 * math is a fixed sequence of float32 roundings). The `unsupported.*` graphs use inputs lambert
 * rejects by design, with an UNSUPPORTED_OP error naming what is missing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LambertError } from '../src/errors.js';
import { InferenceSession } from '../src/session.js';
import { Tensor, allocate, isDType, sizeOf } from '../src/tensor.js';
import { fromRef, mismatch, type RefEntry } from './helpers/compare.js';

const DIR = fileURLToPath(new URL('./fixtures/contrib/', import.meta.url));

interface Ref {
  inputs: Record<string, RefEntry>;
  expected: Record<string, RefEntry>;
}

// Integer GEMM, then float32 scale and bias: nothing left to round differently.
const BIT_EXACT = /^(dynamic_quantize_matmul|matmul_integer_to_float)\./;

const files = readdirSync(DIR);
const cases = files.filter((f) => f.endsWith('.ref.json')).map((f) => f.slice(0, -'.ref.json'.length)).sort();
const unsupported = files.filter((f) => f.startsWith('unsupported.') && f.endsWith('.onnx')).map((f) => f.slice(0, -'.onnx'.length)).sort();

describe('com.microsoft contrib ops match onnxruntime', () => {
  it('has fixtures for every contrib op', () => {
    const ops = new Set(cases.map((c) => c.split('.')[0]));
    for (const op of [
      'attention',
      'bias_gelu',
      'dynamic_quantize_matmul',
      'embed_layer_norm',
      'fast_gelu',
      'fused_gemm',
      'fused_matmul',
      'gelu',
      'matmul_integer_to_float',
      'skip_layer_norm',
    ]) {
      expect(ops).toContain(op);
    }
  });

  for (const name of cases) {
    it(name, async () => {
      const ref = JSON.parse(readFileSync(join(DIR, `${name}.ref.json`), 'utf8')) as Ref;
      expect(Object.keys(ref.expected ?? {}).length, 'reference outputs (run reference.mjs)').toBeGreaterThan(0);
      const session = await InferenceSession.create(join(DIR, `${name}.onnx`));
      const feeds: Record<string, Tensor> = {};
      for (const input of session.inputNames) feeds[input] = fromRef(ref.inputs[input]!);
      const outputs = await session.run(feeds);
      for (const [output, entry] of Object.entries(ref.expected)) {
        const expected = fromRef(entry);
        const atol = expected.type === 'float32' && !BIT_EXACT.test(name) ? 1e-4 : 0;
        expect(mismatch(outputs[output]!, expected, { atol, rtol: 0 }), `output ${output}`).toBeUndefined();
      }
      // A second run reuses the plan and its arena: results must not depend on leftovers.
      const again = await session.run(feeds);
      for (const output of Object.keys(ref.expected)) {
        expect(Array.from(again[output]!.data as ArrayLike<number>)).toEqual(Array.from(outputs[output]!.data as ArrayLike<number>));
      }
    });
  }
});

describe('com.microsoft contrib ops reject bad data', () => {
  it('EmbedLayerNormalization names an out-of-range input id', async () => {
    const ref = JSON.parse(readFileSync(join(DIR, 'embed_layer_norm.bert.ref.json'), 'utf8')) as Ref;
    const session = await InferenceSession.create(join(DIR, 'embed_layer_norm.bert.onnx'));
    const feeds: Record<string, Tensor> = {};
    for (const input of session.inputNames) feeds[input] = fromRef(ref.inputs[input]!);
    (feeds.input_ids!.data as Int32Array)[3] = 1000;
    const error = await session.run(feeds).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(LambertError);
    expect((error as LambertError).code).toBe('INVALID_INPUT');
    expect((error as LambertError).message).toMatch(/EmbedLayerNormalization node ".*": input_id 1000 at position 3 is out of range/);
  });
});

describe('com.microsoft contrib ops reject what they do not support', () => {
  for (const name of unsupported) {
    it(name, async () => {
      const session = await InferenceSession.create(join(DIR, `${name}.onnx`));
      const feeds: Record<string, Tensor> = {};
      for (const input of session.inputMetadata) {
        const dims = input.dims!.map((d) => d as number);
        if (!isDType(input.type)) throw new Error(`unexpected input type ${input.type}`);
        feeds[input.name] = new Tensor(input.type, allocate(input.type, sizeOf(dims)), dims);
      }
      const error = await session.run(feeds).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(LambertError);
      expect((error as LambertError).code).toBe('UNSUPPORTED_OP');
      // The message names the node and what it uses that lambert lacks.
      expect((error as LambertError).message).toMatch(/node ".*": .*not supported/);
    });
  }
});
