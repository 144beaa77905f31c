/** `lambert quantize IN.onnx OUT.onnx [--per-channel] [--reduce-range] [--exclude NODE...] [--no-embeddings]` */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { LambertError } from '../errors.js';
import { quantizeModel, type QuantizeReport } from '../../weights/quantize.js';
import { Progress } from './progress.js';

const USAGE = 'usage: lambert quantize IN.onnx OUT.onnx [--per-channel] [--reduce-range] [--exclude NODE...] [--no-embeddings]';
// Below this size quantizing takes well under a second and a progress bar is noise.
const LARGE_MODEL_BYTES = 50e6;

export async function quantizeCommand(args: string[]): Promise<number> {
  try {
    const { input, output, exclude, values } = parse(args);
    const source = await readFile(input).catch((err: Error) => {
      throw new LambertError('IO_ERROR', `cannot read "${input}": ${err.message}`, { cause: err });
    });
    let progress: Progress | undefined;
    const { bytes, report } = quantizeModel(source, {
      perChannel: values['per-channel'],
      reduceRange: values['reduce-range'],
      quantizeEmbeddings: !values['no-embeddings'],
      exclude,
      onProgress:
        source.length >= LARGE_MODEL_BYTES
          ? (done, total) => {
              progress ??= new Progress(total, 'quantize nodes');
              progress.update(done);
            }
          : undefined,
    });
    progress?.finish();
    // A misspelt name would otherwise quietly quantize the node it meant to keep.
    const unknown = exclude.filter((name) => !report.skipped.some((s) => s.node === name));
    if (unknown.length > 0) {
      throw new LambertError('INVALID_ARGUMENT', `--exclude: no MatMul, Gemm or weight Gather node is named ${unknown.map((n) => `"${n}"`).join(', ')}`);
    }
    await writeFile(output, bytes).catch((err: Error) => {
      throw new LambertError('IO_ERROR', `cannot write "${output}": ${err.message}`, { cause: err });
    });
    process.stdout.write(summary(input, output, report));
    return 0;
  } catch (err) {
    if (!(err instanceof LambertError)) throw err;
    process.stderr.write(`lambert quantize: ${err.message}\n`);
    return 1;
  }
}

function parse(args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      tokens: true,
      options: {
        'per-channel': { type: 'boolean', default: false },
        'reduce-range': { type: 'boolean', default: false },
        'no-embeddings': { type: 'boolean', default: false },
        exclude: { type: 'string', multiple: true, default: [] },
      },
    });
  } catch (err) {
    throw new LambertError('INVALID_ARGUMENT', `${(err as Error).message}\n${USAGE}`);
  }
  // `--exclude A B C` names several nodes: bare words right after an --exclude value belong to it.
  const files: string[] = [];
  const exclude = [...parsed.values.exclude];
  let afterExclude = false;
  for (const token of parsed.tokens) {
    if (token.kind === 'option') afterExclude = token.name === 'exclude';
    else if (token.kind === 'positional') (afterExclude && files.length >= 2 ? exclude : files).push(token.value);
  }
  if (files.length !== 2) throw new LambertError('INVALID_ARGUMENT', `expected IN.onnx and OUT.onnx, got ${files.length} file names\n${USAGE}`);
  return { input: files[0]!, output: files[1]!, exclude, values: parsed.values };
}

function summary(input: string, output: string, report: QuantizeReport): string {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  const lines = [
    `${input}: ${mb(report.before)} → ${output}: ${mb(report.after)} (${(report.before / report.after).toFixed(2)}× smaller)`,
    `quantized ${report.quantizedNodes.length} nodes; ${report.skipped.length} left in float32`,
  ];
  const byReason = new Map<string, string[]>();
  for (const { node, reason } of report.skipped) byReason.set(reason, [...(byReason.get(reason) ?? []), node]);
  for (const [reason, nodes] of byReason) {
    const shown = nodes.slice(0, 3).join(', ') + (nodes.length > 3 ? `, … (${nodes.length - 3} more)` : '');
    lines.push(`  ${nodes.length} × ${reason}: ${shown}`);
  }
  return `${lines.join('\n')}\n`;
}
