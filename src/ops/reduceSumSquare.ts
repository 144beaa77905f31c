import { REDUCE_NUMERIC, reduceOp } from './reduce.js';

export const ReduceSumSquare = reduceOp({
  opType: 'ReduceSumSquare',
  kind: 'sumSquare',
  axesInputSince: 18,
  dtypes: () => REDUCE_NUMERIC,
});
