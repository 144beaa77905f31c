import { gelu } from '../../kernels/gelu.js';
import { biasActivationOp } from './biasActivation.js';

/** onnxruntime's exact (erf) GELU: 0.5·x·(1 + erf(x/√2)). */
export const Gelu = biasActivationOp({ opType: 'Gelu', bias: 'none', activation: gelu });
