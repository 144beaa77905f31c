/**
 * The deployable folder: dist/lambda/ copied alone into an empty directory must answer v1, v2,
 * base64 and direct events, reject bad requests with 4xx JSON, and reproduce the trained
 * models' recorded quality from raw text.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { spearman } from '../src/metrics.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHARED = fileURLToPath(new URL('../../shared/', import.meta.url));
let deployDir = '';

/**
 * Invokes the copied handler.mjs in a fresh process (as Lambda would) with each event in turn;
 * with `remainingMs` the context says that much of the invocation's time is left.
 */
function invoke(events: unknown[], env: Record<string, string> = {}, remainingMs?: number): any[] {
  const driver = join(deployDir, 'driver.mjs');
  writeFileSync(
    driver,
    `import { handler } from './handler.mjs';
     const events = JSON.parse(await new Promise((r) => { let s = ''; process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => r(s)); }));
     const out = [];
     const remaining = ${remainingMs ?? 'undefined'};
     const context = remaining === undefined ? {} : { getRemainingTimeInMillis: () => remaining };
     for (const e of events) out.push(await handler(e, context));
     process.stdout.write(JSON.stringify(out));`,
  );
  const stdout = execFileSync(process.execPath, [driver], {
    cwd: deployDir,
    input: JSON.stringify(events),
    env: { PATH: process.env.PATH ?? '', ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(stdout.toString());
}

const body = (request: unknown) => JSON.stringify(request);
const v1 = (request: unknown) => ({ httpMethod: 'POST', path: '/', headers: { 'Content-Type': 'application/json' }, body: body(request), isBase64Encoded: false });
const v2 = (raw: string, base64 = false) => ({
  version: '2.0',
  rawPath: '/',
  headers: { 'content-type': 'application/json' },
  requestContext: { http: { method: 'POST', path: '/' } },
  body: base64 ? Buffer.from(raw).toString('base64') : raw,
  isBase64Encoded: base64,
});

beforeAll(() => {
  execFileSync(process.execPath, ['esbuild.config.mjs', 'lambda'], { cwd: ROOT, stdio: 'ignore' });
  deployDir = mkdtempSync(join(tmpdir(), 'lambert-lambda-'));
  cpSync(join(ROOT, 'dist/lambda'), deployDir, { recursive: true });
});

describe('dist/lambda deployed alone', () => {
  it('is one small handler.mjs plus the default model', () => {
    const size = statSync(join(deployDir, 'handler.mjs')).size;
    expect(size).toBeLessThan(5 * 1024 * 1024);
    expect(existsSync(join(deployDir, 'model/config.json'))).toBe(true);
    expect(existsSync(join(deployDir, 'node_modules'))).toBe(false);
  });

  it('answers v1, v2, v2 base64 and direct events, and rejects bad ones with 4xx JSON', () => {
    const classify = { task: 'classify', inputs: ['a gorgeous, witty, seductive movie.', 'the worst film of the year.'] };
    const [r1, r2, r3, direct, embed, sim, badJson, badInputs, noTask, tooBig] = invoke([
      v1(classify),
      v2(body(classify)),
      v2(body(classify), true),
      classify,
      v1({ task: 'embed', inputs: 'hello world' }),
      v1({ task: 'similarity', pairs: [['a cat sits', 'a cat is sitting']] }),
      v2('{"task": "classify", "inputs": ['),
      v1({ task: 'classify', inputs: [1, 2] }),
      v1({ inputs: ['x'] }),
      v2(body({ task: 'classify', inputs: ['x'.repeat(7 * 1024 * 1024)] })),
    ]);
    for (const r of [r1, r2, r3]) {
      expect(r.statusCode).toBe(200);
      const parsed = JSON.parse(r.body);
      expect(parsed.results).toHaveLength(2);
      expect(parsed.results[0].label).toBe('positive');
      expect(parsed.results[1].label).toBe('negative');
      expect(parsed.timing.totalMs).toBeGreaterThanOrEqual(0);
    }
    expect(direct.results).toEqual(JSON.parse(r1.body).results);
    // The default model is a classifier: it has no embedding output to give.
    for (const r of [embed, sim]) {
      expect(r.statusCode).toBe(400);
      expect(JSON.parse(r.body).error.message).toMatch(/cannot embed/);
    }
    expect(badJson.statusCode).toBe(400);
    expect(JSON.parse(badJson.body).error.code).toBe('INVALID_JSON');
    expect(badInputs.statusCode).toBe(400);
    expect(noTask.statusCode).toBe(400);
    expect(tooBig.statusCode).toBe(413);
    expect(JSON.parse(r1.body).model).toBe('model');
  });

  it('stops with 503 TIMEOUT instead of running past the invocation deadline', () => {
    const classify = { task: 'classify', inputs: ['a gorgeous, witty, seductive movie.'] };
    // Less time left than the safety margin (1 s): not even the first batch may start.
    const [http, direct] = invoke([v1(classify), classify], {}, 500);
    expect(http.statusCode).toBe(503);
    expect(JSON.parse(http.body).error.code).toBe('TIMEOUT');
    expect(direct.error.code).toBe('TIMEOUT');
    const [ok] = invoke([v1(classify)], {}, 60_000);
    expect(ok.statusCode).toBe(200);
  });

  it('answers alike with the init warm-up (default), without it (LAMBERT_WARMUP_RUNS=0) and with more runs', () => {
    const classify = { task: 'classify', inputs: ['a gorgeous, witty, seductive movie.', 'dull'] };
    const answers = ['', '0', '5'].map((runs) => invoke([classify], runs === '' ? {} : { LAMBERT_WARMUP_RUNS: runs })[0]);
    expect(answers[0].results).toHaveLength(2);
    // Everything but the timings.
    for (const a of answers) delete a.timing;
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });
});

describe.skipIf(!existsSync(SHARED))('trained models from raw text through the handler', () => {
  it('sst2-tiny: SST-2 dev accuracy equals the recorded fp32 accuracy ± 0.5 point', () => {
    const modelDir = join(SHARED, 'models/trained/sst2-tiny');
    const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'));
    const rows = readFileSync(join(SHARED, 'data/sst2/dev.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    const [result] = invoke([{ task: 'classify', inputs: rows.map((r) => r[0]) }], { LAMBERT_MODEL: modelDir, LAMBERT_MAX_INPUTS: '100000' });
    const correct = result.results.filter((r: { label: string }, i: number) => (r.label === 'positive' ? '1' : '0') === rows[i]![1]).length;
    const accuracy = correct / rows.length;
    expect(Math.abs(accuracy - config.sst2_dev_accuracy_fp32_torch)).toBeLessThanOrEqual(0.005);
  });

  it('sts-tiny: embed returns unit-length sentence embeddings', () => {
    const [result] = invoke([{ task: 'embed', inputs: ['a man is playing a guitar.', 'a woman slices a tomato.'] }], {
      LAMBERT_MODEL: join(SHARED, 'models/trained/sts-tiny'),
    });
    expect(result.results).toHaveLength(2);
    for (const v of result.results as number[][]) {
      expect(v).toHaveLength(128);
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
    }
  });

  it('sts-tiny: STS-B test Spearman equals the recorded value ± 0.005', () => {
    const modelDir = join(SHARED, 'models/trained/sts-tiny');
    const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'));
    const rows = readFileSync(join(SHARED, 'data/stsbenchmark/sts-test.csv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    const [result] = invoke([{ task: 'similarity', pairs: rows.map((r) => [r[5], r[6]]) }], { LAMBERT_MODEL: modelDir, LAMBERT_MAX_INPUTS: '100000' });
    expect(result.results).toHaveLength(rows.length);
    const rho = spearman(result.results, rows.map((r) => Number(r[4])));
    expect(Math.abs(rho - config.stsb_test_spearman_fp32_torch)).toBeLessThanOrEqual(0.005);
  });
});
