/**
 * Run: execute a plan as a flat list of steps. Planned outputs land in the arena, so after the
 * first run nothing is allocated except the returned output copies. Outputs whose shape was
 * only known at run time are allocated fresh, within what the plan leaves of maxMemoryBytes.
 */
import { LambertError, describeNode, formatShape } from './errors.js';
import type { OutputAllocator } from './ops/types.js';
import { asNodeError, checkedBytes, checkOutputs, type Plan, type Step } from './plan.js';
import { allocate, sizeOf, Tensor, type DType } from './tensor.js';

class StepAllocator implements OutputAllocator {
  step: Step | undefined;
  /** Bytes the current run may allocate beyond the plan's own. */
  budget = 0;
  /** Bytes of fresh outputs still referenced, and what each slot holds. */
  live = 0;
  fresh = new Map<number, number>();

  alloc<T extends DType>(index: number, dtype: T, dims: readonly number[]): Tensor<T> {
    const step = this.step!;
    const planned = step.planned[index];
    if (planned && planned.type === dtype && sameDims(planned.dims, dims)) return planned as Tensor<T>;
    const bytes = checkedBytes(step.node, `output ${index}`, dtype, dims);
    if (this.live + bytes > this.budget) {
      throw new LambertError(
        'RESOURCE_LIMIT',
        `${describeNode(step.node)}: output ${index} ${dtype}${formatShape(dims)} needs ${bytes} bytes; ` +
          `with ${this.live} bytes of other run-time outputs alive that is over maxMemoryBytes`,
      );
    }
    this.live += bytes;
    const slot = step.outputSlots[index] ?? -1;
    this.fresh.set(slot, (this.fresh.get(slot) ?? 0) + bytes);
    return new Tensor(dtype, allocate(dtype, sizeOf(dims)), dims);
  }

  /** Forgets the fresh memory of a value nobody reads any more. */
  drop(slot: number): void {
    const bytes = this.fresh.get(slot);
    if (bytes === undefined) return;
    this.live -= bytes;
    this.fresh.delete(slot);
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const allocator = new StepAllocator();

/** Runs `plan` on `feeds` (by graph input name) and returns copies of the graph outputs. */
export function executePlan(plan: Plan, feeds: ReadonlyMap<string, Tensor>): Tensor[] {
  const values = plan.values;
  for (const [name, slot] of plan.inputSlots) values[slot] = feeds.get(name);
  const steps = plan.steps;
  allocator.budget = plan.maxMemoryBytes - plan.bytes;
  try {
    for (let s = 0; s < steps.length; s++) {
      const step = steps[s]!;
      const inputs = step.inputs;
      const inputSlots = step.inputSlots;
      for (let i = 0; i < inputSlots.length; i++) {
        const slot = inputSlots[i]!;
        inputs[i] = slot >= 0 ? values[slot] : undefined;
      }
      allocator.step = step;
      let outputs: Tensor[];
      try {
        outputs = step.node.def.run(step.node, inputs, allocator, step.state);
        checkOutputs(step.node, outputs, step.expected);
      } catch (err) {
        const wrapped = asNodeError(step.node, inputs, err);
        // The plan accepted the graph and its shapes, and every step left depends on a feed: what fails now
        // fails on the input values (a data-dependent shape, an index), not on the model.
        if (wrapped.code !== 'INVALID_MODEL') throw wrapped;
        throw new LambertError('INVALID_INPUT', `the model cannot run on these input values: ${wrapped.message}`, { cause: wrapped });
      }
      const outputSlots = step.outputSlots;
      for (let i = 0; i < outputSlots.length; i++) {
        const slot = outputSlots[i]!;
        if (slot >= 0) values[slot] = outputs[i];
      }
      const dead = step.dead;
      for (let i = 0; i < dead.length; i++) {
        values[dead[i]!] = undefined;
        allocator.drop(dead[i]!);
      }
      inputs.fill(undefined);
    }
    // Outputs may live in the arena, alias an input or be a constant: hand out copies.
    return plan.outputSlots.map((slot) => {
      const t = values[slot]!;
      return new Tensor(t.type, t.data.slice() as typeof t.data, t.dims);
    });
  } finally {
    allocator.step = undefined;
    allocator.live = 0;
    allocator.fresh.clear();
    for (const slot of plan.inputSlots.values()) values[slot] = undefined;
    // Nothing from this run may outlive it: the next run must not see stale values.
    for (const step of steps) for (const slot of step.outputSlots) if (slot >= 0) values[slot] = undefined;
  }
}
