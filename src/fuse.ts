/**
 * Graph fusions, applied between load and plan: node chains that one kernel computes exactly
 * are rewritten into that kernel's node, so the planner schedules and the arena holds less.
 * A fusion only fires when every intermediate value has no other reader and is not a graph
 * output, so the rewritten graph computes bit-identical results.
 */
import { Attributes } from './attributes.js';
import type { Graph, GraphNode } from './load.js';
import { findOp } from './ops/registry.js';
import { Tensor } from './tensor.js';

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
    for (const i of node.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), node]);
  }
  return { producer, readers, graphOutputs: new Set(graph.outputs.map((o) => o.source)) };
}

/** The single node reading `value`, if it is read once and is not a graph output. */
function soleReader(index: Index, value: string): GraphNode | undefined {
  const readers = index.readers.get(value);
  if (!readers || readers.length !== 1 || index.graphOutputs.has(value)) return undefined;
  return readers[0];
}

function isOnnx(node: GraphNode | undefined, opType: string): node is GraphNode {
  return node !== undefined && node.domain === '' && node.opType === opType;
}

const FLOAT = 1;

/**
 * onnxruntime's dynamic quantization writes each linear layer as
 *   MatMulInteger(A_q, W_q, A_zp, W_zp) → Cast(float) → Mul(·, A_scale · W_scale) (→ Add bias)
 * which MatMulIntegerToFloat computes in one int8 GEMM over W packed once, with the same float32
 * rounding at each step (cast, scale product, scale, bias).
 */
function fuseQuantizedLinear(graph: Graph, nodes: GraphNode[], constants: Map<string, Tensor>): GraphNode[] {
  const def = findOp('com.microsoft', 'MatMulIntegerToFloat', 1);
  if (!def) return nodes;
  const index = indexGraph(nodes, graph);
  const removed = new Set<GraphNode>();
  const replacement = new Map<GraphNode, GraphNode>();
  for (const matmul of nodes) {
    if (!isOnnx(matmul, 'MatMulInteger') || !constants.has(matmul.inputs[1] ?? '')) continue;
    const cast = soleReader(index, matmul.outputs[0]!);
    if (!isOnnx(cast, 'Cast') || cast.attrs.int('to', 0) !== FLOAT) continue;
    const scale = soleReader(index, cast.outputs[0]!);
    if (!isOnnx(scale, 'Mul')) continue;
    const scaleInput = scale.inputs[0] === cast.outputs[0] ? scale.inputs[1]! : scale.inputs[0]!;
    // MatMulIntegerToFloat multiplies a single A scale by B's scales itself; reuse the graph's
    // own A_scale · W_scale product when it is one, else feed the product with an A scale of 1.
    const product = index.producer.get(scaleInput);
    let scales: [string, string];
    if (isOnnx(product, 'Mul') && constants.has(product.inputs[1]!) && !constants.has(product.inputs[0]!)) {
      scales = [product.inputs[0]!, product.inputs[1]!];
    } else if (isOnnx(product, 'Mul') && constants.has(product.inputs[0]!) && !constants.has(product.inputs[1]!)) {
      scales = [product.inputs[1]!, product.inputs[0]!];
    } else continue;
    const chain = [matmul, cast, scale];
    let output = scale.outputs[0]!;
    let bias = '';
    const add = soleReader(index, output);
    if (isOnnx(add, 'Add')) {
      const other = add.inputs[0] === output ? add.inputs[1]! : add.inputs[0]!;
      const b = constants.get(other);
      const n = constants.get(matmul.inputs[1]!)!.dims.at(-1);
      if (b && b.type === 'float32' && b.dims.length === 1 && b.dims[0] === n) {
        bias = other;
        output = add.outputs[0]!;
        chain.push(add);
      }
    }
    const fused: GraphNode = {
      name: `${matmul.name}/fused_linear`,
      opType: 'MatMulIntegerToFloat',
      domain: 'com.microsoft',
      opset: 1,
      attrs: new Attributes(new Map(), { name: `${matmul.name}/fused_linear`, opType: 'MatMulIntegerToFloat' }),
      inputs: [matmul.inputs[0]!, matmul.inputs[1]!, scales[0], scales[1], matmul.inputs[2] ?? '', matmul.inputs[3] ?? '', bias],
      outputs: [output],
      cache: new Map(),
      def,
    };
    for (const n of chain) removed.add(n);
    // The fused node takes the place of the chain's last node, after all of its inputs.
    replacement.set(chain[chain.length - 1]!, fused);
  }
  return nodes.flatMap((n) => (replacement.has(n) ? [replacement.get(n)!] : removed.has(n) ? [] : [n]));
}

/** Drops nodes none of whose outputs is read or is a graph output (left behind by fusions). */
function dropDeadNodes(graph: Graph, nodes: GraphNode[]): GraphNode[] {
  let current = nodes;
  for (;;) {
    const index = indexGraph(current, graph);
    const live = current.filter((n) => n.def.noFold || n.outputs.some((o) => o && (index.readers.has(o) || index.graphOutputs.has(o))));
    if (live.length === current.length) return current;
    current = live;
  }
}

export function fuseGraph(graph: Graph): Graph {
  const constants = new Map(graph.initializers);
  let nodes = [...graph.nodes];
  nodes = fuseQuantizedLinear(graph, nodes, constants);
  nodes = dropDeadNodes(graph, nodes);
  return { ...graph, nodes };
}
