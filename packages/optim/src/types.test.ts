/**
 * The static types of the optimizers (type-checked by `tsc` in `npm run typecheck`, run by
 * Vitest): `update` and `step` check the gradient tree against the params' type — the same keys
 * and nesting, a Tensor where the params have a Tensor, a number where they have a number. The
 * `@ts-expect-error` lines are the negative cases: each must stay a compile error.
 */
import { add, mse, mul, sum, type Tensor, tensor } from "@chainrule/ir";
import { valueAndGrad } from "@chainrule/reverse";
import { describe, expect, expectTypeOf, it } from "vitest";
import { adam, type GradsOf, lbfgs, minimize, sgd } from "./index.js";

type Linear = { w: Tensor; b: Tensor };

describe("optimizer types: grads must fit the params", () => {
  it("GradsOf mirrors the params", () => {
    expectTypeOf<GradsOf<Linear>>().toEqualTypeOf<{ readonly w: Tensor; readonly b: Tensor }>();
    expectTypeOf<GradsOf<{ w: number; layers: { k: Tensor }[] }>>().toEqualTypeOf<{
      readonly w: number;
      readonly layers: readonly { readonly k: Tensor }[];
    }>();
    expectTypeOf<GradsOf<[number, Tensor]>>().toEqualTypeOf<readonly [number, Tensor]>();
  });

  it("update takes grads of the params' shape and returns params of their type", () => {
    const opt = sgd({ lr: 0.5 });
    const params: Linear = { w: tensor([1, 2]), b: tensor(0) };
    const state = opt.init(params);
    const next = opt.update({ w: tensor([1, 1]), b: tensor(2) }, state, params);
    expectTypeOf(next.params).toEqualTypeOf<Linear>();
    expect(next.params.w.toArray()).toEqual([0.5, 1.5]);
    expect(next.params.b.item()).toBe(-1);
    // an engine's gradient fits without a cast
    const loss = (p: Linear) => sum(mul(add(p.w, p.b), p.w));
    const [, grads] = valueAndGrad(loss)(params);
    expectTypeOf(grads).toEqualTypeOf<{ w: Tensor; b: Tensor }>();
    expect(opt.update(grads, state, params).params.w.toArray()).toEqual([0, 0]); // w − 0.5·(2w + b)
  });

  it("numbers where the params are numbers", () => {
    const opt = adam({ lr: 0.1 });
    const params = { w: 0, b: 1 };
    const state = opt.init(params);
    const next = opt.update({ w: 1, b: -1 }, state, params);
    expectTypeOf(next.params).toEqualTypeOf<{ w: number; b: number }>();
    expect(next.params.w).toBeCloseTo(-0.1, 6); // Adam's first step is lr·sign(g)
    // @ts-expect-error a Tensor gradient where the param is a number
    expect(() => opt.update({ w: tensor([1, 2]), b: 1 }, state, params)).toThrow(/a gradient of shape \[\] at grads.w/);
  });

  it("wrong keys or structure are compile errors (and run-time errors)", () => {
    const opt = sgd({ lr: 0.1 });
    const params: Linear = { w: tensor([1, 2]), b: tensor(0) };
    const state = opt.init(params);
    // @ts-expect-error the grads have a key c where the params have b
    expect(() => opt.update({ w: tensor([1, 1]), c: tensor(1) }, state, params)).toThrow(/structure of params/);
    // @ts-expect-error b is missing
    expect(() => opt.update({ w: tensor([1, 1]) }, state, params)).toThrow(/structure of params/);
    // @ts-expect-error an array where the params are an object
    expect(() => opt.update([tensor([1, 1]), tensor(1)], state, params)).toThrow(/structure of params/);
    // @ts-expect-error a number where the params have a Tensor of shape [2]
    expect(() => opt.update({ w: 1, b: tensor(1) }, state, params)).toThrow(/shape \[2\]/);
  });

  it("step's objective returns grads of the params' shape", () => {
    const opt = lbfgs({ lineSearch: "strongWolfe" });
    const params = { x: 3 };
    const state = opt.init(params);
    const result = opt.step((p) => ({ loss: (p.x - 1) ** 2, grads: { x: 2 * (p.x - 1) } }), state, params);
    expectTypeOf(result.params).toEqualTypeOf<{ x: number }>();
    expectTypeOf(result.grads).toEqualTypeOf<{ readonly x: number }>();
    expect(result.params.x).toBeCloseTo(1, 6);
    // @ts-expect-error the objective's grads have a key y where the params have x
    expect(() => opt.step((p) => ({ loss: p.x ** 2, grads: { y: 2 * p.x } }), state, params)).toThrow(/structure of params/);
  });

  it("minimize: the loss gets the params' type by context", () => {
    const xs = tensor([0, 1, 2]);
    const ys = tensor([1, 3, 5]);
    const result = minimize(
      (p) => {
        expectTypeOf(p).toEqualTypeOf<{ w: number; b: number }>();
        return mse(add(mul(p.w, xs), p.b), ys);
      },
      { w: 0, b: 0 },
      { engine: { valueAndGrad }, optimizer: sgd({ lr: 0.1 }), steps: 20, quiet: true },
    );
    expectTypeOf(result.params).toEqualTypeOf<{ w: number; b: number }>();
    expect(result.loss).toBeLessThan(result.losses[0]! / 10);
  });
});
