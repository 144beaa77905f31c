// `npm run bench [-- flags]`: bundles bench/main.ts with esbuild and runs it. The bundle is written
// next to main.ts because bench/models.ts locates bench/models/ and ../shared/tools from its own
// import.meta.url; it is deleted when the run ends. onnxruntime-node/-web stay external (native
// addon, wasm files), and main.ts imports them lazily so lambert's child processes never load them.
//
// `--compare REV` also bundles lambert as it was at git revision REV (its product sources taken
// with `git archive`, so the working tree is left alone) and hands main.ts that bundle.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const outfile = fileURLToPath(new URL(`./.bench-${process.pid}.mjs`, import.meta.url));
const args = process.argv.slice(2);
const temporary = [outfile];

/** Bundles src/index.ts of revision `rev` into `lib`; exits with a message when git cannot. */
async function buildRevision(rev, lib) {
  const git = (...a) => spawnSync('git', ['-C', repo, ...a], { maxBuffer: 1 << 30 });
  const tree = git('ls-tree', '--name-only', rev);
  if (tree.status !== 0) {
    console.error(`--compare: ${rev} is not a revision here (${tree.stderr.toString().trim()})`);
    process.exit(2);
  }
  const present = new Set(tree.stdout.toString().split('\n'));
  const dirs = ['src', 'kernels', 'proto', 'weights'].filter((d) => present.has(d));
  const dir = mkdtempSync(join(tmpdir(), 'lambert-compare-'));
  try {
    const archive = git('archive', '--format=tar', rev, ...dirs);
    const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
    if (archive.status !== 0 || untar.status !== 0) {
      console.error(`--compare: could not extract ${rev}: ${archive.stderr}${untar.stderr ?? ''}`);
      process.exit(2);
    }
    // The revision's own imports (protobufjs) resolve from this checkout's node_modules.
    await build({ entryPoints: [join(dir, 'src/index.ts')], outfile: lib, bundle: true, platform: 'node', format: 'esm', target: 'node20', nodePaths: [join(repo, 'node_modules')], logLevel: 'warning' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const compareAt = args.indexOf('--compare');
if (compareAt >= 0) {
  const rev = args[compareAt + 1];
  if (!rev || rev.startsWith('--')) {
    console.error('--compare needs a git revision, e.g. `npm run bench -- --compare HEAD~1`');
    process.exit(2);
  }
  const lib = fileURLToPath(new URL(`./.bench-${process.pid}-${rev.replace(/[^\w.-]/g, '_')}.mjs`, import.meta.url));
  temporary.push(lib);
  await buildRevision(rev, lib);
  args.push('--compare-lib', lib);
}

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
  status = spawnSync(process.execPath, ['--expose-gc', outfile, ...args], { stdio: 'inherit' }).status ?? 1;
} finally {
  for (const file of temporary) rmSync(file, { force: true });
}
process.exit(status);
