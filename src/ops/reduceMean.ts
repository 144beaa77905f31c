import { REDUCE_NUMERIC, reduceOp } from './reduce.js';

export const ReduceMean = reduceOp({
  opType: 'ReduceMean',
  kind: 'mean',
  axesInputSince: 18,
  dtypes: () => REDUCE_NUMERIC,
});
