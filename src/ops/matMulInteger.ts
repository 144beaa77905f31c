import type { PackedQuantB } from '../../kernels/qgemm.js';
import { matmulGeometry, paramRuns, prepackB, quantMatMul } from './quantMatMul.js';
import { QUANT_TYPES, checkType, checkZeroPointType } from './quantParams.js';
import type { OpDefinition } from './types.js';
import { meta, need, needTensor } from './util.js';

/** int32 (A − a_zero_point) · (B − b_zero_point), numpy-matmul batched; zero points per tensor, per row of A, per column of B. */
export const MatMulInteger: OpDefinition<PackedQuantB[] | undefined> = {
  opType: 'MatMulInteger',
  domain: '',
  versions: [10, 21],
  infer(node, inputs) {
    const a = need(node, inputs, 0);
    const b = need(node, inputs, 1);
    checkType(node, a, 'A', QUANT_TYPES);
    checkType(node, b, 'B', QUANT_TYPES);
    checkZeroPointType(node, inputs[2], 'a_zero_point', a);
    checkZeroPointType(node, inputs[3], 'b_zero_point', b);
    if (!a.shape || !b.shape) return [meta('int32', null)];
    const geo = matmulGeometry(node, a.shape, b.shape);
    if (inputs[2]?.shape) paramRuns(node, 'a_zero_point', inputs[2].shape, geo, 'a');
    if (inputs[3]?.shape) paramRuns(node, 'b_zero_point', inputs[3].shape, geo, 'b');
    return [meta('int32', geo.dims)];
  },
  prepare(node, inputs) {
    return prepackB(node, inputs[1]);
  },
  run(node, inputs, out, packed) {
    const a = needTensor(node, inputs, 0);
    const b = needTensor(node, inputs, 1);
    const geo = matmulGeometry(node, a.dims, b.dims);
    const y = out.alloc(0, 'int32', geo.dims);
    quantMatMul(node, geo, a, inputs[2], b, inputs[3], packed, y.data);
    return [y];
  },
};
