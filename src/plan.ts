/**
 * Plan: for one set of input shapes, walk the graph once — infer every value's dtype and
 * shape, fold everything that depends only on constants and shapes (the Shape → Gather →
 * Concat → Reshape chains of exported graphs vanish here), let ops pack constant weights, and
 * lay all intermediates into one arena by lifetime.
 *
 * Memory is bounded by `maxMemoryBytes`: every inferred output, the folded constants and the
 * arena are checked before anything is allocated, and run.ts checks the outputs whose size was
 * only known at run time against what the arena leaves.
 */
import { LambertError, describeNode, formatShape } from './errors.js';
import type { Graph, GraphNode } from './load.js';
import type { InputMetas, OutputAllocator, ValueMeta } from './ops/types.js';
import { allocate, bytesPerElement, isDType, sizeOf, Tensor, viewOf, type DType } from './tensor.js';

interface StepDraft {
  readonly node: GraphNode;
  /** Slot per node input, -1 for an omitted optional input. */
  readonly inputSlots: Int32Array;
  readonly outputSlots: Int32Array;
  /** Reused on every run to pass the input tensors. */
  readonly inputs: (Tensor | undefined)[];
  /** Arena-backed output tensors, where the planner knew the shape. */
  readonly planned: (Tensor | undefined)[];
  /** What infer promised per output: run.ts holds the op to it. */
  readonly expected: readonly (ValueMeta | undefined)[];
  readonly state: unknown;
}

export interface Step extends StepDraft {
  /** Slots nobody reads after this step (graph outputs excluded): dropped so their memory can go. */
  readonly dead: Int32Array;
}

export interface Plan {
  /** Values by slot: constants filled at plan time, the rest written while running. */
  readonly values: (Tensor | undefined)[];
  readonly inputSlots: ReadonlyMap<string, number>;
  readonly outputSlots: readonly number[];
  readonly steps: readonly Step[];
  readonly arena: ArrayBuffer | SharedArrayBuffer;
  /** Nodes folded away at plan time. */
  readonly foldedNodes: number;
  /** Bytes held by the plan: arena plus folded constants. */
  readonly bytes: number;
  /** The budget the plan was made under; run-time allocations get what the plan leaves of it. */
  readonly maxMemoryBytes: number;
}

export interface InputSpec {
  readonly dtype: DType;
  readonly dims: readonly number[];
}

export interface PlanOptions {
  /** Bound on the plan's memory: arena + folded constants + run-time allocations. Default 2 GiB. */
  readonly maxMemoryBytes?: number;
  /** Put the arena in a SharedArrayBuffer, for sessions whose GEMMs run on worker threads. */
  readonly sharedArena?: boolean;
}

export const DEFAULT_MAX_MEMORY_BYTES = 2 * 1024 ** 3;

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
  const message = (err as Error)?.message ?? String(err);
  // The engine's own bounds come first, but an op's scratch space can still exhaust the heap or stack.
  if (err instanceof RangeError && /allocation failed|call stack size/i.test(message)) {
    return new LambertError('RESOURCE_LIMIT', `${where}: ${message}`, { cause: err });
  }
  return new LambertError('INTERNAL_ERROR', `${where}: ${message}`, { cause: err });
}

/** Allocates fresh tensors with no bound (tests and tools that call ops directly). */
export const freshAllocator: OutputAllocator = {
  alloc(_index, dtype, dims) {
    return new Tensor(dtype, allocate(dtype, sizeOf(dims)), dims);
  },
};

/** Bytes of a tensor of `dims`, or an error naming the node when the dims are not a valid shape. */
export function checkedBytes(node: GraphNode, what: string, dtype: DType, dims: readonly number[]): number {
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new LambertError('INVALID_MODEL', `${describeNode(node)}: ${what} has an invalid shape ${formatShape(dims)}`);
    }
  }
  const bytes = sizeOf(dims) * bytesPerElement(dtype);
  if (!Number.isSafeInteger(bytes)) {
    // Beyond 2^53 bytes is beyond any memory bound: the same limit as a merely huge tensor.
    throw new LambertError('RESOURCE_LIMIT', `${describeNode(node)}: ${what} ${dtype}${formatShape(dims)} has too many elements`);
  }
  return bytes;
}

/** Fresh allocations charged against a budget: constant folding, and run-time outputs of unknown shape. */
export class BudgetAllocator implements OutputAllocator {
  node: GraphNode | undefined;
  used = 0;
  constructor(private readonly limit: number) {}

  alloc<T extends DType>(index: number, dtype: T, dims: readonly number[]): Tensor<T> {
    const node = this.node!;
    const bytes = checkedBytes(node, `output ${index}`, dtype, dims);
    if (this.used + bytes > this.limit) {
      throw new LambertError(
        'RESOURCE_LIMIT',
        `${describeNode(node)}: output ${index} ${dtype}${formatShape(dims)} needs ${bytes} bytes, ` +
          `over the ${this.limit - this.used} left of maxMemoryBytes`,
      );
    }
    this.used += bytes;
    return new Tensor(dtype, allocate(dtype, sizeOf(dims)), dims);
  }
}

export function buildPlan(graph: Graph, feeds: ReadonlyMap<string, InputSpec>, options: PlanOptions = {}): Plan {
  const limit = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
  const slotOf = new Map<string, number>();
  const metas: ValueMeta[] = [];
  const values: (Tensor | undefined)[] = [];
  // Slots whose shape or value follows from a feed of variable shape: failures there are the caller's.
  const variable: boolean[] = [];
  const define = (name: string, meta: ValueMeta, fromVariable: boolean): number => {
    const slot = metas.length;
    metas.push(meta);
    values.push(meta.value);
    variable.push(fromVariable);
    slotOf.set(name, slot);
    return slot;
  };

  for (const [name, tensor] of graph.initializers) define(name, { dtype: tensor.type, shape: tensor.dims, value: tensor }, false);
  const inputSlots = new Map<string, number>();
  for (const input of graph.inputs) {
    const spec = feeds.get(input.name);
    const fixed = input.dims !== null && input.dims.every((d) => typeof d === 'number');
    if (spec) inputSlots.set(input.name, define(input.name, { dtype: spec.dtype, shape: spec.dims }, !fixed));
  }
  const feedShapes = () =>
    [...feeds].map(([name, spec]) => `"${name}" ${spec.dtype}${formatShape(spec.dims)}`).join(', ') || '(none)';
  // An op rejecting shapes that came from variable-shape feeds is rejecting the caller's inputs
  // — unless it rejects the node whatever the shapes (a dtype mismatch, a bad attribute): asked
  // again with every shape and shape-derived value unknown, infer still throwing says so.
  const independentOfShapes = (node: GraphNode, inSlots: readonly number[]): boolean => {
    const blind = inSlots.map((slot) => {
      if (slot < 0) return undefined;
      const meta = metas[slot]!;
      return variable[slot] ? { dtype: meta.dtype, shape: null } : meta;
    });
    try {
      node.def.infer(node, blind);
      return false;
    } catch (err) {
      return err instanceof LambertError && err.code === 'INVALID_MODEL';
    }
  };
  const nodeError = (node: GraphNode, fromVariable: boolean, inputs: readonly (ValueMeta | Tensor | undefined)[], err: unknown, inSlots?: readonly number[]) => {
    const wrapped = asNodeError(node, inputs, err);
    if (!fromVariable || !['INVALID_MODEL', 'INVALID_INPUT', 'RESOURCE_LIMIT'].includes(wrapped.code)) return wrapped;
    if (wrapped.code === 'INVALID_MODEL' && inSlots && independentOfShapes(node, inSlots)) return wrapped;
    const code = wrapped.code === 'RESOURCE_LIMIT' ? 'RESOURCE_LIMIT' : 'INVALID_INPUT';
    return new LambertError(code, `the model cannot run on inputs ${feedShapes()}: ${wrapped.message}`, { cause: wrapped });
  };

  const folding = new BudgetAllocator(limit);
  const drafts: StepDraft[] = [];
  let foldedNodes = 0;
  // A fused node whose op rejects these shapes gives way to the nodes it replaced.
  const queue = [...graph.nodes];
  for (let q = 0; q < queue.length; q++) {
    const node = queue[q]!;
    const inSlots = node.inputs.map((name) => {
      if (!name) return -1;
      const slot = slotOf.get(name);
      if (slot === undefined) throw new LambertError('INVALID_INPUT', `${describeNode(node)}: input "${name}" was not fed`);
      return slot;
    });
    const inMetas: InputMetas = inSlots.map((slot) => (slot < 0 ? undefined : metas[slot]));
    const fromVariable = inSlots.some((slot) => slot >= 0 && variable[slot]!);
    let outMetas: ValueMeta[];
    try {
      outMetas = node.def.infer(node, inMetas);
    } catch (err) {
      if (node.unfused && err instanceof LambertError) {
        queue.splice(q + 1, 0, ...node.unfused);
        continue;
      }
      throw nodeError(node, fromVariable, inMetas, err, inSlots);
    }
    checkOutputCount(node, outMetas);
    try {
      checkInferred(node, outMetas, limit);
    } catch (err) {
      throw nodeError(node, fromVariable, inMetas, err);
    }
    // Ops whose result follows from shapes alone (Shape, Size) return it from infer.
    const namedOutputs = node.outputs.filter((name) => name);
    if (namedOutputs.length > 0 && node.outputs.every((name, i) => !name || outMetas[i]?.value !== undefined)) {
      node.outputs.forEach((name, i) => name && define(name, outMetas[i]!, fromVariable));
      foldedNodes++;
      continue;
    }
    const foldable = !node.def.noFold && inMetas.every((m) => m === undefined || m.value !== undefined);
    if (foldable) {
      const inputs = inMetas.map((m) => m?.value);
      let outputs: Tensor[];
      try {
        folding.node = node;
        outputs = node.def.run(node, inputs, folding, node.def.prepare?.(node, inMetas));
        checkOutputs(node, outputs, outMetas);
      } catch (err) {
        throw nodeError(node, fromVariable, inputs, err);
      }
      node.outputs.forEach((name, i) => {
        const t = outputs[i];
        if (name && t) define(name, { dtype: t.type, shape: t.dims, value: t }, fromVariable);
      });
      foldedNodes++;
      continue;
    }
    let state: unknown;
    try {
      state = node.def.prepare?.(node, inMetas);
    } catch (err) {
      throw nodeError(node, fromVariable, inMetas, err);
    }
    const outputSlots = new Int32Array(node.outputs.length).fill(-1);
    node.outputs.forEach((name, i) => {
      if (name) outputSlots[i] = define(name, { dtype: outMetas[i]!.dtype, shape: outMetas[i]!.shape }, fromVariable);
    });
    drafts.push({
      node,
      inputSlots: Int32Array.from(inSlots),
      outputSlots,
      inputs: new Array(node.inputs.length).fill(undefined),
      planned: new Array(node.outputs.length).fill(undefined),
      expected: node.outputs.map((name, i) => (name ? outMetas[i] : undefined)),
      state,
    });
  }

  const outputSlots = graph.outputs.map((o) => {
    const slot = slotOf.get(o.source);
    if (slot === undefined) throw new LambertError('INVALID_INPUT', `graph output "${o.name}" depends on an input that was not fed`);
    return slot;
  });

  const { arena, dead } = layoutArena(drafts, metas, outputSlots, limit - folding.used, feedShapes, options.sharedArena ?? false);
  return {
    values,
    inputSlots,
    outputSlots,
    steps: drafts.map((draft, s) => ({ ...draft, dead: dead[s]! })),
    arena,
    foldedNodes,
    bytes: arena.byteLength + folding.used,
    maxMemoryBytes: limit,
  };
}

/** A node naming more outputs than its op has is a broken model, whatever the inputs. */
function checkOutputCount(node: GraphNode, outMetas: readonly ValueMeta[]): void {
  if (!Array.isArray(outMetas)) throw new LambertError('INTERNAL_ERROR', `${describeNode(node)}: infer returned no outputs`);
  node.outputs.forEach((name, i) => {
    if (name && !outMetas[i]) {
      throw new LambertError(
        'INVALID_MODEL',
        `${describeNode(node)}: the node declares ${node.outputs.length} outputs but the op produces ${outMetas.length}`,
      );
    }
  });
}

/** Holds infer to its contract, so a lax op cannot hand the planner shapes it would choke on. */
function checkInferred(node: GraphNode, outMetas: readonly ValueMeta[], limit: number): void {
  node.outputs.forEach((name, i) => {
    if (!name) return;
    const meta = outMetas[i]!;
    if (!isDType(meta.dtype)) throw new LambertError('INTERNAL_ERROR', `${describeNode(node)}: infer gave output ${i} no valid dtype`);
    if (meta.shape === null) return;
    if (!Array.isArray(meta.shape)) throw new LambertError('INTERNAL_ERROR', `${describeNode(node)}: infer gave output ${i} no valid shape`);
    const bytes = checkedBytes(node, `output ${i} "${name}"`, meta.dtype, meta.shape);
    if (bytes > limit) {
      throw new LambertError(
        'RESOURCE_LIMIT',
        `${describeNode(node)}: output ${i} "${name}" ${meta.dtype}${formatShape(meta.shape)} needs ${bytes} bytes, over maxMemoryBytes (${limit})`,
      );
    }
  });
}

/** Holds run to what infer promised: dtype always, dims where infer knew them. */
export function checkOutputs(node: GraphNode, outputs: readonly (Tensor | undefined)[], expected: readonly (ValueMeta | undefined)[]): void {
  if (!Array.isArray(outputs)) throw new LambertError('INTERNAL_ERROR', `${describeNode(node)}: run returned no outputs`);
  const names = node.outputs;
  for (let i = 0; i < names.length; i++) {
    if (!names[i]) continue;
    const t = outputs[i];
    const meta = expected[i];
    if (!(t instanceof Tensor) || (meta && (t.type !== meta.dtype || (meta.shape !== null && !sameDims(t.dims, meta.shape))))) {
      const got = t instanceof Tensor ? `${t.type}${formatShape(t.dims)}` : String(t);
      const want = meta ? `${meta.dtype}${formatShape(meta.shape)}` : 'a tensor';
      throw new LambertError('INTERNAL_ERROR', `${describeNode(node)}: output ${i} is ${got} but infer promised ${want}`);
    }
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Gives every step output of known shape a region of one arena, reusing a region once the last
 * reader of its value has run. Views (Reshape and friends) share their source's region, so it
 * lives as long as its longest-lived view. Also records, per step, the values that die there.
 */
function layoutArena(
  steps: StepDraft[],
  metas: ValueMeta[],
  outputSlots: readonly number[],
  budget: number,
  feedShapes: () => string,
  shared: boolean,
): { arena: ArrayBuffer | SharedArrayBuffer; dead: Int32Array[] } {
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
  const free = new FreeList();
  let arenaBytes = 0;
  const take = (bytes: number): number => {
    const offset = free.take(bytes);
    if (offset !== undefined) return offset;
    arenaBytes += bytes;
    return arenaBytes - bytes;
  };
  const release = (block: { offset: number; bytes: number }) => free.add(block.offset, block.bytes);

  const dying: number[][] = steps.map(() => []);
  const dead: number[][] = steps.map(() => []);
  steps.forEach((step, s) => {
    step.outputSlots.forEach((slot, i) => {
      if (slot < 0) return;
      // A value nobody reads still needs its region (and its reference) while its own step runs.
      const dies = Math.max(lastUse[root[slot]!]!, s);
      if (dies < end) dead[dies]!.push(slot);
      if (root[slot] !== slot) return;
      const meta = metas[slot]!;
      if (meta.shape === null || (step.node.def.view && i === 0)) return;
      const bytes = Math.ceil((sizeOf(meta.shape) * bytesPerElement(meta.dtype)) / ARENA_ALIGN) * ARENA_ALIGN;
      if (bytes === 0) return;
      offsets.set(slot, { offset: take(bytes), bytes });
      dying[dies]?.push(slot);
    });
    for (const slot of dying[s]!) release(offsets.get(slot)!);
  });

  if (arenaBytes > budget) {
    throw new LambertError(
      'RESOURCE_LIMIT',
      `the plan for inputs ${feedShapes()} needs a ${arenaBytes}-byte arena for intermediate values, ` +
        `over the ${budget} bytes that maxMemoryBytes leaves after constants`,
    );
  }
  const arena = shared ? new SharedArrayBuffer(arenaBytes) : new ArrayBuffer(arenaBytes);
  steps.forEach((step) => {
    step.outputSlots.forEach((slot, i) => {
      const region = offsets.get(slot);
      if (!region) return;
      const meta = metas[slot]!;
      const shape = meta.shape!;
      step.planned[i] = new Tensor(meta.dtype, viewOf(meta.dtype, arena, region.offset, sizeOf(shape)), shape);
    });
  });
  return { arena, dead: dead.map((slots) => Int32Array.from(slots)) };
}

/**
 * The arena's free regions, coalesced on release and taken best-fit. Indexed by offset, end and
 * size so that each operation is logarithmic-ish: a plain list re-sorted on every release
 * made planning quadratic, and a hostile graph of many short-lived values could stall it.
 */
class FreeList {
  private readonly sizeAt = new Map<number, number>();
  private readonly startOfEnd = new Map<number, number>();
  /** Distinct free sizes, ascending, and the regions of each size in release order. */
  private readonly sizes: number[] = [];
  private readonly bySize = new Map<number, Set<number>>();

  add(offset: number, bytes: number): void {
    const before = this.startOfEnd.get(offset);
    if (before !== undefined) {
      const size = this.sizeAt.get(before)!;
      this.remove(before, size);
      offset = before;
      bytes += size;
    }
    const after = this.sizeAt.get(offset + bytes);
    if (after !== undefined) {
      this.remove(offset + bytes, after);
      bytes += after;
    }
    this.insert(offset, bytes);
  }

  /** The offset of a region of `bytes` carved from the smallest free region that holds it, if any. */
  take(bytes: number): number | undefined {
    const i = lowerBound(this.sizes, bytes);
    if (i === this.sizes.length) return undefined;
    const size = this.sizes[i]!;
    const offset = this.bySize.get(size)!.values().next().value!;
    this.remove(offset, size);
    if (size > bytes) this.insert(offset + bytes, size - bytes);
    return offset;
  }

  private insert(offset: number, bytes: number): void {
    this.sizeAt.set(offset, bytes);
    this.startOfEnd.set(offset + bytes, offset);
    let regions = this.bySize.get(bytes);
    if (!regions) {
      regions = new Set();
      this.bySize.set(bytes, regions);
      this.sizes.splice(lowerBound(this.sizes, bytes), 0, bytes);
    }
    regions.add(offset);
  }

  private remove(offset: number, bytes: number): void {
    this.sizeAt.delete(offset);
    this.startOfEnd.delete(offset + bytes);
    const regions = this.bySize.get(bytes)!;
    regions.delete(offset);
    if (regions.size === 0) {
      this.bySize.delete(bytes);
      this.sizes.splice(lowerBound(this.sizes, bytes), 1);
    }
  }
}

/** The first index of ascending `sorted` whose value is at least `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
