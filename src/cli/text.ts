/** `lambert classify|embed|similarity`: texts from arguments or --input FILE, JSON lines out. */
import { createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LambertError } from '../errors.js';
import { defaultModelDir } from '../pipeline/defaultModel.js';
import { TextPipeline } from '../pipeline/index.js';
import { Progress } from './progress.js';

const OPTIONS = {
  model: { type: 'string', short: 'm' },
  input: { type: 'string', short: 'i' },
  output: { type: 'string', short: 'o' },
  quantized: { type: 'boolean' },
  'batch-size': { type: 'string' },
  'max-length': { type: 'string' },
} as const;

export async function textCommand(task: 'classify' | 'embed' | 'similarity', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  const pipeline = await TextPipeline.fromFolder(values.model ?? defaultModelDir(), {
    quantized: values.quantized ?? false,
    ...(values['batch-size'] === undefined ? {} : { maxBatchSize: integerFlag('--batch-size', values['batch-size']) }),
    ...(values['max-length'] === undefined ? {} : { maxLength: integerFlag('--max-length', values['max-length']) }),
  });
  // One result line per input line, blank ones included, so line N of the output answers line N
  // of the input; only the newline ending the file does not start another line.
  const lines = values.input ? readLines(values.input) : positionals;
  if (lines.length === 0) {
    process.stderr.write(`usage: lambert ${task} [--model DIR] (TEXT... | --input FILE) [--output FILE.jsonl]\n`);
    return 2;
  }
  const out = values.output ? createWriteStream(values.output) : process.stdout;
  const progress = values.input ? new Progress(lines.length, task) : undefined;
  // Similarity takes tab-separated pairs, one per line or argument.
  const chunk = pipeline.maxBatchSize * (task === 'similarity' ? 1 : 4);
  for (let i = 0; i < lines.length; i += chunk) {
    const slice = lines.slice(i, i + chunk);
    let results: unknown[];
    if (task === 'classify') results = await pipeline.classify(slice);
    else if (task === 'embed') results = (await pipeline.embed(slice)).map((v) => Array.from(v));
    else results = await pipeline.similarity(slice.map((l, k) => splitPair(l, i + k + 1)));
    slice.forEach((text, k) => out.write(`${JSON.stringify({ text, result: results[k] })}\n`));
    progress?.update(i + slice.length);
  }
  progress?.finish();
  if (out !== process.stdout) await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(resolve));
  return 0;
}

function splitPair(line: string, number: number): [string, string] {
  const tab = line.indexOf('\t');
  if (tab < 0) throw new LambertError('INVALID_INPUT', `similarity needs "sentence A<TAB>sentence B"; pair ${number} has no tab: ${JSON.stringify(line)}`);
  return [line.slice(0, tab), line.slice(tab + 1)];
}

function integerFlag(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new LambertError('INVALID_ARGUMENT', `${flag} needs a positive integer, got "${value}"`);
  return n;
}

function readLines(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new LambertError('IO_ERROR', `cannot read --input ${path}: ${(err as Error).message}`, { cause: err });
  }
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
