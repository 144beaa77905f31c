import { InferenceSession } from '../../../src/session.js';
import { Tensor } from '../../../src/tensor.js';
import { embedModel, embedWeights, EMBED } from '../models.js';
const s = InferenceSession.createSync(embedModel(embedWeights()), { maxMemoryBytes: 1 << 20 });
function feeds(b: number, t: number, id = 1n) {
  return { input_ids: new Tensor('int64', new BigInt64Array(b * t).fill(id), [b, t]), attention_mask: new Tensor('int64', new BigInt64Array(b * t).fill(1n), [b, t]), features: new Tensor('float32', new Float32Array(b * t * 4), [b, t, 4]) };
}
for (const [label, f] of [['ok', feeds(2, 5)], ['long', feeds(1, 20)], ['ids', feeds(1, 3, 1000n)], ['big', feeds(3000, 16)]] as const) {
  try { const o = s.runSync(f as any); console.log(label, 'ok', o.logits!.dims); } catch (e: any) { console.log(label, e.code, e.message); }
}
