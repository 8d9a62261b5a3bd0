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
  | "DUPLICATE_IR"
  | "CODE_GENERATION"
  | "INTERNAL";

export class ChainruleError extends Error {
  /** Each class spells its name out: a minifier renames classes, and `name` must survive it. */
  override name = "ChainruleError";
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Shapes that do not fit together (broadcasting, matmul, reshape, …). */
export class ShapeError extends ChainruleError {
  override name = "ShapeError";
  constructor(message: string) {
    super("SHAPE", message);
  }
}

/** A dtype an op cannot take. */
export class DTypeError extends ChainruleError {
  override name = "DTypeError";
  constructor(message: string) {
    super("DTYPE", message);
  }
}

/** A bad argument: wrong type, ragged nested array, bad option. */
export class ArgumentError extends ChainruleError {
  override name = "ArgumentError";
  constructor(message: string, code: ErrorCode = "ARGUMENT") {
    super(code, message);
  }
}

/** A traced value was read as a concrete number where only its shape is known (JIT tracing). */
export class ConcretizationError extends ChainruleError {
  override name = "ConcretizationError";
  constructor(message: string) {
    super("CONCRETIZATION", message);
  }
}

/** A graph (from JSON or built by hand) that fails validation. */
export class GraphError extends ChainruleError {
  override name = "GraphError";
  constructor(message: string) {
    super("GRAPH", message);
  }
}

/** Raised by engines in NaN-debug mode where a NaN first appears. */
export class NanError extends ChainruleError {
  override name = "NanError";
  constructor(message: string) {
    super("NAN", message);
  }
}

/**
 * Two different copies of @chainrule/ir are loaded in one process (say 0.2.0 at the top level and
 * 0.1.0 nested under an engine): a tensor or tracer of one is foreign to the other. Thrown by the
 * first op, tensor creation or transformation of either copy; the message names the copies and
 * how to keep one.
 */
export class DuplicateIrError extends ChainruleError {
  override name = "DuplicateIrError";
  constructor(message: string) {
    super("DUPLICATE_IR", message);
  }
}

/**
 * The host refuses to build code from strings (`new Function`: a Content-Security-Policy without
 * 'unsafe-eval', `node --disallow-code-generation-from-strings`), which a compiling engine needs.
 */
export class CodeGenerationError extends ChainruleError {
  override name = "CodeGenerationError";
  constructor(message: string) {
    super("CODE_GENERATION", message);
  }
}

export function internalError(message: string): ChainruleError {
  return new ChainruleError("INTERNAL", `internal: ${message}`);
}

/**
 * Short description of any JS value for error messages ("number NaN", "an array of length 3",
 * "Tensor f64[2]"). Never throws and never recurses into the value.
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  if (typeof value === "number") return `number ${formatNumber(value)}`;
  if (typeof value === "bigint") return `bigint ${value}n`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") {
    const described = ownDescription(value);
    if (described !== undefined) return described;
    return `an object (${Object.prototype.toString.call(value)})`;
  }
  return typeof value;
}

/** A number as written in messages: `NaN`, `Infinity` and `-0` as such (JSON would print null and 0). */
function formatNumber(value: number): string {
  return Object.is(value, -0) ? "-0" : String(value);
}

/** The `describe()` text of values that have one (tensors, tracers), or undefined. */
function ownDescription(value: object): string | undefined {
  try {
    const describe = (value as { describe?: unknown }).describe;
    if (typeof describe !== "function") return undefined;
    const text: unknown = describe.call(value);
    return typeof text === "string" ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A value as written in messages, faithfully and briefly: like JSON (`[1,2]`, `{"dtype":"int8"}`)
 * but with numbers as JS prints them (NaN, Infinity, -0, where JSON would print null and 0), to a
 * small depth and length, and anything JSON lacks as `describeValue` says (`undefined`, `Tensor
 * f64[2]`). Used where a message shows the
 * bad value itself (a shape, an axis list); never throws, whatever the value.
 */
export function formatValue(value: unknown): string {
  return formatBounded(value, 3);
}

const MAX_LISTED = 8;

function formatBounded(value: unknown, depth: number): string {
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "string") return JSON.stringify(value.length > 30 ? `${value.slice(0, 30)}…` : value);
  if (Array.isArray(value)) {
    if (depth === 0) return value.length === 0 ? "[]" : "[…]";
    const shown = value.slice(0, MAX_LISTED).map((v) => formatBounded(v, depth - 1));
    if (value.length > MAX_LISTED) shown.push(`… (${value.length} in all)`);
    return `[${shown.join(",")}]`;
  }
  if (value !== null && typeof value === "object" && isPlainObject(value)) {
    if (depth === 0) return "{…}";
    const keys = Object.keys(value);
    const shown = keys
      .slice(0, MAX_LISTED)
      .map((k) => `${JSON.stringify(k)}:${formatBounded((value as Record<string, unknown>)[k], depth - 1)}`);
    if (keys.length > MAX_LISTED) shown.push("…");
    return `{${shown.join(",")}}`;
  }
  return describeValue(value);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `n` and a noun that agrees with it: "1 element", "2 elements", "1 axis", "3 axes". */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** "a" or "an" before a word, for messages ("an int32 tensor", "a float64 tensor"). */
export function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

// ── argument counts ────────────────────────────────────────────────────────────────────────
// JavaScript drops extra arguments and fills missing ones with `undefined` without a word, so
// `add(1, 2, 3)` would silently be 3. Every exported function of ir is made with `checkArity`,
// which throws `op: expected 2 arguments, got 3` instead.

/** The error for a call with the wrong number of arguments. */
export function arityError(op: string, min: number, max: number, got: number): ArgumentError {
  const count = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  const singular = max === 1 || (min === 1 && max === Infinity);
  return new ArgumentError(`${op}: expected ${count} argument${singular ? "" : "s"}, got ${got}`);
}

/**
 * `fn` (named `op` in messages) checked to receive between `min` and `max` arguments (`max` is
 * `Infinity` for a rest parameter). An optional parameter counts towards `max`; passing it as
 * `undefined` is allowed.
 */
export function checkArity<F extends (...args: never[]) => unknown>(op: string, min: number, max: number, fn: F): F {
  const checked = function (this: unknown) {
    // `arguments` with `apply` is the pattern V8 optimizes best: no array is made per call
    // biome-ignore lint/complexity/noArguments: see above
    const count = arguments.length;
    if (count < min || count > max) throw arityError(op, min, max, count);
    // biome-ignore lint/complexity/noArguments: see above
    return (fn as unknown as (...args: unknown[]) => unknown).apply(this, arguments as unknown as unknown[]);
  };
  Object.defineProperty(checked, "name", { value: op });
  Object.defineProperty(checked, "length", { value: min });
  return checked as unknown as F;
}

// the exported (index.ts) versions of the message helpers, which ir itself calls unchecked
export const publicDescribeValue = checkArity("describeValue", 1, 1, describeValue);
export const publicFormatValue = checkArity("formatValue", 1, 1, formatValue);
