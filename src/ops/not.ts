import { unaryOp } from './elementwise.js';

export const Not = unaryOp('Not', [1, 21], () => ['bool'], {
  num: (x) => (x === 0 ? 1 : 0),
});
