import { ArgumentError, ShapeError } from "./errors.js";

/** A shape is a list of non-negative integer dimensions; `[]` is a scalar. */
export type Shape = readonly number[];

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

export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ArgumentError(`${op}: expected a shape (an array of non-negative integers), got ${JSON.stringify(shape)}`);
  }
  return shape.slice() as number[];
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

/** Normalizes one axis (negative counts from the end) and checks its range. */
export function normalizeAxis(op: string, axis: unknown, rank: number): number {
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new ArgumentError(`${op}: expected an integer axis, got ${JSON.stringify(axis)}`, "AXIS");
  }
  if (axis < -rank || axis >= rank) {
    throw new ArgumentError(`${op}: expected axis in [${-rank}, ${rank - 1}] for rank ${rank}, got ${axis}`, "AXIS");
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalizes `axis` (number, array or undefined = all axes) to sorted unique axes. */
export function normalizeAxes(op: string, axis: unknown, rank: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  const axes = list.map((a) => normalizeAxis(op, a, rank));
  const sorted = [...new Set(axes)].sort((x, y) => x - y);
  if (sorted.length !== axes.length) {
    throw new ArgumentError(`${op}: expected distinct axes, got ${JSON.stringify(axis)}`, "AXIS");
  }
  return sorted;
}

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
