/**
 * Load: ONNX bytes → a validated graph in execution order. Constant nodes become
 * initializers, Identity and inference-mode Dropout disappear, cycles and undefined inputs are
 * rejected, and every unsupported (domain, op, opset) is reported in one error.
 */
import { Attributes, type AttributeValue } from './attributes.js';
import { LambertError, describeNode } from './errors.js';
import { findOp, supportedOpsets } from './ops/registry.js';
import type { NodeInfo, OpDefinition } from './ops/types.js';
import { onnx, toClampedNumber, toSafeNumber } from './proto.js';
import { Tensor, type DType } from './tensor.js';
import { dtypeFromOnnx, releaseExternalFiles, tensorFromProto, type TensorDecodeOptions } from './tensorProto.js';

export interface ValueDecl {
  readonly name: string;
  readonly dtype: DType;
  /** Declared dims: a number when fixed, a string for a named dynamic axis, null when unknown; null for no shape. */
  readonly dims: readonly (number | string | null)[] | null;
}

export interface GraphNode extends NodeInfo {
  readonly def: OpDefinition;
}

export interface GraphOutput extends ValueDecl {
  /** The value that produces it, after Identity/Dropout removal. */
  readonly source: string;
}

export interface Graph {
  readonly inputs: readonly ValueDecl[];
  readonly outputs: readonly GraphOutput[];
  readonly initializers: ReadonlyMap<string, Tensor>;
  /** Topologically sorted. */
  readonly nodes: readonly GraphNode[];
  readonly opsets: ReadonlyMap<string, number>;
  readonly irVersion: number;
  readonly producer: string;
}

export interface LoadOptions extends TensorDecodeOptions {}

export function normalizeDomain(domain: string | null | undefined): string {
  return !domain || domain === 'ai.onnx' ? '' : domain;
}

export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new LambertError('INVALID_MODEL', `not an ONNX model: ${(err as Error).message}`, { cause: err });
  }
}

export function loadGraph(bytes: Uint8Array, options: LoadOptions = {}): Graph {
  const model = decodeModel(bytes);
  try {
    return buildGraph(model, options);
  } finally {
    releaseExternalFiles();
  }
}

function valueDecl(info: onnx.IValueInfoProto, what: string): ValueDecl {
  const name = info.name ?? '';
  const tensorType = info.type?.tensorType;
  if (!tensorType) throw new LambertError('UNSUPPORTED_TYPE', `${what} "${name}" is not a tensor`);
  const dtype = dtypeFromOnnx(tensorType.elemType, `${what} "${name}"`);
  const dims = tensorType.shape
    ? (tensorType.shape.dim ?? []).map((d) => {
        if (d.dimValue !== null && d.dimValue !== undefined && d.value === 'dimValue') return toSafeNumber(d.dimValue, `${what} "${name}"`);
        if (d.dimParam) return d.dimParam;
        return null;
      })
    : null;
  return { name, dtype, dims };
}

function attributeValue(attr: onnx.IAttributeProto, owner: string, options: LoadOptions): AttributeValue {
  const T = onnx.AttributeProto.AttributeType;
  const what = `${owner} attribute "${attr.name}"`;
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  switch (attr.type) {
    case T.FLOAT:
      return attr.f ?? 0;
    case T.INT:
      return toClampedNumber(attr.i);
    case T.STRING:
      return text(attr.s ?? new Uint8Array());
    case T.TENSOR:
      return tensorFromProto(attr.t ?? {}, what, options);
    case T.FLOATS:
      return [...(attr.floats ?? [])];
    case T.INTS:
      return (attr.ints ?? []).map((v) => toClampedNumber(v));
    case T.STRINGS:
      return (attr.strings ?? []).map(text);
    case T.TENSORS:
      return (attr.tensors ?? []).map((t, i) => tensorFromProto(t, `${what}[${i}]`, options));
    default:
      throw new LambertError('UNSUPPORTED_OP', `${what}: attribute type ${T[attr.type ?? 0] ?? attr.type} is not supported`);
  }
}

function constantValue(node: onnx.INodeProto, attrs: Attributes): Tensor {
  const owner = describeNode({ name: node.name ?? '', opType: 'Constant' });
  const [name] = attrs.names();
  if (attrs.names().length !== 1 || name === undefined) {
    throw new LambertError('INVALID_MODEL', `${owner}: needs exactly one value attribute`);
  }
  switch (name) {
    case 'value':
      return attrs.tensor('value')!;
    case 'value_float':
      return new Tensor('float32', [attrs.float(name)], []);
    case 'value_floats': {
      const v = attrs.floats(name);
      return new Tensor('float32', v, [v.length]);
    }
    case 'value_int':
      return new Tensor('int64', [attrs.int(name)], []);
    case 'value_ints': {
      const v = attrs.ints(name);
      return new Tensor('int64', v, [v.length]);
    }
    default:
      throw new LambertError('UNSUPPORTED_TYPE', `${owner}: constant attribute "${name}" is not supported`);
  }
}

function buildGraph(model: onnx.ModelProto, options: LoadOptions): Graph {
  const graph = model.graph;
  if (!graph) throw new LambertError('INVALID_MODEL', 'the model has no graph');

  const opsets = new Map<string, number>();
  for (const imp of model.opsetImport ?? []) {
    opsets.set(normalizeDomain(imp.domain), toSafeNumber(imp.version, 'opset import'));
  }
  if (!opsets.has('') && (model.opsetImport ?? []).length === 0) opsets.set('', 1);

  const initializers = new Map<string, Tensor>();
  for (const init of graph.initializer ?? []) {
    const name = init.name ?? '';
    if (!name) throw new LambertError('INVALID_MODEL', 'an initializer has no name');
    if (initializers.has(name)) throw new LambertError('INVALID_MODEL', `initializer "${name}" is defined twice`);
    initializers.set(name, tensorFromProto(init, 'initializer', options));
  }
  if ((graph.sparseInitializer ?? []).length > 0) {
    throw new LambertError('UNSUPPORTED_TYPE', 'sparse initializers are not supported');
  }

  // Before IR 4 initializers were also listed as graph inputs; those are not feeds.
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? '')).map((i) => valueDecl(i, 'graph input'));
  const seenInputs = new Set<string>();
  for (const input of inputs) {
    if (!input.name) throw new LambertError('INVALID_MODEL', 'a graph input has no name');
    if (seenInputs.has(input.name)) throw new LambertError('INVALID_MODEL', `graph input "${input.name}" is declared twice`);
    seenInputs.add(input.name);
  }

  // Values renamed away by removing Identity/Dropout: alias → the value it copies.
  const alias = new Map<string, string>();
  const resolveName = (name: string): string => {
    let current = name;
    for (let hops = 0; alias.has(current); hops++) {
      if (hops > alias.size) throw new LambertError('INVALID_MODEL', `Identity nodes form a cycle through "${name}"`);
      current = alias.get(current)!;
    }
    return current;
  };

  const unsupported = new Set<string>();
  const kept: { proto: onnx.INodeProto; node: Omit<GraphNode, 'def'> & { def: OpDefinition | undefined } }[] = [];
  const producers = new Map<string, string>();
  const claimOutput = (output: string, owner: string) => {
    if (!output) return;
    if (producers.has(output) || initializers.has(output) || seenInputs.has(output)) {
      throw new LambertError('INVALID_MODEL', `${owner}: output "${output}" is already defined`);
    }
    producers.set(output, owner);
  };

  const usedAnywhere = new Set<string>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) usedAnywhere.add(i);
  for (const o of graph.output ?? []) usedAnywhere.add(o.name ?? '');

  (graph.node ?? []).forEach((proto, index) => {
    const opType = proto.opType ?? '';
    const name = proto.name || `${opType}_${index}`;
    const domain = normalizeDomain(proto.domain);
    const owner = describeNode({ name, opType });
    const attrMap = new Map<string, AttributeValue>();
    for (const attr of proto.attribute ?? []) {
      if (attr.refAttrName) throw new LambertError('INVALID_MODEL', `${owner}: attribute references are only valid inside functions`);
      attrMap.set(attr.name ?? '', attributeValue(attr, owner, options));
    }
    const attrs = new Attributes(attrMap, { name, opType });
    const outputs = [...(proto.output ?? [])];
    const inputs = [...(proto.input ?? [])];
    const opset = opsets.get(domain);

    if (domain === '' && opType === 'Constant') {
      if (outputs.length !== 1 || !outputs[0]) throw new LambertError('INVALID_MODEL', `${owner}: needs one output`);
      claimOutput(outputs[0], owner);
      initializers.set(outputs[0], constantValue(proto, attrs));
      return;
    }
    if (domain === '' && (opType === 'Identity' || isRemovableDropout(opType, inputs, outputs, usedAnywhere, attrs))) {
      if (!inputs[0] || !outputs[0]) throw new LambertError('INVALID_MODEL', `${owner}: needs an input and an output`);
      claimOutput(outputs[0], owner);
      alias.set(outputs[0], inputs[0]);
      return;
    }
    for (const output of outputs) claimOutput(output, owner);
    const def = opset === undefined ? undefined : findOp(domain, opType, opset);
    if (!def) {
      const known = supportedOpsets(domain, opType);
      const domainLabel = domain || 'ai.onnx';
      unsupported.add(
        opset === undefined
          ? `${domainLabel}::${opType} (domain not imported by the model)`
          : `${domainLabel}::${opType} at opset ${opset}${known ? ` (supported: ${known})` : ''}`,
      );
    }
    kept.push({
      proto,
      node: { name, opType, domain, opset: opset ?? 0, attrs, inputs, outputs, cache: new Map(), def },
    });
  });

  if (unsupported.size > 0) {
    throw new LambertError('UNSUPPORTED_OP', `unsupported operators: ${[...unsupported].sort().join(', ')}`);
  }

  const resolvedNodes: GraphNode[] = kept.map(({ node }) => ({
    ...node,
    inputs: node.inputs.map((i) => (i ? resolveName(i) : '')),
    def: node.def!,
  }));

  const outputs: GraphOutput[] = (graph.output ?? []).map((o) => {
    const decl = valueDecl(o, 'graph output');
    return { ...decl, source: resolveName(decl.name) };
  });

  return {
    inputs,
    outputs,
    initializers,
    nodes: topologicalOrder(resolvedNodes, new Set([...seenInputs, ...initializers.keys()]), outputs),
    opsets,
    irVersion: toSafeNumber(model.irVersion, 'ir_version'),
    producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
  };
}

/** Dropout is a copy at inference unless its mask is consumed or training mode may be on. */
function isRemovableDropout(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  used: ReadonlySet<string>,
  attrs: Attributes,
): boolean {
  if (opType !== 'Dropout') return false;
  const maskUsed = !!outputs[1] && used.has(outputs[1]);
  const trainingInput = !!inputs[2];
  return !maskUsed && !trainingInput && attrs.int('is_test', 1) !== 0;
}

function topologicalOrder(nodes: GraphNode[], available: Set<string>, outputs: readonly GraphOutput[]): GraphNode[] {
  const producerOf = new Map<string, number>();
  nodes.forEach((node, i) => node.outputs.forEach((o) => o && producerOf.set(o, i)));
  const pending = new Int32Array(nodes.length);
  const consumers: number[][] = nodes.map(() => []);
  const undefinedInputs: string[] = [];
  nodes.forEach((node, i) => {
    for (const input of node.inputs) {
      if (!input || available.has(input)) continue;
      const producer = producerOf.get(input);
      if (producer === undefined) {
        undefinedInputs.push(`${describeNode(node)} input "${input}"`);
        continue;
      }
      pending[i]!++;
      consumers[producer]!.push(i);
    }
  });
  if (undefinedInputs.length > 0) {
    throw new LambertError('INVALID_MODEL', `undefined values: ${undefinedInputs.join(', ')}`);
  }
  for (const output of outputs) {
    if (!available.has(output.source) && !producerOf.has(output.source)) {
      throw new LambertError('INVALID_MODEL', `graph output "${output.name}" is not produced by any node`);
    }
  }
  // Kahn's algorithm, taking ready nodes in file order so the plan is deterministic.
  const ready: number[] = [];
  pending.forEach((count, i) => count === 0 && ready.push(i));
  const order: GraphNode[] = [];
  for (let head = 0; head < ready.length; head++) {
    const i = ready[head]!;
    order.push(nodes[i]!);
    for (const c of consumers[i]!) if (--pending[c]! === 0) ready.push(c);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.filter((_, i) => pending[i]! > 0).slice(0, 10);
    throw new LambertError('INVALID_MODEL', `the graph has a cycle through ${stuck.map(describeNode).join(', ')}`);
  }
  return order;
}
