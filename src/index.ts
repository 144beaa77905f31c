export { Tensor, type DType, type TensorData } from './tensor.js';
export { LambertError, type LambertErrorCode } from './errors.js';
export {
  InferenceSession,
  type SessionOptions,
  type FeedsType,
  type FetchesType,
  type ReturnType,
  type InputMetadata,
} from './session.js';
export { runModel, type RunModelOptions } from './runModel.js';
export { registeredOps } from './ops/registry.js';
