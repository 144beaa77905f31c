/**
 * Child-process driver for the handler tests (bundled with the handler, run with --expose-gc;
 * LAMBERT_MODEL and limits come from the environment):
 *   storm  — 10,000 invocations mixing valid and invalid requests after 6,000 to warm up; prints the
 *            requests whose status or error code was wrong, heap and RSS before and after, and
 *            the answer to one fixed request before and after the storm.
 *   events — runs the JSON array of events on stdin and prints the responses.
 */
import { handler } from '../../src/lambda/handler.js';
import { rng } from './models.js';

interface Template {
  name: string;
  event: () => unknown;
  status: number;
  /** The error code, for error responses. */
  code?: string;
}

const random = rng(42);
const WORDS = ['!', '"', '#', '$', 'the', 'movie', 'was', 'great', 'terrible', 'ünïcödé', '日本語', '🙂', 'a'.repeat(150), ''];
function text(maxWords: number): string {
  const n = 1 + Math.floor(random() * maxWords);
  return Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
}

const json = (body: unknown) => JSON.stringify(body);
const v1 = (body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) => ({
  httpMethod: 'POST',
  path: '/',
  headers,
  body,
  isBase64Encoded: false,
});
const v2 = (body: string, base64 = false, method = 'POST') => ({
  version: '2.0',
  rawPath: '/',
  headers: { 'content-type': 'application/json' },
  requestContext: { http: { method, path: '/' } },
  body: base64 ? Buffer.from(body).toString('base64') : body,
  isBase64Encoded: base64,
});
const huge = json({ task: 'classify', inputs: ['x'.repeat(7 * 1024 * 1024)] });
const hugeEvent = v2(huge);
const deep = `{"task":"classify","inputs":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;

const TEMPLATES: Template[] = [
  { name: 'v1 classify', event: () => v1(json({ task: 'classify', inputs: [text(40), text(8)] })), status: 200 },
  { name: 'v2 base64 classify', event: () => v2(json({ task: 'classify', inputs: text(200) }), true), status: 200 },
  { name: 'direct classify', event: () => ({ task: 'classify', inputs: [text(5), text(5), text(5)] }), status: 200 },
  // The storm's model is a classifier, with logits only: nothing to embed with.
  { name: 'embed', event: () => v2(json({ task: 'embed', inputs: [text(20)] })), status: 400, code: 'INVALID_ARGUMENT' },
  { name: 'similarity', event: () => v2(json({ task: 'similarity', pairs: [[text(10), text(10)]] })), status: 400, code: 'INVALID_ARGUMENT' },
  { name: 'GET', event: () => v2('', false, 'GET'), status: 200 },
  { name: 'malformed JSON', event: () => v2('{"task": "classify", "inputs": ['), status: 400, code: 'INVALID_JSON' },
  { name: 'empty body', event: () => v2(''), status: 400, code: 'INVALID_JSON' },
  { name: 'content type', event: () => v1(json({ task: 'classify', inputs: ['x'] }), { 'content-type': 'text/html' }), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'method', event: () => v2(json({ task: 'classify', inputs: ['x'] }), false, 'PUT'), status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'no task', event: () => v1(json({ inputs: ['x'] })), status: 400, code: 'INVALID_REQUEST' },
  { name: 'unknown task', event: () => v1(json({ task: 'translate', inputs: ['x'] })), status: 400, code: 'INVALID_REQUEST' },
  { name: 'no inputs', event: () => v1(json({ task: 'classify' })), status: 400, code: 'INVALID_REQUEST' },
  { name: 'non-string texts', event: () => v1(json({ task: 'embed', inputs: [1, null, { a: 1 }] })), status: 400, code: 'INVALID_REQUEST' },
  { name: 'empty inputs', event: () => v1(json({ task: 'classify', inputs: [] })), status: 400, code: 'INVALID_REQUEST' },
  { name: 'array body', event: () => v1(json([{ task: 'classify', inputs: ['x'] }])), status: 400, code: 'INVALID_REQUEST' },
  { name: 'bad pairs', event: () => v1(json({ task: 'similarity', pairs: [['only one']] })), status: 400, code: 'INVALID_REQUEST' },
  { name: 'deeply nested inputs', event: () => v1(deep), status: 400, code: 'INVALID_REQUEST' },
  {
    name: 'too many inputs',
    event: () => v1(json({ task: 'classify', inputs: Array.from({ length: 9 }, () => 'x') })),
    status: 400,
    code: 'TOO_MANY_INPUTS',
  },
  { name: 'body over 6 MB', event: () => hugeEvent, status: 413, code: 'PAYLOAD_TOO_LARGE' },
];

/** Direct invocations answer with the body alone; HTTP ones with a status. */
function statusOf(response: any): { status: number; body: any } {
  if (typeof response?.statusCode === 'number') return { status: response.statusCode, body: JSON.parse(response.body) };
  return { status: response?.error ? 400 : 200, body: response };
}

/** Heap and RSS after a full GC, at their lowest over the samples: RSS alone swings by ±5 % with the allocator. */
class Floor {
  heap = Infinity;
  rss = Infinity;
  sample(): void {
    const gc = (globalThis as { gc?: () => void }).gc!;
    gc();
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    this.heap = Math.min(this.heap, heapUsed);
    this.rss = Math.min(this.rss, rss);
  }
}

async function storm(): Promise<void> {
  const fixed = { task: 'classify', inputs: ['the movie was great !', 'terrible # $'] };
  const before = ((await handler(fixed)) as { results: unknown }).results;
  const mismatches: string[] = [];
  let invocations = 0;
  /** `count` invocations, cycling through the templates; memory sampled every 100 over the last 2,000. */
  const round = async (count: number, floor: Floor) => {
    for (let i = 0; i < count; i++) {
      const template = TEMPLATES[i % TEMPLATES.length]!;
      const { status, body } = statusOf(await handler(template.event(), {}));
      invocations++;
      const code = body?.error?.code;
      if ((status !== template.status || code !== template.code) && mismatches.length < 20) {
        mismatches.push(`${template.name}: ${status} ${code ?? ''} ${body?.error?.message ?? ''}`);
      }
      if (i >= count - 2000 && (count - i) % 100 === 1) floor.sample();
    }
  };
  // Long enough for the JIT, the plan cache and the allocator's high-water mark to settle.
  const warm = new Floor();
  await round(6_000, warm);
  const stormed = new Floor();
  invocations = 0;
  await round(10_000, stormed);
  const after = ((await handler(fixed)) as { results: unknown }).results;
  process.stdout.write(
    json({ invocations, mismatches, heapBefore: warm.heap, heapAfter: stormed.heap, rssBefore: warm.rss, rssAfter: stormed.rss, before, after }),
  );
}

async function events(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const out = [];
  for (const event of JSON.parse(input) as unknown[]) out.push(await handler(event, {}));
  process.stdout.write(json(out));
}

await (process.argv[2] === 'events' ? events() : storm());
