import type { NodeInfo } from './types.js';
import { fail } from './util.js';

/** Numpy-style broadcast of several shapes; null when any is unknown. Errors name the node. */
export function broadcastShapes(node: NodeInfo, shapes: readonly (readonly number[] | null)[]): number[] | null {
  if (shapes.some((s) => s === null)) return null;
  const rank = Math.max(0, ...shapes.map((s) => s!.length));
  const out = new Array<number>(rank).fill(1);
  for (const shape of shapes as readonly (readonly number[])[]) {
    const offset = rank - shape.length;
    for (let i = 0; i < shape.length; i++) {
      const d = shape[i]!;
      const o = out[offset + i]!;
      if (d === o || d === 1) continue;
      if (o === 1) out[offset + i] = d;
      else fail(node, `shapes ${shapes.map((s) => `[${s!.join(',')}]`).join(' and ')} do not broadcast`);
    }
  }
  return out;
}

/**
 * Element strides of `shape` read as if broadcast to `outShape` (0 on broadcast axes), so a
 * kernel can walk any input with one odometer over the output.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = shape.length - 1, o = rank - 1; i >= 0; i--, o--) {
    strides[o] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i]!;
  }
  return strides;
}
