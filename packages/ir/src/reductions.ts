/**
 * Reductions, scans and sorting (issue 17's op set), as composites of primitives: the products and
 * sums along an axis are `linearScan`s (primitives/scan.ts), cummax/cummin/sort/topK pick values
 * with `gather` at int32 positions from `argcummax`/`argsort`, and the rest reduce casts. So every
 * engine differentiates them at every order with the primitives' rules: a sort's gradient
 * scatters back through its permutation, cumsum's transpose is the reversed cumsum, and prod's
 * gradient never divides by the product (it is right with zeros in the input).
 */
import { allocate } from "./dtype.js";
import { ArgumentError, checkArity, describeValue, formatValue, ShapeError } from "./errors.js";
import { castTo, toFloat, toOperand, type TensorLike } from "./coerce.js";
import { around } from "./kernels.js";
import {
  abs,
  add,
  argmax,
  equal,
  exp,
  greater,
  less,
  log,
  mul,
  neg,
  notEqual,
  reshape,
  sqrt,
  stopGradient,
  sub,
  sum,
  transpose,
  variance,
  where,
  type Axis,
} from "./ops.js";
import { formatShape, keepDims, normalizeAxes, normalizeAxis, sizeOf } from "./shape.js";
import { Tensor, full } from "./tensor.js";
import { bind } from "./trace.js";

// ── helpers ────────────────────────────────────────────────────────────────────────────────

function checkKeepdims(op: string, keepdims: unknown): boolean {
  if (typeof keepdims !== "boolean") throw new ArgumentError(`${op}: expected keepdims to be a boolean, got ${describeValue(keepdims)}`);
  return keepdims;
}

/** Bool operands as int32 (NumPy's numeric reading of a bool). */
function numeric(op: string, x: TensorLike): Tensor {
  const t = toOperand(op, x);
  return t.dtype === "bool" ? castTo(t, "int32") : t;
}

/** The axis of a scan or sort (default: the last), for an operand of rank ≥ 1. */
function scanAxis(op: string, t: Tensor, axis: number | undefined): number {
  if (t.rank === 0) throw new ShapeError(`${op}: expected an operand of rank ≥ 1, got shape ${formatShape(t.shape)}`);
  return normalizeAxis(op, axis ?? -1, t.rank);
}

/** `t` sliced to positions [from, to) along `axis`. */
function sliceAlong(t: Tensor, axis: number, from: number, to: number): Tensor {
  const begin = t.shape.map((_, i) => (i === axis ? from : 0));
  const end = t.shape.map((d, i) => (i === axis ? to : d));
  return bind("slice", [t], { begin, end });
}

/**
 * out[…, i, …] = x[…, indices[…, i, …], …] along `axis` (indices: int32, x's shape except on
 * `axis`): a gather from the flattened x, so the gradient scatters back to the picked entries.
 */
function pickAlong(x: Tensor, indices: Tensor, axis: number): Tensor {
  const [outer, n, inner] = around(x.shape, axis);
  const m = indices.shape[axis]!;
  // the flat position of entry (o, i, j) is o·n·inner + indices·inner + j
  const base = allocate("pickAlong", "int32", outer * m * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < m; i++) for (let j = 0; j < inner; j++) base[(o * m + i) * inner + j] = o * n * inner + j;
  const scaled = inner === 1 ? indices : mul(indices, inner);
  const flat = outer * inner === 1 ? scaled : add(scaled, new Tensor("int32", indices.shape.slice(), base));
  return bind("gather", [reshape(x, [x.size]), flat], { axis: 0 });
}

/** The cumulative product along `axis`: h₀ = x₀, hᵢ = xᵢ·hᵢ₋₁ — a linear scan, so no division anywhere. */
function cumprodAlong(t: Tensor, axis: number): Tensor {
  const n = t.shape[axis]!;
  if (n === 0) return t;
  const first = sliceAlong(t, axis, 0, 1);
  const drive =
    n === 1 ? first : bind("pad", [first], { low: t.shape.map(() => 0), high: t.shape.map((_, i) => (i === axis ? n - 1 : 0)) });
  return bind("linearScan", [t, drive], { axis, reverse: 0 });
}

// ── reductions ─────────────────────────────────────────────────────────────────────────────

/** Product over `axis` (a number, several, or all when absent); 1 over an empty axis. */
export const prod = checkArity("prod", 1, 3, (x: TensorLike, axis?: Axis, keepdims = false): Tensor => {
  const t = numeric("prod", x);
  const axes = normalizeAxes("prod", axis, t.rank);
  const keep = checkKeepdims("prod", keepdims);
  if (axes.length === 0) return t;
  const kept = t.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptShape = kept.map((i) => t.shape[i]!);
  const length = sizeOf(axes.map((a) => t.shape[a]!));
  let out: Tensor;
  if (length === 0) out = full(keptShape, 1, t.dtype);
  else {
    // the reduced axes moved last and flattened: the product is the last entry of the cumulative product
    const order = [...kept, ...axes];
    const moved = order.every((a, i) => a === i) ? t : transpose(t, order);
    const lines = reshape(moved, [...keptShape, length]);
    const last = keptShape.length;
    out = reshape(sliceAlong(cumprodAlong(lines, last), last, length - 1, length), keptShape);
  }
  return keep ? reshape(out, keepDims(t.shape, axes)) : out;
});

/** Index of the first minimum along `axis` (all elements, flattened, when absent), as int32; NaN counts as the minimum. */
export const argmin = checkArity("argmin", 1, 2, (x: TensorLike, axis?: number): Tensor => {
  let t = numeric("argmin", x);
  if (axis === undefined) {
    if (t.size === 0) throw new ShapeError(`argmin: expected a non-empty tensor, got shape ${formatShape(t.shape)}`);
    t = reshape(t, [t.size]);
  }
  const a = normalizeAxis("argmin", axis ?? 0, t.rank);
  if (t.shape[a] === 0) throw new ShapeError(`argmin: expected a non-empty axis ${a}, got shape ${formatShape(t.shape)}`);
  // the first maximum of −x (int32 through float64, which holds −x exactly); NaN stays NaN and wins
  return argmax(neg(t.dtype === "int32" ? castTo(t, "float64") : t), a);
});

/** Options of `std`. */
export interface StdOptions {
  /** Delta degrees of freedom: the divisor is n − ddof (default 0, the population standard deviation). */
  readonly ddof?: number;
}

/** Standard deviation over `axis`, √(Σ(x − mean)² / (n − ddof)), like `jnp.std`; options last: `std(x, axis, keepdims, { ddof })`. */
export const std = checkArity("std", 1, 4, (x: TensorLike, axis?: Axis, keepdims = false, options: StdOptions = {}): Tensor => {
  const t = toFloat(toOperand("std", x));
  const axes = normalizeAxes("std", axis, t.rank);
  const keep = checkKeepdims("std", keepdims);
  if (options === null || typeof options !== "object")
    throw new ArgumentError(`std: expected an options object, got ${describeValue(options)}`);
  const ddof = options.ddof ?? 0;
  if (!Number.isInteger(ddof) || ddof < 0)
    throw new ArgumentError(`std: expected ddof to be a non-negative integer, got ${formatValue(ddof)}`);
  const n = sizeOf(axes.map((a) => t.shape[a]!));
  if (n - ddof <= 0) throw new ArgumentError(`std: expected ddof below the number of reduced elements (${n}), got ${ddof}`);
  const v = variance(t, axes, keep);
  return sqrt(ddof === 0 ? v : mul(v, n / (n - ddof)));
});

/** Whether every element over `axis` is nonzero (NaN counts as nonzero); true over an empty axis. Bool. */
export const all = checkArity("all", 1, 3, (x: TensorLike, axis?: Axis, keepdims = false): Tensor => {
  const t = numeric("all", x);
  const axes = normalizeAxes("all", axis, t.rank);
  return equal(sum(castTo(equal(t, 0), "int32"), axes, checkKeepdims("all", keepdims)), 0);
});

/** Whether some element over `axis` is nonzero (NaN counts as nonzero); false over an empty axis. Bool. */
export const any = checkArity("any", 1, 3, (x: TensorLike, axis?: Axis, keepdims = false): Tensor => {
  const t = numeric("any", x);
  const axes = normalizeAxes("any", axis, t.rank);
  return greater(sum(castTo(notEqual(t, 0), "int32"), axes, checkKeepdims("any", keepdims)), 0);
});

// ── scans ──────────────────────────────────────────────────────────────────────────────────

/** Cumulative sum along `axis` (default: the last); its transpose is the reversed cumulative sum. */
export const cumsum = checkArity("cumsum", 1, 2, (x: TensorLike, axis?: number): Tensor => {
  const t = numeric("cumsum", x);
  const a = scanAxis("cumsum", t, axis);
  const one = full(
    t.shape.map(() => 1),
    1,
    t.dtype,
  );
  return bind("linearScan", [one, t], { axis: a, reverse: 0 });
});

/** Cumulative product along `axis` (default: the last); its gradient is right with zeros in the input. */
export const cumprod = checkArity("cumprod", 1, 2, (x: TensorLike, axis?: number): Tensor => {
  const t = numeric("cumprod", x);
  return cumprodAlong(t, scanAxis("cumprod", t, axis));
});

/** Running maximum along `axis` (default: the last); the gradient goes to the element holding it (ties: the latest). */
export const cummax = checkArity("cummax", 1, 2, (x: TensorLike, axis?: number): Tensor => {
  const t = toOperand("cummax", x);
  const a = scanAxis("cummax", t, axis);
  return pickAlong(t, bind("argcummax", [t.dtype === "bool" ? castTo(t, "int32") : t], { axis: a }), a);
});

/** Running minimum along `axis` (default: the last); the gradient goes to the element holding it (ties: the latest). */
export const cummin = checkArity("cummin", 1, 2, (x: TensorLike, axis?: number): Tensor => {
  const t = toOperand("cummin", x);
  const a = scanAxis("cummin", t, axis);
  // the running max of −x (int32 and bool through float64, which holds −x exactly)
  const negated = neg(t.dtype === "float32" || t.dtype === "float64" ? t : castTo(t, "float64"));
  return pickAlong(t, bind("argcummax", [negated], { axis: a }), a);
});

/**
 * log Σⱼ≤ᵢ exp xⱼ along `axis` (default: the last), shifted by the running max m: sᵢ = Σⱼ≤ᵢ exp(xⱼ − mᵢ)
 * is the linear scan sᵢ = exp(mᵢ₋₁ − mᵢ)·sᵢ₋₁ + exp(xᵢ − mᵢ), each term at most 1 and sᵢ ≥ 1, so
 * entries far below the running max never underflow the result.
 */
export const logcumsumexp = checkArity("logcumsumexp", 1, 2, (x: TensorLike, axis?: number): Tensor => {
  const t = toFloat(toOperand("logcumsumexp", x));
  const a = scanAxis("logcumsumexp", t, axis);
  const n = t.shape[a]!;
  if (n === 0) return t;
  const m = stopGradient(cummax(t, a));
  // an infinite running max (all −∞ so far, or +∞) shifts by 0
  const shift = where(less(abs(m), Infinity), m, 0);
  const earlier = n === 1 ? shift : bind("concat", [sliceAlong(shift, a, 0, 1), sliceAlong(shift, a, 0, n - 1)], { axis: a });
  const s = bind("linearScan", [exp(sub(earlier, shift)), exp(sub(t, shift))], { axis: a, reverse: 0 });
  return add(shift, log(s));
});

// ── sorting ────────────────────────────────────────────────────────────────────────────────

/** The operand `argsort` orders: bool as int32. */
function sortable(t: Tensor): Tensor {
  return t.dtype === "bool" ? castTo(t, "int32") : t;
}

/** The stable sorting permutation along `axis` (default: the last), as int32; NaN sorts last. */
export const argsort = checkArity("argsort", 1, 2, (x: TensorLike, axis = -1): Tensor => {
  const t = toOperand("argsort", x);
  return bind("argsort", [sortable(t)], { axis: scanAxis("argsort", t, axis), descending: 0 });
});

/** Sorted along `axis` (default: the last), NaN last; the gradient scatters back through the permutation. */
export const sort = checkArity("sort", 1, 2, (x: TensorLike, axis = -1): Tensor => {
  const t = toOperand("sort", x);
  const a = scanAxis("sort", t, axis);
  return pickAlong(t, bind("argsort", [sortable(t)], { axis: a, descending: 0 }), a);
});

/**
 * The k largest entries along the last axis, largest first (ties: lower index first; NaN counts as
 * the largest), and their int32 indices.
 */
export const topK = checkArity("topK", 2, 2, (x: TensorLike, k: number): [Tensor, Tensor] => {
  const t = toOperand("topK", x);
  const a = scanAxis("topK", t, -1);
  const n = t.shape[a]!;
  if (!Number.isInteger(k) || k < 0 || k > n)
    throw new ArgumentError(`topK: expected k to be an integer in [0, ${n}], got ${formatValue(k)}`);
  const indices = sliceAlong(bind("argsort", [sortable(t)], { axis: a, descending: 1 }), a, 0, k);
  return [pickAlong(t, indices, a), indices];
});
