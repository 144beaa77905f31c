/** The README stays true: its op table lists exactly what the registry runs. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registeredOps } from '../src/ops/registry.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('opens with exactly two fresh-machine commands: the main job and the tests', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = block.trim().split('\n');
    expect(commands).toHaveLength(2);
    expect(commands[0]).toMatch(/^npm ci && npm run build && node dist\/cli\.js classify /);
    expect(commands[1]).toBe('bash .ci/run');
  });

  it('lists every registered operator with its opset range', () => {
    const section = readme.slice(readme.indexOf('## Supported operators'));
    const rows = section.split('\n').filter((l) => /^\| (ai\.onnx|com\.microsoft) \|/.test(l));
    const listed = new Set<string>();
    for (const row of rows) {
      const [domain, range, ops] = row.split('|').slice(1, 4).map((c) => c.trim());
      for (const op of ops!.split(', ')) listed.add(`${domain === 'ai.onnx' ? '' : domain}::${op}@${range}`);
    }
    const registered = registeredOps()
      .filter((d) => d.domain !== 'lambert')
      .map((d) => `${d.domain}::${d.opType}@${d.versions[0]}–${d.versions[1]}`);
    expect([...listed].sort()).toEqual([...new Set(registered)].sort());
  });
});
