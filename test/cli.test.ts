/**
 * The built `lambert` CLI end to end: classify with the default model, inspect, run raw ids,
 * bulk classify with --input/--output, and `serve` answering an HTTP request as `npm start` does.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { onnx } from '../src/proto.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');
const FIXTURE = join(ROOT, 'test/fixtures/models/tiny-bert-cls.opset14.onnx');
const lambert = (...args: string[]) => execFileSync(process.execPath, [CLI, ...args], { cwd: ROOT }).toString();

beforeAll(() => {
  execFileSync(process.execPath, ['esbuild.config.mjs'], { cwd: ROOT, stdio: 'ignore' });
});

describe('lambert CLI', () => {
  it('classifies texts with the default model', () => {
    const lines = lambert('classify', 'a gorgeous, witty, seductive movie.', 'the worst film of the year.').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).result.label)).toEqual(['positive', 'negative']);
  });

  it('bulk-classifies a file into JSON lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambert-cli-'));
    const texts = Array.from({ length: 70 }, (_, i) => (i % 2 ? `a wonderful, moving film ${i}` : `a dull, tedious mess ${i}`));
    // Blank lines are texts too: line N of the output must answer line N of the input.
    texts[10] = '';
    texts[11] = '   ';
    writeFileSync(join(dir, 'in.txt'), `${texts.join('\n')}\n`);
    execFileSync(process.execPath, [CLI, 'classify', '--input', join(dir, 'in.txt'), '--output', join(dir, 'out.jsonl')], { stdio: 'ignore' });
    const rows = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.text)).toEqual(texts);
    expect(rows.every((r) => typeof r.result.score === 'number')).toBe(true);
  });

  it('inspects a model', () => {
    const text = lambert('inspect', FIXTURE);
    expect(text).toMatch(/input_ids: int64\[batch, sequence\]/);
    expect(text).toMatch(/supported: yes/);
    expect(text).toMatch(/MatMul/);
  });

  it('says a model that does not load is not supported, and why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lambert-cli-'));
    // Every op is known, but a weight the graph reads is missing.
    const model = onnx.ModelProto.decode(readFileSync(FIXTURE));
    const graph = model.graph as { initializer: unknown[] };
    graph.initializer = graph.initializer.slice(1);
    const broken = join(dir, 'broken.onnx');
    writeFileSync(broken, onnx.ModelProto.encode(model).finish());
    let text = '';
    try {
      lambert('inspect', broken);
    } catch (err) {
      text = (err as { stdout: Buffer }).stdout.toString();
    }
    expect(text).toMatch(/supported: no — INVALID_MODEL/);
  });

  it('reports bad flags and unreadable files as one-line errors, not stacks', () => {
    const run = (...args: string[]) => {
      try {
        execFileSync(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: 'pipe' });
        return '';
      } catch (err) {
        return (err as { stderr: Buffer }).stderr.toString();
      }
    };
    expect(run('classify', '--batch-size', 'abc', 'hello')).toMatch(/^lambert: INVALID_ARGUMENT: --batch-size needs a positive integer/);
    expect(run('classify', '--input', '/nonexistent/in.txt')).toMatch(/^lambert: IO_ERROR: cannot read --input/);
    expect(run('inspect', '/nonexistent/model.onnx').trim().split('\n')).toHaveLength(1);
  });

  it('runs raw ids', () => {
    const out = JSON.parse(lambert('run', FIXTURE, '1,5,9,2', '1,7,2'));
    expect(out.logits.dims).toEqual([2, 3]);
    expect(out.logits.data.every(Number.isFinite)).toBe(true);
  });

  it('serves the handler over HTTP', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const server = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        server.stderr.on('data', (d: Buffer) => d.toString().includes('serving') && resolve());
        server.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ task: 'classify', inputs: ['a gorgeous, witty, seductive movie.'] }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { results: { label: string }[] };
      expect(body.results[0]!.label).toBe('positive');
      const bad = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
      expect(bad.status).toBe(400);
    } finally {
      server.kill();
    }
  });
});
