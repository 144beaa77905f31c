import { REDUCE_NUMERIC, reduceOp } from './reduce.js';

export const ReduceLogSumExp = reduceOp({
  opType: 'ReduceLogSumExp',
  kind: 'logSumExp',
  axesInputSince: 18,
  dtypes: () => REDUCE_NUMERIC,
});
