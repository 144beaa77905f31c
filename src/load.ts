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
  /**
   * For a node src/fuse.ts made: the nodes it replaced, in order. The planner runs them instead
   * when the fused op rejects the actual shapes (a broadcast the fused kernel does not take).
   */
  readonly unfused?: readonly GraphNode[];
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

export interface LoadOptions extends TensorDecodeOptions {
  /** Bound on all tensors the model holds together (initializers, constants, tensor attributes). */
  maxTotalBytes?: number;
}

const INTERNAL_DOMAIN = 'lambert';

type DecodeTensor = (proto: onnx.ITensorProto, what: string) => Tensor;

export function normalizeDomain(domain: string | null | undefined): string {
  return !domain || domain === 'ai.onnx' ? '' : domain;
}

/**
 * Decodes ModelProto bytes. With `maxBytes`, the memory decoding would take is estimated first
 * (decodedBytes): protobuf objects cost far more than their encoding, so a small file can
 * otherwise exhaust the heap before any check of ours runs.
 */
export function decodeModel(bytes: Uint8Array, maxBytes?: number): onnx.ModelProto {
  if (maxBytes !== undefined) {
    const estimate = decodedBytes(bytes);
    if (estimate > maxBytes) {
      throw new LambertError(
        'RESOURCE_LIMIT',
        `decoding this ${bytes.length}-byte model would take about ${estimate} bytes of memory, over maxMemoryBytes (${maxBytes})`,
      );
    }
  }
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new LambertError('INVALID_MODEL', `not an ONNX model: ${(err as Error).message}`, { cause: err });
  }
}

export function loadGraph(bytes: Uint8Array, options: LoadOptions = {}): Graph {
  const model = decodeModel(bytes, options.maxTotalBytes);
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
        if (d.dimValue !== null && d.dimValue !== undefined && d.value === 'dimValue') {
          const n = toSafeNumber(d.dimValue, `${what} "${name}"`);
          if (n < 0) throw new LambertError('INVALID_MODEL', `${what} "${name}": negative dimension ${n}`);
          return n;
        }
        if (d.dimParam) return d.dimParam;
        return null;
      })
    : null;
  return { name, dtype, dims };
}

function attributeValue(attr: onnx.IAttributeProto, owner: string, decode: DecodeTensor): AttributeValue {
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
      return decode(attr.t ?? {}, what);
    case T.FLOATS:
      return [...(attr.floats ?? [])];
    case T.INTS:
      return (attr.ints ?? []).map((v) => toClampedNumber(v));
    case T.STRINGS:
      return (attr.strings ?? []).map(text);
    case T.TENSORS:
      return (attr.tensors ?? []).map((t, i) => decode(t, `${what}[${i}]`));
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

  // Views of the file and copies out of typed fields alike: what the graph holds stays within the budget.
  let totalBytes = 0;
  const decode: DecodeTensor = (proto, what) => {
    const tensor = tensorFromProto(proto, what, options);
    totalBytes += tensor.data.byteLength;
    if (options.maxTotalBytes !== undefined && totalBytes > options.maxTotalBytes) {
      throw new LambertError(
        'RESOURCE_LIMIT',
        `the model's tensors need over ${totalBytes} bytes (at ${what}${proto.name ? ` "${proto.name}"` : ''}), over maxMemoryBytes (${options.maxTotalBytes})`,
      );
    }
    return tensor;
  };

  const initializers = new Map<string, Tensor>();
  for (const init of graph.initializer ?? []) {
    const name = init.name ?? '';
    if (!name) throw new LambertError('INVALID_MODEL', 'an initializer has no name');
    if (initializers.has(name)) throw new LambertError('INVALID_MODEL', `initializer "${name}" is defined twice`);
    initializers.set(name, decode(init, 'initializer'));
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
  const aliasOwners = new Map<string, string>();
  const resolveName = (name: string): string => {
    let current = name;
    for (let hops = 0; alias.has(current); hops++) {
      if (hops > alias.size) throw new LambertError('INVALID_MODEL', `Identity nodes form a cycle through "${name}"`);
      current = alias.get(current)!;
    }
    // Point the whole chain at its end, so long Identity chains with many readers resolve in linear time.
    for (let step = name; alias.has(step) && step !== current; ) {
      const next = alias.get(step)!;
      alias.set(step, current);
      step = next;
    }
    return current;
  };

  const unsupported = new Set<string>();
  /** Values of unsupported types; reported with the unsupported ops, in one error. */
  const typeProblems = new Set<string>();
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
    const opset = opsets.get(domain);
    // The 'lambert' domain holds the fusion pass's own ops, whose contracts only it checks.
    const internal = domain === INTERNAL_DOMAIN;
    const folded = domain === '' && (opType === 'Constant' || opType === 'Identity');
    const def = opset === undefined || internal || folded ? undefined : findOp(domain, opType, opset);
    const attrMap = new Map<string, AttributeValue>();
    let attrsDecoded = true;
    try {
      for (const attr of proto.attribute ?? []) {
        if (attr.refAttrName) throw new LambertError('INVALID_MODEL', `${owner}: attribute references are only valid inside functions`);
        attrMap.set(attr.name ?? '', attributeValue(attr, owner, decode));
      }
    } catch (err) {
      if (!(err instanceof LambertError) || (err.code !== 'UNSUPPORTED_OP' && err.code !== 'UNSUPPORTED_TYPE')) throw err;
      // An unsupported op's attributes (an If's GRAPH, say) are moot: the op itself is listed below.
      if (def || folded) (err.code === 'UNSUPPORTED_OP' ? unsupported : typeProblems).add(err.message);
      attrsDecoded = false;
    }
    const attrs = new Attributes(attrMap, { name, opType });
    const outputs = [...(proto.output ?? [])];
    const inputs = [...(proto.input ?? [])];

    if (domain === '' && opType === 'Constant') {
      if (outputs.length !== 1 || !outputs[0]) throw new LambertError('INVALID_MODEL', `${owner}: needs one output`);
      claimOutput(outputs[0], owner);
      if (!attrsDecoded) return;
      try {
        initializers.set(outputs[0], constantValue(proto, attrs));
      } catch (err) {
        if (!(err instanceof LambertError) || err.code !== 'UNSUPPORTED_TYPE') throw err;
        typeProblems.add(err.message);
      }
      return;
    }
    if (domain === '' && (opType === 'Identity' || (attrsDecoded && isRemovableDropout(opType, inputs, outputs, usedAnywhere, attrs)))) {
      if (!inputs[0] || !outputs[0]) throw new LambertError('INVALID_MODEL', `${owner}: needs an input and an output`);
      claimOutput(outputs[0], owner);
      alias.set(outputs[0], inputs[0]);
      aliasOwners.set(outputs[0], owner);
      return;
    }
    for (const output of outputs) claimOutput(output, owner);
    if (!def) {
      const known = supportedOpsets(domain, opType);
      const domainLabel = domain || 'ai.onnx';
      unsupported.add(
        internal
          ? `${domainLabel}::${opType} (internal to lambert's graph fusions, not loadable from a model)`
          : opset === undefined
            ? `${domainLabel}::${opType} (domain not imported by the model)`
            : `${domainLabel}::${opType} at opset ${opset}${known ? ` (supported: ${known})` : ''}`,
      );
    }
    if (!def || !attrsDecoded) return;
    kept.push({
      proto,
      node: { name, opType, domain, opset: opset ?? 0, attrs, inputs, outputs, cache: new Map(), def },
    });
  });

  if (unsupported.size > 0) {
    const all = [...unsupported].sort().join(', ');
    const types = typeProblems.size > 0 ? `; also: ${[...typeProblems].join('; ')}` : '';
    throw new LambertError('UNSUPPORTED_OP', `unsupported operators: ${all}${types}`);
  }
  if (typeProblems.size > 0) throw new LambertError('UNSUPPORTED_TYPE', [...typeProblems].join('; '));

  // A copy whose result nobody reads must still copy something that exists.
  for (const [output, input] of alias) {
    const source = resolveName(input);
    if (!producers.has(source) && !initializers.has(source) && !seenInputs.has(source) && !alias.has(source)) {
      throw new LambertError('INVALID_MODEL', `${aliasOwners.get(output)}: input "${input}" is not defined by any node, initializer or graph input`);
    }
  }

  const resolvedNodes: GraphNode[] = kept.map(({ node }) => ({
    ...node,
    inputs: node.inputs.map((i) => (i ? resolveName(i) : '')),
    def: node.def!,
  }));

  const outputNames = new Set<string>();
  const outputs: GraphOutput[] = (graph.output ?? []).map((o) => {
    const decl = valueDecl(o, 'graph output');
    if (!decl.name) throw new LambertError('INVALID_MODEL', 'a graph output has no name');
    if (outputNames.has(decl.name)) throw new LambertError('INVALID_MODEL', `graph output "${decl.name}" is declared twice`);
    outputNames.add(decl.name);
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

/**
 * What a field holds, for the decode estimate: a message (its type's name), elements of a
 * repeated number ('int64' ones decode to Long objects, the rest to plain numbers; 'fixed32'
 * and 'fixed64' give the packed element width), or 'bytes' (decoded as a view, not a copy).
 * Every other field is a string or a scalar.
 */
type FieldKind = string;
const SCHEMA: Record<string, Record<number, FieldKind>> = {
  Model: { 7: 'Graph', 8: 'Pair', 14: 'Pair', 20: 'TrainingInfo', 25: 'Function' },
  Graph: { 1: 'Node', 5: 'Tensor', 11: 'ValueInfo', 12: 'ValueInfo', 13: 'ValueInfo', 14: 'Annotation', 15: 'SparseTensor' },
  Node: { 5: 'Attribute' },
  Attribute: { 4: 'bytes', 5: 'Tensor', 6: 'Graph', 7: 'fixed32', 8: 'int64', 9: 'bytes', 10: 'Tensor', 11: 'Graph', 14: 'Type', 15: 'Type', 22: 'SparseTensor', 23: 'SparseTensor' },
  Tensor: { 1: 'int64', 3: 'Pair', 4: 'fixed32', 5: 'int32', 6: 'bytes', 7: 'int64', 9: 'bytes', 10: 'fixed64', 11: 'int64', 13: 'Pair' },
  SparseTensor: { 1: 'Tensor', 2: 'Tensor', 3: 'int64' },
  ValueInfo: { 2: 'Type' },
  Type: { 1: 'TypeTensor', 4: 'TypeElem', 5: 'TypeMap', 8: 'TypeTensor', 9: 'TypeElem' },
  TypeTensor: { 2: 'Shape' },
  TypeElem: { 1: 'Type' },
  TypeMap: { 2: 'Type' },
  Shape: { 1: 'Pair' },
  TrainingInfo: { 1: 'Graph', 2: 'Graph', 3: 'Pair', 4: 'Pair' },
  Function: { 7: 'Node', 9: 'Pair' },
  Annotation: { 2: 'Pair' },
  // Messages of scalars and strings only: StringStringEntry, OperatorSetId, Segment, Dimension.
  Pair: {},
};

// Heap bytes per decoded item, measured on protobufjs' static code (V8, 64-bit), rounded up.
const MESSAGE_COST = 400;
const FIELD_COST = 160;
const LONG_COST = 64;
const NUMBER_COST = 12;
const MAX_DEPTH = 100;

/** An upper estimate of the heap that decoding `bytes` as a ModelProto takes; malformed input just ends the walk. */
export function decodedBytes(bytes: Uint8Array): number {
  let pos = 0;
  let total = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= bytes.length) return -1;
      const b = bytes[pos++]!;
      if (shift < 49) value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    return -1;
  };
  const countVarints = (end: number): number => {
    let n = 0;
    for (let i = pos; i < end; i++) if (bytes[i]! < 0x80) n++;
    return n;
  };
  /** Skips one field's value; false when the bytes end or make no sense. */
  const skip = (wire: number, field: number, depth: number): boolean => {
    switch (wire) {
      case 0:
        return varint() >= 0;
      case 1:
        pos += 8;
        return pos <= bytes.length;
      case 5:
        pos += 4;
        return pos <= bytes.length;
      case 2: {
        const len = varint();
        if (len < 0 || pos + len > bytes.length) return false;
        pos += len;
        return true;
      }
      case 3:
        while (depth < MAX_DEPTH) {
          const tag = varint();
          if (tag < 0) return false;
          if ((tag & 7) === 4) return tag >>> 3 === field;
          if (!skip(tag & 7, tag >>> 3, depth + 1)) return false;
        }
        return false;
      default:
        return false;
    }
  };
  const walk = (type: string, end: number, depth: number): boolean => {
    total += MESSAGE_COST;
    const fields = SCHEMA[type]!;
    while (pos < end) {
      const tag = varint();
      if (tag < 0) return false;
      const wire = tag & 7;
      const kind = fields[tag >>> 3];
      if (kind !== undefined && kind in SCHEMA && wire === 2) {
        const len = varint();
        if (len < 0 || pos + len > end || depth >= MAX_DEPTH) return false;
        if (!walk(kind, pos + len, depth + 1)) return false;
        continue;
      }
      const numeric = kind === 'int64' || kind === 'int32' || kind === 'fixed32' || kind === 'fixed64';
      if (numeric && wire === 2) {
        const len = varint();
        if (len < 0 || pos + len > end) return false;
        const width = kind === 'fixed32' ? 4 : kind === 'fixed64' ? 8 : 0;
        const count = width ? Math.floor(len / width) : countVarints(pos + len);
        total += count * (kind === 'int64' ? LONG_COST : NUMBER_COST);
        pos += len;
        continue;
      }
      const start = pos;
      if (!skip(wire, tag >>> 3, depth)) return false;
      // Strings are copied out of the buffer (unknown fields are counted alike); bytes fields stay views.
      total += FIELD_COST + (wire === 2 && kind === undefined ? pos - start : 0);
    }
    return pos === end;
  };
  walk('Model', bytes.length, 0);
  return total;
}
