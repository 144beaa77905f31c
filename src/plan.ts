/**
 * Plan: for one set of input shapes, walk the graph once — infer every value's dtype and
 * shape, fold everything that depends only on constants and shapes (the Shape → Gather →
 * Concat → Reshape chains of exported graphs vanish here), let ops pack constant weights, and
 * lay all intermediates into one arena by lifetime.
 */
import { LambertError, describeNode, formatShape } from './errors.js';
import type { Graph, GraphNode } from './load.js';
import type { InputMetas, OutputAllocator, ValueMeta } from './ops/types.js';
import { allocate, bytesPerElement, sizeOf, Tensor, viewOf, type DType } from './tensor.js';

export interface Step {
  readonly node: GraphNode;
  /** Slot per node input, -1 for an omitted optional input. */
  readonly inputSlots: Int32Array;
  readonly outputSlots: Int32Array;
  /** Reused on every run to pass the input tensors. */
  readonly inputs: (Tensor | undefined)[];
  /** Arena-backed output tensors, where the planner knew the shape. */
  readonly planned: (Tensor | undefined)[];
  readonly state: unknown;
}

export interface Plan {
  /** Values by slot: constants filled at plan time, the rest written while running. */
  readonly values: (Tensor | undefined)[];
  readonly inputSlots: ReadonlyMap<string, number>;
  readonly outputSlots: readonly number[];
  readonly steps: readonly Step[];
  readonly arena: ArrayBuffer;
  /** Nodes folded away at plan time. */
  readonly foldedNodes: number;
}

export interface InputSpec {
  readonly dtype: DType;
  readonly dims: readonly number[];
}

const ARENA_ALIGN = 64;

/** Wraps whatever an op threw so callers only ever see LambertError, naming the node. */
export function asNodeError(node: GraphNode, inputs: readonly (ValueMeta | Tensor | undefined)[], err: unknown): LambertError {
  const shapes = inputs
    .map((v) => (v === undefined ? '-' : v instanceof Tensor ? `${v.type}${formatShape(v.dims)}` : `${v.dtype}${formatShape(v.shape)}`))
    .join(', ');
  const where = `${describeNode(node)} (inputs ${shapes})`;
  if (err instanceof LambertError) {
    if (err.message.includes(`"${node.name}"`)) return err;
    return new LambertError(err.code, `${where}: ${err.message}`, { cause: err });
  }
  return new LambertError('INTERNAL_ERROR', `${where}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** Allocates fresh tensors: used while folding constants, and when a shape was unknown at plan time. */
export const freshAllocator: OutputAllocator = {
  alloc(_index, dtype, dims) {
    return new Tensor(dtype, allocate(dtype, sizeOf(dims)), dims);
  },
};

export function buildPlan(graph: Graph, feeds: ReadonlyMap<string, InputSpec>): Plan {
  const slotOf = new Map<string, number>();
  const metas: ValueMeta[] = [];
  const values: (Tensor | undefined)[] = [];
  const define = (name: string, meta: ValueMeta): number => {
    const slot = metas.length;
    metas.push(meta);
    values.push(meta.value);
    slotOf.set(name, slot);
    return slot;
  };

  for (const [name, tensor] of graph.initializers) define(name, { dtype: tensor.type, shape: tensor.dims, value: tensor });
  const inputSlots = new Map<string, number>();
  for (const input of graph.inputs) {
    const spec = feeds.get(input.name);
    if (spec) inputSlots.set(input.name, define(input.name, { dtype: spec.dtype, shape: spec.dims }));
  }

  const steps: Step[] = [];
  let foldedNodes = 0;
  for (const node of graph.nodes) {
    const inMetas: InputMetas = node.inputs.map((name) => {
      if (!name) return undefined;
      const slot = slotOf.get(name);
      if (slot === undefined) throw new LambertError('INVALID_INPUT', `${describeNode(node)}: input "${name}" was not fed`);
      return metas[slot];
    });
    let outMetas: ValueMeta[];
    try {
      outMetas = node.def.infer(node, inMetas);
    } catch (err) {
      throw asNodeError(node, inMetas, err);
    }
    const foldable = !node.def.noFold && inMetas.every((m) => m === undefined || m.value !== undefined);
    if (foldable) {
      const inputs = inMetas.map((m) => m?.value);
      let outputs: Tensor[];
      try {
        outputs = node.def.run(node, inputs, freshAllocator, node.def.prepare?.(node, inMetas));
      } catch (err) {
        throw asNodeError(node, inputs, err);
      }
      node.outputs.forEach((name, i) => {
        const t = outputs[i];
        if (name && t) define(name, { dtype: t.type, shape: t.dims, value: t });
      });
      foldedNodes++;
      continue;
    }
    let state: unknown;
    try {
      state = node.def.prepare?.(node, inMetas);
    } catch (err) {
      throw asNodeError(node, inMetas, err);
    }
    const outputSlots = new Int32Array(node.outputs.length).fill(-1);
    node.outputs.forEach((name, i) => {
      const meta = outMetas[i];
      if (!name) return;
      if (!meta) throw new LambertError('INTERNAL_ERROR', `${describeNode(node)}: no type inferred for output ${i}`);
      outputSlots[i] = define(name, { dtype: meta.dtype, shape: meta.shape });
    });
    steps.push({
      node,
      inputSlots: Int32Array.from(node.inputs, (name) => (name ? slotOf.get(name)! : -1)),
      outputSlots,
      inputs: new Array(node.inputs.length).fill(undefined),
      planned: new Array(node.outputs.length).fill(undefined),
      state,
    });
  }

  const outputSlots = graph.outputs.map((o) => {
    const slot = slotOf.get(o.source);
    if (slot === undefined) throw new LambertError('INVALID_INPUT', `graph output "${o.name}" depends on an input that was not fed`);
    return slot;
  });

  const arena = layoutArena(steps, metas, outputSlots);
  return { values, inputSlots, outputSlots, steps, arena, foldedNodes };
}

/**
 * Gives every step output of known shape a region of one arena, reusing a region once the last
 * reader of its value has run. Views (Reshape and friends) share their source's region, so it
 * lives as long as its longest-lived view.
 */
function layoutArena(steps: Step[], metas: ValueMeta[], outputSlots: readonly number[]): ArrayBuffer {
  const root = new Int32Array(metas.length).map((_, i) => i);
  const lastUse = new Int32Array(metas.length).fill(-1);
  steps.forEach((step, s) => {
    if (step.node.def.view && step.outputSlots[0]! >= 0 && step.inputSlots[0]! >= 0) {
      root[step.outputSlots[0]!] = root[step.inputSlots[0]!]!;
    }
    for (const slot of step.inputSlots) if (slot >= 0) lastUse[root[slot]!] = s;
  });
  const end = steps.length;
  for (const slot of outputSlots) lastUse[root[slot]!] = end;

  const offsets = new Map<number, { offset: number; bytes: number }>();
  const free: { offset: number; bytes: number }[] = [];
  let arenaBytes = 0;
  const take = (bytes: number): number => {
    let best = -1;
    for (let i = 0; i < free.length; i++) {
      if (free[i]!.bytes >= bytes && (best < 0 || free[i]!.bytes < free[best]!.bytes)) best = i;
    }
    if (best < 0) {
      const offset = arenaBytes;
      arenaBytes += bytes;
      return offset;
    }
    const block = free[best]!;
    const offset = block.offset;
    if (block.bytes === bytes) free.splice(best, 1);
    else free[best] = { offset: block.offset + bytes, bytes: block.bytes - bytes };
    return offset;
  };
  const release = (block: { offset: number; bytes: number }) => {
    free.push(block);
    free.sort((a, b) => a.offset - b.offset);
    for (let i = free.length - 1; i > 0; i--) {
      const prev = free[i - 1]!;
      if (prev.offset + prev.bytes === free[i]!.offset) {
        prev.bytes += free[i]!.bytes;
        free.splice(i, 1);
      }
    }
  };

  const dying: number[][] = steps.map(() => []);
  steps.forEach((step, s) => {
    step.outputSlots.forEach((slot, i) => {
      if (slot < 0 || root[slot] !== slot) return;
      const meta = metas[slot]!;
      if (meta.shape === null || (step.node.def.view && i === 0)) return;
      const bytes = Math.ceil((sizeOf(meta.shape) * bytesPerElement(meta.dtype)) / ARENA_ALIGN) * ARENA_ALIGN;
      if (bytes === 0) return;
      offsets.set(slot, { offset: take(bytes), bytes });
      // A value nobody reads still needs its region while its own step runs.
      dying[Math.max(lastUse[slot]!, s)]?.push(slot);
    });
    for (const slot of dying[s]!) release(offsets.get(slot)!);
  });

  const arena = new ArrayBuffer(arenaBytes);
  steps.forEach((step) => {
    step.outputSlots.forEach((slot, i) => {
      const region = offsets.get(slot);
      if (!region) return;
      const meta = metas[slot]!;
      const shape = meta.shape!;
      step.planned[i] = new Tensor(meta.dtype, viewOf(meta.dtype, arena, region.offset, sizeOf(shape)), shape);
    });
  });
  return arena;
}
