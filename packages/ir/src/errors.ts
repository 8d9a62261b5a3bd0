/**
 * Named error classes with stable `code`s. User-facing messages read
 * `opname: expected …, got …`; broken invariants start with `internal:`.
 */
export type ErrorCode =
  | "SHAPE"
  | "DTYPE"
  | "ARGUMENT"
  | "AXIS"
  | "CONCRETIZATION"
  | "ESCAPED_TRACER"
  | "GRAPH"
  | "NAN"
  | "CODE_GENERATION"
  | "INTERNAL";

export class ChainruleError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together (broadcasting, matmul, reshape, …). */
export class ShapeError extends ChainruleError {
  constructor(message: string) {
    super("SHAPE", message);
  }
}

/** A dtype an op cannot take. */
export class DTypeError extends ChainruleError {
  constructor(message: string) {
    super("DTYPE", message);
  }
}

/** A bad argument: wrong type, ragged nested array, bad option. */
export class ArgumentError extends ChainruleError {
  constructor(message: string, code: ErrorCode = "ARGUMENT") {
    super(code, message);
  }
}

/** A traced value was read as a concrete number where only its shape is known (JIT tracing). */
export class ConcretizationError extends ChainruleError {
  constructor(message: string) {
    super("CONCRETIZATION", message);
  }
}

/** A graph (from JSON or built by hand) that fails validation. */
export class GraphError extends ChainruleError {
  constructor(message: string) {
    super("GRAPH", message);
  }
}

/** Raised by engines in NaN-debug mode where a NaN first appears. */
export class NanError extends ChainruleError {
  constructor(message: string) {
    super("NAN", message);
  }
}

/**
 * The host refuses to build code from strings (`new Function`: a Content-Security-Policy without
 * 'unsafe-eval', `node --disallow-code-generation-from-strings`), which a compiling engine needs.
 */
export class CodeGenerationError extends ChainruleError {
  constructor(message: string) {
    super("CODE_GENERATION", message);
  }
}

export function internalError(message: string): ChainruleError {
  return new ChainruleError("INTERNAL", `internal: ${message}`);
}

/** Short description of any JS value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  if (typeof value === "number") return `number ${value}`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") {
    const described = (value as { describe?: () => string }).describe;
    if (typeof described === "function") return described.call(value);
    return `an object (${Object.prototype.toString.call(value)})`;
  }
  return typeof value;
}
