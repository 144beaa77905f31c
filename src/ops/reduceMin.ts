import { extremeTypes, reduceOp } from './reduce.js';

export const ReduceMin = reduceOp({
  opType: 'ReduceMin',
  kind: 'min',
  axesInputSince: 18,
  dtypes: extremeTypes,
});
