/**
 * Shared by Max and Min: any number of same-typed inputs, numpy broadcasting (from opset 8;
 * equal shapes before), the elementwise extreme. NaN wins over numbers, as in numpy's
 * maximum / minimum and onnxruntime's NaN-propagating kernels.
 */
import { formatShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { broadcastShapes } from './broadcast.js';
import { broadcastBinary, checkType, FLOATS, NUMERIC, type BinaryLoop, type Scalar } from './elementwise.js';
import type { OpDefinition } from './types.js';
import { fail, meta, needTensor } from './util.js';

/** Element picker: x or y (for floats, a NaN operand is picked). */
export type Pick = (x: Scalar, y: Scalar) => Scalar;

function pickLoop(pick: Pick): BinaryLoop {
  return (a, ia, sa, b, ib, sb, o, io, n) => {
    const x = a as unknown as Scalar[];
    const y = b as unknown as Scalar[];
    const out = o as unknown as Scalar[];
    for (const end = io + n; io < end; io++, ia += sa, ib += sb) out[io] = pick(x[ia]!, y[ib]!);
  };
}

export function variadicExtremeOp(opType: string, pick: Pick): OpDefinition {
  const loop = pickLoop(pick);
  return {
    opType,
    domain: '',
    versions: [6, 21],
    infer(node, inputs) {
      if (inputs.length === 0) fail(node, 'needs at least one input');
      const metas = inputs.map((m, i) => m ?? fail(node, `input ${i} is required`));
      const dtype = metas[0]!.dtype;
      // Opset 12 added the integer types.
      checkType(node, dtype, node.opset >= 12 ? NUMERIC : FLOATS);
      for (const m of metas) if (m.dtype !== dtype) fail(node, `inputs must share one type, got ${dtype} and ${m.dtype}`);
      const shapes = metas.map((m) => m.shape);
      if (node.opset < 8 && shapes.every((s) => s !== null)) {
        const first = formatShape(shapes[0]!);
        for (const s of shapes) if (formatShape(s!) !== first) fail(node, `inputs must have one shape before opset 8, got ${first} and ${formatShape(s!)}`);
      }
      return [meta(dtype, broadcastShapes(node, shapes))];
    },
    run(node, inputs, out) {
      const xs: Tensor[] = inputs.map((_, i) => needTensor(node, inputs, i));
      const first = xs[0]!;
      const o = out.alloc(0, first.type, broadcastShapes(node, xs.map((x) => x.dims))!);
      if (xs.length === 1) {
        (o.data as Float64Array).set(first.data as Float64Array);
        return [o];
      }
      broadcastBinary(first, xs[1]!, o, loop);
      // The running result is as large as the output, so folding into it in place is safe.
      for (let k = 2; k < xs.length; k++) broadcastBinary(o, xs[k]!, o, loop);
      return [o];
    },
  };
}
