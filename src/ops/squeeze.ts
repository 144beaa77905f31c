import type { NodeInfo } from './types.js';
import { invalidInput, relabelOp } from './movement.js';
import { fail, normalizeAxis } from './util.js';

/** Without axes (or, as onnxruntime reads it, with none listed) every unit dim goes; a listed axis must have size 1. */
function squeezed(node: NodeInfo, dims: readonly number[], axes: readonly number[] | undefined): number[] {
  if (!axes || axes.length === 0) return dims.filter((d) => d !== 1);
  const dropped = new Array<boolean>(dims.length).fill(false);
  for (const axis of axes) {
    const a = normalizeAxis(node, axis, dims.length);
    if (dropped[a]) fail(node, `axis ${axis} appears twice in [${axes.join(',')}]`);
    if (dims[a] !== 1) {
      invalidInput(node, `cannot squeeze axis ${axis} of size ${dims[a]} in [${dims.join(',')}]`);
    }
    dropped[a] = true;
  }
  return dims.filter((_, i) => !dropped[i]);
}

// Opset 13 moved axes from an attribute to the optional input 1.
export const Squeeze = relabelOp('Squeeze', 'axes', 13, squeezed);
