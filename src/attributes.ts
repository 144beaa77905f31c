import { LambertError, describeNode } from './errors.js';
import type { Tensor } from './tensor.js';

export type AttributeValue = number | string | Tensor | number[] | string[] | Tensor[];

/** Typed access to a node's attributes, with errors that name the node. */
export class Attributes {
  constructor(
    private readonly values: ReadonlyMap<string, AttributeValue>,
    private readonly owner: { name: string; opType: string },
  ) {}

  has(name: string): boolean {
    return this.values.has(name);
  }

  names(): string[] {
    return [...this.values.keys()];
  }

  private get(name: string, kind: string, check: (v: AttributeValue) => boolean): AttributeValue | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (!check(v)) {
      throw new LambertError('INVALID_MODEL', `${describeNode(this.owner)}: attribute "${name}" must be ${kind}`);
    }
    return v;
  }

  private missing(name: string): never {
    throw new LambertError('INVALID_MODEL', `${describeNode(this.owner)}: missing required attribute "${name}"`);
  }

  int(name: string, fallback?: number): number {
    const v = this.get(name, 'an int', (x) => typeof x === 'number' && Number.isInteger(x));
    if (v === undefined) return fallback ?? this.missing(name);
    return v as number;
  }

  float(name: string, fallback?: number): number {
    const v = this.get(name, 'a float', (x) => typeof x === 'number');
    if (v === undefined) return fallback ?? this.missing(name);
    return v as number;
  }

  string(name: string, fallback?: string): string {
    const v = this.get(name, 'a string', (x) => typeof x === 'string');
    if (v === undefined) return fallback ?? this.missing(name);
    return v as string;
  }

  ints(name: string, fallback?: number[]): number[] {
    const v = this.get(name, 'a list of ints', (x) => Array.isArray(x) && x.every((e) => typeof e === 'number'));
    if (v === undefined) return fallback ?? this.missing(name);
    return v as number[];
  }

  floats(name: string, fallback?: number[]): number[] {
    const v = this.get(name, 'a list of floats', (x) => Array.isArray(x) && x.every((e) => typeof e === 'number'));
    if (v === undefined) return fallback ?? this.missing(name);
    return v as number[];
  }

  strings(name: string, fallback?: string[]): string[] {
    const v = this.get(name, 'a list of strings', (x) => Array.isArray(x) && x.every((e) => typeof e === 'string'));
    if (v === undefined) return fallback ?? this.missing(name);
    return v as string[];
  }

  tensor(name: string): Tensor | undefined {
    const v = this.get(name, 'a tensor', (x) => typeof x === 'object' && !Array.isArray(x));
    return v as Tensor | undefined;
  }
}
