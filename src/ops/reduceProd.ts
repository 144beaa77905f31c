import { REDUCE_NUMERIC, reduceOp } from './reduce.js';

export const ReduceProd = reduceOp({
  opType: 'ReduceProd',
  kind: 'prod',
  axesInputSince: 18,
  dtypes: () => REDUCE_NUMERIC,
});
