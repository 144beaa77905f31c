/**
 * AWS Lambda handler: API Gateway REST (v1) and HTTP API / Function URL (v2) proxy events,
 * and direct invocation. The model loads once per container, at init, from LAMBERT_MODEL (a
 * model folder) or the default model bundled beside this file.
 */
import { basename, resolve } from 'node:path';
import { LambertError } from '../errors.js';
import { defaultModelDir } from '../pipeline/defaultModel.js';
import { TextPipeline } from '../pipeline/index.js';

export const MAX_BODY_BYTES = envInt('LAMBERT_MAX_BODY_BYTES', 6 * 1024 * 1024);
const MAX_INPUTS = envInt('LAMBERT_MAX_INPUTS', 256);
// Texts over the model's length are truncated, as the pipeline does, unless LAMBERT_TRUNCATE=false asks for a 400.
const TRUNCATE = !/^(false|0|no)$/i.test(process.env.LAMBERT_TRUNCATE ?? '');
// The session's memory bound: LAMBERT_MAX_MEMORY_BYTES, else half the function's memory (the rest is
// the runtime, the heap and the request), else the library default. Over it, a request gets 413.
const LAMBDA_MB = envInt('AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 0);
const MAX_MEMORY_BYTES = envInt('LAMBERT_MAX_MEMORY_BYTES', LAMBDA_MB > 0 ? LAMBDA_MB * 512 * 1024 : 0);
// A request stops with 503 TIMEOUT when its next batch would end within this margin of the
// invocation's deadline (context.getRemainingTimeInMillis()): Lambda kills a function that runs
// out of time, and the container with it.
const DEADLINE_MARGIN_MS = envInt('LAMBERT_DEADLINE_MARGIN_MS', 1000);
// LAMBERT_QUANTIZED=true serves model_quantized.onnx when the folder has one (as transformers.js folders do).
const QUANTIZED = /^(true|1|yes)$/i.test(process.env.LAMBERT_QUANTIZED ?? '');

/**
 * An integer setting from the environment, at least `min`; anything else (unset, empty, not such
 * an integer) would silently change what it bounds, so it falls back.
 */
function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name]?.trim();
  const value = raw ? Number(raw) : Number.NaN;
  return Number.isSafeInteger(value) && value >= min ? value : fallback;
}

// Inferences run at init on throwaway texts so that the container's first request finds the
// kernels compiled (TextPipeline.warmUp); LAMBERT_WARMUP_RUNS=0 skips them.
const WARMUP_RUNS = envInt('LAMBERT_WARMUP_RUNS', 2, 0);

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

interface Request {
  task: 'classify' | 'embed' | 'similarity';
  inputs?: string | string[];
  pairs?: [string, string][];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const modelDir = defaultModelDir();
/** What responses name the model by: its folder's name, not a path on the server. */
const modelName = basename(resolve(modelDir));
// Started at init (outside any request) so the first request finds the model loaded; a failure
// is reported per request instead of killing the container.
// LAMBERT_THREADS splits the GEMMs over worker threads: worth it from 3538 MB (two vCPUs) up.
const THREADS = envInt('LAMBERT_THREADS', 1);
const ready: Promise<TextPipeline> = TextPipeline.fromFolder(modelDir, {
  quantized: QUANTIZED,
  session: { intraOpNumThreads: THREADS, ...(MAX_MEMORY_BYTES > 0 ? { maxMemoryBytes: MAX_MEMORY_BYTES } : {}) },
}).then(async (pipeline) => {
  // A model that cannot run even these texts fails every request with its own error; the
  // warm-up leaves reporting that to them.
  await pipeline.warmUp(WARMUP_RUNS).catch(() => {});
  return pipeline;
});
ready.catch(() => {});

/** The loaded pipeline; a model that failed to load is the server's fault (500), whatever its error code. */
async function loaded(): Promise<TextPipeline> {
  try {
    return await ready;
  } catch (err) {
    const code = err instanceof LambertError ? err.code : 'INTERNAL_ERROR';
    throw new HttpError(500, code, `the model failed to load: ${(err as Error)?.message ?? String(err)}`);
  }
}

function json(statusCode: number, body: unknown): ApiResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function errorBody(err: unknown): { status: number; body: { error: { code: string; message: string } } } {
  if (err instanceof HttpError) return { status: err.status, body: { error: { code: err.code, message: err.message } } };
  if (err instanceof LambertError) {
    const status =
      err.code === 'INVALID_INPUT' || err.code === 'INVALID_ARGUMENT' ? 400 : err.code === 'RESOURCE_LIMIT' ? 413 : err.code === 'TIMEOUT' ? 503 : 500;
    return { status, body: { error: { code: err.code, message: err.message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL_ERROR', message: (err as Error)?.message ?? String(err) } } };
}

export function payloadTooLarge(): ApiResponse {
  return json(413, { error: { code: 'PAYLOAD_TOO_LARGE', message: `the body is over ${MAX_BODY_BYTES} bytes (LAMBERT_MAX_BODY_BYTES)` } });
}

function parseRequest(value: unknown): Request {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'INVALID_REQUEST', 'the request must be a JSON object');
  }
  const req = value as Record<string, unknown>;
  const task = req.task;
  if (task !== 'classify' && task !== 'embed' && task !== 'similarity') {
    throw new HttpError(400, 'INVALID_REQUEST', '"task" must be "classify", "embed" or "similarity"');
  }
  if (task === 'similarity') {
    const pairs = req.pairs;
    const ok = Array.isArray(pairs) && pairs.length > 0 && pairs.every((p) => Array.isArray(p) && p.length === 2 && p.every((s) => typeof s === 'string'));
    if (!ok) throw new HttpError(400, 'INVALID_REQUEST', '"pairs" must be a non-empty array of [string, string]');
    if ((pairs as unknown[]).length * 2 > MAX_INPUTS) {
      throw new HttpError(400, 'TOO_MANY_INPUTS', `at most ${MAX_INPUTS} texts per request, and a pair is two (LAMBERT_MAX_INPUTS)`);
    }
    return { task, pairs: pairs as [string, string][] };
  }
  const inputs = req.inputs;
  const list = typeof inputs === 'string' ? [inputs] : inputs;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string')) {
    throw new HttpError(400, 'INVALID_REQUEST', '"inputs" must be a string or a non-empty array of strings');
  }
  if (list.length > MAX_INPUTS) throw new HttpError(400, 'TOO_MANY_INPUTS', `at most ${MAX_INPUTS} inputs per request (LAMBERT_MAX_INPUTS)`);
  return { task, inputs: list as string[] };
}

/** The Lambda context's clock, when the runtime gives one. */
interface Context {
  getRemainingTimeInMillis?: () => number;
}

/** Runs one request; the result is the response body. */
export async function answer(request: unknown, context?: Context): Promise<Record<string, unknown>> {
  const started = performance.now();
  const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? Number(context.getRemainingTimeInMillis()) : NaN;
  const options = Number.isFinite(remaining) ? { deadline: Date.now() + remaining - DEADLINE_MARGIN_MS } : {};
  const req = parseRequest(request);
  const pipeline = await loaded();
  if (!TRUNCATE) checkLengths(pipeline, req.task === 'similarity' ? req.pairs!.flat() : (req.inputs as string[]));
  const loadedAt = performance.now();
  let results: unknown[];
  if (req.task === 'classify') results = await pipeline.classify(req.inputs as string[], options);
  else if (req.task === 'embed') results = (await pipeline.embed(req.inputs as string[], options)).map((v) => Array.from(v));
  else results = await pipeline.similarity(req.pairs!, options);
  const done = performance.now();
  return {
    results,
    model: modelName,
    timing: { inferenceMs: round(done - loadedAt), totalMs: round(done - started) },
  };
}

function checkLengths(pipeline: TextPipeline, texts: readonly string[]): void {
  texts.forEach((text, i) => {
    const length = pipeline.tokenizer.encode(text, null, { truncation: false }).inputIds.length;
    if (length > pipeline.maxLength) {
      throw new HttpError(
        400,
        'SEQUENCE_TOO_LONG',
        `text ${i} is ${length} tokens long, over the model's ${pipeline.maxLength} (LAMBERT_TRUNCATE=false)`,
      );
    }
  });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function isHttpEvent(event: unknown): event is Record<string, any> {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, any>;
  return typeof e.httpMethod === 'string' || typeof e.requestContext?.http?.method === 'string' || e.version === '2.0';
}

async function answerHttp(event: Record<string, any>, context: Context | undefined): Promise<ApiResponse> {
  const method = String(event.httpMethod ?? event.requestContext?.http?.method ?? 'POST').toUpperCase();
  if (method === 'GET') {
    try {
      const pipeline = await loaded();
      return json(200, { model: modelName, labels: pipeline.labels, tasks: ['classify', 'embed', 'similarity'] });
    } catch (err) {
      const { status, body } = errorBody(err);
      return json(status, body);
    }
  }
  if (method !== 'POST') return json(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'use POST with a JSON body' } });
  const headers: Record<string, string> = Object.fromEntries(
    Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  const contentType = headers['content-type'];
  if (contentType && !/^application\/(.+\+)?json\b/i.test(contentType) && !/^text\/plain\b/i.test(contentType)) {
    return json(415, { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: `expected application/json, got ${contentType}` } });
  }
  const raw = typeof event.body === 'string' ? event.body : '';
  // Measured before decoding, so an oversized body is refused without being copied.
  const size = event.isBase64Encoded ? Buffer.byteLength(raw, 'base64') : Buffer.byteLength(raw, 'utf8');
  if (size > MAX_BODY_BYTES) return payloadTooLarge();
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return json(400, { error: { code: 'INVALID_JSON', message: 'the body is not valid JSON' } });
  }
  try {
    return json(200, await answer(parsed, context));
  } catch (err) {
    const { status, body } = errorBody(err);
    return json(status, body);
  }
}

export async function handler(event: unknown, context?: Context): Promise<ApiResponse | Record<string, unknown>> {
  if (isHttpEvent(event)) return answerHttp(event, context);
  try {
    return await answer(event, context);
  } catch (err) {
    return errorBody(err).body;
  }
}
