/** `lambert classify|embed|similarity`: texts from arguments or --input FILE, JSON lines out. */
import { createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
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
    ...(values['batch-size'] ? { maxBatchSize: Number(values['batch-size']) } : {}),
    ...(values['max-length'] ? { maxLength: Number(values['max-length']) } : {}),
  });
  const lines = values.input
    ? readFileSync(values.input, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '')
    : positionals;
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
    else results = await pipeline.similarity(slice.map((l) => splitPair(l)));
    slice.forEach((text, k) => out.write(`${JSON.stringify({ text, result: results[k] })}\n`));
    progress?.update(i + slice.length);
  }
  progress?.finish();
  if (out !== process.stdout) await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(resolve));
  return 0;
}

function splitPair(line: string): [string, string] {
  const tab = line.indexOf('\t');
  if (tab < 0) throw new Error(`similarity needs "sentence A<TAB>sentence B", got: ${line}`);
  return [line.slice(0, tab), line.slice(tab + 1)];
}
