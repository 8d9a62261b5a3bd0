/**
 * Shape ops of issue 17 (family "shapes": ops-nn), beside ops.ts's reshape, expandDims, squeeze and
 * stack: split, flip, tile, repeat, roll, diag, diagonal, triu, tril, swapaxes, moveaxis. NumPy
 * semantics, negative axes counting from the end. Each is a composite of the structural
 * primitives (slice, concat, reshape, broadcastTo, transpose, pad, where, gather), so every engine
 * differentiates it through their transposes: the gradient of a rearrangement puts each cotangent
 * back where its element came from, and adds up the copies of a repeated element.
 */
import { allocate } from "./dtype.js";
import { ArgumentError, checkArity, count, describeValue, formatValue, ShapeError } from "./errors.js";
import { toOperand, type TensorLike } from "./coerce.js";
import { MAX_DEPTH, MAX_ELEMENTS } from "./limits.js";
import { broadcastTo, concat, pad, reshape, slice, transpose, where, type Axis } from "./ops.js";
import { formatShape, normalizeAxes, normalizeAxis, sizeOf } from "./shape.js";
import { Tensor } from "./tensor.js";
import { bind } from "./trace.js";

// ── helpers ────────────────────────────────────────────────────────────────────────────────

/** `value` as an integer at least `min`, or an error naming `what`. */
function integer(op: string, what: string, value: unknown, min = -Infinity): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    const kind = min === 0 ? "a non-negative integer" : min === 1 ? "a positive integer" : "an integer";
    throw new ArgumentError(`${op}: expected ${what} to be ${kind}, got ${describeValue(value)}`);
  }
  return value;
}

/** An integer or a non-empty array of them, as an array. */
function integers(op: string, what: string, value: unknown, min = -Infinity): number[] {
  if (!Array.isArray(value)) return [integer(op, what, value, min)];
  return value.map((v) => integer(op, what, v, min));
}

/** A result of `shape` must fit `MAX_ELEMENTS` (checked before anything is built). */
function checkSize(op: string, shape: readonly number[]): void {
  if (!(sizeOf(shape) <= MAX_ELEMENTS)) {
    throw new ArgumentError(`${op}: expected a result of at most ${MAX_ELEMENTS} elements (MAX_ELEMENTS), got shape ${formatShape(shape)}`);
  }
}

/** `t[lo:hi]` along `axis` (0 ≤ lo ≤ hi ≤ length). */
function sliceAxis(t: Tensor, axis: number, lo: number, hi: number): Tensor {
  const begin = t.shape.map(() => 0);
  const end = t.shape.slice();
  begin[axis] = lo;
  end[axis] = hi;
  return slice(t, begin, end);
}

/** `t` indexed along `axis` by constant in-range indices: the primitive gather (its transpose adds repeats up). */
function gatherAxis(t: Tensor, axis: number, indices: readonly number[]): Tensor {
  const data = allocate("gather", "int32", indices.length);
  indices.forEach((v, i) => (data[i] = v));
  return bind("gather", [t, new Tensor("int32", [indices.length], data)], { axis });
}

/** A rows × cols bool mask holding `test(i, j)` at row i, column j. */
function mask(op: string, rows: number, cols: number, test: (i: number, j: number) => boolean): Tensor {
  const data = allocate(op, "bool", rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = test(i, j) ? 1 : 0;
  return new Tensor("bool", [rows, cols], data);
}

/** The zero of `t`'s dtype, as a scalar (a weak 0 would turn a bool tensor into float64). */
function zeroOf(t: Tensor): Tensor {
  return new Tensor(t.dtype, [], allocate("zero", t.dtype, 1));
}

function rankAtLeast(op: string, t: Tensor, rank: number): void {
  if (t.rank < rank) throw new ShapeError(`${op}: expected an input of rank ≥ ${rank}, got shape ${formatShape(t.shape)}`);
}

// ── split ──────────────────────────────────────────────────────────────────────────────────

/**
 * Splits `x` along `axis` (0 by default), like `np.split`: into `sections` equal parts (which must
 * divide the axis), or at a list of indices — `[2, 5]` gives `x[:2]`, `x[2:5]`, `x[5:]`, with
 * Python slice rules (negative indices count from the end, indices are clipped to the axis, a
 * decreasing pair gives an empty part).
 */
export const split = checkArity("split", 2, 3, (x: TensorLike, sectionsOrIndices: number | readonly number[], axis = 0): Tensor[] => {
  const t = toOperand("split", x);
  rankAtLeast("split", t, 1);
  const a = normalizeAxis("split", axis, t.rank);
  const length = t.shape[a]!;
  let bounds: number[];
  if (Array.isArray(sectionsOrIndices)) {
    const indices = integers("split", "split indices", sectionsOrIndices);
    const clip = (i: number) => Math.min(Math.max(i < 0 ? i + length : i, 0), length);
    bounds = [0, ...indices.map(clip), length];
  } else {
    const sections = integer("split", "the number of sections", sectionsOrIndices, 1);
    if (length % sections !== 0 || (length === 0 && sections > 1)) {
      throw new ShapeError(
        `split: expected a number of sections dividing axis ${a} (length ${length}) of ${formatShape(t.shape)}, got ${sections}`,
      );
    }
    const step = length / sections;
    bounds = Array.from({ length: sections + 1 }, (_, i) => i * step);
  }
  return bounds.slice(1).map((hi, i) => {
    const lo = bounds[i]!;
    return sliceAxis(t, a, lo, Math.max(lo, hi));
  });
});

// ── flip, roll ─────────────────────────────────────────────────────────────────────────────

/** Reverses the order of elements along `axis` (a number, several, or all axes when absent), like `np.flip`. */
export const flip = checkArity("flip", 1, 2, (x: TensorLike, axis?: Axis): Tensor => {
  const t = toOperand("flip", x);
  let out = t;
  for (const a of normalizeAxes("flip", axis, t.rank)) {
    const n = t.shape[a]!;
    if (n > 1)
      out = gatherAxis(
        out,
        a,
        Array.from({ length: n }, (_, i) => n - 1 - i),
      );
  }
  return out;
});

/**
 * Rolls elements along `axis` by `shift` (elements leaving the end come back at the start), like
 * `np.roll`: without an axis, on the flattened tensor (the shape kept); `shift` and `axis` may be
 * lists of one length (shifts of a repeated axis add up).
 */
export const roll = checkArity(
  "roll",
  2,
  3,
  (x: TensorLike, shift: number | readonly number[], axis?: number | readonly number[]): Tensor => {
    const t = toOperand("roll", x);
    const shifts = integers("roll", "shift", shift);
    if (axis === undefined) {
      if (shifts.length !== 1) throw new ArgumentError(`roll: expected one shift without an axis, got ${formatValue(shift)}`);
      return reshape(rollAxis(reshape(t, [t.size]), 0, shifts[0]!), t.shape);
    }
    const axes = (Array.isArray(axis) ? axis : [axis]).map((v) => normalizeAxis("roll", v, t.rank));
    if (shifts.length !== axes.length && shifts.length !== 1 && axes.length !== 1) {
      throw new ArgumentError(`roll: expected shift and axis of one length, got ${formatValue(shift)} and ${formatValue(axis)}`);
    }
    // shift and axis broadcast against each other, as in NumPy: a single one pairs with each entry of the other
    const pairs = shifts.length === 1 ? axes.length : shifts.length;
    const total = new Map<number, number>();
    for (let i = 0; i < pairs; i++) {
      const a = axes[axes.length === 1 ? 0 : i]!;
      total.set(a, (total.get(a) ?? 0) + shifts[shifts.length === 1 ? 0 : i]!);
    }
    let out = t;
    for (const [a, s] of total) out = rollAxis(out, a, s);
    return out;
  },
);

/** `t` rolled by `shift` along `axis`: its last `shift` elements (mod length) moved to the front. */
function rollAxis(t: Tensor, axis: number, shift: number): Tensor {
  const n = t.shape[axis]!;
  const s = n === 0 ? 0 : ((shift % n) + n) % n;
  if (s === 0) return t;
  return concat([sliceAxis(t, axis, n - s, n), sliceAxis(t, axis, 0, n - s)], axis);
}

// ── tile, repeat ───────────────────────────────────────────────────────────────────────────

/**
 * `x` repeated `reps[i]` times along each axis, like `np.tile`: a shorter `reps` is padded with
 * leading 1s, a lower-rank `x` gets leading size-1 axes. The result has rank max(rank, reps.length).
 */
export const tile = checkArity("tile", 2, 2, (x: TensorLike, reps: number | readonly number[]): Tensor => {
  const t = toOperand("tile", x);
  const r = integers("tile", "reps", reps, 0);
  const rank = Math.max(t.rank, r.length);
  if (rank > MAX_DEPTH) throw new ArgumentError(`tile: expected at most ${MAX_DEPTH} reps (MAX_DEPTH), got ${r.length}`);
  const shape = [...new Array<number>(rank - t.rank).fill(1), ...t.shape];
  const times = [...new Array<number>(rank - r.length).fill(1), ...r];
  const result = shape.map((d, i) => d * times[i]!);
  checkSize("tile", result);
  // a size-1 axis in front of each repeated axis, broadcast to the repeat count, then merged
  const lifted = shape.flatMap((d, i) => (times[i] === 1 ? [d] : [1, d]));
  const spread = shape.flatMap((d, i) => (times[i] === 1 ? [d] : [times[i]!, d]));
  return reshape(broadcastTo(reshape(t, lifted), spread), result);
});

/**
 * Repeats each element `repeats` times along `axis`, like `np.repeat`: `repeats` is a count or one
 * count per element of the axis; without an axis, on the flattened tensor (a 1-d result).
 */
export const repeat = checkArity("repeat", 2, 3, (x: TensorLike, repeats: number | readonly number[], axis?: number): Tensor => {
  let t = toOperand("repeat", x);
  if (axis === undefined) {
    t = reshape(t, [t.size]);
    axis = 0;
  }
  const a = normalizeAxis("repeat", axis, t.rank);
  const n = t.shape[a]!;
  const counts = integers("repeat", "repeats", repeats, 0);
  if (Array.isArray(repeats) && counts.length !== n && counts.length !== 1) {
    throw new ShapeError(`repeat: expected 1 or ${n} repeats for axis ${a} of ${formatShape(t.shape)}, got ${counts.length}`);
  }
  const result = t.shape.slice();
  result[a] = counts.length === 1 ? n * counts[0]! : counts.reduce((s, c) => s + c, 0);
  checkSize("repeat", result);
  if (counts.length === 1) {
    // each element broadcast along a new axis after it, then merged into the axis
    const c = counts[0]!;
    const lifted = [...t.shape.slice(0, a + 1), 1, ...t.shape.slice(a + 1)];
    const spread = [...t.shape.slice(0, a + 1), c, ...t.shape.slice(a + 1)];
    return reshape(broadcastTo(reshape(t, lifted), spread), result);
  }
  return gatherAxis(
    t,
    a,
    counts.flatMap((c, i) => new Array<number>(c).fill(i)),
  );
});

// ── diagonals and triangles ────────────────────────────────────────────────────────────────

/**
 * The diagonal of `x` at `offset` (above the main one when positive) in the planes of `axis1` and
 * `axis2`, like `np.diagonal`: those axes are removed and the diagonal becomes the last axis.
 */
export const diagonal = checkArity("diagonal", 1, 4, (x: TensorLike, offset = 0, axis1 = 0, axis2 = 1): Tensor => {
  const t = toOperand("diagonal", x);
  rankAtLeast("diagonal", t, 2);
  const k = integer("diagonal", "offset", offset);
  const a1 = normalizeAxis("diagonal", axis1, t.rank);
  const a2 = normalizeAxis("diagonal", axis2, t.rank);
  if (a1 === a2) throw new ArgumentError(`diagonal: expected two different axes, got ${axis1} and ${axis2} (rank ${t.rank})`, "AXIS");
  const rest = t.shape.map((_, i) => i).filter((i) => i !== a1 && i !== a2);
  const rows = t.shape[a1]!;
  const cols = t.shape[a2]!;
  const length = Math.max(0, k >= 0 ? Math.min(rows, cols - k) : Math.min(rows + k, cols));
  // the two axes last, merged: element (i, i + k) sits at i·cols + i + k
  const planes = reshape(transpose(t, [...rest, a1, a2]), [...rest.map((i) => t.shape[i]!), rows * cols]);
  const last = planes.rank - 1;
  if (length === 0) return sliceAxis(planes, last, 0, 0);
  const first = k >= 0 ? k : -k * cols;
  return gatherAxis(
    planes,
    last,
    Array.from({ length }, (_, i) => first + i * (cols + 1)),
  );
});

/**
 * Like `np.diag`: for a 1-d `v`, the square matrix with `v` on its `k`-th diagonal (above the main
 * one when k > 0) and zeros elsewhere; for a 2-d `v`, its `k`-th diagonal.
 */
export const diag = checkArity("diag", 1, 2, (v: TensorLike, k = 0): Tensor => {
  const t = toOperand("diag", v);
  const offset = integer("diag", "k", k);
  if (t.rank === 2) return diagonal(t, offset);
  if (t.rank !== 1) throw new ShapeError(`diag: expected a 1-d or 2-d input, got shape ${formatShape(t.shape)}`);
  const n = t.shape[0]! + Math.abs(offset);
  checkSize("diag", [n, n]);
  // row i holds v[i] (k ≥ 0) or v[i + k] (k < 0) at column i + k: v padded to n rows, broadcast, masked
  const rows = pad(t, [Math.max(0, -offset)], [Math.max(0, offset)]);
  const full = broadcastTo(reshape(rows, [n, 1]), [n, n]);
  return where(
    mask("diag", n, n, (i, j) => j - i === offset),
    full,
    zeroOf(t),
  );
});

/** Zeros above (tril) or below (triu) the k-th diagonal of the last two axes. */
function triangle(op: "triu" | "tril", x: TensorLike, k: unknown): Tensor {
  const t = toOperand(op, x);
  rankAtLeast(op, t, 2);
  const offset = integer(op, "k", k);
  const rows = t.shape[t.rank - 2]!;
  const cols = t.shape[t.rank - 1]!;
  const keep = mask(op, rows, cols, op === "tril" ? (i, j) => j - i <= offset : (i, j) => j - i >= offset);
  return where(keep, t, zeroOf(t));
}

/** The lower triangle of the last two axes: entries (i, j) with j ≤ i + k kept, the others 0 (like `jnp.tril`). */
export const tril = checkArity("tril", 1, 2, (x: TensorLike, k = 0): Tensor => triangle("tril", x, k));

/** The upper triangle of the last two axes: entries (i, j) with j ≥ i + k kept, the others 0 (like `jnp.triu`). */
export const triu = checkArity("triu", 1, 2, (x: TensorLike, k = 0): Tensor => triangle("triu", x, k));

// ── axis permutations ──────────────────────────────────────────────────────────────────────

/** Exchanges axes `a` and `b`. */
export const swapaxes = checkArity("swapaxes", 3, 3, (x: TensorLike, a: number, b: number): Tensor => {
  const t = toOperand("swapaxes", x);
  const i = normalizeAxis("swapaxes", a, t.rank);
  const j = normalizeAxis("swapaxes", b, t.rank);
  const perm = t.shape.map((_, p) => (p === i ? j : p === j ? i : p));
  return transpose(t, perm);
});

/**
 * Moves axes `source` to positions `destination` (numbers, or lists of one length), the other
 * axes keeping their order, like `np.moveaxis`.
 */
export const moveaxis = checkArity(
  "moveaxis",
  3,
  3,
  (x: TensorLike, source: number | readonly number[], destination: number | readonly number[]): Tensor => {
    const t = toOperand("moveaxis", x);
    const from = distinctAxes("moveaxis", "source", source, t.rank);
    const to = distinctAxes("moveaxis", "destination", destination, t.rank);
    if (from.length !== to.length) {
      throw new ArgumentError(
        `moveaxis: expected source and destination of one length, got ${count(from.length, "axis", "axes")} and ${to.length}`,
        "AXIS",
      );
    }
    const order = t.shape.map((_, i) => i).filter((i) => !from.includes(i));
    to.map((d, i) => [d, from[i]!] as const)
      .sort((p, q) => p[0] - q[0])
      .forEach(([d, s]) => order.splice(d, 0, s));
    return transpose(t, order);
  },
);

function distinctAxes(op: string, what: string, axes: unknown, rank: number): number[] {
  const list = (Array.isArray(axes) ? axes : [axes]).map((a) => normalizeAxis(op, a, rank));
  if (new Set(list).size !== list.length)
    throw new ArgumentError(`${op}: expected distinct ${what} axes, got ${formatValue(axes)}`, "AXIS");
  return list;
}
