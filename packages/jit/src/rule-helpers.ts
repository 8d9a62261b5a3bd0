/** Small helpers shared by the derivative rule tables; all built from ir ops so rules stay differentiable. */
import { bind, broadcastedAxes, broadcastTo, reshape, scalar, shapesEqual, sum, zeros, type Shape, type Tensor } from "@chainrule/ir";

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
