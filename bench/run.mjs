// `npm run bench [-- flags]`: bundles bench/main.ts with esbuild and runs it. The bundle is written
// next to main.ts because bench/models.ts locates bench/models/ and ../shared/tools from its own
// import.meta.url; it is deleted when the run ends. onnxruntime-node/-web stay external (native
// addon, wasm files), and main.ts imports them lazily so lambert's child processes never load them.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const outfile = fileURLToPath(new URL(`./.bench-${process.pid}.mjs`, import.meta.url));
await build({
  entryPoints: [fileURLToPath(new URL('./main.ts', import.meta.url))],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['onnxruntime-node', 'onnxruntime-web', 'tinybench'],
  logLevel: 'warning',
});
let status = 1;
try {
  status = spawnSync(process.execPath, ['--expose-gc', outfile, ...process.argv.slice(2)], { stdio: 'inherit' }).status ?? 1;
} finally {
  rmSync(outfile, { force: true });
}
process.exit(status);
