import { REDUCE_NUMERIC, reduceOp } from './reduce.js';

export const ReduceL1 = reduceOp({
  opType: 'ReduceL1',
  kind: 'l1',
  axesInputSince: 18,
  dtypes: () => REDUCE_NUMERIC,
});
