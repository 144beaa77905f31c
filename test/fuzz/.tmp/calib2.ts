import { readFileSync, readdirSync } from 'node:fs';
import { onnx } from '../../../src/proto.js';
import { decodedBytes } from '../../../src/load.js';
import { encodeModel, model } from '../models.js';
function measure(label: string, bytes: Uint8Array) {
  (globalThis as any).gc();
  const h0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const t = performance.now();
  const est = decodedBytes(bytes);
  const ms = performance.now() - t;
  const m = onnx.ModelProto.decode(bytes);
  (globalThis as any).gc();
  const h1 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  console.log(label.padEnd(40), 'file', bytes.length, 'actual', h1 - h0, 'estimate', est, 'ratio', (est / (h1 - h0)).toFixed(2), 'ms', ms.toFixed(1), !!m);
}
const n = 300_000;
const g = (x: any) => encodeModel(model(x));
measure('empty nodes', g({ node: Array.from({ length: n }, () => ({})) }));
measure('nodes w/ 2 inputs', g({ node: Array.from({ length: n }, () => ({ input: ['a', 'b'] })) }));
measure('int64 data', g({ initializer: [{ int64Data: new Array(n).fill(1) }] }));
measure('int32 data', g({ initializer: [{ int32Data: new Array(n).fill(1) }] }));
measure('dims', g({ initializer: Array.from({ length: n / 10 }, () => ({ dims: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] })) }));
measure('attr ints', g({ node: [{ attribute: [{ ints: new Array(n).fill(1) }] }] }));
measure('empty attrs', g({ node: [{ attribute: Array.from({ length: n }, () => ({})) }] }));
measure('empty tensors', g({ initializer: Array.from({ length: n }, () => ({})) }));
measure('raw data', g({ initializer: Array.from({ length: n }, () => ({ rawData: new Uint8Array(1) })) }));
measure('strings', g({ node: [{ input: Array.from({ length: n }, () => '') }] }));
measure('value infos', g({ input: Array.from({ length: n }, () => ({ type: { tensorType: { shape: { dim: [{}] } } } })) }));
const unknown = new Uint8Array(2 * n); for (let i = 0; i < n; i++) { unknown[2 * i] = (99 << 3) | 0; unknown[2 * i + 1] = 1; }
measure('unknown fields', unknown);
const dir = '/work/main/test/fixtures/models/';
for (const f of readdirSync(dir).filter((f) => f.endsWith('.onnx')).slice(0, 4)) measure(f, readFileSync(dir + f));
