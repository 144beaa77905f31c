import { REDUCE_NUMERIC, reduceOp } from './reduce.js';

export const ReduceL2 = reduceOp({
  opType: 'ReduceL2',
  kind: 'l2',
  axesInputSince: 18,
  dtypes: () => REDUCE_NUMERIC,
});
