/**
 * Graph fusions, applied between load and plan: node chains that one kernel computes are
 * rewritten into that kernel's node, so the planner schedules, the executor runs and the arena
 * holds less. A fusion only fires when every intermediate value has no other reader and is not
 * a graph output. The int8 linear-layer fusion is bit-identical; the float ones differ from the
 * op-by-op graph by float32 rounding only (a bias added in the GEMM epilogue, GELU and layer
 * norm evaluated in float64, attention scaled inside its GEMM and masked in float64).
 */
import { Attributes, type AttributeValue } from './attributes.js';
import type { Graph, GraphNode } from './load.js';
import { findOp } from './ops/registry.js';
import type { Tensor } from './tensor.js';

interface Index {
  producer: Map<string, GraphNode>;
  readers: Map<string, GraphNode[]>;
  graphOutputs: Set<string>;
}

function indexGraph(nodes: readonly GraphNode[], graph: Graph): Index {
  const producer = new Map<string, GraphNode>();
  const readers = new Map<string, GraphNode[]>();
  for (const node of nodes) {
    for (const o of node.outputs) if (o) producer.set(o, node);
    for (const i of node.inputs) {
      if (!i) continue;
      const list = readers.get(i);
      if (list) list.push(node);
      else readers.set(i, [node]);
    }
  }
  return { producer, readers, graphOutputs: new Set(graph.outputs.map((o) => o.source)) };
}

/** The single node reading `value`, if it is read once and is not a graph output. */
function soleReader(index: Index, value: string): GraphNode | undefined {
  const readers = index.readers.get(value);
  if (!readers || readers.length !== 1 || index.graphOutputs.has(value)) return undefined;
  return readers[0];
}

/** Whether `value` is read by nothing but `chain` and is not a graph output. */
function readOnlyBy(index: Index, value: string, chain: readonly GraphNode[]): boolean {
  return !index.graphOutputs.has(value) && (index.readers.get(value) ?? []).every((r) => chain.includes(r));
}

function isOnnx(node: GraphNode | undefined, opType: string): node is GraphNode {
  return node !== undefined && node.domain === '' && node.opType === opType;
}

/** The input of binary `node` that is not `value`, or undefined if `value` is not one of its inputs. */
function otherInput(node: GraphNode, value: string): string | undefined {
  if (node.inputs[0] === value) return node.inputs[1];
  if (node.inputs[1] === value) return node.inputs[0];
  return undefined;
}

const FLOAT = 1;

type Constants = ReadonlyMap<string, Tensor>;

/** The value of a one-element float32 constant. */
function scalar(constants: Constants, name: string | undefined): number | undefined {
  const t = constants.get(name ?? '');
  return t && t.type === 'float32' && t.size === 1 ? (t.data[0] as number) : undefined;
}

function near(v: number | undefined, target: number, tolerance = 1e-6): boolean {
  return v !== undefined && Math.abs(v - target) <= tolerance;
}

/** A 1-D float32 constant, of `length` elements when given. */
function isVector(constants: Constants, name: string | undefined, length?: number): boolean {
  const t = constants.get(name ?? '');
  return t !== undefined && t.type === 'float32' && t.dims.length === 1 && (length === undefined || t.dims[0] === length);
}

interface Rewrite {
  /** The nodes replaced; the last one is the chain's output and the fused node takes its place. */
  readonly chain: readonly GraphNode[];
  readonly fused: GraphNode;
}

function fusedNode(
  domain: string,
  opType: string,
  opset: number,
  anchor: GraphNode,
  inputs: string[],
  output: string,
  attrs: Record<string, AttributeValue> = {},
): GraphNode {
  const def = findOp(domain, opType, opset);
  if (!def) throw new Error(`fuse: ${domain}::${opType} ${opset} is not registered`);
  const name = `${anchor.name}/fused_${opType}`;
  return {
    name,
    opType,
    domain,
    opset,
    attrs: new Attributes(new Map(Object.entries(attrs)), { name, opType }),
    inputs,
    outputs: [output],
    cache: new Map(),
    def,
  };
}

/**
 * Runs `match` from every node, and applies the rewrites it finds. The fused node sits where
 * the chain's last node was: after every value the chain reads, before every reader of its output.
 */
function fusePass(graph: Graph, nodes: GraphNode[], match: (node: GraphNode, index: Index) => Rewrite | undefined): GraphNode[] {
  const index = indexGraph(nodes, graph);
  const removed = new Set<GraphNode>();
  const replacement = new Map<GraphNode, GraphNode>();
  for (const node of nodes) {
    if (removed.has(node)) continue;
    const rewrite = match(node, index);
    if (!rewrite || rewrite.chain.some((n) => removed.has(n))) continue;
    for (const n of rewrite.chain) removed.add(n);
    // The chain in graph order, for the planner to fall back on.
    const unfused = nodes.filter((n) => rewrite.chain.includes(n));
    replacement.set(rewrite.chain[rewrite.chain.length - 1]!, { ...rewrite.fused, unfused });
  }
  return nodes.flatMap((n) => (replacement.has(n) ? [replacement.get(n)!] : removed.has(n) ? [] : [n]));
}

/**
 * onnxruntime's dynamic quantization writes each linear layer as
 *   MatMulInteger(A_q, W_q, A_zp, W_zp) → Cast(float) → Mul(·, A_scale · W_scale) (→ Add bias)
 * which MatMulIntegerToFloat computes in one int8 GEMM over W packed once, with the same float32
 * rounding at each step (cast, scale product, scale, bias).
 */
function quantizedLinear(constants: Constants) {
  return (matmul: GraphNode, index: Index): Rewrite | undefined => {
    if (!isOnnx(matmul, 'MatMulInteger') || !constants.has(matmul.inputs[1] ?? '')) return undefined;
    const cast = soleReader(index, matmul.outputs[0]!);
    if (!isOnnx(cast, 'Cast') || cast.attrs.int('to', 0) !== FLOAT) return undefined;
    const scale = soleReader(index, cast.outputs[0]!);
    if (!isOnnx(scale, 'Mul')) return undefined;
    const scaleInput = otherInput(scale, cast.outputs[0]!)!;
    // MatMulIntegerToFloat multiplies a single A scale by B's scales itself: it only takes the
    // graph's own A_scale · W_scale product, so that the float32 product rounds the same.
    const product = index.producer.get(scaleInput);
    if (!isOnnx(product, 'Mul')) return undefined;
    const [p0, p1] = product.inputs as [string, string];
    let scales: [string, string];
    if (constants.has(p1) && !constants.has(p0)) scales = [p0, p1];
    else if (constants.has(p0) && !constants.has(p1)) scales = [p1, p0];
    else return undefined;
    const chain = [matmul, cast, scale];
    let output = scale.outputs[0]!;
    let bias = '';
    const add = soleReader(index, output);
    const other = add && isOnnx(add, 'Add') ? otherInput(add, output) : undefined;
    if (add && isVector(constants, other, constants.get(matmul.inputs[1]!)!.dims.at(-1))) {
      bias = other!;
      output = add.outputs[0]!;
      chain.push(add);
    }
    const inputs = [matmul.inputs[0]!, matmul.inputs[1]!, scales[0], scales[1], matmul.inputs[2] ?? '', matmul.inputs[3] ?? '', bias];
    return { chain, fused: fusedNode('com.microsoft', 'MatMulIntegerToFloat', 1, matmul, inputs, output) };
  };
}

/** MatMul(X, W) → Add(·, bias) with constant float32 W (K, N) and bias (N) → lambert Linear, bias in the GEMM epilogue. */
function linear(constants: Constants) {
  return (matmul: GraphNode, index: Index): Rewrite | undefined => {
    if (!isOnnx(matmul, 'MatMul')) return undefined;
    const w = constants.get(matmul.inputs[1]!);
    if (!w || w.type !== 'float32' || w.dims.length !== 2) return undefined;
    const add = soleReader(index, matmul.outputs[0]!);
    if (!isOnnx(add, 'Add')) return undefined;
    const bias = otherInput(add, matmul.outputs[0]!);
    if (!isVector(constants, bias, w.dims[1])) return undefined;
    return { chain: [matmul, add], fused: fusedNode('lambert', 'Linear', 1, matmul, [matmul.inputs[0]!, matmul.inputs[1]!, bias!], add.outputs[0]!) };
  };
}

/**
 * The exported erf GELU, 0.5·x·(1 + erf(x/√2)), from its Erf node:
 *   Div(x, √2) or Mul(x, 1/√2) → Erf → Add(·, 1) → Mul(x, ·) → Mul(·, 0.5)
 *   or Mul(x, 0.5) and the Add → Mul(·, ·),
 * operands in either order → com.microsoft Gelu, or BiasGelu when x is Add(y, constant bias)
 * read by nothing else.
 */
function gelu(constants: Constants) {
  return (erf: GraphNode, index: Index): Rewrite | undefined => {
    if (!isOnnx(erf, 'Erf')) return undefined;
    const scaled = index.producer.get(erf.inputs[0]!);
    if (!scaled || soleReader(index, scaled.outputs[0]!) !== erf) return undefined;
    const [s0, s1] = scaled.inputs as [string, string];
    let x: string;
    if (isOnnx(scaled, 'Div') && near(scalar(constants, s1), Math.SQRT2)) x = s0;
    else if (isOnnx(scaled, 'Mul') && near(scalar(constants, s1), Math.SQRT1_2)) x = s0;
    else if (isOnnx(scaled, 'Mul') && near(scalar(constants, s0), Math.SQRT1_2)) x = s1;
    else return undefined;
    const plusOne = soleReader(index, erf.outputs[0]!);
    if (!isOnnx(plusOne, 'Add') || !near(scalar(constants, otherInput(plusOne, erf.outputs[0]!)), 1, 0)) return undefined;
    const product = soleReader(index, plusOne.outputs[0]!);
    if (!isOnnx(product, 'Mul')) return undefined;
    const factor = otherInput(product, plusOne.outputs[0]!)!;
    let chain: GraphNode[];
    if (factor === x) {
      const half = soleReader(index, product.outputs[0]!);
      if (!isOnnx(half, 'Mul') || !near(scalar(constants, otherInput(half, product.outputs[0]!)), 0.5, 0)) return undefined;
      chain = [scaled, erf, plusOne, product, half];
    } else {
      const half = index.producer.get(factor);
      if (!isOnnx(half, 'Mul') || soleReader(index, factor) !== product || !near(scalar(constants, otherInput(half, x)), 0.5, 0)) return undefined;
      chain = [half, scaled, erf, plusOne, product];
    }
    const output = chain[chain.length - 1]!.outputs[0]!;
    const biasAdd = index.producer.get(x);
    if (isOnnx(biasAdd, 'Add') && readOnlyBy(index, x, chain)) {
      const [a0, a1] = biasAdd.inputs as [string, string];
      const [input, bias] = isVector(constants, a1) ? [a0, a1] : [a1, a0];
      if (isVector(constants, bias) && !constants.has(input)) {
        return { chain: [biasAdd, ...chain], fused: fusedNode('com.microsoft', 'BiasGelu', 1, erf, [input, bias], output) };
      }
    }
    return { chain, fused: fusedNode('com.microsoft', 'Gelu', 1, erf, [x], output) };
  };
}

/** ReduceMean over the last axis only, keeping it: axes [-1] as attribute (before 18) or constant input. */
function meanOverLastAxis(node: GraphNode | undefined, constants: Constants): node is GraphNode {
  if (!isOnnx(node, 'ReduceMean') || node.attrs.int('keepdims', 1) !== 1) return false;
  if (node.opset < 18) return node.attrs.ints('axes', []).join() === '-1';
  const axes = constants.get(node.inputs[1] ?? '');
  return axes !== undefined && axes.size === 1 && Number(axes.data[0]) === -1;
}

/**
 * The layer norm opset 11/14 exports spell out over the last axis,
 *   ReduceMean(x) → Sub(x, ·) = d → Pow(d, 2) → ReduceMean → Add(·, eps) → Sqrt → Div(d, ·)
 *   → Mul(·, gamma) → Add(·, beta),
 * from its first ReduceMean → ai.onnx LayerNormalization (epsilon eps, axis −1).
 */
function layerNorm(constants: Constants) {
  return (mean: GraphNode, index: Index): Rewrite | undefined => {
    if (!meanOverLastAxis(mean, constants)) return undefined;
    const x = mean.inputs[0]!;
    const sub = soleReader(index, mean.outputs[0]!);
    if (!isOnnx(sub, 'Sub') || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) return undefined;
    const d = sub.outputs[0]!;
    const dReaders = index.readers.get(d) ?? [];
    const pow = dReaders.find((n) => isOnnx(n, 'Pow'));
    const div = dReaders.find((n) => isOnnx(n, 'Div'));
    if (dReaders.length !== 2 || index.graphOutputs.has(d) || !pow || !div || pow.inputs[0] !== d || div.inputs[0] !== d) return undefined;
    if (scalar(constants, pow.inputs[1]) !== 2) return undefined;
    const variance = soleReader(index, pow.outputs[0]!);
    if (!meanOverLastAxis(variance, constants)) return undefined;
    const addEps = soleReader(index, variance.outputs[0]!);
    const epsilon = addEps && isOnnx(addEps, 'Add') ? scalar(constants, otherInput(addEps, variance.outputs[0]!)) : undefined;
    if (epsilon === undefined) return undefined;
    const sqrt = soleReader(index, addEps!.outputs[0]!);
    if (!isOnnx(sqrt, 'Sqrt') || soleReader(index, sqrt.outputs[0]!) !== div || div.inputs[1] !== sqrt.outputs[0]) return undefined;
    const scale = soleReader(index, div.outputs[0]!);
    const gamma = scale && isOnnx(scale, 'Mul') ? otherInput(scale, div.outputs[0]!) : undefined;
    if (!isVector(constants, gamma)) return undefined;
    const shift = soleReader(index, scale!.outputs[0]!);
    const beta = shift && isOnnx(shift, 'Add') ? otherInput(shift, scale!.outputs[0]!) : undefined;
    if (!isVector(constants, beta, constants.get(gamma!)!.size)) return undefined;
    const chain = [mean, sub, pow, variance, addEps!, sqrt, div, scale!, shift!];
    const fused = fusedNode('', 'LayerNormalization', mean.opset, mean, [x, gamma!, beta!], shift!.outputs[0]!, { axis: -1, epsilon });
    return { chain, fused };
  };
}

/**
 * Add(x, skip) → LayerNormalization over the last axis with 1-D constant scale (and bias)
 * → com.microsoft SkipLayerNormalization, which adds in float32 and normalises the sum.
 */
function skipLayerNorm(constants: Constants) {
  return (norm: GraphNode, index: Index): Rewrite | undefined => {
    if (!isOnnx(norm, 'LayerNormalization') || norm.attrs.int('axis', -1) !== -1 || norm.attrs.int('stash_type', FLOAT) !== FLOAT) return undefined;
    if (norm.outputs.slice(1).some((o) => o && (index.readers.has(o) || index.graphOutputs.has(o)))) return undefined;
    const [input, gamma, beta] = norm.inputs as [string, string, string | undefined];
    if (!isVector(constants, gamma) || (beta && !isVector(constants, beta, constants.get(gamma)!.size))) return undefined;
    const add = index.producer.get(input);
    if (!isOnnx(add, 'Add') || soleReader(index, input) !== norm || add.inputs.some((i) => constants.has(i))) return undefined;
    const epsilon = norm.attrs.float('epsilon', 1e-5);
    const fused = fusedNode('com.microsoft', 'SkipLayerNormalization', 1, norm, [add.inputs[0]!, add.inputs[1]!, gamma, beta ?? ''], norm.outputs[0]!, { epsilon });
    return { chain: [add, norm], fused };
  };
}

/** Unsqueeze's axes, from the attribute (before 13) or the constant input. */
function unsqueezeAxes(node: GraphNode, constants: Constants): number[] | undefined {
  if (node.opset < 13) return node.attrs.ints('axes', []);
  const axes = constants.get(node.inputs[1] ?? '');
  return axes ? Array.from(axes.data as ArrayLike<number | bigint>, Number) : undefined;
}

/**
 * Whether `mask` is BERT's additive key-padding mask, of shape (B, 1, 1, S) by construction:
 * a rank-2 graph input (B, S) unsqueezed at axes 1 and 2, then cast and shifted or scaled by
 * scalar constants only ((1 − m)·−10000, (1 − m)·finfo.min), which keep the shape.
 */
function isKeyPaddingMask(mask: string, index: Index, graph: Graph, constants: Constants): boolean {
  let node = index.producer.get(mask);
  while (node && node.domain === '' && ['Cast', 'Sub', 'Mul', 'Add'].includes(node.opType)) {
    if (node.opType === 'Cast') node = index.producer.get(node.inputs[0]!);
    else if (scalar(constants, node.inputs[0]) !== undefined) node = index.producer.get(node.inputs[1]!);
    else if (scalar(constants, node.inputs[1]) !== undefined) node = index.producer.get(node.inputs[0]!);
    else return false;
  }
  const axes: number[][] = [];
  while (isOnnx(node, 'Unsqueeze')) {
    const a = unsqueezeAxes(node, constants);
    if (!a) return false;
    axes.unshift(a);
    const input = node.inputs[0]!;
    node = index.producer.get(input);
    if (node === undefined) {
      const decl = graph.inputs.find((i) => i.name === input);
      const spelled = axes.map((a) => a.join()).join(';');
      return decl?.dims?.length === 2 && (spelled === '1;2' || spelled === '1,2');
    }
  }
  return false;
}

const isTranspose = (node: GraphNode | undefined, perm: string): node is GraphNode => isOnnx(node, 'Transpose') && node.attrs.ints('perm', []).join() === perm;

/**
 * The attention core BERT exports write per layer, from its scores MatMul:
 *   Transpose(Q, 0 2 1 3), Transpose(K, 0 2 3 1) → MatMul → Div(·, c) or Mul(·, c)
 *   (→ Add(·, key-padding mask)) → Softmax(last axis) → MatMul(·, Transpose(V, 0 2 1 3))
 *   → Transpose(0 2 1 3)
 * with Q, K, V the (B, S, H, D) head-split projections → lambert AttentionCore, which reads
 * them in place and writes the (B, S, H, D) result the chain ends in.
 */
function attentionCore(graph: Graph, constants: Constants) {
  return (scores: GraphNode, index: Index): Rewrite | undefined => {
    if (!isOnnx(scores, 'MatMul')) return undefined;
    const [qT, kT] = scores.inputs.map((i) => index.producer.get(i!));
    if (!isTranspose(qT, '0,2,1,3') || !isTranspose(kT, '0,2,3,1')) return undefined;
    if (soleReader(index, qT.outputs[0]!) !== scores || soleReader(index, kT.outputs[0]!) !== scores) return undefined;
    const scaleNode = soleReader(index, scores.outputs[0]!);
    if (!scaleNode) return undefined;
    const other = otherInput(scaleNode, scores.outputs[0]!);
    // As onnxruntime's MatMulScaleFusion folds it into the product: a divisor becomes its float32 reciprocal.
    let scale: number | undefined;
    if (isOnnx(scaleNode, 'Div') && scaleNode.inputs[0] === scores.outputs[0]) {
      const c = scalar(constants, other);
      scale = c === undefined ? undefined : Math.fround(1 / c);
    } else if (isOnnx(scaleNode, 'Mul')) scale = scalar(constants, other);
    if (scale === undefined || !Number.isFinite(scale)) return undefined;
    const chain = [qT, kT, scores, scaleNode];
    let mask = '';
    let next = soleReader(index, scaleNode.outputs[0]!);
    if (isOnnx(next, 'Add')) {
      mask = otherInput(next, scaleNode.outputs[0]!)!;
      if (!isKeyPaddingMask(mask, index, graph, constants)) return undefined;
      chain.push(next);
      next = soleReader(index, next.outputs[0]!);
    }
    const softmax = next;
    if (!isOnnx(softmax, 'Softmax') || softmax.inputs[0] !== chain[chain.length - 1]!.outputs[0]) return undefined;
    // Before opset 13 Softmax flattens from `axis` on (default 1); on the rank-4 scores axis 3 is the last either way.
    const axis = softmax.attrs.int('axis', softmax.opset < 13 ? 1 : -1);
    if (axis !== -1 && axis !== 3) return undefined;
    const weighted = soleReader(index, softmax.outputs[0]!);
    if (!isOnnx(weighted, 'MatMul') || weighted.inputs[0] !== softmax.outputs[0]) return undefined;
    const vT = index.producer.get(weighted.inputs[1]!);
    if (!isTranspose(vT, '0,2,1,3') || soleReader(index, vT.outputs[0]!) !== weighted) return undefined;
    const back = soleReader(index, weighted.outputs[0]!);
    if (!isTranspose(back, '0,2,1,3')) return undefined;
    chain.push(softmax, vT, weighted, back);
    const inputs = [qT.inputs[0]!, kT.inputs[0]!, vT.inputs[0]!, mask];
    return { chain, fused: fusedNode('lambert', 'AttentionCore', 1, scores, inputs, back.outputs[0]!, { scale }) };
  };
}

/**
 * Drops nodes none of whose outputs is read or is a graph output (left behind by fusions), and
 * so on up their inputs: one sweep against the topological order, so a node's readers are
 * settled before it is.
 */
function dropDeadNodes(graph: Graph, nodes: GraphNode[]): GraphNode[] {
  const reads = new Map<string, number>();
  for (const node of nodes) for (const i of node.inputs) if (i) reads.set(i, (reads.get(i) ?? 0) + 1);
  const graphOutputs = new Set(graph.outputs.map((o) => o.source));
  const live: GraphNode[] = [];
  for (let n = nodes.length - 1; n >= 0; n--) {
    const node = nodes[n]!;
    if (node.def.noFold || node.outputs.some((o) => o && ((reads.get(o) ?? 0) > 0 || graphOutputs.has(o)))) live.push(node);
    else for (const i of node.inputs) if (i) reads.set(i, reads.get(i)! - 1);
  }
  return live.reverse();
}

export function fuseGraph(graph: Graph): Graph {
  const constants = graph.initializers;
  let nodes = [...graph.nodes];
  // Linear before GELU and layer norm before its residual Add: each fusion consumes the one before's result.
  for (const match of [quantizedLinear, linear, gelu, layerNorm, skipLayerNorm]) nodes = fusePass(graph, nodes, match(constants));
  nodes = fusePass(graph, nodes, attentionCore(graph, constants));
  nodes = dropDeadNodes(graph, nodes);
  return { ...graph, nodes };
}
