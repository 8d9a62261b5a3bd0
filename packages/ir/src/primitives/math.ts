/**
 * The arithmetic derivative rules are written with. A rule never imports ir's ops: it receives
 * the arithmetic as an argument, so one rule serves every interpretation —
 *
 * - `Arith<number, boolean>` (`NUMBER_MATH`): the scalar fast paths of forward and reverse mode
 *   run a rule's derivative factors on plain JS numbers;
 * - `TensorMath` (`TENSOR_MATH`): ir's ops, so a rule run on tracers is recorded and
 *   differentiated again (higher orders, JIT graphs); an engine may pass a faster implementation
 *   with the same semantics (reverse mode's typed-array loops on concrete values);
 * - `TangentOps<T>`: what a JVP rule may do with tangents of representation `T` — plain tensors
 *   (`tensorTangents`), or forward mode's chunks of k directions, which apply each primitive's
 *   batching rule.
 */
import type { Aval, Params, Primitive } from "../primitives.js";
import type { Shape } from "../shape.js";
import type { DType } from "../dtype.js";
import type { Tensor } from "../tensor.js";
import { SPECIAL } from "../special.js";

/**
 * Elementwise arithmetic on values `V` with conditions `C`, broadcasting like NumPy. A JS number
 * operand is weakly typed: it takes the dtype of the other operand.
 */
export interface Arith<V, C> {
  add(a: V | number, b: V | number): V;
  sub(a: V | number, b: V | number): V;
  mul(a: V | number, b: V | number): V;
  div(a: V | number, b: V | number): V;
  neg(a: V): V;
  pow(a: V, b: V | number): V;
  exp(a: V): V;
  log(a: V): V;
  sin(a: V): V;
  cos(a: V): V;
  sign(a: V): V;
  /** `a` as a value whose derivative is 0 (identity on numbers). */
  stopGradient(a: V): V;
  // the math family (issue 17): what the derivatives of the special and inverse functions need
  sqrt(a: V): V;
  sinh(a: V): V;
  cosh(a: V): V;
  /** Round half to even (derivative 0). */
  round(a: V): V;
  /** ψ⁽ⁿ⁾(a), the n-th derivative of digamma. */
  polygamma(n: number, a: V): V;
  eq(a: V, b: V | number): C;
  gt(a: V, b: V): C;
  lt(a: V, b: V): C;
  where(c: C, a: V | number, b: V | number): V;
  /** 1 where `c` holds, 0 elsewhere, in the dtype of `like`. */
  indicator(c: C, like: V): V;
  /** The product of a (co)tangent `t` with a derivative factor `f`: see ZERO_TIMES_INFINITY. */
  scale(t: V, f: V | number): V;
}

/**
 * The convention for 0 · ∞, in one place. Every product of a tangent (forward mode) or a cotangent
 * (reverse mode) with a derivative factor is `mulNoNan`: where either side is 0 the product is 0,
 * even when the other side is ±∞ or NaN (elsewhere it is the IEEE product, signed zeros
 * included). So a zero (co)tangent never turns into NaN, whichever engine, chunk size or order of
 * products computes it, and forward and reverse mode agree: ∂/∂y of √x + y at x = 0 is 1 (not
 * NaN) even when x's direction shares a chunk with y's, the gradient of where(x > 0, √x, 0) at
 * x = 0 is 0 (the unselected branch's ∞ meets a zero cotangent), and the gradient of √x · 0 at 0
 * is 0. A nonzero (co)tangent keeps IEEE arithmetic: √x′(0) = +∞. Linear primitives (matmul,
 * sums) use plain IEEE arithmetic.
 */
export const ZERO_TIMES_INFINITY = "0 · ±∞ = 0 · NaN = 0 in every (co)tangent × derivative-factor product";

/**
 * Whether t · f needs no zero guard: a finite non-zero JS number f makes mulNoNan(t, f) exactly
 * t · f (NaN only where t is NaN, 0 exactly where t is 0), so scale implementations use a plain
 * product then (one less comparison per element in compiled code and typed-array loops).
 */
export function plainFactor(f: unknown): f is number {
  return typeof f === "number" && f !== 0 && f - f === 0;
}

/** The scalar form of `mulNoNan`: a·b, except 0 where that is NaN because a or b is 0. */
export function mulNoNanScalar(a: number, b: number): number {
  const v = a * b;
  return v === v || (a !== 0 && b !== 0) ? v : 0;
}

/** JS numbers: the derivative factors of the scalar fast paths. */
export const NUMBER_MATH: Arith<number, boolean> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  neg: (a) => -a,
  pow: (a, b) => a ** b,
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  sign: Math.sign,
  stopGradient: (a) => a,
  // the math family
  sqrt: Math.sqrt,
  sinh: Math.sinh,
  cosh: Math.cosh,
  round: SPECIAL.roundHalfEven,
  polygamma: SPECIAL.polygamma,
  eq: (a, b) => a === b,
  gt: (a, b) => a > b,
  lt: (a, b) => a < b,
  where: (c, a, b) => (c ? a : b),
  indicator: (c) => (c ? 1 : 0),
  scale: mulNoNanScalar,
};

/** Arithmetic on tensors, plus the linear operations (co)tangents go through. */
export interface TensorMath extends Arith<Tensor, Tensor> {
  /** Sums `t` over the axes along which a value of `shape` was broadcast (the transpose of broadcasting). */
  unbroadcast(t: Tensor, shape: Shape): Tensor;
  /** Applies a primitive. */
  bind<P extends Primitive>(prim: P, args: readonly Tensor[], params: Params<P>): Tensor;
  /** a · bᵀ over the last two axes (batch axes broadcast). */
  matmulNT(a: Tensor, b: Tensor): Tensor;
  /** aᵀ · b over the last two axes (batch axes broadcast). */
  matmulTN(a: Tensor, b: Tensor): Tensor;
  zeros(shape: Shape, dtype: DType): Tensor;
}

/**
 * What a JVP rule may do with tangents. `T` is the engine's representation of one tangent (a
 * tensor shaped like its primal for the JIT; k stacked directions for forward mode), opaque to
 * the rule, so a rule cannot apply anything to a tangent but these linear operations.
 */
export interface TangentOps<T> {
  /** Arithmetic on primal values (the derivative factors). */
  readonly math: TensorMath;
  /** t · f for a primal-valued factor f broadcasting against t (mulNoNan: see ZERO_TIMES_INFINITY). */
  scale(t: T, f: Tensor | number): T;
  add(a: T, b: T): T;
  neg(t: T): T;
  /** A primitive linear in its tangent arguments (the others are primal values), applied to them. */
  apply<P extends Primitive>(prim: P, args: readonly (T | Tensor)[], params: Params<P>): T;
  /** Broadcasts a tangent to `shape` (no work when it already has it). */
  broadcast(t: T, shape: Shape): T;
  /** The zero tangent of a primal value. */
  zeros(like: Aval): T;
}

/** t · f with the shortcuts f = 1 (t itself) and f = −1 (−t), on tangents or on tensors. */
export function times<T, F>(ops: { scale(t: T, f: F): T; neg(t: T): T }, t: T, f: F): T {
  if (f === 1) return t;
  if (f === -1) return ops.neg(t);
  return ops.scale(t, f);
}

/** p + q, staying a JS number when both are (constant partials such as add's 1 and 1). */
export function plus<V>(m: Arith<V, unknown>, p: V | number, q: V | number): V | number {
  return typeof p === "number" && typeof q === "number" ? p + q : m.add(p, q);
}
