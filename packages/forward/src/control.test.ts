/**
 * Structured control flow (issue 19) in the forward engine: loops run in JS on dual numbers, so
 * every transformation (grad, jacobian and hessian are forward mode here) follows the steps,
 * whileLoop included (its trip count may depend on data: forward mode needs no tape). Values and
 * derivatives at orders 1 and 2 against unrolled loops run in every engine's conformance suite
 * (conformance/src/optable/control.ts).
 */
import * as ir from "@chainrule/ir";
import { type Tensor, tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad, hessian, jacobian } from "./index.js";

describe("structured control flow in forward mode", () => {
  it("grad of a whileLoop follows the data-dependent trip count (forward mode differentiates it)", () => {
    const doubling = (x: Tensor) =>
      ir.whileLoop(
        (c: Tensor) => ir.less(c, 10),
        (c: Tensor) => ir.mul(c, 2),
        x,
      );
    expect((grad(doubling)(ir.scalar(1.5)) as Tensor).item()).toBe(8);
    expect((grad(doubling)(ir.scalar(3)) as Tensor).item()).toBe(4);
  });

  it("jacobian of a scan's stacked ys: ys[t] = c entering step t, c ← c·x[t]", () => {
    const ys = (xs: Tensor) => ir.scan((c: Tensor, x: Tensor) => [ir.mul(c, x), c] as const, ir.scalar(1), xs)[1];
    // ys = [1, x0, x0·x1]
    const j = jacobian(ys)(tensor([2, 3, 5])) as Tensor;
    expect(Array.from(j.data)).toEqual([0, 0, 0, 1, 0, 0, 3, 2, 0]);
  });

  it("hessian through cond and a pytree forLoop carry", () => {
    const f = (x: Tensor) => {
      const out = ir.forLoop(0, 2, (_i: Tensor, k: { a: Tensor; b: Tensor }) => ({ a: ir.mul(k.a, k.b), b: k.b }), { a: x, b: x });
      return ir.cond(
        ir.greater(out.a, 0),
        (v: Tensor) => v,
        (v: Tensor) => ir.neg(v),
        out.a,
      );
    };
    // out.a = x³: for x > 0 f = x³ (f″ = 6x), for x < 0 f = −x³ (f″ = −6x)
    expect((hessian(f)(ir.scalar(2)) as Tensor).item()).toBe(12);
    expect((hessian(f)(ir.scalar(-2)) as Tensor).item()).toBe(12);
  });
});
