/** Indexing by int32 tensors along an axis: gather and its transpose scatterAdd (linear in the values, not in the indices). */
import { INT32_MAX, INT32_MIN } from "../dtype.js";
import { ArgumentError, type ChainruleError, DTypeError, ShapeError } from "../errors.js";
import { gatherKernel, scatterAddKernel, type Kernel } from "../kernels.js";
import { formatShape, shapesEqual } from "../shape.js";
import { Tensor } from "../tensor.js";
import { bind } from "../trace.js";
import { checkAxisParam, elementwiseBatch, expandBatched, linearJvp, moveAxis, ZERO_DERIVATIVE, type Definitions } from "./define.js";

export interface IndexingParams {
  /** gather(x, indices: int32) along `axis`: out.shape = x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:]. */
  gather: { axis: number };
  /** scatterAdd(updates, indices: int32) — the transpose of gather into an axis of length `size`. */
  scatterAdd: { axis: number; size: number };
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
  // family: indexing (issue 17, ops-index)
  takeAlongAxis: Object.freeze({ what: "indices", negative: true }),
  at: Object.freeze({ what: "indices", negative: true }),
  // family: normalization (issue 18, nn)
  embedding: Object.freeze({ what: "indices", negative: false }),
} as const);
export type IndexCheck = keyof typeof INDEX_CHECKS;

export function isIndexCheck(name: unknown): name is IndexCheck {
  return typeof name === "string" && Object.hasOwn(INDEX_CHECKS, name);
}

const checkIndicesKernel: Kernel<"checkIndices"> = ([x], { op, size }) => {
  const data = x!.data;
  for (let i = 0; i < data.length; i++) {
    const error = indexCheckError(op, size, data[i]!);
    if (error !== undefined) throw error;
  }
  return x!;
};

/**
 * The error of `op`'s data check on one value (undefined when it passes): an integer, and in the
 * op's range when size ≥ 0. Compiled code makes the same messages (jit's runtime helpers).
 */
export function indexCheckError(op: IndexCheck, size: number, value: number): ChainruleError | undefined {
  const { what, negative } = INDEX_CHECKS[op];
  if (!Number.isInteger(value)) return new DTypeError(`${op}: expected integer ${what}, got ${value}`);
  if (value < INT32_MIN || value > INT32_MAX) return new DTypeError(`${op}: expected ${what} in the int32 range, got ${value}`);
  const low = negative ? -size : 0;
  if (size >= 0 && !(value >= low && value < size))
    return new ArgumentError(`${op}: expected ${what} in [${low}, ${size - 1}], got ${value}`);
  return undefined;
}

// ── batching with batched indices (vmap) ───────────────────────────────────────────────────

/** [k, ...pre, N, ...post] → [...pre, k·N, ...post]: the batch folded into axis `axis` of one element. */
export function foldBatchInto(x: Tensor, axis: number): Tensor {
  const moved = moveAxis(x, 0, axis);
  const shape = moved.shape.slice();
  shape.splice(axis, 2, shape[axis]! * shape[axis + 1]!);
  return bind("reshape", [moved], { shape });
}

/** [...pre, k·N, ...post] → [k, ...pre, N, ...post]: foldBatchInto undone. */
export function unfoldBatch(y: Tensor, axis: number, k: number): Tensor {
  const shape = y.shape.slice();
  shape.splice(axis, 1, k, k === 0 ? 0 : y.shape[axis]! / k);
  return moveAxis(bind("reshape", [y], { shape }), axis, 0);
}

const int32 = (value: number) => new Tensor("int32", [], Int32Array.of(value));

/**
 * Batched indices [k, ...S] into an axis of length n, as indices into the folded axis of length
 * k·n: checked (in [−n, n), with `check`'s message), negative ones counted from the end, and those
 * of batch element b offset by b·n.
 */
export function offsetIndices(indices: Tensor, n: number, k: number, check: IndexCheck): Tensor {
  const checked = bind("checkIndices", [indices], { op: check, size: n });
  const positive = bind("where", [bind("less", [checked, int32(0)], {}), bind("add", [checked, int32(n)], {}), checked], {});
  const offsets = new Int32Array(k);
  for (let b = 0; b < k; b++) offsets[b] = b * n;
  const shape = [k, ...new Array<number>(indices.rank - 1).fill(1)];
  return bind("add", [positive, new Tensor("int32", shape, offsets)], {});
}

function gatherShared([x, indices]: readonly Tensor[], _batched: readonly boolean[], { axis }: { axis: number }, _k: number): Tensor {
  return bind("gather", [x!, indices!], { axis: axis + 1 });
}

function gatherBatchedIndices([x, indices]: readonly Tensor[], batched: readonly boolean[], { axis }: { axis: number }, k: number): Tensor {
  const full = batched[0] ? x! : expandBatched(x!, k, x!.shape);
  const n = full.shape[axis + 1]!;
  const y = bind("gather", [foldBatchInto(full, axis), offsetIndices(indices!, n, k, "take")], { axis });
  // [...pre, k, ...S, ...post]: the batch axis to the front
  return moveAxis(y, axis, 0);
}

type ScatterAddParams = IndexingParams["scatterAdd"];

function scatterAddShared([u, indices]: readonly Tensor[], _batched: readonly boolean[], { axis, size }: ScatterAddParams): Tensor {
  return bind("scatterAdd", [u!, indices!], { axis: axis + 1, size });
}

function scatterAddBatchedIndices(
  [u, indices]: readonly Tensor[],
  batched: readonly boolean[],
  { axis, size }: ScatterAddParams,
  k: number,
) {
  const full = batched[0] ? u! : expandBatched(u!, k, u!.shape);
  // [...pre, k, ...S, ...post], scattered into [...pre, k·size, ...post]
  const y = bind("scatterAdd", [moveAxis(full, 0, axis), offsetIndices(indices!, size, k, "at")], { axis, size: k * size });
  return unfoldBatch(y, axis, k);
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
    // batched indices: the batch folds into the gathered axis, each element's indices offset into its block
    batch: (args, batched, params, k) =>
      batched[1] ? gatherBatchedIndices(args, batched, params, k) : gatherShared(args, batched, params, k),
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
    batch: (args, batched, params, k) =>
      batched[1] ? scatterAddBatchedIndices(args, batched, params, k) : scatterAddShared(args, batched, params),
  },
  // checkIndices passes indices through (piecewise constant): derivative 0
  checkIndices: {
    name: "checkIndices",
    arity: 1,
    params: { op: "indexCheck", size: "int" },
    shape: ([x], { op, size }) => {
      if (!isIndexCheck(op)) {
        throw new ShapeError(`checkIndices: expected op among ${Object.keys(INDEX_CHECKS).join(", ")}, got ${JSON.stringify(op)}`);
      }
      if (!Number.isSafeInteger(size) || size < -1) throw new ShapeError(`checkIndices: expected size ≥ −1, got ${size}`);
      if (x!.dtype === "bool") throw new DTypeError(`${op}: expected integer ${INDEX_CHECKS[op].what}, got bool`);
      return x!;
    },
    kernel: checkIndicesKernel,
    ...ZERO_DERIVATIVE,
    batch: elementwiseBatch("checkIndices"),
  },
};
