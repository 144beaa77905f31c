/**
 * `lambert eval --fp32 A.onnx --int8 B.onnx --vocab vocab.txt (--sst2 dev.tsv | --sts sts-test.csv)
 *  [--limit N] [--batch 32] [--max-length 128]`: what quantization costs on a labelled benchmark —
 * SST-2 accuracy of argmax(logits), or STS-B Spearman of embedding cosines against gold scores.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { LambertError } from '../errors.js';
import { InferenceSession, Tensor } from '../index.js';
import { cosineSimilarity, spearman } from '../metrics.js';
import { Tokenizer, type BatchEncoding } from '../tokenizer/index.js';
import { Progress } from './progress.js';

const USAGE =
  'usage: lambert eval --fp32 A.onnx --int8 B.onnx --vocab vocab.txt (--sst2 dev.tsv | --sts sts-test.csv) [--limit N] [--batch 32] [--max-length 128]';

interface Settings {
  batch: number;
  maxLength: number;
  tokenizer: Tokenizer;
}

export async function evalCommand(args: string[]): Promise<number> {
  try {
    const { values } = parseOrThrow(args);
    const fp32Path = required(values.fp32, '--fp32');
    const int8Path = required(values.int8, '--int8');
    const vocabPath = required(values.vocab, '--vocab');
    if (!values.sst2 === !values.sts) throw new LambertError('INVALID_ARGUMENT', `give exactly one of --sst2 and --sts\n${USAGE}`);
    const limit = values.limit === undefined ? Infinity : positiveInt(values.limit, '--limit');
    const settings: Settings = {
      batch: positiveInt(values.batch, '--batch'),
      maxLength: positiveInt(values['max-length'], '--max-length'),
      tokenizer: Tokenizer.fromVocab(await readText(vocabPath)),
    };
    const models = await Promise.all([InferenceSession.create(fp32Path), InferenceSession.create(int8Path)]);
    if (values.sst2) {
      const examples = parseSst2(await readText(values.sst2), values.sst2).slice(0, limit);
      const [fp32, int8] = await sst2Predictions(models, examples, settings);
      const accuracy = (p: number[]) => p.filter((label, i) => label === examples[i]!.label).length / examples.length;
      const agree = fp32.filter((label, i) => label === int8[i]).length / examples.length;
      report(`SST-2 ${values.sst2}: ${examples.length} sentences`, 'accuracy', accuracy(fp32), accuracy(int8));
      process.stdout.write(`  int8 and fp32 predictions agree on ${(agree * 100).toFixed(1)}%\n`);
    } else {
      const pairs = parseSts(await readText(values.sts!), values.sts!).slice(0, limit);
      const [fp32, int8] = await stsSimilarities(models, pairs, settings);
      const gold = pairs.map((p) => p.score);
      report(`STS-B ${values.sts}: ${pairs.length} pairs`, 'Spearman', spearman(fp32, gold), spearman(int8, gold));
    }
    return 0;
  } catch (err) {
    if (!(err instanceof LambertError)) throw err;
    process.stderr.write(`lambert eval: ${err.message}\n`);
    return 1;
  }
}

function parseOrThrow(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        fp32: { type: 'string' },
        int8: { type: 'string' },
        vocab: { type: 'string' },
        sst2: { type: 'string' },
        sts: { type: 'string' },
        limit: { type: 'string' },
        batch: { type: 'string', default: '32' },
        'max-length': { type: 'string', default: '128' },
      },
    });
  } catch (err) {
    throw new LambertError('INVALID_ARGUMENT', `${(err as Error).message}\n${USAGE}`);
  }
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new LambertError('INVALID_ARGUMENT', `${flag} is required\n${USAGE}`);
  return value;
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new LambertError('INVALID_ARGUMENT', `${flag} must be a positive integer, got "${text}"`);
  return n;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new LambertError('IO_ERROR', `cannot read "${path}": ${(err as Error).message}`, { cause: err });
  }
}

function report(title: string, metric: string, fp32: number, int8: number): void {
  const delta = int8 - fp32;
  process.stdout.write(
    `${title}\n  fp32 ${metric} ${fp32.toFixed(4)}\n  int8 ${metric} ${int8.toFixed(4)}\n  delta ${delta >= 0 ? '+' : ''}${delta.toFixed(4)}\n`,
  );
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}

/** `sentence<TAB>label` rows after a header line. */
function parseSst2(text: string, path: string): { sentence: string; label: number }[] {
  return lines(text)
    .slice(1)
    .map((line, i) => {
      const tab = line.lastIndexOf('\t');
      const label = Number(line.slice(tab + 1));
      if (tab < 0 || !Number.isInteger(label)) {
        throw new LambertError('INVALID_INPUT', `${path} line ${i + 2}: expected "sentence<TAB>label"`);
      }
      return { sentence: line.slice(0, tab), label };
    });
}

/** STS benchmark rows: genre, file, year, id, score, sentence 1, sentence 2[, source...]. */
function parseSts(text: string, path: string): { score: number; a: string; b: string }[] {
  return lines(text).map((line, i) => {
    const fields = line.split('\t');
    const score = Number(fields[4]);
    if (fields.length < 7 || fields[4]!.trim() === '' || !Number.isFinite(score)) {
      throw new LambertError('INVALID_INPUT', `${path} line ${i + 1}: expected genre, file, year, id, score, sentence 1, sentence 2 separated by tabs`);
    }
    return { score, a: fields[5]!, b: fields[6]! };
  });
}

async function sst2Predictions(
  models: InferenceSession[],
  examples: { sentence: string }[],
  settings: Settings,
): Promise<number[][]> {
  const predictions = models.map(() => [] as number[]);
  const progress = new Progress(examples.length, 'eval sst2');
  for (let start = 0; start < examples.length; start += settings.batch) {
    const texts = examples.slice(start, start + settings.batch).map((e) => e.sentence);
    const encoding = settings.tokenizer.encodeBatch(texts, { maxLength: settings.maxLength, padding: 'longest' });
    for (const [m, session] of models.entries()) {
      const name = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0]!;
      const logits = (await session.run(feedsFor(session, encoding), [name]))[name]!;
      if (logits.dims.length !== 2 || logits.dims[0] !== texts.length) {
        throw new LambertError('INVALID_INPUT', `output "${name}" has dims [${logits.dims.join(',')}], expected [${texts.length}, classes]`);
      }
      const data = logits.data as Float32Array;
      const classes = logits.dims[1]!;
      for (let r = 0; r < texts.length; r++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (data[r * classes + c]! > data[r * classes + best]!) best = c;
        predictions[m]!.push(best);
      }
    }
    progress.update(start + texts.length);
  }
  progress.finish();
  return predictions;
}

async function stsSimilarities(
  models: InferenceSession[],
  pairs: { a: string; b: string }[],
  settings: Settings,
): Promise<number[][]> {
  const similarities = models.map(() => [] as number[]);
  const progress = new Progress(pairs.length, 'eval sts');
  for (let start = 0; start < pairs.length; start += settings.batch) {
    const chunk = pairs.slice(start, start + settings.batch);
    const texts = [...chunk.map((p) => p.a), ...chunk.map((p) => p.b)];
    const encoding = settings.tokenizer.encodeBatch(texts, { maxLength: settings.maxLength, padding: 'longest' });
    for (const [m, session] of models.entries()) {
      const vectors = await embed(session, encoding);
      for (let i = 0; i < chunk.length; i++) similarities[m]!.push(cosineSimilarity(vectors[i]!, vectors[i + chunk.length]!));
    }
    progress.update(start + chunk.length);
  }
  progress.finish();
  return similarities;
}

/** `sentence_embedding` when the model has it, else `last_hidden_state` averaged over real tokens. */
async function embed(session: InferenceSession, encoding: BatchEncoding): Promise<Float32Array[]> {
  const rows = encoding.inputIds.length;
  if (session.outputNames.includes('sentence_embedding')) {
    const t = (await session.run(feedsFor(session, encoding), ['sentence_embedding'])).sentence_embedding!;
    const width = t.dims[1]!;
    const data = t.data as Float32Array;
    return Array.from({ length: rows }, (_, r) => data.subarray(r * width, (r + 1) * width));
  }
  const name = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0]!;
  const t = (await session.run(feedsFor(session, encoding), [name]))[name]!;
  if (t.dims.length !== 3) {
    throw new LambertError('INVALID_INPUT', `the model has no sentence_embedding and "${name}" is [${t.dims.join(',')}], not [batch, sequence, hidden]`);
  }
  const [, seq, width] = t.dims as [number, number, number];
  const data = t.data as Float32Array;
  return encoding.attentionMask.map((mask, r) => {
    const sum = new Float32Array(width);
    let count = 0;
    for (let s = 0; s < seq; s++) {
      if (!mask[s]) continue;
      count++;
      const offset = (r * seq + s) * width;
      for (let h = 0; h < width; h++) sum[h]! += data[offset + h]!;
    }
    for (let h = 0; h < width; h++) sum[h]! /= Math.max(count, 1);
    return sum;
  });
}

const ROLES: [RegExp, keyof BatchEncoding][] = [
  [/input_ids$/, 'inputIds'],
  [/attention_mask$/, 'attentionMask'],
  [/token_type_ids$|segment_ids$/, 'tokenTypeIds'],
];

function feedsFor(session: InferenceSession, encoding: BatchEncoding): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const { name, type } of session.inputMetadata) {
    const role = ROLES.find(([pattern]) => pattern.test(name))?.[1];
    if (!role) throw new LambertError('INVALID_INPUT', `eval cannot fill model input "${name}"`);
    const rows = encoding[role];
    const dims = [rows.length, rows[0]?.length ?? 0];
    const flat = rows.flat();
    if (type === 'int64') feeds[name] = new Tensor('int64', BigInt64Array.from(flat, BigInt), dims);
    else if (type === 'int32') feeds[name] = new Tensor('int32', Int32Array.from(flat), dims);
    else throw new LambertError('INVALID_INPUT', `eval cannot fill model input "${name}" of type ${type}`);
  }
  return feeds;
}
