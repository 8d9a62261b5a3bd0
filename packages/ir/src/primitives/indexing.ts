/** Indexing by int32 tensors along an axis: gather and its transpose scatterAdd (linear in the values, not in the indices). */
import { DTypeError, ShapeError } from "../errors.js";
import { gatherKernel, scatterAddKernel } from "../kernels.js";
import { formatShape, shapesEqual } from "../shape.js";
import { checkAxisParam, linearJvp, shiftedBatch, type Definitions } from "./define.js";

export interface IndexingParams {
  /** gather(x, indices: int32) along `axis`: out.shape = x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:]. */
  gather: { axis: number };
  /** scatterAdd(updates, indices: int32) — the transpose of gather into an axis of length `size`. */
  scatterAdd: { axis: number; size: number };
}

export const INDEXING: Definitions<keyof IndexingParams> = {
  gather: {
    name: "gather",
    arity: 2,
    params: { axis: "int" },
    shape: ([x, indices], { axis }) => {
      if (indices!.dtype !== "int32") throw new DTypeError(`gather: expected int32 indices, got ${indices!.dtype}`);
      checkAxisParam("gather", axis, x!.shape.length);
      return { shape: [...x!.shape.slice(0, axis), ...indices!.shape, ...x!.shape.slice(axis + 1)], dtype: x!.dtype };
    },
    kernel: gatherKernel,
    // d gather(x, i) = gather(dx, i)
    jvp: linearJvp("gather", [0]),
    // x̄ = scatterAdd(ȳ, i): each picked entry sends its cotangent back (repeats add up)
    vjp: {
      saves: "inputs",
      vjp: (ct, { x, params }, _needs, m) => [
        m.bind("scatterAdd", [ct, x[1]!], { axis: params.axis, size: x[0]!.shape[params.axis]! }),
        null,
      ],
    },
    batch: shiftedBatch("gather", ({ axis }) => ({ axis: axis + 1 })),
  },
  scatterAdd: {
    name: "scatterAdd",
    arity: 2,
    params: { axis: "int", size: "int" },
    shape: ([updates, indices], { axis, size }) => {
      if (indices!.dtype !== "int32") throw new DTypeError(`scatterAdd: expected int32 indices, got ${indices!.dtype}`);
      const k = indices!.shape.length;
      const u = updates!.shape;
      if (!Number.isInteger(axis) || axis < 0 || axis + k > u.length || !Number.isInteger(size) || size < 0) {
        throw new ShapeError(`scatterAdd: expected axis and size fitting updates ${formatShape(u)}, got axis ${axis}, size ${size}`);
      }
      if (!shapesEqual(u.slice(axis, axis + k), indices!.shape)) {
        throw new ShapeError(
          `scatterAdd: expected updates ${formatShape(u)} to hold indices ${formatShape(indices!.shape)} at axis ${axis}`,
        );
      }
      return { shape: [...u.slice(0, axis), size, ...u.slice(axis + k)], dtype: updates!.dtype };
    },
    kernel: scatterAddKernel,
    // d scatterAdd(u, i) = scatterAdd(du, i)
    jvp: linearJvp("scatterAdd", [0]),
    // ū = gather(ȳ, i)
    vjp: { saves: "inputs", vjp: (ct, { x, params }, _needs, m) => [m.bind("gather", [ct, x[1]!], { axis: params.axis }), null] },
    batch: shiftedBatch("scatterAdd", ({ axis, size }) => ({ axis: axis + 1, size })),
  },
};
