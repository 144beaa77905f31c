// `node esbuild.config.mjs`: the library (dist/index.js + declarations) and the CLI (dist/cli.js).
// `node esbuild.config.mjs lambda [--model DIR | --no-model]`: dist/lambda/, the folder to zip —
// handler.mjs plus the default model (or the folder DIR, or no model when it comes from a layer).
// Everything the product needs (protobufjs, long) is inlined: nothing needs node_modules at run time.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
};

if (process.argv[2] === 'lambda') {
  rmSync('dist/lambda', { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: ['src/lambda/handler.ts'],
    outfile: 'dist/lambda/handler.mjs',
    minify: true,
  });
  const args = process.argv.slice(3);
  const modelAt = args.indexOf('--model');
  const model = args.includes('--no-model') ? null : modelAt >= 0 ? args[modelAt + 1] : 'weights/default-model';
  if (model === undefined || (model !== null && !existsSync(model))) throw new Error(`--model needs a model folder, got ${model}`);
  if (model !== null) cpSync(model, 'dist/lambda/model', { recursive: true, dereference: true });
  const kb = (statSync('dist/lambda/handler.mjs').size / 1024).toFixed(1);
  console.log(`dist/lambda/handler.mjs: ${kb} KB${model === null ? ' (no model: set LAMBERT_MODEL)' : ` (+ model/ from ${model}: ${readdirSync('dist/lambda/model').join(', ')})`}`);
  process.exit(0);
}

// dist/lambda is the other build's; leave it alone.
for (const out of ['dist/index.js', 'dist/cli.js', 'dist/index.d.ts', 'dist/types']) rmSync(out, { recursive: true, force: true });
mkdirSync('dist', { recursive: true });

await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' });
if (existsSync('src/cli/main.ts')) {
  await build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  });
}

execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
// The generated protobuf typings are hand-off .d.ts files tsc does not copy.
mkdirSync('dist/types/proto', { recursive: true });
cpSync('proto/onnx.d.ts', 'dist/types/proto/onnx.d.ts');
writeFileSync('dist/index.d.ts', "export * from './types/src/index.js';\n");
