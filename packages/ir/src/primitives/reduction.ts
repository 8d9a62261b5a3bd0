/** Reductions over axes: sum (linear), max (ties share the derivative), argmax (an int32 index, derivative 0). */
import { DTypeError, ShapeError } from "../errors.js";
import { argmaxKernel, reduceKernel } from "../kernels.js";
import { formatShape, keepDims } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { checkAxesParam, checkAxisParam, linearJvp, shiftedBatch, ZERO_DERIVATIVE, type Definitions, type ShapeRule } from "./define.js";
import type { TensorMath } from "./math.js";

export interface ReductionParams {
  /** Sum over `axes` (sorted, unique), which are removed from the shape. */
  reduceSum: { axes: number[] };
  /** Max over `axes`; the derivative is shared evenly by tied maxima. */
  reduceMax: { axes: number[] };
  /** Index of the first maximum along `axis` (removed), as int32. */
  argmax: { axis: number };
}

function reduceShape(op: "reduceSum" | "reduceMax"): ShapeRule<"reduceSum" | "reduceMax"> {
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

/** The reduced axes moved past a leading batch axis. */
const shiftAxes = ({ axes }: { axes: number[] }) => ({ axes: axes.map((a) => a + 1) });

/**
 * The derivative of a reduction to the max: on each reduced slice, 1/k on each of its k tied
 * maxima and 0 elsewhere (the tie convention).
 */
export function maxWeights(m: TensorMath, x: Tensor, y: Tensor, axes: readonly number[]): Tensor {
  const keep = keepDims(x.shape, axes);
  const mask = m.indicator(m.eq(x, m.bind("reshape", [y], { shape: keep })), x);
  const count = m.bind("reshape", [m.bind("reduceSum", [mask], { axes: axes.slice() })], { shape: keep });
  return m.div(mask, count);
}

export const REDUCTION: Definitions<keyof ReductionParams> = {
  reduceSum: {
    name: "reduceSum",
    arity: 1,
    params: { axes: "ints" },
    shape: reduceShape("reduceSum"),
    kernel: reduceKernel("sum"),
    // d Σx = Σ dx
    jvp: linearJvp("reduceSum", [0]),
    // x̄ = ȳ broadcast back over the summed axes
    vjp: {
      saves: "nothing",
      vjp: (ct, node, _needs, m) => {
        const shape = node.shape(0).slice();
        return [m.bind("broadcastTo", [m.bind("reshape", [ct], { shape: keepDims(shape, node.params.axes) })], { shape })];
      },
    },
    batch: shiftedBatch("reduceSum", shiftAxes),
  },
  reduceMax: {
    name: "reduceMax",
    arity: 1,
    params: { axes: "ints" },
    shape: reduceShape("reduceMax"),
    kernel: reduceKernel("max"),
    // d max x = Σ dx · w, w = maxWeights (1/k on each of k tied maxima)
    jvp: (dx, { x, y, params }, ops) =>
      dx[0] == null ? null : ops.apply("reduceSum", [ops.scale(dx[0], maxWeights(ops.math, x[0]!, y, params.axes))], params),
    // x̄ = ȳ · w, ȳ broadcast back over the reduced axes
    vjp: {
      saves: "inputs and output",
      vjp: (ct, { x, y, params }, _needs, m) => {
        const spread = m.bind("reshape", [ct], { shape: keepDims(x[0]!.shape, params.axes) });
        return [m.scale(spread, maxWeights(m, x[0]!, y!, params.axes))];
      },
    },
    batch: shiftedBatch("reduceMax", shiftAxes),
  },
  argmax: {
    name: "argmax",
    arity: 1,
    params: { axis: "int" },
    shape: ([x], { axis }) => {
      checkAxisParam("argmax", axis, x!.shape.length);
      if (x!.shape[axis] === 0) throw new ShapeError(`argmax: expected a non-empty axis ${axis}, got shape ${formatShape(x!.shape)}`);
      return { shape: x!.shape.filter((_, i) => i !== axis), dtype: "int32" };
    },
    kernel: argmaxKernel,
    // an integer output: derivative 0
    ...ZERO_DERIVATIVE,
    batch: shiftedBatch("argmax", ({ axis }) => ({ axis: axis + 1 })),
  },
};
