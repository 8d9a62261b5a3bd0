/**
 * JVP rules: one per primitive, typed over the primitive set so a missing rule fails the
 * typecheck. A rule gets the primal inputs `x` and the primal output `y` (values of the level
 * below), the input tangents `dx` (each `[k, ...shape]` or `null` = zero) and returns the output
 * tangent `[k, ...y.shape]` (or `null`). Rules are written with ir ops, so an enclosing
 * transformation differentiates them in turn: that is what makes forward-over-forward work.
 *
 * Tangent × derivative is "NaN-safe": a zero tangent times an infinite derivative is 0, not NaN
 * (as ForwardDiff.jl's nansafe mode), so directions that share a chunk never contaminate each
 * other: ∂/∂y of sqrt(x) + y at x = 0 is 1 whatever the chunk size.
 */
import {
  abs,
  add,
  bind,
  broadcastTo,
  castTo,
  ConcretizationError,
  cos,
  div,
  equal,
  greater,
  isFloat,
  less,
  log,
  mul,
  neg,
  pow,
  reshape,
  sign,
  sin,
  stopGradient,
  sub,
  Tracer,
  where,
  zeros,
  type Params,
  type Primitive,
  type Tensor,
} from "@chainrule/ir";

/** Stacked tangents `[k, ...shape]`, or `null` for a symbolic zero. */
export type Tangent = Tensor | null;

export type JvpRule<P extends Primitive> = (
  x: readonly Tensor[],
  dx: readonly Tangent[],
  params: Params<P>,
  y: Tensor,
  k: number,
) => Tangent;

// ── helpers ────────────────────────────────────────────────────────────────────────────────

/** `[k, ...s]` → `[k, 1, …, 1, ...s]` of rank `rank + 1`, so it broadcasts against rank-`rank` primals. */
export function lift(t: Tensor, rank: number): Tensor {
  const extra = rank + 1 - t.rank;
  if (extra <= 0) return t;
  return reshape(t, [t.shape[0]!, ...new Array<number>(extra).fill(1), ...t.shape.slice(1)]);
}

/** A (lifted) tangent broadcast to `[k, ...shape]`. */
export function expand(t: Tensor, k: number, shape: readonly number[]): Tensor {
  return broadcastTo(lift(t, shape.length), [k, ...shape]);
}

/** True when every element of `t` is known to be finite (a tracer that cannot be read: unknown). */
export function knownFinite(t: Tensor): boolean {
  let data: Tensor["data"];
  try {
    data = t.data;
  } catch (error) {
    if (error instanceof ConcretizationError) return false;
    throw error;
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) return false;
  }
  return true;
}

/** dx · f, with 0 · ±∞ = 0 · NaN = 0 (see the file comment). */
export function scale(dx: Tensor, f: Tensor): Tensor {
  const product = mul(dx, f);
  if (knownFinite(f)) return product;
  return where(less(abs(f), Infinity), product, where(equal(dx, 0), 0, product));
}

/** Σ of the terms `lift(dx) · factor` of a broadcasting binary op, as `[k, ...y.shape]`. */
function binaryTangent(dx: readonly Tangent[], y: Tensor, k: number, factors: (Tensor | number | undefined)[]): Tangent {
  let total: Tensor | undefined;
  for (let i = 0; i < 2; i++) {
    const t = dx[i];
    if (t === null || t === undefined) continue;
    const f = factors[i];
    const lifted = lift(t, y.rank);
    const term = f === undefined ? lifted : typeof f === "number" ? (f === -1 ? neg(lifted) : mul(lifted, f)) : scale(lifted, f);
    total = total === undefined ? term : add(total, term);
  }
  return total === undefined ? null : expand(total, k, y.shape);
}

function unary<P extends Primitive>(factor: (x: Tensor, y: Tensor) => Tensor): JvpRule<P> {
  return ([x], [dx], _params, y) => (dx ? scale(dx, factor(x!, y)) : null);
}

const zero: JvpRule<Primitive> = () => null;

/** Weight of the first operand of maximum/minimum: 1 where it wins, ½ at ties, 0 where it loses. */
function winnerWeight(wins: Tensor, ties: Tensor, dtype: Tensor["dtype"]): Tensor {
  return add(castTo(wins, dtype), mul(castTo(ties, dtype), 0.5));
}

function concrete(...ts: Tensor[]): boolean {
  return ts.every((t) => !(t instanceof Tracer));
}

/**
 * ∂(aᵇ)/∂a = b·aᵇ⁻¹, 0 where a = b = 0 (aᵇ is 1 along b = 0). On tracers (a rule that will be
 * differentiated again) it is built so its own derivatives are right and symmetric with
 * powExponentFactor's: along b it is smooth where a ≠ 0 (∂/∂b = 1/a at b = 0) and flat where
 * a = 0 (∂²(aᵇ)/∂a∂b taken as 0 there, the limit for b > 1), and every branch runs on safe inputs
 * so no unselected branch holds 0·∞ (the double-where idiom).
 */
function powBaseFactor(a: Tensor, b: Tensor): Tensor {
  if (concrete(a, b)) return where(equal(b, 0), 0, mul(b, pow(a, sub(b, 1))));
  const aZero = equal(a, 0);
  const bZero = equal(b, 0);
  const away = mul(b, pow(where(aZero, 1, a), sub(b, 1)));
  const atZero = mul(stopGradient(b), pow(a, sub(where(bZero, 1, b), 1)));
  return where(aZero, where(bZero, 0, atZero), away);
}

/** ∂(aᵇ)/∂b = aᵇ·log a, 0 where a = 0 (as JAX); on tracers aᵇ is recomputed on a safe base (see powBaseFactor). */
function powExponentFactor(a: Tensor, b: Tensor, y: Tensor): Tensor {
  const aZero = equal(a, 0);
  const safe = where(aZero, 1, a);
  return where(aZero, 0, mul(concrete(a, b, y) ? y : pow(safe, b), log(safe)));
}

// ── the table ──────────────────────────────────────────────────────────────────────────────

export const JVP_RULES: { [P in Primitive]: JvpRule<P> } = {
  // d(−x) = −dx
  neg: (_x, [dx]) => (dx ? neg(dx) : null),
  // d(eˣ) = eˣ dx
  exp: unary((_x, y) => y),
  // d(log x) = dx / x
  log: unary((x) => div(1, x)),
  // d(log(1 + x)) = dx / (1 + x)
  log1p: unary((x) => div(1, add(x, 1))),
  // d(eˣ − 1) = eˣ dx
  expm1: unary((_x, y) => add(y, 1)),
  // d(sin x) = cos x dx
  sin: unary((x) => cos(x)),
  // d(cos x) = −sin x dx
  cos: unary((x) => neg(sin(x))),
  // d(tanh x) = (1 − tanh² x) dx
  tanh: unary((_x, y) => sub(1, mul(y, y))),
  // d(√x) = dx / (2√x)   (+∞ at 0)
  sqrt: unary((_x, y) => div(0.5, y)),
  // d|x| = sign(x) dx   (0 at 0)
  abs: unary((x) => sign(x)),
  // d sign(x) = 0
  sign: zero,
  // d(a + b) = da + db
  add: (_x, dx, _p, y, k) => binaryTangent(dx, y, k, [undefined, undefined]),
  // d(a − b) = da − db
  sub: (_x, dx, _p, y, k) => binaryTangent(dx, y, k, [undefined, -1]),
  // d(a·b) = da·b + a·db
  mul: ([a, b], dx, _p, y, k) => binaryTangent(dx, y, k, [b!, a!]),
  // d(a/b) = da/b − db·(a/b)/b
  div: ([_a, b], dx, _p, y, k) => binaryTangent(dx, y, k, [dx[0] ? div(1, b!) : undefined, dx[1] ? neg(div(y, b!)) : undefined]),
  // d(aᵇ) = b·aᵇ⁻¹ da + log(a)·aᵇ db   (da's factor 0 at a = b = 0; db's 0 at a = 0, as JAX; see powBaseFactor)
  pow: ([a, b], dx, _p, y, k) =>
    binaryTangent(dx, y, k, [dx[0] ? powBaseFactor(a!, b!) : undefined, dx[1] ? powExponentFactor(a!, b!, y) : undefined]),
  // d max(a, b) = w·da + (1 − w)·db, w = 1 if a > b, ½ if a = b, 0 otherwise
  maximum: ([a, b], dx, _p, y, k) => {
    const w = winnerWeight(greater(a!, b!), equal(a!, b!), y.dtype);
    return binaryTangent(dx, y, k, [w, sub(1, w)]);
  },
  // d min(a, b) = w·da + (1 − w)·db, w = 1 if a < b, ½ if a = b, 0 otherwise
  minimum: ([a, b], dx, _p, y, k) => {
    const w = winnerWeight(less(a!, b!), equal(a!, b!), y.dtype);
    return binaryTangent(dx, y, k, [w, sub(1, w)]);
  },
  // comparisons are piecewise constant: zero tangent
  greater: zero,
  greaterEqual: zero,
  less: zero,
  lessEqual: zero,
  equal: zero,
  notEqual: zero,
  // d where(c, a, b) = where(c, da, db)
  where: ([c], [, da, db], _p, y, k) => {
    if (!da && !db) return null;
    const ta = da ? lift(da, y.rank) : 0;
    const tb = db ? lift(db, y.rank) : 0;
    return expand(where(c!, ta, tb), k, y.shape);
  },
  // d cast(x) = cast(dx) between float types; zero into int32/bool
  cast: (_x, [dx], { dtype }) => (dx && isFloat(dtype) ? castTo(dx, dtype) : null),
  // d Σx = Σ dx over the same axes (shifted past the tangent axis)
  reduceSum: (_x, [dx], { axes }) => (dx ? bind("reduceSum", [dx], { axes: axes.map((a) => a + 1) }) : null),
  // d max x = mean of dx over the k tied maxima (each gets 1/k, as in reverse mode)
  reduceMax: ([x], [dx], { axes }, y) => {
    if (!dx) return null;
    const keep = x!.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const mask = castTo(equal(x!, reshape(y, keep)), x!.dtype);
    const count = bind("reduceSum", [mask], { axes });
    const picked = bind("reduceSum", [mul(dx, mask)], { axes: axes.map((a) => a + 1) });
    return div(picked, count);
  },
  // argmax is piecewise constant: zero tangent
  argmax: zero,
  // linear ops: the tangent goes through the same op, with the tangent axis in front
  reshape: (_x, [dx], { shape }, _y, k) => (dx ? bind("reshape", [dx], { shape: [k, ...shape] }) : null),
  transpose: (_x, [dx], { perm }) => (dx ? bind("transpose", [dx], { perm: [0, ...perm.map((p) => p + 1)] }) : null),
  broadcastTo: (_x, [dx], { shape }, _y, k) => (dx ? expand(dx, k, shape) : null),
  slice: (_x, [dx], { begin, end }, _y, k) => (dx ? bind("slice", [dx], { begin: [0, ...begin], end: [k, ...end] }) : null),
  pad: (_x, [dx], { low, high }) => (dx ? bind("pad", [dx], { low: [0, ...low], high: [0, ...high] }) : null),
  // d concat(xᵢ) = concat(dxᵢ)
  concat: (x, dx, { axis }, y, k) => {
    if (dx.every((t) => t === null)) return null;
    const parts = dx.map((t, i) => t ?? zeros([k, ...x[i]!.shape], y.dtype));
    return bind("concat", parts, { axis: axis + 1 });
  },
  // d gather(x, i) = gather(dx, i)
  gather: ([, indices], [dx], { axis }) => (dx ? bind("gather", [dx, indices!], { axis: axis + 1 }) : null),
  // d scatterAdd(u, i) = scatterAdd(du, i)
  scatterAdd: ([, indices], [du], { axis, size }) => (du ? bind("scatterAdd", [du, indices!], { axis: axis + 1, size }) : null),
  // d(A·B) = dA·B + A·dB
  matmul: ([a, b], [da, db], _p, y, k) => {
    const ta = da ? bind("matmul", [lift(da, y.rank), b!], {}) : undefined;
    const tb = db ? bind("matmul", [a!, lift(db, y.rank)], {}) : undefined;
    const total = ta && tb ? add(ta, tb) : (ta ?? tb);
    return total === undefined ? null : expand(total, k, y.shape);
  },
  // d stopGradient(x) = 0
  stopGradient: zero,
  // checkIndices passes indices through (piecewise constant): zero tangent
  checkIndices: zero,
};
