import { InferenceSession } from '../../../src/session.js';
for (const depth of [100, 2000, 20000]) {
const fields = [7, ...Array.from({ length: depth }, () => [1, 5, 6]).flat()];
const varint = (n: number) => { const out: number[] = []; for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80); out.push(n); return out; };
const sizes = new Array<number>(fields.length + 1).fill(0);
for (let i = fields.length - 1; i >= 0; i--) sizes[i] = 1 + varint(sizes[i + 1]!).length + sizes[i + 1]!;
const bytes = new Uint8Array(sizes[0]!); let at = 0;
fields.forEach((field, i) => { bytes[at++] = (field << 3) | 2; for (const b of varint(sizes[i + 1]!)) bytes[at++] = b; });
try { InferenceSession.createSync(bytes); } catch (e: any) { console.log(depth, e.code, e.message.slice(0, 150)); }
}
