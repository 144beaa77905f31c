import type { NodeInfo } from './types.js';
import { relabelOp } from './movement.js';
import { fail, normalizeAxis } from './util.js';

function unsqueezed(node: NodeInfo, dims: readonly number[], axes: readonly number[] | undefined): number[] {
  if (!axes) fail(node, 'axes are required');
  const rank = dims.length + axes.length;
  const inserted = new Array<boolean>(rank).fill(false);
  for (const axis of axes) {
    const a = normalizeAxis(node, axis, rank);
    if (inserted[a]) fail(node, `axis ${axis} appears twice in [${axes.join(',')}]`);
    inserted[a] = true;
  }
  const result = new Array<number>(rank);
  for (let i = 0, j = 0; i < rank; i++) result[i] = inserted[i] ? 1 : dims[j++]!;
  return result;
}

// Opset 13 moved axes from an attribute to input 1.
export const Unsqueeze = relabelOp('Unsqueeze', 'axes', 13, unsqueezed);
