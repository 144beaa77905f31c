import { geluTanh } from '../../kernels/gelu.js';
import { biasActivationOp } from './biasActivation.js';

/** The tanh approximation of GELU, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), of X (+ bias along the last axis). */
export const FastGelu = biasActivationOp({ opType: 'FastGelu', bias: 'optional', activation: geluTanh });
