/**
 * Fusions must not change results: the fused int8 linear layers give bit-identical outputs to
 * the op-by-op graph onnxruntime's quantizer wrote.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InferenceSession } from '../src/session.js';
import { fromRef, type RefEntry } from './helpers/compare.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/models/', import.meta.url));
const int8Models = readdirSync(FIXTURES).filter((f) => /\.int8\w*\.onnx$/.test(f));

describe('int8 linear-layer fusion', () => {
  it('covers the int8 fixtures', () => expect(int8Models.length).toBeGreaterThanOrEqual(6));

  for (const file of int8Models) {
    it(`${file}: every MatMulInteger chain fuses, outputs bit-identical`, async () => {
      const bytes = readFileSync(FIXTURES + file);
      const ref = JSON.parse(readFileSync(FIXTURES + file.replace(/\.onnx$/, '.ref.json'), 'utf8')) as { inputs: Record<string, RefEntry> };
      const plain = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
      const fused = await InferenceSession.create(bytes);
      const matmuls = plain.graph.nodes.filter((n) => n.opType === 'MatMulInteger').length;
      expect(matmuls).toBeGreaterThan(0);
      expect(fused.graph.nodes.filter((n) => n.opType === 'MatMulInteger')).toHaveLength(0);
      expect(fused.graph.nodes.filter((n) => n.opType === 'MatMulIntegerToFloat')).toHaveLength(matmuls);
      expect(fused.graph.nodes.length).toBeLessThan(plain.graph.nodes.length);

      const feeds = Object.fromEntries(plain.inputMetadata.map((m) => [m.name, fromRef(ref.inputs[m.name]!, m.type)]));
      const a = await plain.run(feeds);
      const b = await fused.run(feeds);
      for (const name of plain.outputNames) {
        expect(Array.from(b[name]!.data as Float32Array)).toEqual(Array.from(a[name]!.data as Float32Array));
      }
    });
  }
});
