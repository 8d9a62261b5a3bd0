/**
 * Forward-mode rules: for each primitive, the tangent of its output given the primals `x`, the
 * input tangents `dx` (null = zero), the params and the primal output `y`. Written with ir ops,
 * so an enclosing transformation differentiates them again (higher orders).
 * The interpreter calls a rule only when some input tangent is non-zero and the output is float.
 */
import {
  add,
  bind,
  div,
  equal,
  greater,
  less,
  mul,
  neg,
  sign,
  sub,
  sum,
  where,
  cos,
  sin,
  reshape,
  type Params,
  type Primitive,
  type Tensor,
} from "@chainrule/ir";
import { expand, instantiate, keepShape, lit, powBaseFactor, powExponentFactor, type Zeroable } from "./rule-helpers.js";

export type JvpRule<P extends Primitive> = (x: Tensor[], dx: Zeroable[], params: Params<P>, y: Tensor) => Zeroable;

/** A rule for a unary op whose tangent is `dx · f'(x)`. */
const unary =
  (rule: (x: Tensor, dx: Tensor, y: Tensor) => Tensor): JvpRule<Primitive> =>
  (x, dx, _p, y) =>
    rule(x[0]!, dx[0]!, y);

const zero: JvpRule<Primitive> = () => null;

/** Sum of possibly-zero terms, broadcast to `y`'s shape. */
function total(y: Tensor, ...terms: (Zeroable | undefined)[]): Zeroable {
  let out: Tensor | null = null;
  for (const t of terms) if (t != null) out = out === null ? t : add(out, t);
  return out === null ? null : expand(out, y.shape);
}

/** Tangent weights of a maximum/minimum: 1 to the winner, ½ each at a tie. */
function tieWeight(a: Tensor, b: Tensor, wins: Tensor): Tensor {
  return where(wins, lit(1, a), where(equal(a, b), lit(0.5, a), lit(0, a)));
}

/** The mask of maxima divided by their count (k ties share g/k). */
export function maxWeights(x: Tensor, y: Tensor, axes: readonly number[]): Tensor {
  const mask = cast(equal(x, reshape(y, keepShape(x.shape, axes))), x.dtype);
  return div(mask, sum(mask, axes, true));
}

export function cast(x: Tensor, dtype: Tensor["dtype"]): Tensor {
  return bind("cast", [x], { dtype });
}

export const JVP_RULES: { [P in Primitive]: JvpRule<P> } = {
  // d(−x) = −dx
  neg: unary((_x, dx) => neg(dx)),
  // d(eˣ) = eˣ dx
  exp: unary((_x, dx, y) => mul(dx, y)),
  // d(log x) = dx / x
  log: unary((x, dx) => div(dx, x)),
  // d(log(1 + x)) = dx / (1 + x)
  log1p: unary((x, dx) => div(dx, add(x, lit(1, x)))),
  // d(eˣ − 1) = eˣ dx = (y + 1) dx
  expm1: unary((_x, dx, y) => mul(dx, add(y, lit(1, y)))),
  // d(sin x) = cos x dx
  sin: unary((x, dx) => mul(dx, cos(x))),
  // d(cos x) = −sin x dx
  cos: unary((x, dx) => neg(mul(dx, sin(x)))),
  // d(tanh x) = (1 − tanh² x) dx
  tanh: unary((_x, dx, y) => mul(dx, sub(lit(1, y), mul(y, y)))),
  // d(√x) = dx / (2√x)   (+∞ at 0)
  sqrt: unary((_x, dx, y) => div(dx, mul(y, lit(2, y)))),
  // d|x| = sign(x) dx   (0 at 0)
  abs: unary((x, dx) => mul(dx, sign(x))),
  // d sign(x) = 0
  sign: zero,
  // d(a + b) = da + db
  add: (_x, [da, db], _p, y) => total(y, da!, db!),
  // d(a − b) = da − db
  sub: (_x, [da, db], _p, y) => total(y, da!, db === null ? null : neg(db!)),
  // d(a·b) = da·b + a·db
  mul: ([a, b], [da, db], _p, y) => total(y, da && mul(da, b!), db && mul(a!, db)),
  // d(a/b) = da/b − (a/b)·db/b
  div: ([_a, b], [da, db], _p, y) => total(y, da && div(da, b!), db && neg(div(mul(y, db), b!))),
  // d(aᵇ) = b·aᵇ⁻¹ da (0 where a = b = 0) + log(a)·aᵇ db (0 where a = 0, as JAX; see powBaseFactor)
  pow: ([a, b], [da, db], _p, y) => total(y, da && mul(da, powBaseFactor(a!, b!)), db && mul(db, powExponentFactor(a!, b!))),
  // d max(a, b) = da where a > b, db where b > a, (da + db)/2 at ties
  maximum: ([a, b], [da, db], _p, y) => {
    const w = tieWeight(a!, b!, greater(a!, b!));
    return total(y, da && mul(da, w), db && mul(db, sub(lit(1, w), w)));
  },
  // d min(a, b) = da where a < b, db where b < a, (da + db)/2 at ties
  minimum: ([a, b], [da, db], _p, y) => {
    const w = tieWeight(a!, b!, less(a!, b!));
    return total(y, da && mul(da, w), db && mul(db, sub(lit(1, w), w)));
  },
  // comparisons are piecewise constant
  greater: zero,
  greaterEqual: zero,
  less: zero,
  lessEqual: zero,
  equal: zero,
  notEqual: zero,
  // d where(c, a, b) = where(c, da, db)
  where: ([c, a, b], [, da, db], _p, y) => expand(where(c!, instantiate(da!, a!), instantiate(db!, b!)), y.shape),
  // d cast(x) = cast(dx) between float types
  cast: (_x, [dx], { dtype }) => cast(dx!, dtype),
  // d Σx = Σ dx
  reduceSum: (_x, [dx], { axes }) => bind("reduceSum", [dx!], { axes }),
  // d max(x) = Σ dx · [x = max] / #ties
  reduceMax: ([x], [dx], { axes }, y) => bind("reduceSum", [mul(dx!, maxWeights(x!, y, axes))], { axes }),
  // argmax is piecewise constant
  argmax: zero,
  // layout ops are linear: apply them to the tangent
  reshape: (_x, [dx], params) => bind("reshape", [dx!], params),
  transpose: (_x, [dx], params) => bind("transpose", [dx!], params),
  broadcastTo: (_x, [dx], params) => bind("broadcastTo", [dx!], params),
  slice: (_x, [dx], params) => bind("slice", [dx!], params),
  pad: (_x, [dx], params) => bind("pad", [dx!], params),
  concat: (x, dx, params) =>
    bind(
      "concat",
      dx.map((d, i) => instantiate(d, x[i]!)),
      params,
    ),
  gather: ([, indices], [dx], params) => bind("gather", [dx!, indices!], params),
  scatterAdd: ([, indices], [du], params) => bind("scatterAdd", [du!, indices!], params),
  // d(A·B) = dA·B + A·dB
  matmul: ([a, b], [da, db], _p, y) => total(y, da && bind("matmul", [da, b!], {}), db && bind("matmul", [a!, db], {})),
  // stopGradient: zero derivative
  stopGradient: zero,
  // checkIndices passes indices through (piecewise constant): zero tangent
  checkIndices: zero,
};
