import { extremeTypes, reduceOp } from './reduce.js';

export const ReduceMax = reduceOp({
  opType: 'ReduceMax',
  kind: 'max',
  axesInputSince: 18,
  dtypes: extremeTypes,
});
