/**
 * Full-size models for benchmarks and the full-size parity check. They are not stored: they are
 * made on first use with ../shared/tools/make_models.py (Debian python3-torch + python3-onnx) and
 * ../shared/tools/quantize_like_ort.py, into bench/models/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MODELS_DIR = fileURLToPath(new URL('./models/', import.meta.url));
const TOOLS = fileURLToPath(new URL('../../shared/tools/', import.meta.url));
const PYTHON = '/usr/bin/python3';

export type FullSizeModel = 'tinybert-cls' | 'minilm-sbert';

function hasPythonDeps(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch, onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs the Debian packages the exporter needs when running as root; otherwise says what to run. */
function ensurePythonDeps(): void {
  if (hasPythonDeps()) return;
  if (process.getuid?.() === 0) {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'python3-torch', 'python3-onnx'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (hasPythonDeps()) return;
  }
  throw new Error('full-size models need PyTorch and onnx for /usr/bin/python3: apt-get install -y python3-torch python3-onnx');
}

/** Path of `name` at opset 14, fp32 or int8 (onnxruntime-style per-tensor dynamic quantization), made if missing. */
export function fullSizeModel(name: FullSizeModel, precision: 'fp32' | 'int8' = 'fp32'): string {
  if (!existsSync(TOOLS)) throw new Error(`${TOOLS} is missing: the model generators live in ../shared/tools`);
  mkdirSync(MODELS_DIR, { recursive: true });
  const fp32 = `${MODELS_DIR}${name}.opset14.onnx`;
  if (!existsSync(fp32)) {
    ensurePythonDeps();
    execFileSync(PYTHON, [`${TOOLS}make_models.py`, MODELS_DIR, '--only', name, '--opsets', '14'], { stdio: 'inherit' });
  }
  if (precision === 'fp32') return fp32;
  const int8 = `${MODELS_DIR}${name}.opset14.int8.onnx`;
  if (!existsSync(int8)) {
    ensurePythonDeps();
    execFileSync(PYTHON, [`${TOOLS}quantize_like_ort.py`, fp32, int8, '--gather'], { stdio: 'inherit' });
  }
  return int8;
}
