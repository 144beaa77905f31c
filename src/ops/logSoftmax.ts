import { logSoftmax } from '../../kernels/softmax.js';
import { softmaxOp } from './softmaxCommon.js';

export const LogSoftmax = softmaxOp('LogSoftmax', logSoftmax, true);
