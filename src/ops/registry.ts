/**
 * Every operator lambert runs, with the opset range each definition covers. Loading checks
 * each node against this list; nothing else decides whether a model is supported.
 */
import type { OpDefinition } from './types.js';
// ---- elementwise & logic ----
// ---- reductions, normalization, matmul ----
// ---- shape & data movement ----
import { Shape } from './shape.js';
// ---- quantization ----
// ---- com.microsoft ----

const definitions: readonly OpDefinition<any>[] = [
  // ---- elementwise & logic ----
  // ---- reductions, normalization, matmul ----
  // ---- shape & data movement ----
  Shape,
  // ---- quantization ----
  // ---- com.microsoft ----
];

const byKey = new Map<string, OpDefinition<any>[]>();
for (const def of definitions) {
  const key = `${def.domain}::${def.opType}`;
  const list = byKey.get(key) ?? [];
  list.push(def);
  byKey.set(key, list);
}

export function findOp(domain: string, opType: string, opset: number): OpDefinition<any> | undefined {
  return byKey.get(`${domain}::${opType}`)?.find((d) => opset >= d.versions[0] && opset <= d.versions[1]);
}

/** "11-17" style description of the opsets an op is supported at, or undefined if not at all. */
export function supportedOpsets(domain: string, opType: string): string | undefined {
  const list = byKey.get(`${domain}::${opType}`);
  return list?.map((d) => `${d.versions[0]}-${d.versions[1]}`).join(', ');
}

export function registeredOps(): readonly OpDefinition<any>[] {
  return definitions;
}
