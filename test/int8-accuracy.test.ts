/**
 * int8 quality on real trained models: `lambert quantize` output keeps SST-2 dev accuracy within
 * one point of fp32 and STS-B test Spearman within 0.01, measured from raw text.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spearman } from '../src/metrics.js';
import { TextPipeline } from '../src/pipeline/index.js';
import { loadTokenizer } from '../src/pipeline/folder.js';
import { InferenceSession } from '../src/session.js';
import { quantizeModel } from '../weights/quantize.js';

const SHARED = fileURLToPath(new URL('../../shared/', import.meta.url));

async function pipelines(folder: string): Promise<[TextPipeline, TextPipeline, number]> {
  const fp32Bytes = readFileSync(join(folder, 'model.onnx'));
  const { bytes: int8Bytes } = quantizeModel(fp32Bytes, { perChannel: false });
  const config = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'));
  const tokenizer = loadTokenizer(folder);
  const make = async (bytes: Uint8Array) => new TextPipeline(await InferenceSession.create(bytes), tokenizer, config, { maxLength: 64 });
  return [await make(fp32Bytes), await make(int8Bytes), fp32Bytes.length / int8Bytes.length];
}

describe.skipIf(!existsSync(SHARED))('int8 models made by lambert keep their quality', () => {
  it('sst2-tiny: ≥ 3.5× smaller, SST-2 dev accuracy within 1 point of fp32', async () => {
    const [fp32, int8, ratio] = await pipelines(join(SHARED, 'models/trained/sst2-tiny'));
    expect(ratio).toBeGreaterThanOrEqual(3.5);
    const rows = readFileSync(join(SHARED, 'data/sst2/dev.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    const accuracy = async (p: TextPipeline) => {
      const results = await p.classify(rows.map((r) => r[0]!));
      return results.filter((r, i) => (r.label === 'positive' ? '1' : '0') === rows[i]![1]!.trim()).length / rows.length;
    };
    const [a32, a8] = [await accuracy(fp32), await accuracy(int8)];
    expect(a32).toBeGreaterThan(0.75);
    expect(Math.abs(a32 - a8)).toBeLessThanOrEqual(0.01);
  });

  it('sts-tiny: STS-B test Spearman within 0.01 of fp32', async () => {
    const [fp32, int8] = await pipelines(join(SHARED, 'models/trained/sts-tiny'));
    const rows = readFileSync(join(SHARED, 'data/stsbenchmark/sts-test.csv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    const pairs = rows.map((r) => [r[5]!, r[6]!] as [string, string]);
    const gold = rows.map((r) => Number(r[4]));
    const [s32, s8] = [spearman(await fp32.similarity(pairs), gold), spearman(await int8.similarity(pairs), gold)];
    expect(s32).toBeGreaterThan(0.5);
    expect(Math.abs(s32 - s8)).toBeLessThanOrEqual(0.01);
  });
});
