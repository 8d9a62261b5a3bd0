/**
 * Indexing composites (issue 17, family: indexing): `takeAlongAxis` (NumPy's take_along_axis) and
 * the functional index updates `at(x, index).set/add/mul/min/max` (JAX's `x.at[index]`). Both
 * turn their index into the flat positions of the cells they touch, as an int32 tensor, and then
 * gather (takeAlongAxis) or scatter (at) along the flattened operand — so the index may be traced
 * (its range is checked where the data is, compiled programs included).
 */
import { castTo, toOperand, type TensorLike } from "./coerce.js";
import { allocate, isFloat } from "./dtype.js";
import { ArgumentError, checkArity, DTypeError, describeValue, formatValue, ShapeError } from "./errors.js";
import { add, broadcastTo, equal, greaterEqual, less, mul, reshape, where } from "./ops.js";
import { indexCheckError } from "./primitives/indexing.js";
import { broadcastShapes, formatShape, normalizeAxis, stridesOf, type Shape } from "./shape.js";
import { Tensor } from "./tensor.js";
import { bind } from "./trace.js";

type IndexOp = "takeAlongAxis" | "at";

/** int32 indices into an axis of length `size`, range-checked (eagerly, or at run time when traced) and made non-negative. */
function axisIndices(op: IndexOp, indices: TensorLike, size: number): Tensor {
  let t = toOperand(op, indices);
  if (t.dtype === "bool") throw new DTypeError(`${op}: expected integer indices, got bool`);
  if (t.dtype !== "int32") t = castTo(bind("checkIndices", [t], { op, size: -1 }), "int32");
  const checked = bind("checkIndices", [t], { op, size });
  return where(less(checked, 0), add(checked, size), checked);
}

/** An int32 constant of `shape` (a size-`length` axis at `at`, 1 elsewhere) holding start, start + step, …. */
function ramp(length: number, start: number, step: number, rank: number, at: number): Tensor {
  const data = allocate("ramp", "int32", length);
  for (let j = 0; j < length; j++) data[j] = start + j * step;
  const shape = new Array<number>(rank).fill(1);
  shape[at] = length;
  return new Tensor("int32", shape, data);
}

// ── takeAlongAxis ──────────────────────────────────────────────────────────────────────────

/**
 * NumPy's take_along_axis: `out[..., j, ...] = x[..., indices[..., j, ...], ...]` along `axis`.
 * `indices` (int32, or integer values) has x's rank; on the other axes x and indices broadcast
 * against each other. Negative indices count from the end; out-of-range ones are an error.
 * Without `axis`, x is flattened and `indices` must be 1-d. The gradient scatter-adds back
 * (repeated indices accumulate).
 */
export const takeAlongAxis = checkArity("takeAlongAxis", 2, 3, (x: TensorLike, indices: TensorLike, axis?: number): Tensor => {
  let t = toOperand("takeAlongAxis", x);
  if (axis === undefined) {
    t = reshape(t, [t.size]);
    axis = 0;
  }
  const a = normalizeAxis("takeAlongAxis", axis, t.rank);
  const length = t.shape[a]!;
  const idx = axisIndices("takeAlongAxis", indices, length);
  if (idx.rank !== t.rank) {
    throw new ShapeError(`takeAlongAxis: expected indices of rank ${t.rank} (the operand's), got shape ${formatShape(idx.shape)}`);
  }
  const shape = t.shape.map((d, i) => (i === a ? idx.shape[a]! : broadcastShapes("takeAlongAxis", [d], [idx.shape[i]!])[0]!));
  const source = broadcastTo(
    t,
    shape.map((d, i) => (i === a ? length : d)),
  );
  // flat position of (…, indices[…, j, …], …) in the broadcast operand: index · stride + the other axes' offsets
  const strides = stridesOf(source.shape);
  let positions = mul(broadcastTo(idx, shape), strides[a]!);
  shape.forEach((d, i) => {
    if (i !== a && d > 1) positions = add(positions, ramp(d, 0, strides[i]!, shape.length, i));
  });
  return bind("gather", [reshape(source, [source.size]), positions], { axis: 0 });
});

// ── at ─────────────────────────────────────────────────────────────────────────────────────

/** A slice of one axis in an `at` index: Python's slice (bounds clamped, step ≠ 0; all default). */
export interface IndexSlice {
  readonly start?: number;
  readonly stop?: number;
  readonly step?: number;
}
export type IndexEntry = number | Tensor | IndexSlice;
export type Index = number | Tensor | readonly IndexEntry[];

/** The updates of `at(x, index)`: each returns a new tensor shaped like x. */
export interface IndexUpdate {
  /** x with the indexed cells replaced by v (a cell indexed twice gets the last of its updates). */
  set(v: TensorLike): Tensor;
  /** x with v added to the indexed cells (repeated cells accumulate). */
  add(v: TensorLike): Tensor;
  /** x with the indexed cells multiplied by v (repeated cells accumulate). */
  mul(v: TensorLike): Tensor;
  /** x with the indexed cells lowered to v where v is smaller. */
  min(v: TensorLike): Tensor;
  /** x with the indexed cells raised to v where v is larger. */
  max(v: TensorLike): Tensor;
}

/** Python's slice.indices: the cells of a slice of an axis of length `dim`. */
function sliceCells(entry: IndexSlice, dim: number, axis: number): { start: number; count: number; step: number } {
  const step = entry.step ?? 1;
  for (const [name, v] of Object.entries(entry)) {
    if (!["start", "stop", "step"].includes(name) || (v !== undefined && !Number.isSafeInteger(v)) || (name === "step" && v === 0)) {
      throw new ArgumentError(
        `at: expected a slice { start, stop, step } of integers (step ≠ 0) on axis ${axis}, got ${formatValue(entry)}`,
      );
    }
  }
  const clamp = (v: number | undefined, low: number, high: number, fallback: number) =>
    v === undefined ? fallback : Math.min(Math.max(v < 0 ? v + dim : v, low), high);
  if (step > 0) {
    const start = clamp(entry.start, 0, dim, 0);
    const stop = clamp(entry.stop, 0, dim, dim);
    return { start, count: Math.max(0, Math.ceil((stop - start) / step)), step };
  }
  const start = clamp(entry.start, -1, dim - 1, dim - 1);
  const stop = clamp(entry.stop, -1, dim - 1, -1);
  return { start, count: Math.max(0, Math.ceil((start - stop) / -step)), step };
}

/** One axis's contribution to the flat positions: a constant offset, a slice's ramp, or index values (advanced). */
type Part =
  | { kind: "int"; offset: number }
  | { kind: "slice"; length: number; start: number; step: number }
  | { kind: "tensor"; scaled: Tensor };

function indexParts(x: Tensor, index: Index): Part[] {
  const entries: readonly unknown[] = Array.isArray(index) ? index : [index];
  if (entries.length > x.rank) {
    throw new ArgumentError(`at: expected at most ${x.rank} index entries (one per leading axis), got ${entries.length}`);
  }
  const strides = stridesOf(x.shape);
  return x.shape.map((dim, axis): Part => {
    const entry = axis < entries.length ? entries[axis] : {};
    if (typeof entry === "number") {
      const error = indexCheckError("at", dim, entry);
      if (error !== undefined) throw error;
      return { kind: "int", offset: (entry < 0 ? entry + dim : entry) * strides[axis]! };
    }
    if (entry instanceof Tensor) {
      if (entry.dtype !== "int32") throw new DTypeError(`at: expected int32 index tensors, got ${entry.dtype} on axis ${axis}`);
      return { kind: "tensor", scaled: mul(axisIndices("at", entry, dim), strides[axis]!) };
    }
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      throw new ArgumentError(
        `at: expected an integer, an int32 tensor or a slice { start, stop, step } on axis ${axis}, got ${describeValue(entry)}`,
      );
    }
    const { start, count, step } = sliceCells(entry as IndexSlice, dim, axis);
    return { kind: "slice", length: count, start: start * strides[axis]!, step: step * strides[axis]! };
  });
}

/**
 * The flat positions (int32) of the indexed cells, shaped like the indexed value — NumPy's rule:
 * integers drop their axis, slices keep theirs; with any index tensor the tensors and integers are
 * advanced indices, broadcast together, their shape in place when they are adjacent, else first.
 */
function indexPositions(x: Tensor, index: Index): Tensor {
  const parts = indexParts(x, index);
  const hasTensor = parts.some((p) => p.kind === "tensor");
  const advancedAxes = hasTensor ? parts.flatMap((p, i) => (p.kind === "slice" ? [] : [i])) : [];
  const adjacent = advancedAxes.every((a, j) => j === 0 || a === advancedAxes[j - 1]! + 1);
  let advancedShape: Shape = [];
  for (const p of parts) if (p.kind === "tensor") advancedShape = broadcastShapes("at", advancedShape, p.scaled.shape);
  // the order of the indexed value's axes: slice axes (by number) and the advanced block
  const layout: (number | "advanced")[] = [];
  parts.forEach((p, i) => {
    if (adjacent && i === advancedAxes[0]) layout.push("advanced");
    if (p.kind === "slice") layout.push(i);
  });
  if (hasTensor && !adjacent) layout.unshift("advanced");
  const shape: number[] = [];
  const sliceAt: number[] = [];
  let advancedStart = 0;
  for (const item of layout) {
    if (item === "advanced") advancedStart = shape.length;
    else sliceAt[item] = shape.length;
    shape.push(...(item === "advanced" ? advancedShape : [(parts[item] as { length: number }).length]));
  }
  let offset = 0;
  let positions = new Tensor("int32", [], Int32Array.of(0));
  parts.forEach((p, i) => {
    if (p.kind === "int") offset += p.offset;
    else if (p.kind === "slice") positions = add(positions, ramp(p.length, p.start, p.step, shape.length, sliceAt[i]!));
    else {
      const before = advancedStart + advancedShape.length - p.scaled.rank;
      const after = shape.length - before - p.scaled.rank;
      positions = add(
        positions,
        reshape(p.scaled, [...new Array<number>(before).fill(1), ...p.scaled.shape, ...new Array<number>(after).fill(1)]),
      );
    }
  });
  return broadcastTo(add(positions, offset), shape);
}

/** v as updates of the indexed cells: x's dtype, broadcast to the indexed shape. */
function updatesFor(x: Tensor, v: TensorLike, shape: Shape): Tensor {
  let u = toOperand("at", v);
  if (!(v instanceof Tensor) && x.dtype === "int32") {
    // JS numbers take x's dtype (weak typing), when they are integers
    const bad = Array.from(u.data as ArrayLike<number>).find((n) => !Number.isInteger(n));
    if (bad !== undefined) throw new DTypeError(`at: expected integer updates for an int32 tensor, got ${bad}`);
    u = castTo(u, "int32");
  }
  if (u.dtype !== x.dtype) {
    if (isFloat(u.dtype) && !isFloat(x.dtype)) throw new DTypeError(`at: expected updates of dtype ${x.dtype}, got ${u.dtype}`);
    u = castTo(u, x.dtype);
  }
  try {
    broadcastShapes("at", u.shape, shape);
  } catch {
    throw new ShapeError(
      `at: expected updates that broadcast to the indexed shape ${formatShape(shape)}, got shape ${formatShape(u.shape)}`,
    );
  }
  return broadcastTo(u, shape.slice());
}

function scatterAt(x: Tensor, positions: Tensor, v: TensorLike, how: "add" | "mul" | "min" | "max"): Tensor {
  const flat = reshape(x, [x.size]);
  const u = updatesFor(x, v, positions.shape);
  const y =
    how === "add"
      ? add(flat, bind("scatterAdd", [u, positions], { axis: 0, size: x.size }))
      : bind(how === "mul" ? "scatterMul" : how === "min" ? "scatterMin" : "scatterMax", [flat, u, positions], { axis: 0 });
  return reshape(y, x.shape.slice());
}

/**
 * set: the last update of each cell wins. Which one that is comes from a scatterMax of the
 * updates' order numbers; the winners are scatter-added into the written cells and x kept elsewhere.
 */
function setAt(x: Tensor, positions: Tensor, v: TensorLike): Tensor {
  const flat = reshape(x, [x.size]);
  const u = updatesFor(x, v, positions.shape);
  const order = reshape(ramp(positions.size, 0, 1, 1, 0), positions.shape.slice());
  const noWrite = new Tensor("int32", [x.size], allocate("at", "int32", x.size).fill(-1));
  const lastWrite = bind("scatterMax", [noWrite, order, positions], { axis: 0 });
  const wins = equal(bind("gather", [lastWrite, positions], { axis: 0 }), order);
  const written = bind("scatterAdd", [where(wins, u, 0), positions], { axis: 0, size: x.size });
  return reshape(where(greaterEqual(lastWrite, 0), written, flat), x.shape.slice());
}

/**
 * JAX's functional index updates `x.at[index].set(v)` and friends: `at(x, index).set(v)`,
 * `.add(v)`, `.mul(v)`, `.min(v)`, `.max(v)` return a new tensor. `index` is an integer or an int32
 * tensor indexing axis 0, or an array with one entry per leading axis: integers, int32 tensors or
 * slices `{ start, stop, step }` (NumPy's advanced-indexing rules). Negative indices count from
 * the end; an out-of-range integer or tensor index is an error (slices clamp, as in Python). `v`
 * broadcasts to the indexed shape. Gradients flow to x and v: see docs/ops.md.
 */
export const at = checkArity("at", 2, 2, (x: TensorLike, index: Index): IndexUpdate => {
  const t = toOperand("at", x);
  if (t.dtype === "bool") throw new DTypeError("at: expected a numeric tensor, got bool");
  const positions = indexPositions(t, index);
  const update = (name: keyof IndexUpdate, run: (v: TensorLike) => Tensor) => checkArity(`at(…).${name}`, 1, 1, run);
  return Object.freeze({
    set: update("set", (v) => setAt(t, positions, v)),
    add: update("add", (v) => scatterAt(t, positions, v, "add")),
    mul: update("mul", (v) => scatterAt(t, positions, v, "mul")),
    min: update("min", (v) => scatterAt(t, positions, v, "min")),
    max: update("max", (v) => scatterAt(t, positions, v, "max")),
  });
});
