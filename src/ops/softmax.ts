import { softmax } from '../../kernels/softmax.js';
import { softmaxOp } from './softmaxCommon.js';

export const Softmax = softmaxOp('Softmax', softmax, false);
