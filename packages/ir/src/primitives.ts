import { isFloat, type DType } from "./dtype.js";
import { checkArity, count, DTypeError, formatValue, internalError, ShapeError } from "./errors.js";
import { broadcastShapes, formatShape, shapesEqual, sizeOf, type Shape } from "./shape.js";

/**
 * The primitive set. Every user-facing op is one of these or a composite of them; every
 * interpretation (eager kernels, forward tangents, reverse adjoints, JIT code) keys a table on
 * `Primitive`, so adding one here breaks the typecheck wherever a rule is missing.
 *
 * Params are plain JSON data (graphs serialize them as they are).
 */
export interface PrimitiveParams {
  // unary elementwise, float → float (abs/sign/neg also int32)
  neg: Empty;
  exp: Empty;
  log: Empty;
  log1p: Empty;
  expm1: Empty;
  sin: Empty;
  cos: Empty;
  tanh: Empty;
  sqrt: Empty;
  abs: Empty;
  sign: Empty;
  // binary elementwise with NumPy broadcasting, operands of one dtype
  add: Empty;
  sub: Empty;
  mul: Empty;
  div: Empty;
  pow: Empty;
  maximum: Empty;
  minimum: Empty;
  // comparisons → bool
  greater: Empty;
  greaterEqual: Empty;
  less: Empty;
  lessEqual: Empty;
  equal: Empty;
  notEqual: Empty;
  /** where(cond: bool, a, b), all three broadcast together. */
  where: Empty;
  cast: { dtype: DType };
  /** Sum over `axes` (sorted, unique), which are removed from the shape. */
  reduceSum: { axes: number[] };
  /** Max over `axes`; the backward pass splits ties evenly. */
  reduceMax: { axes: number[] };
  /** Index of the first maximum along `axis` (removed), as int32. */
  argmax: { axis: number };
  reshape: { shape: number[] };
  transpose: { perm: number[] };
  /** Broadcasts to `shape` by NumPy rules (leading axes added, size-1 axes expanded). */
  broadcastTo: { shape: number[] };
  /** x[begin[i]:end[i]] on every axis (already normalized, 0 ≤ begin ≤ end ≤ dim). */
  slice: { begin: number[]; end: number[] };
  /** Zero padding: `low[i]` before and `high[i]` after on each axis (the transpose of slice). */
  pad: { low: number[]; high: number[] };
  /** Concatenation of all inputs along `axis`. */
  concat: { axis: number };
  /** gather(x, indices: int32) along `axis`: out.shape = x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:]. */
  gather: { axis: number };
  /** scatterAdd(updates, indices: int32) — the transpose of gather into an axis of length `size`. */
  scatterAdd: { axis: number; size: number };
  /** Batched matrix product: a [...b1, m, k] · b [...b2, k, n] → [...broadcast(b1, b2), m, n]. */
  matmul: Empty;
  /** Identity whose derivative is zero. */
  stopGradient: Empty;
  /**
   * Identity on indices that checks their values, so that an op's data check (class labels in
   * range, integer indices, indices in range) also runs in traced and compiled programs: every
   * value must be an integer and, when `size` ≥ 0, in the op's range — [0, size), or [−size, size)
   * for ops that count negative indices from the end. `op` names the op in the messages.
   */
  checkIndices: { op: IndexCheck; size: number };
}

/** The ops whose data checks `checkIndices` runs: what their messages call the values, and whether negative indices count from the end. */
export const INDEX_CHECKS = Object.freeze({
  crossEntropy: Object.freeze({ what: "class indices", negative: false }),
  take: Object.freeze({ what: "indices", negative: true }),
  oneHot: Object.freeze({ what: "indices", negative: false }),
} as const);
export type IndexCheck = keyof typeof INDEX_CHECKS;

export function isIndexCheck(name: unknown): name is IndexCheck {
  return typeof name === "string" && Object.hasOwn(INDEX_CHECKS, name);
}

export type Empty = Record<string, never>;
export type Primitive = keyof PrimitiveParams;
export type Params<P extends Primitive = Primitive> = PrimitiveParams[P];

/** A table with one entry per primitive; a missing entry is a type error. */
export type PrimitiveTable<T extends { [P in Primitive]: unknown }> = { [P in Primitive]: T[P] };

/** The shape and dtype of a value: what tracing knows without data. */
export interface Aval {
  readonly shape: Shape;
  readonly dtype: DType;
}

export const UNARY_PRIMITIVES = Object.freeze([
  "neg",
  "exp",
  "log",
  "log1p",
  "expm1",
  "sin",
  "cos",
  "tanh",
  "sqrt",
  "abs",
  "sign",
] as const satisfies readonly Primitive[]);
export const BINARY_PRIMITIVES = Object.freeze([
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
] as const satisfies readonly Primitive[]);
export const COMPARISON_PRIMITIVES = Object.freeze([
  "greater",
  "greaterEqual",
  "less",
  "lessEqual",
  "equal",
  "notEqual",
] as const satisfies readonly Primitive[]);

export type UnaryPrimitive = (typeof UNARY_PRIMITIVES)[number];
export type BinaryPrimitive = (typeof BINARY_PRIMITIVES)[number];
export type ComparisonPrimitive = (typeof COMPARISON_PRIMITIVES)[number];

/** Every primitive name, in a fixed order (the keys of the arity table). */
export const ARITY: Readonly<PrimitiveTable<{ [P in Primitive]: number | "variadic" }>> = Object.freeze({
  neg: 1,
  exp: 1,
  log: 1,
  log1p: 1,
  expm1: 1,
  sin: 1,
  cos: 1,
  tanh: 1,
  sqrt: 1,
  abs: 1,
  sign: 1,
  add: 2,
  sub: 2,
  mul: 2,
  div: 2,
  pow: 2,
  maximum: 2,
  minimum: 2,
  greater: 2,
  greaterEqual: 2,
  less: 2,
  lessEqual: 2,
  equal: 2,
  notEqual: 2,
  where: 3,
  cast: 1,
  reduceSum: 1,
  reduceMax: 1,
  argmax: 1,
  reshape: 1,
  transpose: 1,
  broadcastTo: 1,
  slice: 1,
  pad: 1,
  concat: "variadic",
  gather: 2,
  scatterAdd: 2,
  matmul: 2,
  stopGradient: 1,
  checkIndices: 1,
});

export const PRIMITIVES: readonly Primitive[] = Object.freeze(Object.keys(ARITY) as Primitive[]);

/** Whether `name` is a primitive's name. */
export const isPrimitive = checkArity(
  "isPrimitive",
  1,
  1,
  (name: unknown): name is Primitive => typeof name === "string" && Object.hasOwn(ARITY, name),
);

const INT_UNARY = new Set<Primitive>(["neg", "abs", "sign"]);

function requireFloat(op: string, dtype: DType): void {
  if (!isFloat(dtype)) throw new DTypeError(`${op}: expected a float32 or float64 operand, got ${dtype}`);
}

function requireSameDtype(op: string, avals: readonly Aval[]): DType {
  const dtype = avals[0]!.dtype;
  for (const aval of avals) {
    if (aval.dtype !== dtype) {
      throw new DTypeError(`${op}: expected operands of one dtype, got ${avals.map((a) => a.dtype).join(" and ")}`);
    }
  }
  return dtype;
}

function checkAxesParam(op: string, axes: readonly number[], rank: number): void {
  let previous = -1;
  for (const axis of axes) {
    if (!Number.isInteger(axis) || axis <= previous || axis >= rank) {
      throw new ShapeError(`${op}: expected sorted unique axes in [0, ${rank - 1}], got ${formatValue(axes)}`);
    }
    previous = axis;
  }
}

function checkIntList(op: string, name: string, list: unknown, length: number): asserts list is number[] {
  if (!Array.isArray(list) || list.length !== length || !list.every((v) => Number.isInteger(v))) {
    throw new ShapeError(`${op}: expected ${name} to be ${count(length, "integer")}, got ${formatValue(list)}`);
  }
}

type ShapeRule<P extends Primitive> = (avals: readonly Aval[], params: Params<P>) => Aval;

const unaryRule =
  (op: UnaryPrimitive): ShapeRule<UnaryPrimitive> =>
  ([x]) => {
    if (!INT_UNARY.has(op)) requireFloat(op, x!.dtype);
    else if (x!.dtype === "bool") throw new DTypeError(`${op}: expected a numeric operand, got bool`);
    return x!;
  };

const binaryRule =
  (op: BinaryPrimitive): ShapeRule<BinaryPrimitive> =>
  ([a, b]) => {
    const dtype = a!.dtype === b!.dtype ? a!.dtype : requireSameDtype(op, [a!, b!]);
    if (dtype === "bool") throw new DTypeError(`${op}: expected numeric operands, got bool`);
    if ((op === "div" || op === "pow") && !isFloat(dtype)) requireFloat(op, dtype);
    return { shape: broadcastShapes(op, a!.shape, b!.shape), dtype };
  };

const comparisonRule =
  (op: ComparisonPrimitive): ShapeRule<ComparisonPrimitive> =>
  ([a, b]) => {
    if (a!.dtype !== b!.dtype) requireSameDtype(op, [a!, b!]);
    return { shape: broadcastShapes(op, a!.shape, b!.shape), dtype: "bool" };
  };

function reduceRule(op: "reduceSum" | "reduceMax"): ShapeRule<"reduceSum" | "reduceMax"> {
  return ([x], { axes }) => {
    if (x!.dtype === "bool") throw new DTypeError(`${op}: expected a numeric operand, got bool`);
    checkAxesParam(op, axes, x!.shape.length);
    if (op === "reduceMax") {
      for (const axis of axes) {
        if (x!.shape[axis] === 0) throw new ShapeError(`${op}: expected a non-empty axis ${axis}, got shape ${formatShape(x!.shape)}`);
      }
    }
    return { shape: x!.shape.filter((_, i) => !axes.includes(i)), dtype: x!.dtype };
  };
}

/** Output shape and dtype of each primitive; also the one place where primitive inputs are checked. */
export const SHAPE_RULES: Readonly<{ [P in Primitive]: ShapeRule<P> }> = Object.freeze({
  neg: unaryRule("neg"),
  exp: unaryRule("exp"),
  log: unaryRule("log"),
  log1p: unaryRule("log1p"),
  expm1: unaryRule("expm1"),
  sin: unaryRule("sin"),
  cos: unaryRule("cos"),
  tanh: unaryRule("tanh"),
  sqrt: unaryRule("sqrt"),
  abs: unaryRule("abs"),
  sign: unaryRule("sign"),
  add: binaryRule("add"),
  sub: binaryRule("sub"),
  mul: binaryRule("mul"),
  div: binaryRule("div"),
  pow: binaryRule("pow"),
  maximum: binaryRule("maximum"),
  minimum: binaryRule("minimum"),
  greater: comparisonRule("greater"),
  greaterEqual: comparisonRule("greaterEqual"),
  less: comparisonRule("less"),
  lessEqual: comparisonRule("lessEqual"),
  equal: comparisonRule("equal"),
  notEqual: comparisonRule("notEqual"),
  where: ([cond, a, b]) => {
    if (cond!.dtype !== "bool") throw new DTypeError(`where: expected a bool condition, got ${cond!.dtype}`);
    const dtype = requireSameDtype("where", [a!, b!]);
    return { shape: broadcastShapes("where", broadcastShapes("where", cond!.shape, a!.shape), b!.shape), dtype };
  },
  cast: ([x], { dtype }) => ({ shape: x!.shape, dtype }),
  reduceSum: reduceRule("reduceSum"),
  reduceMax: reduceRule("reduceMax"),
  argmax: ([x], { axis }) => {
    if (!Number.isInteger(axis) || axis < 0 || axis >= x!.shape.length) {
      throw new ShapeError(`argmax: expected axis in [0, ${x!.shape.length - 1}], got ${axis}`);
    }
    if (x!.shape[axis] === 0) throw new ShapeError(`argmax: expected a non-empty axis ${axis}, got shape ${formatShape(x!.shape)}`);
    return { shape: x!.shape.filter((_, i) => i !== axis), dtype: "int32" };
  },
  reshape: ([x], { shape }) => {
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ShapeError(`reshape: expected a shape of non-negative integers, got ${formatValue(shape)}`);
    }
    if (sizeOf(shape) !== sizeOf(x!.shape)) {
      throw new ShapeError(
        `reshape: expected a shape with ${count(sizeOf(x!.shape), "element")} (from ${formatShape(x!.shape)}), got ${formatShape(shape)}`,
      );
    }
    return { shape: shape.slice(), dtype: x!.dtype };
  },
  transpose: ([x], { perm }) => {
    const rank = x!.shape.length;
    checkIntList("transpose", "perm", perm, rank);
    if (new Set(perm).size !== rank || perm.some((p) => p < 0 || p >= rank)) {
      throw new ShapeError(`transpose: expected a permutation of 0..${rank - 1}, got ${formatValue(perm)}`);
    }
    return { shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype };
  },
  broadcastTo: ([x], { shape }) => {
    const out = broadcastShapes("broadcastTo", x!.shape, shape);
    if (!shapesEqual(out, shape)) {
      throw new ShapeError(`broadcastTo: expected a shape that ${formatShape(x!.shape)} broadcasts to, got ${formatShape(shape)}`);
    }
    return { shape: shape.slice(), dtype: x!.dtype };
  },
  slice: ([x], { begin, end }) => {
    const rank = x!.shape.length;
    checkIntList("slice", "begin", begin, rank);
    checkIntList("slice", "end", end, rank);
    const shape = x!.shape.map((dim, i) => {
      const b = begin[i]!;
      const e = end[i]!;
      if (b < 0 || b > e || e > dim) {
        throw new ShapeError(`slice: expected 0 ≤ begin ≤ end ≤ ${dim} on axis ${i}, got begin ${b}, end ${e}`);
      }
      return e - b;
    });
    return { shape, dtype: x!.dtype };
  },
  pad: ([x], { low, high }) => {
    const rank = x!.shape.length;
    checkIntList("pad", "low", low, rank);
    checkIntList("pad", "high", high, rank);
    if (low.some((v) => v < 0) || high.some((v) => v < 0)) {
      throw new ShapeError(`pad: expected non-negative padding, got low ${formatValue(low)}, high ${formatValue(high)}`);
    }
    return { shape: x!.shape.map((d, i) => d + low[i]! + high[i]!), dtype: x!.dtype };
  },
  concat: (avals, { axis }) => {
    if (avals.length === 0) throw new ShapeError("concat: expected at least one operand, got none");
    const first = avals[0]!;
    const dtype = requireSameDtype("concat", avals);
    if (!Number.isInteger(axis) || axis < 0 || axis >= first.shape.length) {
      throw new ShapeError(`concat: expected axis in [0, ${first.shape.length - 1}], got ${axis}`);
    }
    let total = 0;
    for (const aval of avals) {
      const compatible = aval.shape.length === first.shape.length && aval.shape.every((d, i) => i === axis || d === first.shape[i]);
      if (!compatible) {
        throw new ShapeError(
          `concat: expected shapes equal except on axis ${axis}, got ${avals.map((a) => formatShape(a.shape)).join(" and ")}`,
        );
      }
      total += aval.shape[axis]!;
    }
    const shape = first.shape.slice();
    shape[axis] = total;
    return { shape, dtype };
  },
  gather: ([x, indices], { axis }) => {
    if (indices!.dtype !== "int32") throw new DTypeError(`gather: expected int32 indices, got ${indices!.dtype}`);
    if (!Number.isInteger(axis) || axis < 0 || axis >= x!.shape.length) {
      throw new ShapeError(`gather: expected axis in [0, ${x!.shape.length - 1}], got ${axis}`);
    }
    return { shape: [...x!.shape.slice(0, axis), ...indices!.shape, ...x!.shape.slice(axis + 1)], dtype: x!.dtype };
  },
  scatterAdd: ([updates, indices], { axis, size }) => {
    if (indices!.dtype !== "int32") throw new DTypeError(`scatterAdd: expected int32 indices, got ${indices!.dtype}`);
    const k = indices!.shape.length;
    const u = updates!.shape;
    if (!Number.isInteger(axis) || axis < 0 || axis + k > u.length || !Number.isInteger(size) || size < 0) {
      throw new ShapeError(`scatterAdd: expected axis and size fitting updates ${formatShape(u)}, got axis ${axis}, size ${size}`);
    }
    if (!shapesEqual(u.slice(axis, axis + k), indices!.shape)) {
      throw new ShapeError(`scatterAdd: expected updates ${formatShape(u)} to hold indices ${formatShape(indices!.shape)} at axis ${axis}`);
    }
    return { shape: [...u.slice(0, axis), size, ...u.slice(axis + k)], dtype: updates!.dtype };
  },
  matmul: ([a, b]) => {
    const dtype = requireSameDtype("matmul", [a!, b!]);
    if (dtype === "bool") throw new DTypeError("matmul: expected numeric operands, got bool");
    const ra = a!.shape.length;
    const rb = b!.shape.length;
    if (ra < 2 || rb < 2) {
      throw new ShapeError(`matmul: expected operands of rank ≥ 2, got ${formatShape(a!.shape)} and ${formatShape(b!.shape)}`);
    }
    if (a!.shape[ra - 1] !== b!.shape[rb - 2]) {
      throw new ShapeError(`matmul: expected inner dimensions to match, got ${formatShape(a!.shape)} and ${formatShape(b!.shape)}`);
    }
    const batch = broadcastShapes("matmul", a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    return { shape: [...batch, a!.shape[ra - 2]!, b!.shape[rb - 1]!], dtype };
  },
  stopGradient: ([x]) => x!,
  checkIndices: ([x], { op, size }) => {
    if (!isIndexCheck(op))
      throw new ShapeError(`checkIndices: expected op among ${Object.keys(INDEX_CHECKS).join(", ")}, got ${JSON.stringify(op)}`);
    if (!Number.isSafeInteger(size) || size < -1) throw new ShapeError(`checkIndices: expected size ≥ −1, got ${size}`);
    if (x!.dtype === "bool") throw new DTypeError(`${op}: expected integer ${INDEX_CHECKS[op].what}, got bool`);
    return x!;
  },
});

/** Checks arity and computes the output aval of `prim` applied to `avals`. */
export function inferAval<P extends Primitive>(prim: P, avals: readonly Aval[], params: Params<P>): Aval {
  const arity = ARITY[prim];
  if (arity !== "variadic" && avals.length !== arity) {
    throw internalError(`${prim} takes ${arity} operands, got ${avals.length}`);
  }
  return (SHAPE_RULES[prim] as ShapeRule<P>)(avals, params);
}

/** The kind of each primitive parameter, for validating graphs that come from outside (JSON). */
export type ParamKind = "int" | "ints" | "dtype" | "indexCheck";

export const PARAM_KINDS: Readonly<{ [P in Primitive]: Readonly<{ [K in keyof Params<P>]-?: ParamKind }> }> = deepFreeze({
  neg: {},
  exp: {},
  log: {},
  log1p: {},
  expm1: {},
  sin: {},
  cos: {},
  tanh: {},
  sqrt: {},
  abs: {},
  sign: {},
  add: {},
  sub: {},
  mul: {},
  div: {},
  pow: {},
  maximum: {},
  minimum: {},
  greater: {},
  greaterEqual: {},
  less: {},
  lessEqual: {},
  equal: {},
  notEqual: {},
  where: {},
  cast: { dtype: "dtype" },
  reduceSum: { axes: "ints" },
  reduceMax: { axes: "ints" },
  argmax: { axis: "int" },
  reshape: { shape: "ints" },
  transpose: { perm: "ints" },
  broadcastTo: { shape: "ints" },
  slice: { begin: "ints", end: "ints" },
  pad: { low: "ints", high: "ints" },
  concat: { axis: "int" },
  gather: { axis: "int" },
  scatterAdd: { axis: "int", size: "int" },
  matmul: {},
  stopGradient: {},
  checkIndices: { op: "indexCheck", size: "int" },
});

/** Freezes a table and the objects it holds (graph parsing trusts them). */
function deepFreeze<T extends object>(table: T): Readonly<T> {
  for (const value of Object.values(table)) if (value !== null && typeof value === "object") Object.freeze(value);
  return Object.freeze(table);
}
