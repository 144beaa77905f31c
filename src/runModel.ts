import { LambertError } from './errors.js';
import { InferenceSession, type ReturnType, type SessionOptions } from './session.js';
import { Tensor, type DType } from './tensor.js';

export interface RunModelOptions {
  /** Id used for padding ragged rows (masked out). Default 0, BERT's [PAD]. */
  padTokenId?: number;
  /** Segment ids per token, same raggedness as `tokens`; default all 0. */
  tokenTypeIds?: number[] | number[][];
  /** Outputs to return; default all. */
  fetches?: string[];
  session?: SessionOptions;
}

const sessions = new WeakMap<Uint8Array, InferenceSession>();

/**
 * Runs a BERT-style model on token ids. Builds `input_ids`, `attention_mask` and
 * `token_type_ids` for whichever of them the model declares; ragged rows are padded and masked.
 */
export async function runModel(
  model: Uint8Array | InferenceSession,
  tokens: number[] | number[][],
  options: RunModelOptions = {},
): Promise<ReturnType> {
  let session: InferenceSession;
  if (model instanceof InferenceSession) session = model;
  else if (model instanceof Uint8Array) {
    session = sessions.get(model) ?? InferenceSession.createSync(model, options.session);
    sessions.set(model, session);
  } else throw new LambertError('INVALID_ARGUMENT', 'runModel needs ONNX bytes (Uint8Array) or an InferenceSession');

  const rows = toRows(tokens, 'tokens');
  const typeRows = options.tokenTypeIds === undefined ? undefined : toRows(options.tokenTypeIds, 'tokenTypeIds');
  if (typeRows && (typeRows.length !== rows.length || typeRows.some((r, i) => r.length !== rows[i]!.length))) {
    throw new LambertError('INVALID_INPUT', 'tokenTypeIds must have the same shape as tokens');
  }
  const batch = rows.length;
  let seq = 0;
  for (const row of rows) seq = Math.max(seq, row.length);
  if (seq === 0) throw new LambertError('INVALID_INPUT', 'tokens holds no ids');
  // Padding ragged rows multiplies memory: one long row among many short ones is batch × longest.
  const padded = batch * seq * 8;
  if (padded > session.maxMemoryBytes) {
    throw new LambertError(
      'RESOURCE_LIMIT',
      `${batch} rows padded to ${seq} tokens need ${padded} bytes per input, over maxMemoryBytes (${session.maxMemoryBytes})`,
    );
  }
  const pad = options.padTokenId ?? 0;
  if (!Number.isSafeInteger(pad) || pad < 0) {
    throw new LambertError('INVALID_INPUT', `padTokenId must be a non-negative integer id, got ${String(pad)}`);
  }

  const feeds: Record<string, Tensor> = {};
  for (const input of session.graph.inputs) {
    const role = roleOf(input.name);
    if (!role) {
      throw new LambertError(
        'INVALID_INPUT',
        `runModel cannot fill model input "${input.name}"; use InferenceSession.run for models with other inputs`,
      );
    }
    const values = new Array<number>(batch * seq);
    for (let b = 0; b < batch; b++) {
      const row = rows[b]!;
      for (let t = 0; t < seq; t++) {
        const real = t < row.length;
        values[b * seq + t] =
          role === 'input_ids' ? (real ? row[t]! : pad) : role === 'attention_mask' ? (real ? 1 : 0) : real ? (typeRows?.[b]![t] ?? 0) : 0;
      }
    }
    feeds[input.name] = makeIntTensor(input.dtype, values, [batch, seq], input.name);
  }
  return session.run(feeds, options.fetches);
}

function roleOf(name: string): 'input_ids' | 'attention_mask' | 'token_type_ids' | undefined {
  if (/input_ids$/.test(name)) return 'input_ids';
  if (/attention_mask$/.test(name)) return 'attention_mask';
  if (/token_type_ids$|segment_ids$/.test(name)) return 'token_type_ids';
  return undefined;
}

function toRows(tokens: number[] | number[][], what: string): number[][] {
  if (!Array.isArray(tokens)) throw new LambertError('INVALID_INPUT', `${what} must be an array of ids or of rows of ids`);
  const rows = tokens.length > 0 && Array.isArray(tokens[0]) ? (tokens as number[][]) : [tokens as number[]];
  if (rows.length === 0) throw new LambertError('INVALID_INPUT', `${what} is empty`);
  rows.forEach((row, r) => {
    if (!Array.isArray(row)) throw new LambertError('INVALID_INPUT', `${what} row ${r} is not an array`);
    row.forEach((id, i) => {
      if (!Number.isSafeInteger(id) || id < 0) {
        throw new LambertError('INVALID_INPUT', `${what}[${r}][${i}] must be a non-negative integer id, got ${String(id)}`);
      }
    });
  });
  return rows;
}

function makeIntTensor(dtype: DType, values: number[], dims: number[], name: string): Tensor {
  if (dtype === 'int64') return new Tensor('int64', BigInt64Array.from(values, BigInt), dims);
  if (dtype === 'int32') {
    // Int32Array.from would wrap a large id into some other, valid-looking one.
    const big = values.findIndex((v) => v > 0x7fffffff);
    if (big >= 0) throw new LambertError('INVALID_INPUT', `input "${name}" is int32 but holds ${values[big]} at flat index ${big}`);
    return new Tensor('int32', Int32Array.from(values), dims);
  }
  if (dtype === 'float32') return new Tensor('float32', Float32Array.from(values), dims);
  throw new LambertError('INVALID_INPUT', `runModel cannot fill input "${name}" of type ${dtype}`);
}
