/**
 * Protobuf building blocks for the fuzzer: tensors, value infos and attributes as plain
 * `$Properties` objects, and a small known-good model (word + position embeddings, an extra
 * float feature input, a projection and a mean) with a reference implementation, so hostile
 * feeds can be told apart from correct results.
 */
import Long from 'long';
import { onnx } from '../../src/proto.js';

export type Model = onnx.ModelProto.$Properties;
export type Graph = onnx.GraphProto.$Properties;
export type NodeProps = onnx.NodeProto.$Properties;
export type TensorProps = onnx.TensorProto.$Properties;
export type AttributeProps = onnx.AttributeProto.$Properties;
export type ValueInfo = onnx.ValueInfoProto.$Properties;

export const DataType = onnx.TensorProto.DataType;
export const AttributeType = onnx.AttributeProto.AttributeType;
export const DataLocation = onnx.TensorProto.DataLocation;

export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function valueInfo(name: string, elemType: number, dims: readonly (number | string | Long)[] | null): ValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        ...(dims === null
          ? {}
          : { shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } }),
      },
    },
  };
}

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorProps {
  const data = Float32Array.from(values);
  return { name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(data.buffer) };
}

export function int64Tensor(name: string, dims: number[], values: readonly (number | bigint)[]): TensorProps {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims, dataType: DataType.INT64, rawData: new Uint8Array(data.buffer) };
}

export function node(opType: string, inputs: string[], outputs: string[], attribute: AttributeProps[] = [], domain = ''): NodeProps {
  return { opType, input: inputs, output: outputs, attribute, domain, name: `${opType}_${outputs[0] ?? ''}` };
}

export const intAttr = (name: string, i: number | Long): AttributeProps => ({ name, type: AttributeType.INT, i });
export const intsAttr = (name: string, ints: (number | Long)[]): AttributeProps => ({ name, type: AttributeType.INTS, ints });

export function model(graph: Graph, opset = 13, extraImports: { domain: string; version: number }[] = []): Model {
  return {
    irVersion: 8,
    producerName: 'lambert-fuzz',
    opsetImport: [{ domain: '', version: opset }, ...extraImports],
    graph,
  };
}

/** A deterministic generator so that a case's seed alone reproduces its data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The known-good model's sizes: ids index a VOCAB-row table, positions a POSITIONS-row one. */
export const EMBED = { VOCAB: 1000, POSITIONS: 16, WIDTH: 4, FEATURES: 4, CLASSES: 3 } as const;

export interface EmbedWeights {
  words: Float32Array;
  positions: Float32Array;
  projection: Float32Array;
}

export function embedWeights(): EmbedWeights {
  const r = rng(1234);
  const fill = (n: number) => Float32Array.from({ length: n }, () => Math.round((r() * 2 - 1) * 64) / 64);
  const { VOCAB, POSITIONS, WIDTH, FEATURES, CLASSES } = EMBED;
  return {
    words: fill(VOCAB * WIDTH),
    positions: fill(POSITIONS * WIDTH),
    projection: fill((2 * WIDTH + FEATURES) * CLASSES),
  };
}

/**
 * logits[b] = mean over t of concat(words[ids[b,t]], positions[t], features[b,t]) · projection,
 * and tokens[b] = sum of the attention mask. Positions come from Range over the sequence
 * length, so a sequence longer than the position table fails inside the graph, as in BERT.
 */
export function embedModel(w: EmbedWeights): Uint8Array {
  const { VOCAB, POSITIONS, WIDTH, FEATURES, CLASSES } = EMBED;
  const graph: Graph = {
    name: 'embed',
    input: [
      valueInfo('input_ids', DataType.INT64, ['batch', 'sequence']),
      valueInfo('attention_mask', DataType.INT64, ['batch', 'sequence']),
      valueInfo('features', DataType.FLOAT, ['batch', 'sequence', FEATURES]),
    ],
    output: [valueInfo('logits', DataType.FLOAT, ['batch', CLASSES]), valueInfo('tokens', DataType.INT64, ['batch'])],
    initializer: [
      floatTensor('words', [VOCAB, WIDTH], w.words),
      floatTensor('positions', [POSITIONS, WIDTH], w.positions),
      floatTensor('projection', [2 * WIDTH + FEATURES, CLASSES], w.projection),
      int64Tensor('zero', [], [0]),
      int64Tensor('one', [], [1]),
    ],
    node: [
      node('Gather', ['words', 'input_ids'], ['word_vectors']),
      node('Shape', ['input_ids'], ['ids_shape']),
      node('Gather', ['ids_shape', 'one'], ['seq_len']),
      node('Range', ['zero', 'seq_len', 'one'], ['position_ids']),
      node('Gather', ['positions', 'position_ids'], ['position_rows']),
      node('Shape', ['word_vectors'], ['word_shape']),
      node('Expand', ['position_rows', 'word_shape'], ['position_vectors']),
      node('Concat', ['word_vectors', 'position_vectors', 'features'], ['joined'], [intAttr('axis', 2)]),
      node('MatMul', ['joined', 'projection'], ['scores']),
      node('ReduceMean', ['scores'], ['logits'], [intsAttr('axes', [1]), intAttr('keepdims', 0)]),
      node('ReduceSum', ['attention_mask'], ['tokens'], [intsAttr('axes', [1]), intAttr('keepdims', 0)]),
    ],
  };
  return encodeModel(model(graph, 12));
}

/** What embedModel computes, in float64 then rounded: the fuzzer's reference for valid feeds. */
export function embedReference(
  w: EmbedWeights,
  ids: BigInt64Array,
  mask: BigInt64Array,
  features: Float32Array,
  batch: number,
  seq: number,
): { logits: Float32Array; tokens: BigInt64Array } {
  const { WIDTH, FEATURES, CLASSES } = EMBED;
  const joined = 2 * WIDTH + FEATURES;
  const logits = new Float32Array(batch * CLASSES);
  const tokens = new BigInt64Array(batch);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      const row = new Float64Array(joined);
      const id = Number(ids[b * seq + t]!);
      for (let k = 0; k < WIDTH; k++) row[k] = w.words[id * WIDTH + k]!;
      for (let k = 0; k < WIDTH; k++) row[WIDTH + k] = w.positions[t * WIDTH + k]!;
      for (let k = 0; k < FEATURES; k++) row[2 * WIDTH + k] = features[(b * seq + t) * FEATURES + k]!;
      for (let c = 0; c < CLASSES; c++) {
        let dot = 0;
        for (let k = 0; k < joined; k++) dot += row[k]! * w.projection[k * CLASSES + c]!;
        logits[b * CLASSES + c] += dot / seq;
      }
      tokens[b]! += mask[b * seq + t]!;
    }
  }
  return { logits, tokens };
}
