import { variadicExtremeOp } from './minMax.js';

// Opset 1 differs only in the legacy `consumed_inputs` attribute.
export const Max = variadicExtremeOp('Max', (x, y) => (x > y || x !== x ? x : y));
