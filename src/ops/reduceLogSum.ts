import { REDUCE_NUMERIC, reduceOp } from './reduce.js';

export const ReduceLogSum = reduceOp({
  opType: 'ReduceLogSum',
  kind: 'logSum',
  axesInputSince: 18,
  dtypes: () => REDUCE_NUMERIC,
});
