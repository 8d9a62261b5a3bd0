/**
 * Reverse-mode rules: for each primitive, the cotangents of its inputs given the output
 * cotangent `ct`, the primals `x`, the params and the primal output `y` (null = no cotangent,
 * e.g. for integer inputs). Written with ir ops, so an enclosing transformation differentiates
 * the backward pass again (higher orders). Called only for float outputs.
 */
import {
  add,
  bind,
  cos,
  div,
  equal,
  greater,
  less,
  mul,
  neg,
  reshape,
  sign,
  sin,
  sub,
  where,
  type Params,
  type Primitive,
  type Tensor,
} from "@chainrule/ir";
import { cast, maxWeights } from "./jvp-rules.js";
import { inversePerm, keepShape, lit, swapLast, unbroadcast, type Zeroable, powBaseFactor, powExponentFactor } from "./rule-helpers.js";

export type VjpRule<P extends Primitive> = (ct: Tensor, x: Tensor[], params: Params<P>, y: Tensor) => Zeroable[];

const unary =
  (rule: (ct: Tensor, x: Tensor, y: Tensor) => Tensor): VjpRule<Primitive> =>
  (ct, x, _p, y) => [rule(ct, x[0]!, y)];

const none: VjpRule<Primitive> = (_ct, x) => x.map(() => null);

function tieWeight(a: Tensor, b: Tensor, wins: Tensor): Tensor {
  return where(wins, lit(1, a), where(equal(a, b), lit(0.5, a), lit(0, a)));
}

export const VJP_RULES: { [P in Primitive]: VjpRule<P> } = {
  // x̄ = −ȳ
  neg: unary((ct) => neg(ct)),
  // x̄ = ȳ·eˣ
  exp: unary((ct, _x, y) => mul(ct, y)),
  // x̄ = ȳ / x
  log: unary((ct, x) => div(ct, x)),
  // x̄ = ȳ / (1 + x)
  log1p: unary((ct, x) => div(ct, add(x, lit(1, x)))),
  // x̄ = ȳ·(y + 1)
  expm1: unary((ct, _x, y) => mul(ct, add(y, lit(1, y)))),
  // x̄ = ȳ·cos x
  sin: unary((ct, x) => mul(ct, cos(x))),
  // x̄ = −ȳ·sin x
  cos: unary((ct, x) => neg(mul(ct, sin(x)))),
  // x̄ = ȳ·(1 − y²)
  tanh: unary((ct, _x, y) => mul(ct, sub(lit(1, y), mul(y, y)))),
  // x̄ = ȳ / (2√x)   (+∞ at 0)
  sqrt: unary((ct, _x, y) => div(ct, mul(y, lit(2, y)))),
  // x̄ = ȳ·sign(x)   (0 at 0)
  abs: unary((ct, x) => mul(ct, sign(x))),
  sign: none,
  // ā = ȳ, b̄ = ȳ (summed over broadcast axes)
  add: (ct, [a, b]) => [unbroadcast(ct, a!.shape), unbroadcast(ct, b!.shape)],
  // ā = ȳ, b̄ = −ȳ
  sub: (ct, [a, b]) => [unbroadcast(ct, a!.shape), unbroadcast(neg(ct), b!.shape)],
  // ā = ȳ·b, b̄ = ȳ·a
  mul: (ct, [a, b]) => [unbroadcast(mul(ct, b!), a!.shape), unbroadcast(mul(ct, a!), b!.shape)],
  // ā = ȳ / b, b̄ = −ȳ·y / b
  div: (ct, [a, b], _p, y) => [unbroadcast(div(ct, b!), a!.shape), unbroadcast(neg(div(mul(ct, y), b!)), b!.shape)],
  // ā = ȳ·b·aᵇ⁻¹ (0 where a = b = 0), b̄ = ȳ·log(a)·aᵇ (0 where a = 0, as JAX; see powBaseFactor)
  pow: (ct, [a, b]) => [unbroadcast(mul(ct, powBaseFactor(a!, b!)), a!.shape), unbroadcast(mul(ct, powExponentFactor(a!, b!)), b!.shape)],
  // ā = ȳ where a > b (½ at ties), b̄ = the rest
  maximum: (ct, [a, b]) => {
    const w = tieWeight(a!, b!, greater(a!, b!));
    return [unbroadcast(mul(ct, w), a!.shape), unbroadcast(mul(ct, sub(lit(1, w), w)), b!.shape)];
  },
  // ā = ȳ where a < b (½ at ties), b̄ = the rest
  minimum: (ct, [a, b]) => {
    const w = tieWeight(a!, b!, less(a!, b!));
    return [unbroadcast(mul(ct, w), a!.shape), unbroadcast(mul(ct, sub(lit(1, w), w)), b!.shape)];
  },
  greater: none,
  greaterEqual: none,
  less: none,
  lessEqual: none,
  equal: none,
  notEqual: none,
  // ā = where(c, ȳ, 0), b̄ = where(c, 0, ȳ)
  where: (ct, [c, a, b]) => [null, unbroadcast(where(c!, ct, lit(0, ct)), a!.shape), unbroadcast(where(c!, lit(0, ct), ct), b!.shape)],
  // x̄ = cast(ȳ) back to the input's float type (no cotangent for integer inputs)
  cast: (ct, [x]) => [x!.dtype === "float32" || x!.dtype === "float64" ? cast(ct, x!.dtype) : null],
  // x̄ = ȳ broadcast over the summed axes
  reduceSum: (ct, [x], { axes }) => [bind("broadcastTo", [reshape(ct, keepShape(x!.shape, axes))], { shape: x!.shape.slice() })],
  // x̄ = ȳ·[x = max] / #ties
  reduceMax: (ct, [x], { axes }, y) => [mul(reshape(ct, keepShape(x!.shape, axes)), maxWeights(x!, y, axes))],
  argmax: none,
  // x̄ = reshape(ȳ) to x's shape
  reshape: (ct, [x]) => [reshape(ct, x!.shape)],
  // x̄ = ȳ transposed by the inverse permutation
  transpose: (ct, _x, { perm }) => [bind("transpose", [ct], { perm: inversePerm(perm) })],
  // x̄ = ȳ summed over the broadcast axes
  broadcastTo: (ct, [x]) => [unbroadcast(ct, x!.shape)],
  // x̄ = ȳ padded back into place (slice and pad are transposes of each other)
  slice: (ct, [x], { begin, end }) => [bind("pad", [ct], { low: begin.slice(), high: end.map((e, i) => x!.shape[i]! - e) })],
  pad: (ct, [x], { low }) => [bind("slice", [ct], { begin: low.slice(), end: low.map((l, i) => l + x!.shape[i]!) })],
  // each operand gets its slab of ȳ
  concat: (ct, x, { axis }) => {
    let offset = 0;
    return x.map((xi) => {
      const begin = ct.shape.map(() => 0);
      const end = ct.shape.slice();
      begin[axis] = offset;
      offset += xi.shape[axis]!;
      end[axis] = offset;
      return bind("slice", [ct], { begin, end });
    });
  },
  // x̄ = scatterAdd(ȳ, indices) (gather and scatterAdd are transposes)
  gather: (ct, [x, indices], { axis }) => [bind("scatterAdd", [ct, indices!], { axis, size: x!.shape[axis]! }), null],
  scatterAdd: (ct, [, indices], { axis }) => [bind("gather", [ct, indices!], { axis }), null],
  // Ā = Ȳ·Bᵀ, B̄ = Aᵀ·Ȳ (summed over broadcast batch axes)
  matmul: (ct, [a, b]) => [
    unbroadcast(bind("matmul", [ct, swapLast(b!)], {}), a!.shape),
    unbroadcast(bind("matmul", [swapLast(a!), ct], {}), b!.shape),
  ],
  stopGradient: none,
  // checkIndices passes indices through (piecewise constant): zero cotangent
  checkIndices: none,
};
