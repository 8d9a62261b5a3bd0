/** `TENSOR_MATH`: the rules' arithmetic as ir ops (differentiable, traceable), and `tensorTangents`, tangents as plain tensors. */
import { castTo } from "../coerce.js";
import * as ops from "../ops.js";
import * as mathOps from "../math-ops.js";
import { broadcastedAxes, shapesEqual, type Shape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { zeros } from "../tensor.js";
import { bind } from "../trace.js";
import { plainFactor, type TangentOps, type TensorMath } from "./math.js";

/**
 * Undoes broadcasting: sums `t` over the axes along which a value of `shape` was broadcast, so
 * the result has `shape` again (the transpose of `broadcastTo`).
 */
export function unbroadcast(t: Tensor, shape: Shape): Tensor {
  if (shapesEqual(t.shape, shape)) return t;
  const { axes } = broadcastedAxes(shape, t.shape);
  const summed = axes.length === 0 ? t : bind("reduceSum", [t], { axes });
  return shapesEqual(summed.shape, shape) ? summed : bind("reshape", [summed], { shape: shape.slice() });
}

/** Swaps the last two axes (a batch of matrices transposed). */
export function swapLast(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return bind("transpose", [x], { perm });
}

export const TENSOR_MATH: TensorMath = {
  add: (a, b) => ops.add(a, b),
  sub: (a, b) => ops.sub(a, b),
  mul: (a, b) => ops.mul(a, b),
  div: (a, b) => ops.div(a, b),
  neg: (a) => ops.neg(a),
  pow: (a, b) => ops.pow(a, b),
  exp: (a) => ops.exp(a),
  log: (a) => ops.log(a),
  sin: (a) => ops.sin(a),
  cos: (a) => ops.cos(a),
  sign: (a) => ops.sign(a),
  stopGradient: (a) => ops.stopGradient(a),
  // the math family
  sqrt: (a) => ops.sqrt(a),
  sinh: (a) => mathOps.sinh(a),
  cosh: (a) => mathOps.cosh(a),
  round: (a) => mathOps.round(a),
  polygamma: (n, a) => mathOps.polygamma(n, a),
  eq: (a, b) => ops.equal(a, b),
  gt: (a, b) => ops.greater(a, b),
  lt: (a, b) => ops.less(a, b),
  where: (c, a, b) => ops.where(c, a, b),
  indicator: (c, like) => castTo(c, like.dtype),
  scale: (t, f) => (plainFactor(f) ? ops.mul(t, f) : ops.mulNoNan(t, f)),
  unbroadcast,
  bind: (prim, args, params) => bind(prim, args, params),
  matmulNT: (a, b) => bind("matmul", [a, swapLast(b)], {}),
  matmulTN: (a, b) => bind("matmul", [swapLast(a), b], {}),
  zeros: (shape, dtype) => zeros(shape, dtype),
};

/** Tangents as tensors shaped like their primals (one direction): the JIT's forward mode. */
export function tensorTangents(m: TensorMath): TangentOps<Tensor> {
  return {
    math: m,
    scale: (t, f) => m.scale(t, f),
    add: (a, b) => m.add(a, b),
    neg: (t) => m.neg(t),
    apply: (prim, args, params) => m.bind(prim, args, params),
    broadcast: (t, shape) => (shapesEqual(t.shape, shape) ? t : m.bind("broadcastTo", [t], { shape: shape.slice() })),
    zeros: (like) => m.zeros(like.shape, like.dtype),
  };
}
