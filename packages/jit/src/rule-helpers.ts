/** Small helpers shared by the derivative rule tables; all built from ir ops so rules stay differentiable. */
import {
  bind,
  broadcastedAxes,
  broadcastTo,
  equal,
  log,
  mul,
  reshape,
  scalar,
  shapesEqual,
  stopGradient,
  sub,
  sum,
  where,
  zeros,
  type Shape,
  type Tensor,
} from "@chainrule/ir";

/** A tangent or cotangent; `null` is a symbolic zero (no work is done for it). */
export type Zeroable = Tensor | null;

/** A scalar of `like`'s dtype (so constants never promote float32 to float64). */
export function lit(value: number, like: Tensor): Tensor {
  return scalar(value, like.dtype);
}

/** Sums a cotangent of a broadcast result back to the operand's shape. */
export function unbroadcast(ct: Tensor, shape: Shape): Tensor {
  if (shapesEqual(ct.shape, shape)) return ct;
  const { axes } = broadcastedAxes(shape, ct.shape);
  const summed = axes.length === 0 ? ct : sum(ct, axes);
  return shapesEqual(summed.shape, shape) ? summed : reshape(summed, shape);
}

/** Broadcasts a tangent to the output shape. */
export function expand(t: Tensor, shape: Shape): Tensor {
  return shapesEqual(t.shape, shape) ? t : broadcastTo(t, shape);
}

export function zerosLike(x: Tensor): Tensor {
  return zeros(x.shape, x.dtype);
}

export function instantiate(t: Zeroable, like: Tensor): Tensor {
  return t ?? zerosLike(like);
}

/** The shape with `axes` kept as size-1 dimensions. */
export function keepShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Swaps the last two axes (matrix transpose of a batch). */
export function swapLast(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  perm[r - 1] = r - 2;
  perm[r - 2] = r - 1;
  return bind("transpose", [x], { perm });
}

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/**
 * ∂(aᵇ)/∂a = b·aᵇ⁻¹, 0 where a = b = 0 (aᵇ is 1 along b = 0), built so its own derivatives are
 * right and symmetric with powExponentFactor's: along b it is smooth where a ≠ 0 (∂/∂b = 1/a at
 * b = 0) and flat where a = 0 (∂²(aᵇ)/∂a∂b taken as 0 there, the limit for b > 1), and every
 * branch runs on safe inputs so no unselected branch holds 0·∞ (the double-where idiom).
 */
export function powBaseFactor(a: Tensor, b: Tensor): Tensor {
  const aZero = equal(a, lit(0, a));
  const bZero = equal(b, lit(0, b));
  const away = mul(b, bind("pow", [where(aZero, lit(1, a), a), sub(b, lit(1, b))], {}));
  const atZero = mul(stopGradient(b), bind("pow", [a, sub(where(bZero, lit(1, b), b), lit(1, b))], {}));
  return where(aZero, where(bZero, lit(0, b), atZero), away);
}

/** ∂(aᵇ)/∂b = aᵇ·log a, 0 where a = 0 (as JAX), with aᵇ recomputed on a safe base (see powBaseFactor). */
export function powExponentFactor(a: Tensor, b: Tensor): Tensor {
  const aZero = equal(a, lit(0, a));
  const safe = where(aZero, lit(1, a), a);
  return where(aZero, lit(0, a), mul(bind("pow", [safe, b], {}), log(safe)));
}
