/**
 * The one error type lambert throws for bad models and bad inputs. `code` is stable and
 * machine-readable; the message names the node, op and shapes involved where there are any.
 */
export type LambertErrorCode =
  | 'INVALID_MODEL'
  | 'UNSUPPORTED_OP'
  | 'INVALID_INPUT'
  | 'INVALID_ARGUMENT'
  | 'RESOURCE_LIMIT'
  | 'UNSUPPORTED_TYPE'
  | 'IO_ERROR'
  | 'TIMEOUT'
  | 'INTERNAL_ERROR';

export class LambertError extends Error {
  readonly code: LambertErrorCode;
  constructor(code: LambertErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LambertError';
    this.code = code;
  }
}

/** Describes a node for error messages: `Gather node "/embeddings/Gather_1"`. */
export function describeNode(node: { name: string; opType: string }): string {
  return `${node.opType} node "${node.name}"`;
}

export function formatShape(dims: readonly number[] | null | undefined): string {
  return dims ? `[${dims.join(',')}]` : '[?]';
}
