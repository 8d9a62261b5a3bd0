/**
 * Scatters that combine: scatterMul, scatterMin and scatterMax write `updates` into a copy of the
 * operand at int32 `indices` along `axis`, combining with what is there (repeated indices
 * accumulate: every update of a cell takes part). They carry the functional index updates
 * `at(x, i).mul/min/max`; `at(x, i).add` is scatterAdd (indexing.ts) and `.set` a composite.
 *
 * Layout, as gather's output and scatterAdd's input: x [...pre, N, ...post], indices S (int32, in
 * [−N, N), negative counting from the end), updates [...pre, ...S, ...post].
 */
import { DTypeError, ShapeError } from "../errors.js";
import { allocate } from "../dtype.js";
import { around, checkIndex, type Kernel } from "../kernels.js";
import { formatShape, shapesEqual } from "../shape.js";
import { Tensor } from "../tensor.js";
import { bind } from "../trace.js";
import { checkAxisParam, expandBatched, moveAxis, type Definitions, type PrimitiveDef, type ShapeRule } from "./define.js";
import { foldBatchInto, offsetIndices, unfoldBatch } from "./indexing.js";
import type { TensorMath } from "./math.js";

export interface ScatterParams {
  /** x with x[…, indices[s], …] multiplied by updates[…, s, …] (every update of a cell). */
  scatterMul: { axis: number };
  /** x with x[…, indices[s], …] lowered to updates[…, s, …] where smaller (NaN propagates). */
  scatterMin: { axis: number };
  /** x with x[…, indices[s], …] raised to updates[…, s, …] where larger (NaN propagates). */
  scatterMax: { axis: number };
}

type ScatterPrimitive = keyof ScatterParams;

function scatterShape(op: ScatterPrimitive): ShapeRule<ScatterPrimitive> {
  return ([x, updates, indices], { axis }) => {
    if (indices!.dtype !== "int32") throw new DTypeError(`${op}: expected int32 indices, got ${indices!.dtype}`);
    if (x!.dtype === "bool" || updates!.dtype !== x!.dtype) {
      throw new DTypeError(`${op}: expected a numeric operand and updates of its dtype, got ${x!.dtype} and ${updates!.dtype}`);
    }
    checkAxisParam(op, axis, x!.shape.length);
    const expected = [...x!.shape.slice(0, axis), ...indices!.shape, ...x!.shape.slice(axis + 1)];
    if (!shapesEqual(updates!.shape, expected)) {
      throw new ShapeError(
        `${op}: expected updates of shape ${formatShape(expected)} (operand ${formatShape(x!.shape)}, indices ` +
          `${formatShape(indices!.shape)}, axis ${axis}), got ${formatShape(updates!.shape)}`,
      );
    }
    return x!;
  };
}

type Combine = (old: number, update: number) => number;

function scatterKernel(op: ScatterPrimitive, combine: Combine): Kernel<ScatterPrimitive> {
  return ([x, updates, indices], { axis }, out) => {
    const [outer, size, inner] = around(x!.shape, axis);
    const idx = indices!.data;
    const m = idx.length;
    const u = updates!.data;
    const data = allocate(op, out.dtype, x!.size);
    data.set(x!.data);
    for (let j = 0; j < m; j++) {
      const target = checkIndex(op, idx[j]!, size);
      for (let o = 0; o < outer; o++) {
        const from = (o * m + j) * inner;
        const to = (o * size + target) * inner;
        for (let k = 0; k < inner; k++) data[to + k] = combine(data[to + k]!, u[from + k]!);
      }
    }
    return new Tensor(out.dtype, out.shape, data);
  };
}

/** Batches x and updates (an unbatched one is broadcast); batched indices fold the batch into the scattered axis. */
function scatterBatch<P extends ScatterPrimitive>(name: P): PrimitiveDef<P>["batch"] {
  return ([x, updates, indices], batched, { axis }, k) => {
    const lift = (t: Tensor, i: number) => (batched[i] ? t : expandBatched(t, k, t.shape));
    if (!batched[2]) return bind(name, [lift(x!, 0), lift(updates!, 1), indices!], { axis: axis + 1 });
    // x [...pre, k·N, ...post], updates [...pre, k, ...S, ...post], indices offset by b·N
    const n = x!.shape[batched[0] ? axis + 1 : axis]!;
    const folded = foldBatchInto(lift(x!, 0), axis);
    const y = bind(name, [folded, moveAxis(lift(updates!, 1), 0, axis), offsetIndices(indices!, n, k, "at")], { axis });
    return unfoldBatch(y, axis, k);
  };
}

/** The scatterAdd of `t` (laid out like the updates) into an axis of length `size`. */
function scatterAddInto(m: TensorMath, t: Tensor, indices: Tensor, axis: number, size: number): Tensor {
  return m.bind("scatterAdd", [t, indices], { axis, size });
}

/**
 * Who wins a scatterMin/Max: each of the k values equal to the result of its cell (the operand's
 * and the updates') gets weight 1/k, the others 0 (the tie convention of reduceMax).
 */
function extremumWeights(m: TensorMath, x: Tensor, updates: Tensor, indices: Tensor, y: Tensor, axis: number): [Tensor, Tensor] {
  const size = x.shape[axis]!;
  const wonX = m.indicator(m.eq(x, y), x);
  const wonU = m.indicator(m.eq(updates, m.bind("gather", [y, indices], { axis })), updates);
  const winners = m.add(wonX, scatterAddInto(m, wonU, indices, axis, size));
  return [m.div(wonX, winners), m.div(wonU, m.bind("gather", [winners, indices], { axis }))];
}

function extremum<P extends "scatterMin" | "scatterMax">(name: P, combine: Combine): PrimitiveDef<P> {
  return {
    name,
    arity: 3,
    params: { axis: "int" } as PrimitiveDef<P>["params"],
    shape: scatterShape(name),
    kernel: scatterKernel(name, combine),
    // dy = dx·wx + scatterAdd(du·wu), the weights wx, wu sharing 1 among each cell's winners
    jvp: (dx, { x, y, params }, ops) => {
      const { axis } = params;
      const [wx, wu] = extremumWeights(ops.math, x[0]!, x[1]!, x[2]!, y, axis);
      const tx = dx[0] == null ? null : ops.scale(dx[0], wx);
      const tu = dx[1] == null ? null : ops.apply("scatterAdd", [ops.scale(dx[1], wu), x[2]!], { axis, size: y.shape[axis]! });
      return tx !== null && tu !== null ? ops.add(tx, tu) : (tx ?? tu);
    },
    // x̄ = ȳ·wx, ū = gather(ȳ)·wu
    vjp: {
      saves: "inputs and output",
      vjp: (ct, { x, y, params }, needs, m) => {
        const [wx, wu] = extremumWeights(m, x[0]!, x[1]!, x[2]!, y!, params.axis);
        return [needs & 1 ? m.scale(ct, wx) : null, needs & 2 ? m.scale(m.bind("gather", [ct, x[2]!], params), wu) : null, null];
      },
    },
    batch: scatterBatch(name),
  };
}

/** The product of each cell's updates, z = scatterMul(1, u): ∂(x·z)/∂x. */
function updateProducts(m: TensorMath, x: Tensor, updates: Tensor, indices: Tensor, axis: number): Tensor {
  return m.bind("scatterMul", [m.add(m.zeros(x.shape, x.dtype), 1), updates, indices], { axis });
}

/**
 * For each update, the product of the other updates of its cell, without dividing by zero: with
 * no zero in the cell it is z / u; with one zero, z' (the product of the non-zeros) for the zero
 * and 0 for the others; with more, 0.
 */
function otherUpdates(m: TensorMath, x: Tensor, updates: Tensor, indices: Tensor, axis: number): Tensor {
  const isZero = m.eq(updates, 0);
  const zeros = scatterAddInto(m, m.indicator(isZero, updates), indices, axis, x.shape[axis]!);
  const zerosHere = m.bind("gather", [zeros, indices], { axis });
  const safe = m.where(isZero, 1, updates);
  const nonZeroProduct = m.bind("gather", [updateProducts(m, x, safe, indices, axis), indices], { axis });
  return m.where(isZero, m.where(m.eq(zerosHere, 1), nonZeroProduct, 0), m.where(m.eq(zerosHere, 0), m.div(nonZeroProduct, safe), 0));
}

const scatterMul: PrimitiveDef<"scatterMul"> = {
  name: "scatterMul",
  arity: 3,
  params: { axis: "int" },
  shape: scatterShape("scatterMul"),
  kernel: scatterKernel("scatterMul", (a, b) => a * b),
  // y = x·z with z the product of each cell's updates: dy = dx·z + scatterAdd(du · x · Π other updates)
  jvp: (dx, { x, params }, ops) => {
    const { axis } = params;
    const [operand, updates, indices] = x as [Tensor, Tensor, Tensor];
    const m = ops.math;
    const tx = dx[0] == null ? null : ops.scale(dx[0], updateProducts(m, operand, updates, indices, axis));
    if (dx[1] == null) return tx;
    const factor = m.mul(m.bind("gather", [operand, indices], { axis }), otherUpdates(m, operand, updates, indices, axis));
    const tu = ops.apply("scatterAdd", [ops.scale(dx[1], factor), indices], { axis, size: operand.shape[axis]! });
    return tx === null ? tu : ops.add(tx, tu);
  },
  // x̄ = ȳ·z, ū = gather(ȳ·x) · Π other updates
  vjp: {
    saves: "inputs",
    vjp: (ct, { x, params }, needs, m) => {
      const { axis } = params;
      const [operand, updates, indices] = x as [Tensor, Tensor, Tensor];
      const gx = needs & 1 ? m.scale(ct, updateProducts(m, operand, updates, indices, axis)) : null;
      const gu =
        needs & 2
          ? m.scale(m.bind("gather", [m.scale(ct, operand), indices], { axis }), otherUpdates(m, operand, updates, indices, axis))
          : null;
      return [gx, gu, null];
    },
  },
  batch: scatterBatch("scatterMul"),
};

export const SCATTER: Definitions<ScatterPrimitive> = {
  scatterMul,
  scatterMin: extremum("scatterMin", (a, b) => (b < a || b !== b ? b : a)),
  scatterMax: extremum("scatterMax", (a, b) => (b > a || b !== b ? b : a)),
};
