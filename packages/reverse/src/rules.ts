/**
 * Reverse (VJP) rules: for each primitive, the cotangents of its inputs given the cotangent `ct`
 * of its output. One entry per primitive, typed so that a primitive without a rule fails the
 * typecheck. Each rule declares what the tape keeps for it (`saves`) and states its math in one
 * comment. Rules are written with ir ops on the values of the level below (see arith.ts), so the
 * backward pass is itself differentiable by an enclosing transformation.
 */
import * as ir from "@chainrule/ir";
import { bind, shapesEqual, type DType, type Params, type Primitive, type Shape, type Tensor } from "@chainrule/ir";
import {
  add,
  addScalar,
  div,
  fastPad,
  fastSlice,
  fillLike,
  matmulNT,
  matmulTN,
  mul,
  mulScaled,
  neg,
  scale,
  sub,
  unbroadcast,
} from "./arith.js";

/** What a tape entry keeps for its backward pass (input shapes are always kept). */
export type Saves = "nothing" | "inputs" | "output" | "inputs and output";

/** The view of a tape entry a rule reads. */
export interface VjpNode<P extends Primitive> {
  readonly params: Params<P>;
  /** Primal inputs (empty unless the rule saves "inputs"). */
  readonly x: readonly Tensor[];
  /** Primal output (null unless the rule saves "output"). */
  readonly y: Tensor | null;
  /** Shape of input `i`. */
  shape(i: number): Shape;
  /** Dtype of the output. */
  readonly dtype: DType;
  /** Number of inputs. */
  readonly arity: number;
  /** Whether inputs i and j are the same differentiated value (as in x·x). */
  same(i: number, j: number): boolean;
}

/** The bit of `needs` for input `i` (inputs from the 31st on share the last bit). */
export function needsBit(i: number): number {
  return 1 << (i < 30 ? i : 30);
}

export function needsInput(needs: number, i: number): boolean {
  return (needs & needsBit(i)) !== 0;
}

/**
 * `vjp(ct, node, needs)` returns one cotangent per input; bit i of `needs` is set when input i
 * needs one (others may be null). A rule with `vjp: null` has a zero derivative: the engine does
 * not record the primitive at all.
 */
export interface VjpRule<P extends Primitive> {
  readonly saves: Saves;
  readonly vjp: ((ct: Tensor, node: VjpNode<P>, needs: number) => (Tensor | null)[]) | null;
}

const zero = { saves: "nothing", vjp: null } as const;

function keepDims(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Swaps the last two axes (for matmul's rule). */
function swapLast(t: Tensor): Tensor {
  const perm = t.shape.map((_, i) => i);
  const r = perm.length;
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return ir.transpose(t, perm);
}

/** The ½-at-ties weight of the first operand of maximum/minimum: 1 where it wins, ½ at ties, 0 else. */
function tieWeight(wins: Tensor, ties: Tensor, dtype: DType): Tensor {
  return add(ir.astype(wins, dtype), scale(ir.astype(ties, dtype), 0.5));
}

function concrete(...ts: Tensor[]): boolean {
  return ts.every((t) => !(t instanceof ir.Tracer));
}

/**
 * ∂(aᵇ)/∂a = b·aᵇ⁻¹, 0 where a = b = 0 (aᵇ is 1 along b = 0). On tracers (a rule that will be
 * differentiated again) it is built so its own derivatives are right and symmetric with
 * powExponentFactor's: along b it is smooth where a ≠ 0 (∂/∂b = 1/a at b = 0) and flat where
 * a = 0 (∂²(aᵇ)/∂a∂b taken as 0 there, the limit for b > 1), and every branch runs on safe inputs
 * so no unselected branch holds 0·∞ (the double-where idiom).
 */
function powBaseFactor(a: Tensor, b: Tensor): Tensor {
  if (concrete(a, b)) return ir.where(ir.equal(b, 0), 0, mul(b, ir.pow(a, addScalar(b, -1))));
  const aZero = ir.equal(a, 0);
  const bZero = ir.equal(b, 0);
  const away = ir.mul(b, ir.pow(ir.where(aZero, 1, a), ir.sub(b, 1)));
  const atZero = ir.mul(ir.stopGradient(b), ir.pow(a, ir.sub(ir.where(bZero, 1, b), 1)));
  return ir.where(aZero, ir.where(bZero, 0, atZero), away);
}

/** ∂(aᵇ)/∂b = aᵇ·log a, 0 where a = 0 (as JAX); on tracers aᵇ is recomputed on a safe base (see powBaseFactor). */
function powExponentFactor(a: Tensor, b: Tensor, y: Tensor): Tensor {
  const aZero = ir.equal(a, 0);
  if (concrete(a, b, y)) return ir.where(aZero, 0, mul(y, ir.log(a)));
  const safe = ir.where(aZero, 1, a);
  return ir.where(aZero, 0, ir.mul(ir.pow(safe, b), ir.log(safe)));
}

export const VJP_RULES: { [P in Primitive]: VjpRule<P> } = {
  // d(−x) = −dx
  neg: { saves: "nothing", vjp: (ct) => [neg(ct)] },
  // d(exp x) = exp(x) dx
  exp: { saves: "output", vjp: (ct, { y }) => [mul(ct, y!)] },
  // d(log x) = dx / x
  log: { saves: "inputs", vjp: (ct, { x }) => [div(ct, x[0]!)] },
  // d(log1p x) = dx / (1 + x)
  log1p: { saves: "inputs", vjp: (ct, { x }) => [div(ct, addScalar(x[0]!, 1))] },
  // d(expm1 x) = (expm1(x) + 1) dx
  expm1: { saves: "output", vjp: (ct, { y }) => [mul(ct, addScalar(y!, 1))] },
  // d(sin x) = cos(x) dx
  sin: { saves: "inputs", vjp: (ct, { x }) => [mul(ct, ir.cos(x[0]!))] },
  // d(cos x) = −sin(x) dx
  cos: { saves: "inputs", vjp: (ct, { x }) => [neg(mul(ct, ir.sin(x[0]!)))] },
  // d(tanh x) = (1 − tanh²x) dx
  tanh: { saves: "output", vjp: (ct, { y }) => [mul(ct, addScalar(neg(mul(y!, y!)), 1))] },
  // d(√x) = dx / (2√x)   (+∞ at 0)
  sqrt: { saves: "output", vjp: (ct, { y }) => [div(ct, scale(y!, 2))] },
  // d|x| = sign(x) dx   (0 at 0)
  abs: { saves: "inputs", vjp: (ct, { x }) => [mul(ct, ir.sign(x[0]!))] },
  // d(sign x) = 0
  sign: zero,
  // d(x + y) = dx + dy   (summed over broadcast axes)
  add: {
    saves: "nothing",
    vjp: (ct, n, needs) => [needs & 1 ? unbroadcast(ct, n.shape(0)) : null, needs & 2 ? unbroadcast(ct, n.shape(1)) : null],
  },
  // d(x − y) = dx − dy
  sub: {
    saves: "nothing",
    vjp: (ct, n, needs) => [needs & 1 ? unbroadcast(ct, n.shape(0)) : null, needs & 2 ? unbroadcast(neg(ct), n.shape(1)) : null],
  },
  // d(x · y) = y dx + x dy   (for x · x: 2x dx, in one pass)
  mul: {
    saves: "inputs",
    vjp: (ct, n, needs) =>
      n.same(0, 1) && shapesEqual(ct.shape, n.x[0]!.shape)
        ? [mulScaled(ct, n.x[0]!, 2), null]
        : [
            needs & 1 ? unbroadcast(mul(ct, n.x[1]!), n.x[0]!.shape) : null,
            needs & 2 ? unbroadcast(mul(ct, n.x[0]!), n.x[1]!.shape) : null,
          ],
  },
  // d(x / y) = dx / y − (x / y) dy / y   (the quotient, not x·dy/y²: y·y would put 0·∞ in higher derivatives at y = 0)
  div: {
    saves: "inputs and output",
    vjp: (ct, { x, y }, needs) => [
      needs & 1 ? unbroadcast(div(ct, x[1]!), x[0]!.shape) : null,
      needs & 2 ? unbroadcast(neg(div(mul(ct, y!), x[1]!)), x[1]!.shape) : null,
    ],
  },
  // d(xʸ) = y xʸ⁻¹ dx + xʸ log(x) dy   (first term 0 where x = y = 0, second 0 where x = 0; see powBaseFactor)
  pow: {
    saves: "inputs and output",
    vjp: (ct, { x, y: z }, needs) => {
      const [a, b] = [x[0]!, x[1]!];
      return [
        needs & 1 ? unbroadcast(mul(ct, powBaseFactor(a, b)), a.shape) : null,
        needs & 2 ? unbroadcast(mul(ct, powExponentFactor(a, b, z!)), b.shape) : null,
      ];
    },
  },
  // d max(x, y) = [x > y] dx + [y > x] dy, ½ each at ties
  maximum: {
    saves: "inputs",
    vjp: (ct, { x, dtype }, needs) => {
      const toX = mul(ct, tieWeight(ir.greater(x[0]!, x[1]!), ir.equal(x[0]!, x[1]!), dtype));
      return [needs & 1 ? unbroadcast(toX, x[0]!.shape) : null, needs & 2 ? unbroadcast(sub(ct, toX), x[1]!.shape) : null];
    },
  },
  // d min(x, y) = [x < y] dx + [y < x] dy, ½ each at ties
  minimum: {
    saves: "inputs",
    vjp: (ct, { x, dtype }, needs) => {
      const toX = mul(ct, tieWeight(ir.less(x[0]!, x[1]!), ir.equal(x[0]!, x[1]!), dtype));
      return [needs & 1 ? unbroadcast(toX, x[0]!.shape) : null, needs & 2 ? unbroadcast(sub(ct, toX), x[1]!.shape) : null];
    },
  },
  // comparisons have bool outputs: derivative 0
  greater: zero,
  greaterEqual: zero,
  less: zero,
  lessEqual: zero,
  equal: zero,
  notEqual: zero,
  // d where(c, a, b) = where(c, da, 0) + where(c, 0, db)
  where: {
    saves: "inputs",
    vjp: (ct, { x }, needs) => [
      null,
      needs & 2 ? unbroadcast(ir.where(x[0]!, ct, 0), x[1]!.shape) : null,
      needs & 4 ? unbroadcast(ir.where(x[0]!, 0, ct), x[2]!.shape) : null,
    ],
  },
  // d cast(x) = cast(dx)   (only float → float is differentiable)
  cast: { saves: "inputs", vjp: (ct, { x }) => [ir.astype(ct, x[0]!.dtype)] },
  // d Σ_axes x = Σ_axes dx: the cotangent is broadcast back over the summed axes
  reduceSum: {
    saves: "nothing",
    vjp: (ct, n) => [
      fillLike(ct, n.shape(0)) ?? ir.broadcastTo(ir.reshape(ct, keepDims(n.shape(0), n.params.axes)), n.shape(0) as number[]),
    ],
  },
  // d max_axes x = dx at the maximum; k tied maxima get 1/k each
  reduceMax: {
    saves: "inputs and output",
    vjp: (ct, { x, y, params, dtype }) => {
      const keep = keepDims(x[0]!.shape, params.axes);
      const mask = ir.astype(ir.equal(x[0]!, ir.reshape(y!, keep)), dtype);
      const count = ir.sum(mask, params.axes, true);
      return [mul(mask, div(ir.reshape(ct, keep), count))];
    },
  },
  // argmax has an int output: derivative 0
  argmax: zero,
  // d reshape(x) = reshape(dx)
  reshape: { saves: "nothing", vjp: (ct, n) => [ir.reshape(ct, n.shape(0) as number[])] },
  // d transpose(x, p) = transpose(dx, p); the cotangent goes through the inverse permutation
  transpose: {
    saves: "nothing",
    vjp: (ct, { params }) => {
      const inverse = new Array<number>(params.perm.length);
      params.perm.forEach((p, i) => (inverse[p] = i));
      return [ir.transpose(ct, inverse)];
    },
  },
  // d broadcastTo(x) = broadcastTo(dx): the cotangent is summed over the broadcast axes
  broadcastTo: { saves: "nothing", vjp: (ct, n) => [unbroadcast(ct, n.shape(0))] },
  // d x[b:e] = dx[b:e]: the cotangent is zero-padded back to x's shape
  slice: {
    saves: "nothing",
    vjp: (ct, n) => {
      const { begin, end } = n.params;
      const shape = n.shape(0);
      const high = shape.map((d, i) => d - end[i]!);
      return [fastPad(ct, begin, high) ?? bind("pad", [ct], { low: begin.slice(), high })];
    },
  },
  // d pad(x) = pad(dx): the cotangent is sliced back out
  pad: {
    saves: "nothing",
    vjp: (ct, n) => {
      const { low } = n.params;
      const shape = n.shape(0);
      const end = shape.map((d, i) => low[i]! + d);
      return [fastSlice(ct, low, end) ?? bind("slice", [ct], { begin: low.slice(), end })];
    },
  },
  // d concat(x₁, …) = concat(dx₁, …): each input gets its slice of the cotangent
  concat: {
    saves: "nothing",
    vjp: (ct, n, needs) => {
      const axis = n.params.axis;
      const out: (Tensor | null)[] = [];
      let offset = 0;
      for (let i = 0; i < n.arity; i++) {
        const length = n.shape(i)[axis]!;
        if (needsInput(needs, i)) {
          const begin = ct.shape.map((_, a) => (a === axis ? offset : 0));
          const end = ct.shape.map((d, a) => (a === axis ? offset + length : d));
          out.push(bind("slice", [ct], { begin, end }));
        } else out.push(null);
        offset += length;
      }
      return out;
    },
  },
  // d gather(x, i) = scatterAdd(dx-cotangent, i): each picked entry sends its cotangent back
  gather: {
    saves: "inputs",
    vjp: (ct, { x, params }) => [bind("scatterAdd", [ct, x[1]!], { axis: params.axis, size: x[0]!.shape[params.axis]! }), null],
  },
  // d scatterAdd(u, i) = gather(du-cotangent, i)
  scatterAdd: { saves: "inputs", vjp: (ct, { x, params }) => [bind("gather", [ct, x[1]!], { axis: params.axis }), null] },
  // d(A·B) = dA·B + A·dB, so Ā = C̄·Bᵀ and B̄ = Aᵀ·C̄ (summed over broadcast batch axes)
  matmul: {
    saves: "inputs",
    vjp: (ct, { x }, needs) => [
      needs & 1 ? (matmulNT(ct, x[1]!) ?? unbroadcast(bind("matmul", [ct, swapLast(x[1]!)], {}), x[0]!.shape)) : null,
      needs & 2 ? (matmulTN(x[0]!, ct) ?? unbroadcast(bind("matmul", [swapLast(x[0]!), ct], {}), x[1]!.shape)) : null,
    ],
  },
  // d stopGradient(x) = 0
  stopGradient: zero,
  // checkIndices passes indices through (piecewise constant): derivative 0
  checkIndices: zero,
};
