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
export { Tokenizer } from './tokenizer/index.js';
export { TextPipeline, type Classification, type PipelineOptions } from './pipeline/index.js';
export { cosineSimilarity, spearman, pearson } from './metrics.js';
export { loadModelFolder, type ModelFolder, type ModelConfig, type FolderOptions } from './pipeline/folder.js';
