/**
 * Hugging Face model folders: config.json, vocab.txt and/or tokenizer.json, and model.onnx at
 * the top or under onnx/ (model_quantized.onnx preferred when asked for).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LambertError } from '../errors.js';
import { InferenceSession, type SessionOptions } from '../session.js';
import { Tokenizer } from '../tokenizer/index.js';

export interface ModelConfig {
  id2label?: Record<string, string>;
  max_position_embeddings?: number;
  /** sentence-transformers style pooling for encoders without a sentence_embedding output. */
  pooling?: 'mean' | 'cls';
  normalize?: boolean;
  model_type?: string;
  [key: string]: unknown;
}

export interface ModelFolder {
  readonly dir: string;
  readonly modelPath: string;
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer;
  readonly session: InferenceSession;
}

export interface FolderOptions {
  /** Prefer model_quantized.onnx when the folder has one. */
  quantized?: boolean;
  session?: SessionOptions;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new LambertError('INVALID_ARGUMENT', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export function findModelFile(dir: string, quantized = false): string {
  const names = quantized ? ['model_quantized.onnx', 'model.onnx'] : ['model.onnx', 'model_quantized.onnx'];
  for (const name of names) {
    for (const sub of ['', 'onnx']) {
      const path = join(dir, sub, name);
      if (existsSync(path)) return path;
    }
  }
  throw new LambertError('INVALID_ARGUMENT', `no model.onnx in ${dir} or ${join(dir, 'onnx')}`);
}

export function loadTokenizer(dir: string): Tokenizer {
  const tokenizerJson = join(dir, 'tokenizer.json');
  if (existsSync(tokenizerJson)) return Tokenizer.fromJSON(readFileSync(tokenizerJson, 'utf8'));
  const vocab = join(dir, 'vocab.txt');
  if (!existsSync(vocab)) throw new LambertError('INVALID_ARGUMENT', `no tokenizer.json or vocab.txt in ${dir}`);
  const tokenizerConfig = join(dir, 'tokenizer_config.json');
  const lowercase = existsSync(tokenizerConfig) ? readJson(tokenizerConfig).do_lower_case !== false : true;
  return Tokenizer.fromVocab(readFileSync(vocab, 'utf8'), { lowercase });
}

export async function loadModelFolder(dir: string, options: FolderOptions = {}): Promise<ModelFolder> {
  const root = resolve(dir);
  if (!existsSync(root)) throw new LambertError('INVALID_ARGUMENT', `model folder ${root} does not exist`);
  const configPath = join(root, 'config.json');
  const config = (existsSync(configPath) ? readJson(configPath) : {}) as ModelConfig;
  const modelPath = findModelFile(root, options.quantized);
  const session = await InferenceSession.create(modelPath, options.session);
  return { dir: root, modelPath, config, tokenizer: loadTokenizer(root), session };
}
