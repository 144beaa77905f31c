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
  /**
   * Pooling for encoders without a sentence_embedding output: one mode, or several whose vectors
   * are concatenated in sentence-transformers' order (cls, max, mean, mean_sqrt_len). Read from
   * config.json, else from a sentence-transformers folder's modules.json and its Pooling module.
   */
  pooling?: PoolingMode | PoolingMode[];
  /** L2-normalise pooled vectors (config.json, or a Normalize module in modules.json). */
  normalize?: boolean;
  model_type?: string;
  [key: string]: unknown;
}

export type PoolingMode = 'mean' | 'cls' | 'max' | 'mean_sqrt_len';

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

/** Pooling and normalisation as a sentence-transformers folder declares them (modules.json). */
function sentenceTransformersConfig(root: string): Pick<ModelConfig, 'pooling' | 'normalize'> {
  const modulesPath = join(root, 'modules.json');
  if (!existsSync(modulesPath)) return {};
  const modules = readJson(modulesPath) as unknown;
  if (!Array.isArray(modules)) throw new LambertError('INVALID_ARGUMENT', `${modulesPath} must be a JSON array of modules`);
  const result: Pick<ModelConfig, 'pooling' | 'normalize'> = {};
  for (const module of modules as { type?: unknown; path?: unknown }[]) {
    const type = String(module?.type ?? '');
    if (type.endsWith('.Normalize')) result.normalize = true;
    if (type.endsWith('.Pooling')) {
      const configPath = join(root, String(module.path ?? ''), 'config.json');
      const pooling = existsSync(configPath) ? readJson(configPath) : {};
      const modes: PoolingMode[] = [];
      if (pooling.pooling_mode_cls_token === true) modes.push('cls');
      if (pooling.pooling_mode_max_tokens === true) modes.push('max');
      if (pooling.pooling_mode_mean_tokens === true) modes.push('mean');
      if (pooling.pooling_mode_mean_sqrt_len_tokens === true) modes.push('mean_sqrt_len');
      const other = Object.keys(pooling).filter((k) => k.startsWith('pooling_mode_') && pooling[k] === true && !KNOWN_POOLING_KEYS.has(k));
      if (other.length > 0) throw new LambertError('INVALID_ARGUMENT', `${configPath}: pooling ${other.join(', ')} is not supported`);
      if (modes.length > 0) result.pooling = modes.length === 1 ? modes[0] : modes;
    }
  }
  return result;
}

const KNOWN_POOLING_KEYS = new Set([
  'pooling_mode_cls_token',
  'pooling_mode_max_tokens',
  'pooling_mode_mean_tokens',
  'pooling_mode_mean_sqrt_len_tokens',
]);

export async function loadModelFolder(dir: string, options: FolderOptions = {}): Promise<ModelFolder> {
  const root = resolve(dir);
  if (!existsSync(root)) throw new LambertError('INVALID_ARGUMENT', `model folder ${root} does not exist`);
  const configPath = join(root, 'config.json');
  const config = { ...sentenceTransformersConfig(root), ...((existsSync(configPath) ? readJson(configPath) : {}) as ModelConfig) };
  const modelPath = findModelFile(root, options.quantized);
  const session = await InferenceSession.create(modelPath, options.session);
  return { dir: root, modelPath, config, tokenizer: loadTokenizer(root), session };
}
