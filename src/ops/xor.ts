import { comparisonOp } from './elementwise.js';

// Opset 1 broadcast only with the legacy `broadcast`/`axis` attributes.
export const Xor = comparisonOp('Xor', [7, 21], () => ['bool'], { test: (x, y) => (x !== 0) !== (y !== 0) });
