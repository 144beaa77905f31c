import { sizeOf } from '../tensor.js';
import type { NodeInfo } from './types.js';
import { invalidInput, relabelOp } from './movement.js';
import { fail } from './util.js';

/** numpy.reshape with ONNX's twists: 0 copies the input dim (unless allowzero), one -1 is inferred. */
function reshaped(node: NodeInfo, dims: readonly number[], shape: readonly number[] | undefined): number[] {
  if (!shape) fail(node, 'shape is required');
  const allowZero = node.attrs.int('allowzero', 0) !== 0;
  const result = new Array<number>(shape.length);
  let inferred = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    let d = shape[i]!;
    if (d === -1) {
      if (inferred >= 0) fail(node, `shape [${shape.join(',')}] has more than one -1`);
      inferred = i;
      continue;
    }
    if (d < -1) fail(node, `shape [${shape.join(',')}] has an invalid dimension ${d}`);
    if (d === 0 && !allowZero) {
      if (i >= dims.length) fail(node, `shape [${shape.join(',')}] copies dim ${i} of a rank-${dims.length} input`);
      d = dims[i]!;
    }
    result[i] = d;
    known *= d;
  }
  const total = sizeOf(dims);
  if (inferred >= 0) {
    if (allowZero && shape.includes(0)) fail(node, `shape [${shape.join(',')}] mixes 0 and -1 with allowzero=1`);
    // onnxruntime refuses to infer -1 next to a zero dim, even for an empty input.
    if (known === 0 || total % known !== 0) mismatch(node, dims, shape);
    result[inferred] = total / known;
  } else if (known !== total) mismatch(node, dims, shape);
  return result;
}

function mismatch(node: NodeInfo, dims: readonly number[], shape: readonly number[]): never {
  invalidInput(node, `cannot reshape [${dims.join(',')}] (${sizeOf(dims)} elements) to [${shape.join(',')}]`);
}

// Reshape-1 took the shape as an attribute, opset 5 made it input 1, opset 14 added allowzero.
export const Reshape = relabelOp('Reshape', 'shape', 5, reshaped);
