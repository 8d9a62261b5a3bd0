import { ArgumentError, checkArity, formatValue, ShapeError } from "./errors.js";
import { MAX_DEPTH } from "./limits.js";

/** A shape is a list of non-negative integer dimensions; `[]` is a scalar. */
export type Shape = readonly number[];

// The functions below without a `public` twin trust their arguments: ir calls them with shapes it
// has checked, on every primitive. The exported (index.ts) versions check first.

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(",")}]`;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}

function isShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.length <= MAX_DEPTH && shape.every((d) => Number.isInteger(d) && d >= 0);
}

/** A copy of `shape` after checking it: an array of at most `MAX_DEPTH` non-negative integers. */
export function checkShape(op: string, shape: unknown): number[] {
  if (!isShape(shape)) {
    if (Array.isArray(shape) && shape.length > MAX_DEPTH) {
      throw new ArgumentError(`${op}: expected a shape of rank at most ${MAX_DEPTH} (MAX_DEPTH), got rank ${shape.length}`);
    }
    throw new ArgumentError(`${op}: expected a shape (an array of non-negative integers), got ${formatValue(shape)}`);
  }
  return shape.slice();
}

/** NumPy broadcasting of two shapes; throws `op: expected broadcastable shapes, got …`. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Shape {
  if (a === b || shapesEqual(a, b)) return a;
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new ShapeError(`${op}: expected broadcastable shapes, got ${formatShape(a)} and ${formatShape(b)}`);
    }
  }
  return out;
}

function checkOpName(caller: string, op: unknown): asserts op is string {
  if (typeof op !== "string") throw new ArgumentError(`${caller}: expected an op name (a string), got ${formatValue(op)}`);
}

function checkRank(op: string, rank: unknown): asserts rank is number {
  if (!Number.isInteger(rank) || (rank as number) < 0) {
    throw new ArgumentError(`${op}: expected a rank (a non-negative integer), got ${formatValue(rank)}`);
  }
}

/** Normalizes one axis (negative counts from the end) and checks its range. */
export const normalizeAxis = checkArity("normalizeAxis", 3, 3, (op: string, axis: unknown, rank: number): number => {
  checkOpName("normalizeAxis", op);
  checkRank(op, rank);
  return axisIn(op, axis, rank);
});

function axisIn(op: string, axis: unknown, rank: number): number {
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new ArgumentError(`${op}: expected an integer axis, got ${formatValue(axis)}`, "AXIS");
  }
  if (axis < -rank || axis >= rank) {
    throw new ArgumentError(`${op}: expected axis in [${-rank}, ${rank - 1}] for rank ${rank}, got ${axis}`, "AXIS");
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes `axis` (number, array or undefined = all axes) to sorted unique axes. */
export const normalizeAxes = checkArity("normalizeAxes", 3, 3, (op: string, axis: unknown, rank: number): number[] => {
  checkOpName("normalizeAxes", op);
  checkRank(op, rank);
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list: unknown[] = Array.isArray(axis) ? axis : [axis];
  const axes = list.map((a) => axisIn(op, a, rank));
  const sorted = [...new Set(axes)].sort((x, y) => x - y);
  if (sorted.length !== axes.length) {
    throw new ArgumentError(`${op}: expected distinct axes, got ${formatValue(axis)}`, "AXIS");
  }
  return sorted;
});

/** `shape` with the reduced `axes` kept as size-1 dimensions (keepdims). */
export function keepDims(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** The inverse of a permutation. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
}

/** The axes of `from` that broadcasting to `to` expanded (to be summed in a backward pass). */
export function broadcastedAxes(from: Shape, to: Shape): { axes: number[]; kept: number[] } {
  const lead = to.length - from.length;
  const axes: number[] = [];
  for (let i = 0; i < to.length; i++) {
    if (i < lead || (from[i - lead] === 1 && to[i] !== 1)) axes.push(i);
  }
  return { axes, kept: from.slice() };
}

// ── the exported versions of the unchecked helpers above ───────────────────────────────────

/** The number of elements of a shape (1 for the scalar shape `[]`). */
export const publicSizeOf = checkArity("sizeOf", 1, 1, (shape: Shape): number => sizeOf(checkShape("sizeOf", shape)));

/** A shape as printed in messages: `[2,3]`. */
export const publicFormatShape = checkArity("formatShape", 1, 1, (shape: Shape): string => {
  if (!Array.isArray(shape)) throw new ArgumentError(`formatShape: expected a shape (an array), got ${formatValue(shape)}`);
  return shape.every((d) => typeof d === "number") ? formatShape(shape) : formatValue(shape);
});

/** Whether two shapes are equal, dimension by dimension. */
export const publicShapesEqual = checkArity("shapesEqual", 2, 2, (a: Shape, b: Shape): boolean =>
  shapesEqual(checkShape("shapesEqual", a), checkShape("shapesEqual", b)),
);

/** NumPy broadcasting of two shapes; throws `op: expected broadcastable shapes, got …` naming `op`. */
export const publicBroadcastShapes = checkArity("broadcastShapes", 3, 3, (op: string, a: Shape, b: Shape): Shape => {
  checkOpName("broadcastShapes", op);
  return broadcastShapes(op, checkShape(op, a), checkShape(op, b));
});

/**
 * The axes of `to` that broadcasting `from` to `to` expanded (leading axes, and size-1 axes of
 * `from` that `to` widens): what a backward pass sums over. `from` must broadcast to `to`.
 */
export const publicBroadcastedAxes = checkArity("broadcastedAxes", 2, 2, (from: Shape, to: Shape): { axes: number[]; kept: number[] } => {
  const f = checkShape("broadcastedAxes", from);
  const t = checkShape("broadcastedAxes", to);
  const out = broadcastShapes("broadcastedAxes", f, t);
  if (!shapesEqual(out, t))
    throw new ShapeError(`broadcastedAxes: expected a shape that ${formatShape(f)} broadcasts to, got ${formatShape(t)}`);
  return broadcastedAxes(f, t);
});
