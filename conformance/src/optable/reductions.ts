/** Per-op table rows: reductions, scans and sorting; and the cases of their integer outputs and derivative conventions. */
import * as ir from "@chainrule/ir";
import { tensor, type Tensor } from "@chainrule/ir";
import type { Case } from "../cases.js";
import { loose, type LooseEngine } from "../checkgrads.js";
import { expectClose } from "../expect.js";
import { anyReal, distinct, type Gen, MATRIX, map, type OpRow, uniform } from "../optable.js";

/** anyReal with exact zeros at the given flat positions (prod and cumprod are polynomials: smooth through zeros). */
const withZeros =
  (...at: number[]): Gen =>
  (shape, rng) =>
    map(shape, rng, (u, i) => (at.includes(i) ? 0 : u * 4 - 2));

const row = (name: string, fn: (x: Tensor) => Tensor, domain: Gen, shapes: OpRow["shapes"], primitive = false): OpRow => ({
  name,
  primitive,
  fn: (x) => fn(x!),
  domain: [domain],
  shapes,
});

export function reductionRows(): OpRow[] {
  return [
    row("prod()", (x) => ir.prod(x), uniform(-1.5, 1.5), MATRIX),
    row("prod(axis 0)", (x) => ir.prod(x, 0), anyReal, MATRIX),
    row("prod(axis -1, keepdims)", (x) => ir.prod(x, -1, true), anyReal, MATRIX),
    row("prod(axes [0, 2])", (x) => ir.prod(x, [0, 2]), anyReal, [[[2, 3, 2]]]),
    // the gradient of a product with one or two zero factors: no division by the product
    row("prod() with one zero", (x) => ir.prod(x), withZeros(1), [[[4]], [[2, 3]]]),
    row("prod(axis -1) with two zeros", (x) => ir.prod(x, -1), withZeros(0, 2), [[[4]], [[2, 3]]]),
    row("std(axis -1)", (x) => ir.std(x, -1), anyReal, MATRIX),
    row("std(axis 0, keepdims, ddof 1)", (x) => ir.std(x, 0, true, { ddof: 1 }), anyReal, [[[3, 2]], [[2, 3, 2]]]),
    row("cumsum(axis -1)", (x) => ir.cumsum(x), anyReal, MATRIX, true),
    row("cumsum(axis 0)", (x) => ir.cumsum(x, 0), anyReal, MATRIX, true),
    row("cumprod(axis -1)", (x) => ir.cumprod(x), anyReal, MATRIX),
    row("cumprod(axis 0)", (x) => ir.cumprod(x, 0), anyReal, [[[3, 2]], [[2, 3, 2]]]),
    row("cumprod(axis -1) with zeros", (x) => ir.cumprod(x), withZeros(1, 3), [[[5]], [[2, 3]]]),
    // distinct inputs: no ties, so finite differences stay on one side of every switch of the running max
    row("cummax(axis -1)", (x) => ir.cummax(x), distinct, MATRIX),
    row("cummin(axis 0)", (x) => ir.cummin(x, 0), distinct, [[[5]], [[3, 2]], [[2, 3, 2]]]),
    row("logcumsumexp(axis -1)", (x) => ir.logcumsumexp(x), anyReal, MATRIX),
    row("logcumsumexp(axis 0)", (x) => ir.logcumsumexp(x, 0), anyReal, [[[3, 2]]]),
    row("sort(axis -1)", (x) => ir.sort(x), distinct, MATRIX),
    row("sort(axis 0)", (x) => ir.sort(x, 0), distinct, [[[3, 2]], [[2, 3, 2]]]),
    row("topK(x, 2) values", (x) => ir.topK(x, 2)[0], distinct, [[[5]], [[2, 3]]]),
  ];
}

// ── integer outputs and derivative conventions ──────────────────────────────────────────────

/**
 * argmin, argsort, topK indices, all and any: eager values under every transformation, derivative 0
 * through them; the derivative conventions of sort, cumsum, prod and cummax.
 */
export function reductionCases(): Case[] {
  const c = (name: string, run: (e: LooseEngine) => void): Case => ({
    group: "reductions, scans and sorting: integer outputs and conventions",
    name,
    run: (ctx) => run(loose(ctx.engine)),
  });
  const x = () => tensor([0.5, -1.5, 2.5, -1.5, 1]);
  const asFloat = (t: Tensor) => ir.astype(t, "float64");
  return [
    c("argmin, argsort and topK indices are int32 values equal to eager, with zero derivative", (e) => {
      const [y] = e.vjp((t: Tensor) => asFloat(ir.argmin(t)), x());
      expectClose("argmin (first of tied minima) under vjp", y, [1], 0, 0);
      const [order] = e.vjp((t: Tensor) => asFloat(ir.argsort(t)), x());
      expectClose("argsort (stable) under vjp", order, [1, 3, 0, 4, 2], 0, 0);
      const [top] = e.vjp((t: Tensor) => asFloat(ir.topK(t, 3)[1]), x());
      expectClose("topK indices under vjp", top, [2, 4, 0], 0, 0);
      expectClose(
        "grad through argsort indices",
        e.grad((t: Tensor) => ir.sum(ir.mul(t, asFloat(ir.argsort(t)))))(x()),
        [1, 3, 0, 4, 2],
        0,
        0,
      );
      expectClose(
        "the element at argmin gets the gradient",
        e.grad((t: Tensor) => ir.mul(ir.take(t, ir.argmin(t)), 3))(x()),
        [0, 3, 0, 0, 0],
        0,
        0,
      );
    }),
    c("all and any are bool values equal to eager, with zero derivative through them", (e) => {
      const m = tensor([
        [1, 0, 2],
        [3, 4, -1],
      ]);
      const [y] = e.vjp((t: Tensor) => asFloat(ir.all(t, 1)), m);
      expectClose("all(axis 1) under vjp", y, [0, 1], 0, 0);
      const [z] = e.vjp((t: Tensor) => asFloat(ir.any(ir.greater(t, 2.5), 0)), m);
      expectClose("any(x > 2.5, axis 0) under vjp", z, [1, 1, 0], 0, 0);
      const g = e.grad((t: Tensor) => ir.sum(ir.mul(t, asFloat(ir.any(t, 1, true)))))(m);
      expectClose("grad(sum(x·any(x)))", g, [1, 1, 1, 1, 1, 1], 0, 0);
    }),
    c("sort's gradient scatters back through the permutation; topK's to the picked entries", (e) => {
      const w = tensor([1, 10, 100, 1000, 10000]);
      // sorted order of x: indices [1, 3, 0, 4, 2] (stable), so x[i] gets the weight of its sorted position
      expectClose("grad(Σ w·sort(x))", e.grad((t: Tensor) => ir.sum(ir.mul(ir.sort(t), w)))(x()), [100, 1, 10000, 10, 1000], 0, 0);
      const g = e.grad((t: Tensor) => ir.sum(ir.mul(ir.topK(t, 2)[0], tensor([1, 2]))))(x());
      expectClose("grad(Σ w·topK(x, 2) values)", g, [0, 0, 1, 0, 2], 0, 0);
    }),
    c("cumsum's transpose is the reversed cumsum", (e) => {
      const [, pullback] = e.vjp((t: Tensor) => ir.cumsum(t), x());
      expectClose("vjp of cumsum at [1, 2, 3, 4, 5]", pullback(tensor([1, 2, 3, 4, 5])), [15, 14, 12, 9, 5], 0, 0);
    }),
    c("prod's gradient with zero, one and two zeros needs no division", (e) => {
      const g = (v: number[]) => e.grad((t: Tensor) => ir.prod(t))(tensor(v));
      expectClose("grad prod [2, 3, 4]", g([2, 3, 4]), [12, 8, 6], 0, 0);
      expectClose("grad prod [2, 0, 4]", g([2, 0, 4]), [0, 8, 0], 0, 0);
      expectClose("grad prod [0, 3, 0]", g([0, 3, 0]), [0, 0, 0], 0, 0);
      const h = e.hessian((t: Tensor) => ir.prod(t))(tensor([0, 3, 0]));
      expectClose("hessian prod [0, 3, 0]", h, [0, 0, 3, 0, 0, 0, 3, 0, 0], 0, 0);
      const cp = e.grad((t: Tensor) => ir.sum(ir.cumprod(t)))(tensor([2, 0, 5]));
      // Σ cumprod = x₀ + x₀x₁ + x₀x₁x₂: ∂/∂x = [1 + x₁ + x₁x₂, x₀ + x₀x₂, x₀x₁]
      expectClose("grad Σ cumprod [2, 0, 5]", cp, [1, 12, 0], 0, 0);
    }),
    c("cummax and cummin send the gradient to the element holding the running extremum (ties: the latest)", (e) => {
      const w = tensor([1, 10, 100, 1000]);
      const gmax = e.grad((t: Tensor) => ir.sum(ir.mul(ir.cummax(t), w)))(tensor([1, 3, 3, 2]));
      expectClose("grad Σ w·cummax [1, 3, 3, 2]", gmax, [1, 10, 1100, 0], 0, 0);
      const gmin = e.grad((t: Tensor) => ir.sum(ir.mul(ir.cummin(t), w)))(tensor([2, 1, 4, 1]));
      expectClose("grad Σ w·cummin [2, 1, 4, 1]", gmin, [1, 110, 0, 1000], 0, 0);
    }),
  ];
}
