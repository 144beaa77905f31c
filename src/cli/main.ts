/** The `lambert` command. */
import { LambertError } from '../errors.js';
import { evalCommand } from './eval.js';
import { inspectCommand } from './inspect.js';
import { quantizeCommand } from './quantize.js';
import { runCommand } from './runIds.js';
import { textCommand } from './text.js';

const USAGE = `usage: lambert COMMAND [options]

  classify [--model DIR] (TEXT... | --input FILE) [--output FILE.jsonl]   labels for texts
  embed [--model DIR] (TEXT... | --input FILE) [--output FILE.jsonl]      sentence embeddings
  similarity [--model DIR] ("A<TAB>B"... | --input FILE)                  cosine similarity of pairs
  run MODEL.onnx IDS [IDS...]                                             raw token ids → outputs (ids comma-separated per row)
  inspect MODEL.onnx                                                      inputs, outputs, opsets, ops, support
  serve [--port N]                                                        the Lambda handler on http://127.0.0.1:N
  quantize IN.onnx OUT.onnx [--per-channel] [--reduce-range] [--exclude NODE...]
  eval --fp32 A.onnx --int8 B.onnx --vocab vocab.txt (--sst2 FILE | --sts FILE)

Without --model, the default model bundled with lambert is used.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'classify':
    case 'embed':
    case 'similarity':
      return textCommand(command, args);
    case 'run':
      return runCommand(args);
    case 'inspect':
      return inspectCommand(args);
    case 'quantize':
      return quantizeCommand(args);
    case 'eval':
      return evalCommand(args);
    case 'serve': {
      const portIndex = args.indexOf('--port');
      const port = portIndex >= 0 ? Number(args[portIndex + 1]) : Number(process.env.PORT ?? 3000);
      const { serve } = await import('../lambda/serve.js');
      await serve(port);
      process.stderr.write(`lambert serving on http://127.0.0.1:${port}/ (POST {"task":"classify","inputs":["..."]})\n`);
      return new Promise(() => {});
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`lambert: unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // A file the user named that cannot be read is their error to fix, not a crash to debug.
    const systemError = typeof (err as NodeJS.ErrnoException)?.syscall === 'string';
    const message =
      err instanceof LambertError ? `${err.code}: ${err.message}` : systemError ? (err as Error).message : ((err as Error)?.stack ?? String(err));
    process.stderr.write(`lambert: ${message}\n`);
    process.exitCode = 1;
  },
);
