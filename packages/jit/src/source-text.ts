/**
 * The only ways the code generator turns values into source text: numbers formatted here
 * (every value round-trips), identifiers built from integer ids, op names from the fixed
 * primitive set and typed-array constructor names. No text from a graph reaches the source.
 */
import { internalError, PRIMITIVES, type DType, type Primitive } from "@chainrule/ir";

const NUMERIC = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/;

/** A JS number as source text: every value round-trips; negatives are parenthesized. */
export function formatNumber(v: number): string {
  if (typeof v !== "number") throw internalError("formatNumber expected a number");
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "(-Infinity)";
  if (Object.is(v, -0)) return "(-0)";
  const text = String(v);
  if (!NUMERIC.test(text)) throw internalError(`unexpected number text`);
  return v < 0 ? `(${text})` : text;
}

/** An integer as source text (sizes, strides, offsets); negatives are parenthesized. */
export function int(v: number): string {
  if (!Number.isSafeInteger(v)) throw internalError("expected a safe integer");
  return v < 0 ? `(${String(v)})` : String(v);
}

/** An identifier: a fixed prefix and a non-negative integer id. */
export function ident(prefix: string, id: number): string {
  if (!Number.isSafeInteger(id) || id < 0) throw internalError("expected a non-negative integer id");
  return `${prefix}${id}`;
}

const PRIMITIVE_SET = new Set<string>(PRIMITIVES);

/** An op name for comments, checked against the fixed primitive set. */
export function opName(op: Primitive): string {
  if (!PRIMITIVE_SET.has(op)) throw internalError("unknown op");
  return op;
}

export const ARRAY_CTOR: Record<DType, string> = {
  float64: "Float64Array",
  float32: "Float32Array",
  int32: "Int32Array",
  bool: "Uint8Array",
};
