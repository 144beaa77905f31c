/**
 * Run: execute a plan as a flat list of steps. Planned outputs land in the arena, so after the
 * first run nothing is allocated except the returned output copies.
 */
import type { OutputAllocator } from './ops/types.js';
import { asNodeError, type Plan, type Step } from './plan.js';
import { allocate, sizeOf, Tensor, type DType } from './tensor.js';

class StepAllocator implements OutputAllocator {
  step: Step | undefined;
  alloc<T extends DType>(index: number, dtype: T, dims: readonly number[]): Tensor<T> {
    const planned = this.step?.planned[index];
    if (planned && planned.type === dtype && sameDims(planned.dims, dims)) return planned as Tensor<T>;
    return new Tensor(dtype, allocate(dtype, sizeOf(dims)), dims);
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
      } catch (err) {
        throw asNodeError(step.node, inputs, err);
      }
      const outputSlots = step.outputSlots;
      for (let i = 0; i < outputSlots.length; i++) {
        const slot = outputSlots[i]!;
        if (slot >= 0) values[slot] = outputs[i];
      }
    }
    // Outputs may live in the arena, alias an input or be a constant: hand out copies.
    return plan.outputSlots.map((slot) => {
      const t = values[slot]!;
      return new Tensor(t.type, t.data.slice() as typeof t.data, t.dims);
    });
  } finally {
    allocator.step = undefined;
    for (const slot of plan.inputSlots.values()) values[slot] = undefined;
  }
}
