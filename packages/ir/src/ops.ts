/**
 * The user-facing ops. Each accepts numbers, nested arrays, Tensors and tracers alike, checks its
 * arguments (`op: expected …, got …`) and is either a primitive (`bind`) or a composite of them.
 */
import { allocate, assertDType, isFloat, type DType } from "./dtype.js";
import { ArgumentError, checkArity, count, DTypeError, ShapeError, describeValue, formatValue } from "./errors.js";
import { castTo, toFloat, toOperand, toOperands, type TensorLike } from "./coerce.js";
import { checkInt32Cast } from "./kernels.js";
import { MAX_DEPTH } from "./limits.js";
import { broadcastShapes, formatShape, keepDims, normalizeAxes, normalizeAxis, sizeOf } from "./shape.js";
import { Tracer } from "./trace.js";
import { bind } from "./trace.js";
import { Tensor } from "./tensor.js";
import type { UnaryPrimitive } from "./primitives.js";

// ── elementwise ────────────────────────────────────────────────────────────────────────────

function floatUnary(prim: UnaryPrimitive) {
  return checkArity(prim, 1, 1, (x: TensorLike): Tensor => bind(prim, [toFloat(toOperand(prim, x))], {}));
}

function numericUnary(prim: "neg" | "abs" | "sign") {
  return checkArity(prim, 1, 1, (x: TensorLike): Tensor => {
    const t = toOperand(prim, x);
    return bind(prim, [t.dtype === "bool" ? castTo(t, "int32") : t], {});
  });
}

export const neg = numericUnary("neg");
export const abs = numericUnary("abs");
export const sign = numericUnary("sign");
export const exp = floatUnary("exp");
export const log = floatUnary("log");
export const log1p = floatUnary("log1p");
export const expm1 = floatUnary("expm1");
export const sin = floatUnary("sin");
export const cos = floatUnary("cos");
export const tanh = floatUnary("tanh");
export const sqrt = floatUnary("sqrt");

function numericBinary(prim: "add" | "sub" | "mul" | "maximum" | "minimum" | "mulNoNan") {
  return checkArity(prim, 2, 2, (x: TensorLike, y: TensorLike): Tensor => {
    let [a, b] = toOperands(prim, [x, y]);
    if (a!.dtype === "bool") {
      a = castTo(a!, "int32");
      b = castTo(b!, "int32");
    }
    return bind(prim, [a!, b!], {});
  });
}

function floatBinary(prim: "div" | "pow" | "atan2") {
  return checkArity(prim, 2, 2, (x: TensorLike, y: TensorLike): Tensor => {
    const [a, b] = toOperands(prim, [x, y]);
    return bind(prim, [toFloat(a!), toFloat(b!)], {});
  });
}

export const add = numericBinary("add");
export const sub = numericBinary("sub");
export const mul = numericBinary("mul");
/** Elementwise maximum; at ties each side gets half of the gradient. */
export const maximum = numericBinary("maximum");
/** Elementwise minimum; at ties each side gets half of the gradient. */
export const minimum = numericBinary("minimum");
export const div = floatBinary("div");
export const pow = floatBinary("pow");
/** atan2(y, x): the angle of the point (x, y), in [−π, π] (float). */
export const atan2 = floatBinary("atan2");
/**
 * x · y, except 0 wherever x or y is 0 — even when the other is ±∞ or NaN (TensorFlow's
 * multiply_no_nan, symmetric); elsewhere exactly x · y. Every engine multiplies (co)tangents by
 * derivative factors with it.
 */
export const mulNoNan = numericBinary("mulNoNan");

export const square = checkArity("square", 1, 1, (x: TensorLike): Tensor => {
  const t = toOperand("square", x);
  return mul(t, t);
});

export const reciprocal = checkArity("reciprocal", 1, 1, (x: TensorLike): Tensor => {
  return div(1, toFloat(toOperand("reciprocal", x)));
});

export const tan = checkArity("tan", 1, 1, (x: TensorLike): Tensor => {
  const t = toFloat(toOperand("tan", x));
  return div(sin(t), cos(t));
});

/** σ(x) = ½·tanh(x/2) + ½: no overflow for any x. */
export const sigmoid = checkArity("sigmoid", 1, 1, (x: TensorLike): Tensor => {
  const t = toFloat(toOperand("sigmoid", x));
  return add(mul(tanh(mul(t, 0.5)), 0.5), 0.5);
});

/** max(x, 0) with relu'(0) = 0. */
export const relu = checkArity("relu", 1, 1, (x: TensorLike): Tensor => {
  const t = toOperand("relu", x);
  return where(greater(t, 0), t, 0);
});

/**
 * min(max(x, low), high), like NumPy (so `high` wins when low > high); like PyTorch's clamp the
 * gradient with respect to x is 1 inside, boundaries included.
 */
export const clip = checkArity("clip", 3, 3, (x: TensorLike, low: TensorLike, high: TensorLike): Tensor => {
  const [t, lo, hi] = toOperands("clip", [x, low, high]);
  broadcastShapes("clip", broadcastShapes("clip", t!.shape, lo!.shape), hi!.shape);
  const raised = where(less(t!, lo!), lo!, t!);
  return where(greater(raised, hi!), hi!, raised);
});

/**
 * `x` cast to `dtype`. Float → int32 truncates toward zero; a value outside the int32 range (or
 * NaN, ±Infinity) is an error, checked here on concrete data and in the `cast` kernel. Any
 * non-zero value (NaN included) casts to bool true, as in NumPy.
 */
export const astype = checkArity("astype", 2, 2, (x: TensorLike, dtype: DType): Tensor => {
  const t = toOperand("astype", x);
  const target = assertDType("astype", dtype);
  if (target === "int32" && !(t instanceof Tracer)) checkInt32Cast("astype", t);
  return castTo(t, target);
});

// ── comparison and selection ───────────────────────────────────────────────────────────────

function comparison(prim: "greater" | "greaterEqual" | "less" | "lessEqual" | "equal" | "notEqual") {
  return checkArity(prim, 2, 2, (x: TensorLike, y: TensorLike): Tensor => bind(prim, toOperands(prim, [x, y]), {}));
}

export const greater = comparison("greater");
export const greaterEqual = comparison("greaterEqual");
export const less = comparison("less");
export const lessEqual = comparison("lessEqual");
export const equal = comparison("equal");
export const notEqual = comparison("notEqual");

/** Elementwise `cond ? a : b` with broadcasting; `cond` must be bool. */
export const where = checkArity("where", 3, 3, (cond: TensorLike, a: TensorLike, b: TensorLike): Tensor => {
  const c = toOperand("where", cond);
  if (c.dtype !== "bool") throw new DTypeError(`where: expected a bool condition, got ${c.dtype}`);
  const [x, y] = toOperands("where", [a, b]);
  return bind("where", [c, x!, y!], {});
});

// ── reductions ─────────────────────────────────────────────────────────────────────────────

function zerosLike(t: Tensor, shape: readonly number[]): Tensor {
  return new Tensor(t.dtype, shape.slice(), allocate("zeros", t.dtype, sizeOf(shape)));
}

export type Axis = number | readonly number[] | undefined;

/** `keepdims` must be a boolean: a truthy string such as "no" would silently keep them. */
function checkKeepdims(op: string, keepdims: unknown): boolean {
  if (typeof keepdims !== "boolean") throw new ArgumentError(`${op}: expected keepdims to be a boolean, got ${describeValue(keepdims)}`);
  return keepdims;
}

/** Sum over `axis` (a number, several, or all when absent); negative axes count from the end. */
export const sum = checkArity("sum", 1, 3, (x: TensorLike, axis?: Axis, keepdims = false): Tensor => {
  let t = toOperand("sum", x);
  if (t.dtype === "bool") t = castTo(t, "int32");
  const axes = normalizeAxes("sum", axis, t.rank);
  const out = axes.length === 0 ? t : bind("reduceSum", [t], { axes });
  return checkKeepdims("sum", keepdims) ? reshape(out, keepDims(t.shape, axes)) : out;
});

export const mean = checkArity("mean", 1, 3, (x: TensorLike, axis?: Axis, keepdims = false): Tensor => {
  const t = toFloat(toOperand("mean", x));
  const axes = normalizeAxes("mean", axis, t.rank);
  const count = sizeOf(axes.map((a) => t.shape[a]!));
  return div(sum(t, axes, checkKeepdims("mean", keepdims)), count);
});

/** Population variance (ddof = 0), like `jnp.var`. */
export const variance = checkArity("variance", 1, 3, (x: TensorLike, axis?: Axis, keepdims = false): Tensor => {
  const t = toFloat(toOperand("variance", x));
  const axes = normalizeAxes("variance", axis, t.rank);
  const centered = sub(t, mean(t, axes, true));
  return mean(mul(centered, centered), axes, checkKeepdims("variance", keepdims));
});

/** Max over axes; with k tied maxima each gets 1/k of the gradient. */
export const max = checkArity("max", 1, 3, (x: TensorLike, axis?: Axis, keepdims = false): Tensor => extremum("max", x, axis, keepdims));

/** Min over axes: −max(−x), with the same tie rule. */
export const min = checkArity("min", 1, 3, (x: TensorLike, axis?: Axis, keepdims = false): Tensor => extremum("min", x, axis, keepdims));

/** `max` or `min` (as −max(−x)), with errors naming the op the user called. */
function extremum(op: "max" | "min", x: TensorLike, axis: Axis, keepdims: boolean): Tensor {
  const t = toOperand(op, x);
  if (t.dtype === "bool") throw new DTypeError(`${op}: expected a numeric operand, got bool`);
  const axes = normalizeAxes(op, axis, t.rank);
  for (const a of axes) {
    if (t.shape[a] === 0) throw new ShapeError(`${op}: expected a non-empty axis ${a}, got shape ${formatShape(t.shape)}`);
  }
  const operand = op === "min" ? neg(t) : t;
  const reduced = axes.length === 0 ? operand : bind("reduceMax", [operand], { axes });
  const out = checkKeepdims(op, keepdims) ? reshape(reduced, keepDims(t.shape, axes)) : reduced;
  return op === "min" ? neg(out) : out;
}

/** log Σ exp(x), shifted by the (gradient-stopped) max so it never overflows. */
export const logsumexp = checkArity("logsumexp", 1, 3, (x: TensorLike, axis?: Axis, keepdims = false): Tensor => {
  const t = toFloat(toOperand("logsumexp", x));
  const axes = normalizeAxes("logsumexp", axis, t.rank);
  checkKeepdims("logsumexp", keepdims);
  // an empty axis sums to 0, so its logsumexp is log 0 = −∞ and there is no max to shift by
  const empty = axes.some((a) => t.shape[a] === 0);
  const m = empty ? zerosLike(t, keepDims(t.shape, axes)) : stopGradient(max(t, axes, true));
  const shift = where(less(abs(m), Infinity), m, 0);
  const out = add(log(sum(exp(sub(t, shift)), axes, true)), shift);
  return keepdims
    ? out
    : reshape(
        out,
        t.shape.filter((_, i) => !axes.includes(i)),
      );
});

/** Index of the first maximum along `axis` (all elements, flattened, when absent), as int32. */
export const argmax = checkArity("argmax", 1, 2, (x: TensorLike, axis?: number): Tensor => {
  let t = toOperand("argmax", x);
  if (t.dtype === "bool") t = castTo(t, "int32");
  if (axis === undefined) {
    if (t.size === 0) throw new ShapeError(`argmax: expected a non-empty tensor, got shape ${formatShape(t.shape)}`);
    return bind("argmax", [reshape(t, [t.size])], { axis: 0 });
  }
  return bind("argmax", [t], { axis: normalizeAxis("argmax", axis, t.rank) });
});

// ── shape ──────────────────────────────────────────────────────────────────────────────────

/** Ranks are bounded by `MAX_DEPTH` (printing and `toArray` recurse once per axis). */
function checkRankLimit(op: string, shape: unknown): void {
  if (Array.isArray(shape) && shape.length > MAX_DEPTH) {
    throw new ArgumentError(`${op}: expected a shape of rank at most ${MAX_DEPTH} (MAX_DEPTH), got rank ${shape.length}`);
  }
}

/** Reshape; one dimension may be -1 (inferred). */
export const reshape = checkArity("reshape", 2, 2, (x: TensorLike, shape: readonly number[]): Tensor => {
  const t = toOperand("reshape", x);
  checkRankLimit("reshape", shape);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= -1)) {
    throw new ArgumentError(`reshape: expected a shape of integers (one may be -1), got ${formatValue(shape)}`);
  }
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new ArgumentError(`reshape: expected at most one -1 in the shape, got ${formatValue(shape)}`);
  let target = shape.slice();
  if (unknown === 1) {
    const known = sizeOf(shape.filter((d) => d !== -1));
    if (known === 0 || t.size % known !== 0) {
      throw new ShapeError(
        `reshape: expected a shape compatible with ${count(t.size, "element")} (from ${formatShape(t.shape)}), got ${formatShape(shape)}`,
      );
    }
    target = shape.map((d) => (d === -1 ? t.size / known : d));
  }
  if (sizeOf(target) !== t.size) {
    throw new ShapeError(
      `reshape: expected a shape with ${count(t.size, "element")} (from ${formatShape(t.shape)}), got ${formatShape(shape)}`,
    );
  }
  if (target.length === t.rank && target.every((d, i) => d === t.shape[i])) return t;
  return bind("reshape", [t], { shape: target });
});

/** Permutes axes (reverses them when `perm` is absent). */
export const transpose = checkArity("transpose", 1, 2, (x: TensorLike, perm?: readonly number[]): Tensor => {
  const t = toOperand("transpose", x);
  if (perm !== undefined && !Array.isArray(perm)) {
    throw new ArgumentError(`transpose: expected a permutation of ${count(t.rank, "axis", "axes")}, got ${describeValue(perm)}`, "AXIS");
  }
  const order = perm === undefined ? t.shape.map((_, i) => t.rank - 1 - i) : perm.map((p) => normalizeAxis("transpose", p, t.rank));
  if (order.length !== t.rank || new Set(order).size !== t.rank) {
    throw new ArgumentError(`transpose: expected a permutation of ${count(t.rank, "axis", "axes")}, got ${formatValue(perm)}`, "AXIS");
  }
  if (order.every((p, i) => p === i)) return t;
  return bind("transpose", [t], { perm: order });
});

export const broadcastTo = checkArity("broadcastTo", 2, 2, (x: TensorLike, shape: readonly number[]): Tensor => {
  const t = toOperand("broadcastTo", x);
  checkRankLimit("broadcastTo", shape);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ArgumentError(`broadcastTo: expected a shape of non-negative integers, got ${formatValue(shape)}`);
  }
  if (shape.length === t.rank && shape.every((d, i) => d === t.shape[i])) return t;
  return bind("broadcastTo", [t], { shape: shape.slice() });
});

/** Inserts a size-1 axis at `axis` (negative counts from the end of the result). */
export const expandDims = checkArity("expandDims", 2, 2, (x: TensorLike, axis: number): Tensor => {
  const t = toOperand("expandDims", x);
  const a = normalizeAxis("expandDims", axis, t.rank + 1);
  const shape = t.shape.slice();
  shape.splice(a, 0, 1);
  return reshape(t, shape);
});

/** Removes size-1 axes: the given ones (which must have size 1), or all. */
export const squeeze = checkArity("squeeze", 1, 2, (x: TensorLike, axis?: Axis): Tensor => {
  const t = toOperand("squeeze", x);
  const axes = axis === undefined ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes("squeeze", axis, t.rank);
  for (const a of axes) {
    if (t.shape[a] !== 1) throw new ShapeError(`squeeze: expected axis ${a} to have size 1, got shape ${formatShape(t.shape)}`);
  }
  return reshape(
    t,
    t.shape.filter((_, i) => !axes.includes(i)),
  );
});

/** One axis of a slice, normalized: `count` elements from `start`, `step` apart. */
interface SliceAxis {
  readonly start: number;
  readonly count: number;
  readonly step: number;
}

function sliceStep(raw: unknown, axis: number): number {
  if (raw === undefined) return 1;
  if (!Number.isSafeInteger(raw) || raw === 0) {
    throw new ArgumentError(`slice: expected a non-zero integer step on axis ${axis}, got ${describeValue(raw)}`);
  }
  return raw as number;
}

/**
 * NumPy's bounds for one axis: negative indices count from the end. A positive step needs
 * 0 ≤ begin ≤ end ≤ dim (after that); a negative one walks down from begin (default dim − 1) while
 * above end, which defaults to "past index 0" and otherwise needs −1 < end ≤ begin < dim.
 */
function sliceAxis(shape: readonly number[], axis: number, rawBegin: unknown, rawEnd: unknown, step: number): SliceAxis {
  const dim = shape[axis]!;
  const forward = step > 0;
  const b = rawBegin ?? (forward ? 0 : dim - 1);
  const e = rawEnd ?? (forward ? dim : -dim - 1);
  if (!Number.isInteger(b) || !Number.isInteger(e)) {
    throw new ArgumentError(`slice: expected integer begin and end on axis ${axis}, got ${describeValue(b)} and ${describeValue(e)}`);
  }
  const lo = (b as number) < 0 ? (b as number) + dim : (b as number);
  const hi = (e as number) < 0 ? (e as number) + dim : (e as number);
  const where = `on axis ${axis} of shape ${formatShape(shape)}`;
  if (forward && (lo < 0 || hi > dim || lo > hi)) {
    throw new ArgumentError(`slice: expected ${-dim} ≤ begin ≤ end ≤ ${dim} ${where}, got begin ${b}, end ${e}`);
  }
  if (!forward && dim > 0 && !(hi >= -1 && hi <= lo && lo < dim)) {
    const shown = rawEnd === undefined ? "undefined" : String(e);
    throw new ArgumentError(`slice: expected ${-dim} ≤ end ≤ begin < ${dim} ${where} for step ${step}, got begin ${b}, end ${shown}`);
  }
  const span = forward ? hi - lo : lo - hi;
  return { start: lo, count: dim === 0 ? 0 : Math.ceil(span / Math.abs(step)), step };
}

/**
 * Every `step`-th element on the axes with a step > 1, as views: slice [start, start + count·step)
 * (zero-padded past the end), split each such axis into [count, step] and keep index 0 of the step.
 */
function positiveStrides(t: Tensor, axes: readonly SliceAxis[]): Tensor {
  const begin = axes.map((a) => a.start);
  const end = axes.map((a, i) => Math.min(a.start + a.count * Math.max(a.step, 1), t.shape[i]!));
  const padded = pad(
    bind("slice", [t], { begin, end }),
    axes.map(() => 0),
    axes.map((a, i) => a.count * Math.max(a.step, 1) - (end[i]! - begin[i]!)),
  );
  if (axes.every((a) => a.step === 1)) return padded;
  const split = axes.flatMap((a) => (a.step > 1 ? [a.count, a.step] : [a.count]));
  const kept = axes.flatMap((a) => (a.step > 1 ? [a.count, 1] : [a.count]));
  const picked = bind("slice", [reshape(padded, split)], { begin: split.map(() => 0), end: kept });
  return reshape(
    picked,
    axes.map((a) => a.count),
  );
}

/** The axes with a negative step: one gather each, of the indices start, start + step, …. */
function negativeStrides(t: Tensor, axes: readonly SliceAxis[]): Tensor {
  let out = t;
  axes.forEach((a, axis) => {
    if (a.step > 0) return;
    const indices = allocate("slice", "int32", a.count);
    for (let j = 0; j < a.count; j++) indices[j] = a.start + j * a.step;
    out = bind("gather", [out, new Tensor("int32", [a.count], indices)], { axis });
  });
  return out;
}

/**
 * `x[begin[i]:end[i]:steps[i]]` on every axis, with NumPy's meaning (one entry per axis; negative
 * indices count from the end; `end` and `steps` may be absent, and any entry `undefined` for its
 * default). A positive step takes begin, begin + step, … below end (begin defaults to 0, end to
 * the axis length); a negative step walks down from begin (default: the last index) while above
 * end (default: past index 0). Out-of-range bounds are errors. Positive steps are views (slice,
 * pad, reshape); negative steps gather.
 */
export const slice = checkArity(
  "slice",
  2,
  4,
  (
    x: TensorLike,
    begin: readonly (number | undefined)[],
    end?: readonly (number | undefined)[],
    steps?: readonly (number | undefined)[],
  ) => {
    const t = toOperand("slice", x);
    for (const [name, list] of [
      ["begin", begin],
      ["end", end],
      ["steps", steps],
    ] as const) {
      if ((name === "begin" || list !== undefined) && (!Array.isArray(list) || list.length !== t.rank)) {
        throw new ArgumentError(`slice: expected ${name} with one entry per axis (${t.rank}), got ${formatValue(list)}`);
      }
    }
    // an axis that keeps at most one element ignores its step (a huge step must not pad the axis to it)
    const axes = t.shape
      .map((_, i) => sliceAxis(t.shape, i, begin[i], end?.[i], sliceStep(steps?.[i], i)))
      .map((a) => (a.count === 0 ? { start: 0, count: 0, step: 1 } : a.count === 1 ? { ...a, step: 1 } : a));
    if (axes.every((a) => a.step > 0)) {
      if (axes.every((a, i) => a.start === 0 && a.count === t.shape[i])) return t;
      if (axes.every((a) => a.step === 1))
        return bind("slice", [t], { begin: axes.map((a) => a.start), end: axes.map((a) => a.start + a.count) });
    }
    const forward = axes.map((a, i) => (a.step > 0 ? a : { start: 0, count: t.shape[i]!, step: 1 }));
    return negativeStrides(positiveStrides(t, forward), axes);
  },
);

/**
 * Zero padding: `low[i]` elements before and `high[i]` after on each axis (one entry per axis,
 * non-negative integers; `high` defaults to `low`). The transpose of `slice`.
 */
export const pad = checkArity("pad", 2, 3, (x: TensorLike, low: readonly number[], high: readonly number[] = low): Tensor => {
  const t = toOperand("pad", x);
  for (const [name, list] of [
    ["low", low],
    ["high", high],
  ] as const) {
    if (!Array.isArray(list) || list.length !== t.rank || !list.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new ArgumentError(`pad: expected ${name} to hold one non-negative integer per axis (${t.rank}), got ${formatValue(list)}`);
    }
  }
  if (low.every((v) => v === 0) && high.every((v) => v === 0)) return t;
  return bind("pad", [t], { low: low.slice(), high: high.slice() });
});

/** Joins tensors along an existing axis. */
export const concat = checkArity("concat", 1, 2, (xs: readonly TensorLike[], axis = 0): Tensor => {
  if (!Array.isArray(xs) || xs.length === 0) {
    throw new ArgumentError(`concat: expected a non-empty array of tensors, got ${describeValue(xs)}`);
  }
  const ts = toOperands("concat", xs);
  const rank = ts[0]!.rank;
  if (rank === 0) throw new ShapeError("concat: expected operands of rank ≥ 1, got scalars");
  const a = normalizeAxis("concat", axis, rank);
  if (ts.length === 1) return ts[0]!;
  return bind("concat", ts, { axis: a });
});

/** Joins tensors of one shape along a new axis. */
export const stack = checkArity("stack", 1, 2, (xs: readonly TensorLike[], axis = 0): Tensor => {
  if (!Array.isArray(xs) || xs.length === 0) {
    throw new ArgumentError(`stack: expected a non-empty array of tensors, got ${describeValue(xs)}`);
  }
  const ts = toOperands("stack", xs);
  const first = ts[0]!;
  for (const t of ts) {
    if (t.rank !== first.rank || t.shape.some((d, i) => d !== first.shape[i])) {
      throw new ShapeError(`stack: expected tensors of one shape, got ${ts.map((u) => formatShape(u.shape)).join(" and ")}`);
    }
  }
  const a = normalizeAxis("stack", axis, first.rank + 1);
  return concat(
    ts.map((t) => expandDims(t, a)),
    a,
  );
});

function toIndices(op: "take" | "oneHot", indices: TensorLike): Tensor {
  const t = toOperand(op, indices);
  if (t.dtype === "int32") return t;
  if (t.dtype === "bool") throw new DTypeError(`${op}: expected integer indices, got bool`);
  // float indices must hold integers: checked where the data is (traced programs check at run time)
  return castTo(bind("checkIndices", [t], { op, size: -1 }), "int32");
}

/** Picks entries along `axis` (of the flattened tensor when absent); negative indices count from the end. */
export const take = checkArity("take", 2, 3, (x: TensorLike, indices: TensorLike, axis?: number): Tensor => {
  let t = toOperand("take", x);
  const idx = toIndices("take", indices);
  if (axis === undefined) {
    t = reshape(t, [t.size]);
    axis = 0;
  }
  const a = normalizeAxis("take", axis, t.rank);
  // the range check as its own step: in a compiled gradient the gather may be dead code, and its
  // transpose (scatterAdd) would report the bad index under its own name
  return bind("gather", [t, bind("checkIndices", [idx], { op: "take", size: t.shape[a]! })], { axis: a });
});

/** One-hot rows: `out[..., j] = (indices[...] == j)`, shape `indices.shape ++ [depth]`. */
export const oneHot = checkArity("oneHot", 2, 3, (indices: TensorLike, depth: number, dtype: DType = "float64"): Tensor => {
  if (!Number.isInteger(depth) || depth < 0)
    throw new ArgumentError(`oneHot: expected a non-negative integer depth, got ${describeValue(depth)}`);
  const idx = toIndices("oneHot", indices);
  const positions = allocate("oneHot", "int32", depth);
  for (let i = 0; i < depth; i++) positions[i] = i;
  const classes = new Tensor("int32", [depth], positions);
  return castTo(equal(expandDims(idx, -1), classes), assertDType("oneHot", dtype));
});

// ── linear algebra ─────────────────────────────────────────────────────────────────────────

/** Matrix product with NumPy semantics: batched with broadcasting; 1-D operands are promoted and the added axis removed. */
export const matmul = checkArity("matmul", 2, 2, (a: TensorLike, b: TensorLike): Tensor => {
  let [x, y] = toOperands("matmul", [a, b]);
  if (x!.rank === 0 || y!.rank === 0) {
    throw new ShapeError(`matmul: expected operands of rank ≥ 1, got ${formatShape(x!.shape)} and ${formatShape(y!.shape)}`);
  }
  if (x!.dtype === "bool") {
    x = castTo(x!, "int32");
    y = castTo(y!, "int32");
  }
  const vectorA = x!.rank === 1;
  const vectorB = y!.rank === 1;
  if (vectorA || vectorB) {
    const k1 = x!.shape[x!.rank - 1];
    const k2 = vectorB ? y!.shape[0] : y!.shape[y!.rank - 2];
    if (k1 !== k2)
      throw new ShapeError(`matmul: expected inner dimensions to match, got ${formatShape(x!.shape)} and ${formatShape(y!.shape)}`);
  }
  const out = bind("matmul", [vectorA ? reshape(x!, [1, x!.shape[0]!]) : x!, vectorB ? reshape(y!, [y!.shape[0]!, 1]) : y!], {});
  if (!vectorA && !vectorB) return out;
  const shape = out.shape.slice();
  if (vectorB) shape.splice(shape.length - 1, 1);
  if (vectorA) shape.splice(shape.length - (vectorB ? 1 : 2), 1);
  return reshape(out, shape);
});

/**
 * NumPy's dot: a scalar operand multiplies; otherwise the last axis of `a` is contracted with the
 * only axis of a vector `b`, or else with the second-to-last axis of `b`:
 * dot(a, b)[i, j, k, m] = Σₙ a[i, j, n] · b[k, n, m], of shape a.shape[:-1] ++ b.shape[:-2] ++ b.shape[-1:].
 * One matmul of `a` as a [P, K] matrix with `b` as a [K, Q·N] matrix.
 */
export const dot = checkArity("dot", 2, 2, (a: TensorLike, b: TensorLike): Tensor => {
  const [x, y] = toOperands("dot", [a, b]);
  if (x!.rank === 0 || y!.rank === 0) return mul(x!, y!);
  const k = x!.shape[x!.rank - 1]!;
  const contracted = y!.rank === 1 ? 0 : y!.rank - 2;
  if (k !== y!.shape[contracted]) {
    throw new ShapeError(`dot: expected inner dimensions to match, got ${formatShape(x!.shape)} and ${formatShape(y!.shape)}`);
  }
  if (x!.rank <= 2 && y!.rank <= 2) return matmul(x!, y!);
  const rest = y!.shape.filter((_, i) => i !== contracted);
  const perm = [contracted, ...y!.shape.map((_, i) => i).filter((i) => i !== contracted)];
  const matrixB = reshape(transpose(y!, perm), [k, sizeOf(rest)]);
  const product = matmul(reshape(x!, [sizeOf(x!.shape.slice(0, -1)), k]), matrixB);
  return reshape(product, [...x!.shape.slice(0, -1), ...rest]);
});

/** Outer product of the flattened operands. */
export const outer = checkArity("outer", 2, 2, (a: TensorLike, b: TensorLike): Tensor => {
  const [x, y] = toOperands("outer", [a, b]);
  return mul(reshape(x!, [-1, 1]), reshape(y!, [1, -1]));
});

// ── differentiation control (the custom rules live in custom.ts) ───────────────────────────

/** The identity whose derivative is zero, in every engine. */
export const stopGradient = checkArity("stopGradient", 1, 1, (x: TensorLike): Tensor => {
  return bind("stopGradient", [toOperand("stopGradient", x)], {});
});

/** Whether `x` is a float32 or float64 tensor. */
export const isFloatTensor = checkArity("isFloatTensor", 1, 1, (x: Tensor): boolean => {
  if (!(x instanceof Tensor)) throw new ArgumentError(`isFloatTensor: expected a Tensor, got ${describeValue(x)}`);
  return isFloat(x.dtype);
});
