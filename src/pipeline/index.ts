/**
 * Text in, answers out: classification, sentence embeddings and similarity over a model
 * folder, batching rows padded to the longest in each batch.
 */
import { LambertError } from '../errors.js';
import { cosineSimilarity } from '../metrics.js';
import type { InferenceSession } from '../session.js';
import { Tensor } from '../tensor.js';
import type { Tokenizer } from '../tokenizer/index.js';
import { loadModelFolder, type FolderOptions, type ModelConfig, type PoolingMode } from './folder.js';

export interface Classification {
  label: string;
  score: number;
  /** Probability per label. */
  scores: Record<string, number>;
}

export interface PipelineOptions {
  /** Rows per model call. Default 32. */
  maxBatchSize?: number;
  /** Tokens per row including [CLS]/[SEP]; longer texts are truncated. Default: the model's position limit, at most 512. */
  maxLength?: number;
}

/** Per call. */
export interface CallOptions {
  /**
   * Wall-clock time (Date.now() milliseconds) the call must finish by. Before each batch the
   * pipeline estimates, from the batches before it, whether the next one would end past the
   * deadline and if so stops with LambertError TIMEOUT, instead of being killed mid-way (as a
   * Lambda function is when its time runs out, taking the container with it).
   */
  deadline?: number;
}

interface Encoded {
  inputIds: number[][];
  tokenTypeIds: number[][];
  attentionMask: number[][];
}

/** What {@link TextPipeline.warmUp} runs: a sentence of typical length, then a short one. */
const WARM_UP_TEXTS = ['a warm-up sentence of about twenty tokens, so that every kernel meets a realistic shape first', 'warm up'];

export class TextPipeline {
  readonly maxBatchSize: number;
  readonly maxLength: number;

  constructor(
    readonly session: InferenceSession,
    readonly tokenizer: Tokenizer,
    readonly config: ModelConfig = {},
    options: PipelineOptions = {},
  ) {
    this.maxBatchSize = positiveOption('maxBatchSize', options.maxBatchSize, 32);
    this.maxLength = positiveOption('maxLength', options.maxLength, Math.min(config.max_position_embeddings ?? 512, 512));
  }

  static async fromFolder(dir: string, options: PipelineOptions & FolderOptions = {}): Promise<TextPipeline> {
    const folder = await loadModelFolder(dir, options);
    return new TextPipeline(folder.session, folder.tokenizer, folder.config, options);
  }

  get labels(): string[] {
    const id2label = this.config.id2label ?? {};
    return Object.keys(id2label)
      .sort((a, b) => Number(a) - Number(b))
      .map((k) => id2label[k]!);
  }

  async classify(texts: string | string[], options: CallOptions = {}): Promise<Classification[]> {
    const list = checkTexts(texts);
    const out: Classification[] = [];
    const clock = new BatchClock(options.deadline, list.length);
    for (const batch of chunks(list, this.maxBatchSize)) {
      clock.beforeBatch(batch.length);
      const outputs = await this.forward(this.tokenizer.encodeBatch(batch, { maxLength: this.maxLength }));
      const logits = classifierOutput(outputs, batch.length);
      const width = logits.dims[1]!;
      const data = logits.data as Float32Array;
      for (let r = 0; r < batch.length; r++) out.push(this.toClassification(data.subarray(r * width, (r + 1) * width)));
    }
    return out;
  }

  private toClassification(logits: Float32Array): Classification {
    const labels = this.labels;
    const name = (i: number) => labels[i] ?? `LABEL_${i}`;
    // One logit is a binary classifier's positive score: sigmoid, as Hugging Face does.
    const probs =
      logits.length === 1 ? [1 / (1 + Math.exp(-logits[0]!))] : softmax(logits);
    let best = 0;
    for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
    const scores: Record<string, number> = {};
    probs.forEach((p, i) => (scores[name(i)] = p));
    return { label: name(best), score: probs[best]!, scores };
  }

  /**
   * Runs the model `runs` times on throwaway texts (alternately about twenty tokens and a few) so
   * that V8 has compiled the kernels before the first real request: in a fresh process that
   * request otherwise takes many times the steady latency while the kernels run unoptimised
   * (on the default model, ~200 ms instead of ~10 ms; after two warm-up runs, ~20 ms).
   */
  async warmUp(runs = 2): Promise<void> {
    for (let i = 0; i < runs; i++) {
      await this.forward(this.tokenizer.encodeBatch([WARM_UP_TEXTS[i % WARM_UP_TEXTS.length]!], { maxLength: this.maxLength }));
    }
  }

  async embed(texts: string | string[], options: CallOptions = {}): Promise<Float32Array[]> {
    const list = checkTexts(texts);
    const out: Float32Array[] = [];
    const clock = new BatchClock(options.deadline, list.length);
    for (const batch of chunks(list, this.maxBatchSize)) {
      clock.beforeBatch(batch.length);
      const encoded = this.tokenizer.encodeBatch(batch, { maxLength: this.maxLength });
      out.push(...this.pool(await this.forward(encoded), encoded));
    }
    return out;
  }

  async similarity(pairs: [string, string][], options: CallOptions = {}): Promise<number[]> {
    if (!Array.isArray(pairs) || pairs.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((s) => typeof s !== 'string'))) {
      throw new LambertError('INVALID_INPUT', 'pairs must be an array of [string, string]');
    }
    const flat = pairs.flat();
    const vectors = await this.embed(flat, options);
    return pairs.map((_, i) => cosineSimilarity(vectors[2 * i]!, vectors[2 * i + 1]!));
  }

  private pool(outputs: Record<string, Tensor>, encoded: Encoded): Float32Array[] {
    const rows = encoded.inputIds.length;
    const sentence = outputs.sentence_embedding;
    let vectors: Float32Array[];
    if (sentence) {
      const width = sentence.dims[sentence.dims.length - 1]!;
      vectors = Array.from({ length: rows }, (_, r) => (sentence.data as Float32Array).slice(r * width, (r + 1) * width));
    } else {
      const hidden = outputs.last_hidden_state ?? Object.values(outputs).find((t) => t.dims.length === 3);
      if (!hidden) {
        throw new LambertError('INVALID_ARGUMENT', 'this model cannot embed: it has neither a sentence_embedding nor a (batch, seq, hidden) output');
      }
      vectors = poolHidden(hidden, encoded.attentionMask, this.config.pooling ?? 'mean');
    }
    // Models that emit sentence_embedding have normalized already where they meant to.
    if (!sentence && this.config.normalize) for (const v of vectors) normalize(v);
    return vectors;
  }

  private async forward(encoded: Encoded): Promise<Record<string, Tensor>> {
    const rows = encoded.inputIds.length;
    const seq = encoded.inputIds[0]?.length ?? 0;
    const feeds: Record<string, Tensor> = {};
    for (const meta of this.session.inputMetadata) {
      const source = /mask/.test(meta.name)
        ? encoded.attentionMask
        : /token_type|segment/.test(meta.name)
          ? encoded.tokenTypeIds
          : /input_ids/.test(meta.name)
            ? encoded.inputIds
            : undefined;
      if (!source) throw new LambertError('INVALID_MODEL', `the pipeline cannot fill model input "${meta.name}"`);
      feeds[meta.name] = intTensor(meta.type, source, rows, seq, meta.name);
    }
    return this.session.run(feeds);
  }
}

/**
 * The (batch, labels) scores of a classifier: its `logits` output, or its only output when that
 * is one row per text. An encoder's hidden states or sentence embedding are not class scores.
 */
function classifierOutput(outputs: Record<string, Tensor>, rows: number): Tensor {
  const all = Object.entries(outputs);
  const logits = outputs.logits ?? (all.length === 1 && all[0]![0] !== 'sentence_embedding' ? all[0]![1] : undefined);
  if (!logits || logits.dims.length !== 2 || logits.dims[0] !== rows || logits.type !== 'float32') {
    const found = all.map(([name, t]) => `${name} ${t.type}[${t.dims.join(',')}]`).join(', ');
    throw new LambertError('INVALID_ARGUMENT', `this model cannot classify: it has no (batch, labels) logits output (outputs: ${found})`);
  }
  return logits;
}

function intTensor(type: string, rows: number[][], batch: number, seq: number, name: string): Tensor {
  const flat = rows.flat();
  if (type === 'int64') return new Tensor('int64', BigInt64Array.from(flat, (v) => BigInt(v)), [batch, seq]);
  if (type === 'int32') return new Tensor('int32', Int32Array.from(flat), [batch, seq]);
  throw new LambertError('INVALID_MODEL', `model input "${name}" has type ${type}; token inputs must be int64 or int32`);
}

function positiveOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new LambertError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function checkTexts(texts: string | string[]): string[] {
  const list = typeof texts === 'string' ? [texts] : texts;
  if (!Array.isArray(list) || list.some((t) => typeof t !== 'string')) {
    throw new LambertError('INVALID_INPUT', 'inputs must be a string or an array of strings');
  }
  return list;
}

/** Deadline bookkeeping over a call's batches: rows done so far and the time they took. */
class BatchClock {
  private readonly started = Date.now();
  private rowsDone = 0;

  constructor(
    private readonly deadline: number | undefined,
    private readonly rows: number,
  ) {}

  beforeBatch(rows: number): void {
    if (this.deadline === undefined) return;
    const now = Date.now();
    // The first batch has nothing to go by: it runs if the deadline has not already passed.
    const perRow = this.rowsDone === 0 ? 0 : (now - this.started) / this.rowsDone;
    if (now + perRow * rows > this.deadline) {
      throw new LambertError(
        'TIMEOUT',
        `stopped after ${this.rowsDone} of ${this.rows} texts: at ${perRow.toFixed(1)} ms per text the next ${rows} would end past the deadline`,
      );
    }
    this.rowsDone += rows;
  }
}

function* chunks<T>(list: T[], size: number): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}

export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** One vector per row from (rows, seq, width) hidden states, as sentence-transformers' Pooling does. */
function poolHidden(hidden: Tensor, mask: number[][], pooling: PoolingMode | PoolingMode[]): Float32Array[] {
  const [rows, seq, width] = hidden.dims as [number, number, number];
  const data = hidden.data as Float32Array;
  const modes = Array.isArray(pooling) ? pooling : [pooling];
  return Array.from({ length: rows }, (_, r) => {
    const out = new Float32Array(width * modes.length);
    modes.forEach((mode, m) => poolRow(data, r, seq, width, mask[r]!, mode, out.subarray(m * width, (m + 1) * width)));
    return out;
  });
}

function poolRow(data: Float32Array, r: number, seq: number, width: number, mask: readonly number[], mode: PoolingMode, out: Float32Array): void {
  if (mode === 'cls') {
    out.set(data.subarray(r * seq * width, r * seq * width + width));
    return;
  }
  // sentence-transformers sets masked tokens to -1e9 before the max.
  if (mode === 'max') out.fill(-1e9);
  let count = 0;
  for (let t = 0; t < seq; t++) {
    if (!mask[t]) continue;
    count++;
    const base = (r * seq + t) * width;
    if (mode === 'max') for (let k = 0; k < width; k++) out[k] = Math.max(out[k]!, data[base + k]!);
    else for (let k = 0; k < width; k++) out[k]! += data[base + k]!;
  }
  if (mode === 'max') return;
  // sentence-transformers clamps the token count at 1e-9 so empty rows give zeros, not NaN.
  const clamped = Math.max(count, 1e-9);
  const scale = 1 / (mode === 'mean' ? clamped : Math.sqrt(clamped));
  for (let k = 0; k < width; k++) out[k]! *= scale;
}

function normalize(v: Float32Array): void {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const scale = 1 / Math.max(Math.sqrt(sum), 1e-12);
  for (let i = 0; i < v.length; i++) v[i]! *= scale;
}
