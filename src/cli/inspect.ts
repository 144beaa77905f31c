/** `lambert inspect MODEL.onnx`: inputs, outputs, opsets, op histogram, size, and whether lambert runs it. */
import { readFileSync, statSync } from 'node:fs';
import { LambertError } from '../errors.js';
import { decodeModel, normalizeDomain } from '../load.js';
import { InferenceSession } from '../session.js';
import { findOp } from '../ops/registry.js';
import { dtypeFromOnnx } from '../tensorProto.js';
import type { onnx } from '../proto.js';

function describeValue(v: onnx.IValueInfoProto): string {
  const t = v.type?.tensorType;
  let type = '?';
  try {
    type = dtypeFromOnnx(t?.elemType, v.name ?? '');
  } catch {
    type = `elem_type ${t?.elemType}`;
  }
  // No shape at all is an unknown rank, not a scalar (which has a shape with no dims).
  if (!t?.shape) return `${v.name}: ${type} (shape unknown)`;
  const dims = (t.shape.dim ?? []).map((d) => (d.dimParam ? d.dimParam : String(d.dimValue ?? '?')));
  return `${v.name}: ${type}[${dims.join(', ')}]`;
}

export async function inspectCommand(args: string[]): Promise<number> {
  const path = args[0];
  if (!path) {
    process.stderr.write('usage: lambert inspect MODEL.onnx\n');
    return 2;
  }
  const model = decodeModel(readFileSync(path));
  const graph = model.graph!;
  const initializers = new Set((graph.initializer ?? []).map((i) => i.name));
  const opsets = new Map((model.opsetImport ?? []).map((o) => [normalizeDomain(o.domain), Number(o.version)]));
  const histogram = new Map<string, number>();
  const unsupported = new Set<string>();
  const loaderOps = new Set(['Constant', 'Identity', 'Dropout']);
  for (const node of graph.node ?? []) {
    const domain = normalizeDomain(node.domain);
    const key = domain ? `${domain}::${node.opType}` : node.opType!;
    histogram.set(key, (histogram.get(key) ?? 0) + 1);
    const opset = opsets.get(domain);
    const handled = (domain === '' && loaderOps.has(node.opType!)) || (opset !== undefined && findOp(domain, node.opType!, opset));
    if (!handled) unsupported.add(`${key} (opset ${opset ?? 'not imported'})`);
  }
  const lines = [
    `model: ${path} (${(statSync(path).size / 1e6).toFixed(2)} MB)`,
    `producer: ${model.producerName ?? ''} ${model.producerVersion ?? ''}, IR version ${model.irVersion}`,
    `opsets: ${[...opsets].map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ')}`,
    'inputs:',
    ...(graph.input ?? []).filter((i) => !initializers.has(i.name)).map((i) => `  ${describeValue(i)}`),
    'outputs:',
    ...(graph.output ?? []).map((o) => `  ${describeValue(o)}`),
    `nodes: ${(graph.node ?? []).length}, initializers: ${initializers.size}`,
    'ops:',
    ...[...histogram].sort((a, b) => b[1] - a[1]).map(([op, n]) => `  ${String(n).padStart(5)}  ${op}`),
  ];
  // Every op known is not enough: the model must also load (valid graph, weights and attributes).
  let verdict = unsupported.size === 0 ? 'supported: yes' : `supported: no — ${[...unsupported].join(', ')}`;
  if (unsupported.size === 0) {
    try {
      await (await InferenceSession.create(path)).release();
    } catch (err) {
      if (!(err instanceof LambertError)) throw err;
      verdict = `supported: no — ${err.code}: ${err.message}`;
    }
  }
  lines.push(verdict);
  process.stdout.write(`${lines.join('\n')}\n`);
  return verdict === 'supported: yes' ? 0 : 1;
}
