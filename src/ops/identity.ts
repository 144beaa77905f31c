import type { OpDefinition } from './types.js';
import { meta, need, needTensor } from './util.js';

// The loader drops Identity nodes; this covers graphs that reach the planner with one anyway.
// Later opsets only add sequence and optional types, which lambert does not have.
export const Identity: OpDefinition = {
  opType: 'Identity',
  domain: '',
  versions: [1, 21],
  view: true,
  infer(node, inputs) {
    const x = need(node, inputs, 0);
    return [meta(x.dtype, x.shape)];
  },
  run(node, inputs) {
    return [needTensor(node, inputs, 0)];
  },
};
