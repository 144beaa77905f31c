import { biasGelu, gelu } from '../../kernels/gelu.js';
import { biasActivationOp } from './biasActivation.js';

/** Exact (erf) GELU of A + B, B broadcast along A's last axis; onnxruntime fuses Add → Gelu into it. */
export const BiasGelu = biasActivationOp({ opType: 'BiasGelu', bias: 'required', activation: gelu, biased: biasGelu });
