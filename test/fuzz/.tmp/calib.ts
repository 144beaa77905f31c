import { onnx } from '../../../src/proto.js';
import { encodeModel, model } from '../models.js';
function measure(label: string, g: any, count: number) {
  const bytes = encodeModel(model(g));
  (globalThis as any).gc();
  const h0 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const m = onnx.ModelProto.decode(bytes);
  (globalThis as any).gc();
  const h1 = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  console.log(label, 'file', bytes.length, 'per item', ((h1 - h0) / count).toFixed(1), 'per byte', ((h1 - h0) / bytes.length).toFixed(1), !!m);
}
const n = 1_000_000;
measure('empty nodes', { node: Array.from({ length: n }, () => ({})) }, n);
measure('nodes w/ 2 inputs', { node: Array.from({ length: n }, () => ({ input: ['a', 'b'] })) }, n);
measure('int64 data', { initializer: [{ int64Data: new Array(n).fill(1) }] }, n);
measure('int32 data', { initializer: [{ int32Data: new Array(n).fill(1) }] }, n);
measure('float data', { initializer: [{ floatData: new Array(n).fill(1.5) }] }, n);
measure('dims', { initializer: Array.from({ length: n / 10 }, () => ({ dims: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] })) }, n);
measure('attr ints', { node: [{ attribute: [{ ints: new Array(n).fill(1) }] }] }, n);
measure('empty attrs', { node: [{ attribute: Array.from({ length: n }, () => ({})) }] }, n);
measure('empty tensors', { initializer: Array.from({ length: n }, () => ({})) }, n);
measure('raw data', { initializer: Array.from({ length: n }, () => ({ rawData: new Uint8Array(1) })) }, n);
measure('strings', { node: [{ input: Array.from({ length: n }, () => '') }] }, n);
measure('value infos', { input: Array.from({ length: n }, () => ({ type: { tensorType: { shape: { dim: [{}] } } } })) }, n);
