/**
 * TextPipeline over model folders: which outputs each task accepts, option checks, empty
 * inputs, deadlines, and sentence-transformers pooling declared by modules.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { TextPipeline } from '../src/pipeline/index.js';
import { onnx } from '../src/proto.js';
import { InferenceSession } from '../src/session.js';
import { Tensor } from '../src/tensor.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
// The fixtures' vocabulary has 1000 ids: the first 1000 lines of BERT's.
const VOCAB = `${readFileSync(join(FIXTURES, 'vocab/bert-base-uncased-vocab.txt'), 'utf8').split('\n').slice(0, 1000).join('\n')}\n`;
const TEXTS = ['the movie was great', 'a', '', 'it was not good at all , and long'];

let root = '';

function folder(name: string, model: Uint8Array, files: Record<string, unknown> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), model);
  writeFileSync(join(dir, 'vocab.txt'), VOCAB);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), JSON.stringify(content));
  }
  return dir;
}

/** The Sentence-BERT fixture without its sentence_embedding output: hidden states only. */
function hiddenStatesOnly(): Uint8Array {
  const model = onnx.ModelProto.decode(readFileSync(join(FIXTURES, 'models/tiny-sbert.opset14.onnx')));
  const graph = model.graph as { output: { name?: string | null }[] };
  graph.output = graph.output.filter((o) => o.name === 'last_hidden_state');
  return onnx.ModelProto.encode(model).finish();
}

/** sentence-transformers' Pooling, written out plainly: one mode over one row's hidden states. */
function expectedPool(hidden: Float32Array, seq: number, width: number, mask: number[], mode: string): number[] {
  const rows = Array.from({ length: seq }, (_, t) => Array.from(hidden.subarray(t * width, (t + 1) * width)));
  const kept = rows.filter((_, t) => mask[t] === 1);
  if (mode === 'cls') return rows[0]!;
  if (mode === 'max') return Array.from({ length: width }, (_, k) => Math.max(...kept.map((r) => r[k]!)));
  const sums = Array.from({ length: width }, (_, k) => kept.reduce((s, r) => s + r[k]!, 0));
  const divisor = mode === 'mean' ? kept.length : Math.sqrt(kept.length);
  return sums.map((s) => s / divisor);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lambert-pipeline-'));
});

describe('TextPipeline', () => {
  it('refuses to classify with an encoder, and to embed with a classifier', async () => {
    const encoder = await TextPipeline.fromFolder(folder('sbert', readFileSync(join(FIXTURES, 'models/tiny-sbert.opset14.onnx'))));
    await expect(encoder.classify(TEXTS)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/cannot classify/) });
    const classifier = await TextPipeline.fromFolder(folder('cls', readFileSync(join(FIXTURES, 'models/tiny-bert-cls.opset14.onnx'))));
    await expect(classifier.embed(TEXTS)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/cannot embed/) });
    expect((await classifier.classify(TEXTS)).map((c) => Object.keys(c.scores).length)).toEqual([3, 3, 3, 3]);
  });

  it('warms up by running the model on throwaway texts, for encoders and classifiers alike, without changing later results', async () => {
    for (const [name, file] of [['warm-sbert', 'tiny-sbert'], ['warm-cls', 'tiny-bert-cls']] as const) {
      const cold = await TextPipeline.fromFolder(folder(`${name}-cold`, readFileSync(join(FIXTURES, `models/${file}.opset14.onnx`))));
      const warm = await TextPipeline.fromFolder(folder(name, readFileSync(join(FIXTURES, `models/${file}.opset14.onnx`))));
      const runs = vi.spyOn(warm.session, 'run');
      await warm.warmUp(3);
      expect(runs).toHaveBeenCalledTimes(3);
      // The first and third runs share the longer text; the second is shorter.
      const lengths = runs.mock.calls.map(([feeds]) => (feeds as Record<string, Tensor>).input_ids!.dims[1]);
      expect(lengths[0]).toBeGreaterThan(lengths[1]!);
      expect(lengths[2]).toBe(lengths[0]);
      const run = (p: TextPipeline) => (file === 'tiny-sbert' ? p.embed(TEXTS) : p.classify(TEXTS));
      expect(await run(warm)).toEqual(await run(cold));
    }
  });

  it('answers an empty list with an empty list', async () => {
    const encoder = await TextPipeline.fromFolder(folder('sbert-empty', readFileSync(join(FIXTURES, 'models/tiny-sbert.opset14.onnx'))));
    expect(await encoder.embed([])).toEqual([]);
    expect(await encoder.similarity([])).toEqual([]);
  });

  it('rejects batch sizes and lengths that are not positive integers', async () => {
    const dir = folder('opts', readFileSync(join(FIXTURES, 'models/tiny-bert-cls.opset14.onnx')));
    for (const bad of [Number.NaN, 0, -3, 2.5]) {
      await expect(TextPipeline.fromFolder(dir, { maxBatchSize: bad })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(TextPipeline.fromFolder(dir, { maxLength: bad })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('stops with TIMEOUT when the deadline has passed, and runs every batch when it is far', async () => {
    const pipeline = await TextPipeline.fromFolder(folder('deadline', readFileSync(join(FIXTURES, 'models/tiny-bert-cls.opset14.onnx'))), {
      maxBatchSize: 1,
    });
    await expect(pipeline.classify(TEXTS, { deadline: Date.now() - 1 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(await pipeline.classify(TEXTS, { deadline: Date.now() + 600_000 })).toHaveLength(TEXTS.length);
  });

  describe('pooling declared by a sentence-transformers folder', () => {
    const model = hiddenStatesOnly();
    const cases: [string, boolean, Record<string, boolean>, string[]][] = [
      ['mean', true, { pooling_mode_mean_tokens: true }, ['mean']],
      ['cls', false, { pooling_mode_cls_token: true }, ['cls']],
      ['max', false, { pooling_mode_max_tokens: true }, ['max']],
      ['mean_sqrt_len', false, { pooling_mode_mean_sqrt_len_tokens: true }, ['mean_sqrt_len']],
      ['cls+mean', true, { pooling_mode_cls_token: true, pooling_mode_mean_tokens: true }, ['cls', 'mean']],
    ];
    for (const [name, normalize, poolingConfig, modes] of cases) {
      it(`${name}${normalize ? ', normalised' : ''}`, async () => {
        const modules = [
          { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
          { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
          ...(normalize ? [{ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' }] : []),
        ];
        const dir = folder(`st-${name}`, model, { 'modules.json': modules, '1_Pooling/config.json': { word_embedding_dimension: 64, ...poolingConfig } });
        const pipeline = await TextPipeline.fromFolder(dir);
        const vectors = await pipeline.embed(TEXTS);

        const session = await InferenceSession.create(join(dir, 'model.onnx'));
        const encoded = pipeline.tokenizer.encodeBatch(TEXTS, { maxLength: pipeline.maxLength });
        const [rows, seq] = [TEXTS.length, encoded.inputIds[0]!.length];
        const feed = (m: number[][]) => new Tensor('int64', BigInt64Array.from(m.flat(), (v) => BigInt(v)), [rows, seq]);
        const { last_hidden_state: hidden } = await session.run({
          input_ids: feed(encoded.inputIds),
          attention_mask: feed(encoded.attentionMask),
          token_type_ids: feed(encoded.tokenTypeIds),
        });
        const width = hidden!.dims[2]!;
        vectors.forEach((v, r) => {
          const rowHidden = (hidden!.data as Float32Array).subarray(r * seq * width, (r + 1) * seq * width);
          let expected = modes.flatMap((mode) => expectedPool(rowHidden, seq, width, encoded.attentionMask[r]!, mode));
          if (normalize) {
            const norm = Math.sqrt(expected.reduce((s, x) => s + x * x, 0));
            expected = expected.map((x) => x / norm);
          }
          expect(v).toHaveLength(expected.length);
          v.forEach((x, k) => expect(Math.abs(x - expected[k]!)).toBeLessThan(1e-5));
        });
      });
    }
  });
});
