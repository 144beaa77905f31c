import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The default model: model/ beside the bundled handler.mjs, else the repository's
 * weights/default-model seen from dist/ (the CLI) or from src/lambda/ (sources).
 */
export function defaultModelDir(): string {
  if (process.env.LAMBERT_MODEL) return process.env.LAMBERT_MODEL;
  for (const candidate of ['./model/', '../weights/default-model/', '../../weights/default-model/']) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return fileURLToPath(new URL('./model/', import.meta.url));
}
