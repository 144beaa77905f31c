/** `lambert run MODEL.onnx IDS...`: raw token ids in (comma-separated rows), outputs as JSON out. */
import { readFileSync } from 'node:fs';
import { runModel } from '../runModel.js';

export async function runCommand(args: string[]): Promise<number> {
  const [path, ...rows] = args;
  if (!path || rows.length === 0) {
    process.stderr.write('usage: lambert run MODEL.onnx 101,7592,102 [101,2088,102 ...]\n');
    return 2;
  }
  const tokens = rows.map((r) => r.split(',').map((v) => Number(v.trim())));
  const outputs = await runModel(readFileSync(path), tokens);
  const printable = Object.fromEntries(
    Object.entries(outputs).map(([name, t]) => [name, { type: t.type, dims: t.dims, data: Array.from(t.data as ArrayLike<number | bigint>, Number) }]),
  );
  process.stdout.write(`${JSON.stringify(printable)}\n`);
  return 0;
}
