import { REDUCE_NUMERIC, reduceOp } from './reduce.js';

export const ReduceSum = reduceOp({
  opType: 'ReduceSum',
  kind: 'sum',
  axesInputSince: 13,
  dtypes: () => REDUCE_NUMERIC,
});
