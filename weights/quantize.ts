/**
 * Dynamic int8 quantization of an fp32 ONNX model, in exactly the form onnxruntime's
 * `quantize_dynamic` (QInt8 weights, uint8 activations) writes and `shared/tools/quantize_like_ort.py`
 * reproduces: same nodes, same names, same bytes. Each MatMul whose B is a 2-D fp32 initializer
 * becomes
 *   DynamicQuantizeLinear(A) → MatMulInteger(A_q, W_q, A_zp, W_zp) → Cast(float) → Mul(·, A_scale·W_scale)
 * and each Gather on a 2-D fp32 table becomes Gather(int8 table) → DequantizeLinear.
 */
import protobuf from 'protobufjs/minimal.js';
import { LambertError } from '../src/errors.js';
import { onnx, toSafeNumber } from '../src/proto.js';
import { tensorFromProto } from '../src/tensorProto.js';

export interface QuantizeOptions {
  /** One weight scale per output column instead of one per tensor. */
  perChannel?: boolean;
  /** 7-bit weights (±63), for CPUs whose int8 dot products overflow with 8-bit ones. */
  reduceRange?: boolean;
  /** Names of nodes to leave in float32. */
  exclude?: string[];
  /** Quantize embedding tables read by Gather (default true). */
  quantizeEmbeddings?: boolean;
  /** Called after each node is rewritten. */
  onProgress?: (done: number, total: number, nodeName: string) => void;
}

export interface QuantizeReport {
  /** Model size in bytes before and after. */
  before: number;
  after: number;
  quantizedNodes: string[];
  /** Weight-reading nodes that stay float32, and why. */
  skipped: { node: string; reason: string }[];
}

export interface QuantizeResult {
  bytes: Uint8Array;
  report: QuantizeReport;
}

const DataType = onnx.TensorProto.DataType;
const AttributeType = onnx.AttributeProto.AttributeType;

// DynamicQuantizeLinear first appears in opset 11; like onnxruntime, older models are moved up to it.
const MIN_OPSET = 11;
// np.maximum(float32 array, 1e-8) compares against 1e-8 rounded to float32.
const FLOOR_F32 = Math.fround(1e-8);

interface Layout {
  perColumn: boolean;
  qmax: number;
}
type Plan = { kind: 'matmul' | 'gather'; weight: string; layout: Layout } | { kind: 'skip'; reason: string } | undefined;
type NodeProto = onnx.NodeProto.$Properties;
type TensorProto = onnx.TensorProto.$Properties;
type GraphProto = onnx.GraphProto.$Properties;

export function quantizeModel(modelBytes: Uint8Array, options: QuantizeOptions = {}): QuantizeResult {
  const model = decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new LambertError('INVALID_MODEL', 'the model has no graph');
  // reduce_range narrows MatMul weights only; embedding tables always use the full ±127.
  const matmulLayout: Layout = { perColumn: options.perChannel ?? false, qmax: options.reduceRange ? 63 : 127 };
  const excluded = new Set(options.exclude ?? []);
  const initializers = new Map<string, TensorProto>();
  for (const init of graph.initializer ?? []) initializers.set(init.name ?? '', init);
  const original = graph.node ?? [];

  const plans = original.map((node) => planNode(node, initializers, excluded, options.quantizeEmbeddings ?? true, matmulLayout));
  // One int8 copy per weight: a second reader that needs it quantized differently keeps float32.
  const layouts = new Map<string, Layout>();
  plans.forEach((plan, i) => {
    if (!plan || plan.kind === 'skip') return;
    const first = layouts.get(plan.weight) ?? plan.layout;
    layouts.set(plan.weight, first);
    if (first.perColumn !== plan.layout.perColumn || first.qmax !== plan.layout.qmax) {
      plans[i] = { kind: 'skip', reason: `weight "${plan.weight}" is already quantized differently for another node` };
    }
  });
  const total = plans.filter((p) => p && p.kind !== 'skip').length;
  const report: QuantizeReport = { before: modelBytes.length, after: 0, quantizedNodes: [], skipped: [] };

  const nodes: NodeProto[] = [];
  const added: TensorProto[] = [];
  const quantizedWeights = new Set<string>();
  const quantizedActivations = new Set<string>();
  original.forEach((node, i) => {
    const plan = plans[i];
    const name = node.name ?? '';
    if (!plan || plan.kind === 'skip') {
      if (plan) report.skipped.push({ node: name, reason: plan.reason });
      nodes.push(node);
      return;
    }
    // Names derive from the node name as onnxruntime's do; unnamed nodes borrow their output's.
    const out = node.output![0]!;
    const base = name || out;
    if (!quantizedWeights.has(plan.weight)) {
      quantizedWeights.add(plan.weight);
      added.push(...quantizeWeight(initializers.get(plan.weight)!, plan.layout));
    }
    if (plan.kind === 'matmul') {
      const [a, w] = node.input as [string, string];
      if (!quantizedActivations.has(a)) {
        quantizedActivations.add(a);
        nodes.push(makeNode('DynamicQuantizeLinear', [a], [`${a}_quantized`, `${a}_scale`, `${a}_zero_point`], `${base}_dql`));
      }
      nodes.push(
        makeNode('MatMulInteger', [`${a}_quantized`, `${w}_quantized`, `${a}_zero_point`, `${w}_zero_point`], [`${out}_int32`], `${base}_quant`),
        makeNode('Cast', [`${out}_int32`], [`${out}_cast`], `${base}_cast`, intAttribute('to', DataType.FLOAT)),
        makeNode('Mul', [`${a}_scale`, `${w}_scale`], [`${out}_scales`], `${base}_scales_mul`),
        makeNode('Mul', [`${out}_cast`, `${out}_scales`], [out], `${base}_out_mul`),
      );
    } else {
      const [table, indices] = node.input as [string, string];
      nodes.push(
        makeNode('Gather', [`${table}_quantized`, indices], [`${out}_quantized`], base, intAttribute('axis', 0)),
        makeNode('DequantizeLinear', [`${out}_quantized`, `${table}_scale`, `${table}_zero_point`], [out], `${base}_dequant`),
      );
    }
    report.quantizedNodes.push(name);
    options.onProgress?.(report.quantizedNodes.length, total, name);
  });

  graph.node = nodes;
  // A weight read elsewhere too (tied embeddings, a subgraph) keeps its fp32 copy.
  const stillRead = referencedNames(graph);
  const dropped = new Set([...quantizedWeights].filter((name) => !stillRead.has(name)));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !dropped.has(t.name ?? '')), ...added];
  // Pre-IR-4 models list initializers as graph inputs too; a dropped one would become a required input.
  graph.input = (graph.input ?? []).filter((v) => !dropped.has(v.name ?? ''));
  if (report.quantizedNodes.length > 0) raiseOpset(model);

  const bytes = onnx.ModelProto.encode(model).finish();
  report.after = bytes.length;
  return { bytes, report };
}

function decode(bytes: Uint8Array): onnx.ModelProto {
  try {
    // Fields this schema does not know (newer ONNX) are carried through, not lost.
    const reader = protobuf.Reader.create(bytes);
    reader.discardUnknown = false;
    return onnx.ModelProto.decode(reader);
  } catch (err) {
    throw new LambertError('INVALID_MODEL', `not an ONNX model: ${(err as Error).message}`, { cause: err });
  }
}

function planNode(
  node: NodeProto,
  initializers: ReadonlyMap<string, TensorProto>,
  excluded: ReadonlySet<string>,
  embeddings: boolean,
  matmulLayout: Layout,
): Plan {
  if (node.domain && node.domain !== 'ai.onnx') return undefined;
  if (node.opType === 'Gemm') return { kind: 'skip', reason: 'Gemm stays float32, as in onnxruntime dynamic quantization' };
  if (node.opType === 'MatMul') {
    const weight = initializers.get(node.input?.[1] ?? '');
    if (!weight) return { kind: 'skip', reason: 'B is computed at run time, not a weight' };
    const unfit = unfitWeight(weight);
    if (unfit) return { kind: 'skip', reason: unfit };
    if (excluded.has(node.name ?? '')) return { kind: 'skip', reason: 'excluded' };
    return { kind: 'matmul', weight: weight.name!, layout: matmulLayout };
  }
  if (node.opType === 'Gather') {
    const table = initializers.get(node.input?.[0] ?? '');
    if (!table) return undefined;
    if (!embeddings) return { kind: 'skip', reason: 'embedding quantization is off' };
    const unfit = unfitWeight(table);
    if (unfit) return { kind: 'skip', reason: unfit };
    const axis = toSafeNumber(node.attribute?.find((a) => a.name === 'axis')?.i, `${node.name} axis`);
    if (axis !== 0) return { kind: 'skip', reason: `gathers along axis ${axis}, not rows` };
    if (excluded.has(node.name ?? '')) return { kind: 'skip', reason: 'excluded' };
    return { kind: 'gather', weight: table.name!, layout: { perColumn: false, qmax: 127 } };
  }
  return undefined;
}

function unfitWeight(weight: TensorProto): string | undefined {
  const rank = weight.dims?.length ?? 0;
  if (rank !== 2) return `weight "${weight.name}" has ${rank} dimensions, not 2`;
  if (weight.dataType !== DataType.FLOAT) {
    return `weight "${weight.name}" is ${DataType[weight.dataType ?? 0] ?? weight.dataType}, not FLOAT`;
  }
  if (weight.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    return `weight "${weight.name}" is in an external data file, which quantize does not read`;
  }
  const values = floatValues(weight);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) return `weight "${weight.name}" holds ${values[i]} at element ${i}`;
  }
  return undefined;
}

function floatValues(weight: TensorProto): Float32Array {
  return tensorFromProto(weight, 'initializer').data as Float32Array;
}

/**
 * Symmetric int8: zero point 0, scale = max|w| / qmax over the tensor or over each column of
 * the [K, N] weight, q = round-half-even(w / scale) clipped to ±qmax — numpy's float32
 * arithmetic step for step, so the bytes match onnxruntime's.
 */
function quantizeWeight(weight: TensorProto, { perColumn, qmax }: Layout): TensorProto[] {
  const w = floatValues(weight);
  const dims = weight.dims!.map((d) => toSafeNumber(d, `${weight.name} dims`));
  const columns = dims[1]!;
  const scales = perColumn ? columnScales(w, columns, qmax) : tensorScale(w, qmax);
  const q = new Int8Array(w.length);
  if (perColumn) {
    for (let i = 0; i < w.length; i += columns) {
      for (let j = 0; j < columns; j++) q[i + j] = quantizeValue(w[i + j]!, scales[j]!, qmax);
    }
  } else {
    const scale = scales[0]!;
    for (let i = 0; i < w.length; i++) q[i] = quantizeValue(w[i]!, scale, qmax);
  }
  const scaleDims = perColumn ? [columns] : [];
  return [
    tensor(`${weight.name}_quantized`, DataType.INT8, dims, new Uint8Array(q.buffer)),
    tensor(`${weight.name}_scale`, DataType.FLOAT, scaleDims, new Uint8Array(scales.buffer)),
    tensor(`${weight.name}_zero_point`, DataType.INT8, scaleDims, new Uint8Array(perColumn ? columns : 1)),
  ];
}

function tensorScale(w: Float32Array, qmax: number): Float32Array {
  let amax = 0;
  for (let i = 0; i < w.length; i++) amax = Math.max(amax, Math.abs(w[i]!));
  // Per tensor the floor and the division happen in float64, then round once to float32.
  return Float32Array.of(Math.max(amax, 1e-8) / qmax);
}

function columnScales(w: Float32Array, columns: number, qmax: number): Float32Array {
  const amax = new Float32Array(columns);
  for (let i = 0; i < w.length; i += columns) {
    for (let j = 0; j < columns; j++) {
      const v = Math.abs(w[i + j]!);
      if (v > amax[j]!) amax[j] = v;
    }
  }
  // float32 / python float is a float32 division in numpy; rounding the float64 quotient once is the same value.
  for (let j = 0; j < columns; j++) amax[j] = Math.max(amax[j]!, FLOOR_F32) / qmax;
  return amax;
}

function quantizeValue(value: number, scale: number, qmax: number): number {
  const x = Math.fround(value / scale);
  let r = Math.round(x);
  // Math.round takes halves up; numpy's round takes them to even.
  if (r - x === 0.5 && r % 2 !== 0) r -= 1;
  return r > qmax ? qmax : r < -qmax ? -qmax : r;
}

function tensor(name: string, dataType: number, dims: number[], rawData: Uint8Array): TensorProto {
  return onnx.TensorProto.create({ dims, dataType, name, rawData });
}

function intAttribute(name: string, value: number): onnx.AttributeProto.$Properties {
  return onnx.AttributeProto.create({ name, i: value, type: AttributeType.INT });
}

function makeNode(opType: string, input: string[], output: string[], name: string, ...attribute: onnx.AttributeProto.$Properties[]): NodeProto {
  return onnx.NodeProto.create({ input, output, name, opType, attribute });
}

/** Every value name read by a node of the graph or of any subgraph, plus the graph outputs. */
function referencedNames(graph: GraphProto, into = new Set<string>()): Set<string> {
  for (const node of graph.node ?? []) {
    for (const name of node.input ?? []) into.add(name);
    for (const attr of node.attribute ?? []) {
      if (attr.g) referencedNames(attr.g, into);
      for (const g of attr.graphs ?? []) referencedNames(g, into);
    }
  }
  for (const out of graph.output ?? []) into.add(out.name ?? '');
  return into;
}

/**
 * ai.onnx ops whose inputs or attributes changed incompatibly between an older opset and
 * MIN_OPSET, with the opset that changed them: a model using them cannot simply be relabelled.
 */
const CHANGED_BY_MIN_OPSET: Record<string, number> = { Clip: 11, Pad: 11, Resize: 11, Slice: 10, TopK: 10, Upsample: 10 };

function raiseOpset(model: onnx.ModelProto): void {
  const imports = (model.opsetImport ??= []);
  const main = imports.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!main) {
    imports.push(onnx.OperatorSetIdProto.create({ domain: '', version: MIN_OPSET }));
    return;
  }
  const opset = toSafeNumber(main.version, 'ai.onnx opset');
  if (opset >= MIN_OPSET) return;
  // Relabelling would leave, say, Clip's min/max attributes in a Clip-11 that takes them as inputs.
  const changed = new Set<string>();
  const visit = (graph: GraphProto) => {
    for (const node of graph.node ?? []) {
      const since = (!node.domain || node.domain === 'ai.onnx') && CHANGED_BY_MIN_OPSET[node.opType ?? ''];
      if (since && opset < since) changed.add(`${node.opType} (changed at opset ${since})`);
      for (const attr of node.attribute ?? []) {
        if (attr.g) visit(attr.g);
        for (const g of attr.graphs ?? []) visit(g);
      }
    }
  };
  visit(model.graph!);
  if (changed.size > 0) {
    throw new LambertError(
      'INVALID_ARGUMENT',
      `quantization needs ai.onnx opset ${MIN_OPSET} (DynamicQuantizeLinear) but this model is at opset ${opset} and uses ` +
        `${[...changed].join(', ')}; convert it first, e.g. onnx.version_converter.convert_version(model, ${MIN_OPSET})`,
    );
  }
  main.version = MIN_OPSET;
}
