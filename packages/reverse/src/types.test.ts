/**
 * The static types of this package's transformations (type-checked by `tsc` in `npm run
 * typecheck`, run by Vitest so each type is also compared with what the engine returns): inline
 * functions get `Tensor` parameters by context, and JS numbers in give JS numbers out. The
 * `@ts-expect-error` lines are the negative cases: each must stay a compile error.
 */
import { add, mul, sin, sum, type Tensor, tensor } from "@chainrule/ir";
import { describe, expect, expectTypeOf, it } from "vitest";
import { engine, grad, hessian, hvp, jacobian, jvp, valueAndGrad, vjp } from "./index.js";

const product = (x: Tensor, y: Tensor) => mul(x, y);

describe("reverse types", () => {
  it("inline functions get Tensor parameters by context; typos are compile errors", () => {
    const g = grad(
      (x, y) => {
        expectTypeOf(x).toEqualTypeOf<Tensor>();
        expectTypeOf(y).toEqualTypeOf<Tensor>();
        return mul(x, y);
      },
      [0, 1],
    );
    expect(g(3, 2)).toEqual([2, 3]);
    const typos = [
      // @ts-expect-error shapee is not a member of Tensor
      () => grad((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => valueAndGrad((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => jvp((x) => x.shapee, [1], [1]),
      // @ts-expect-error shapee is not a member of Tensor
      () => vjp((x) => x.shapee, 1),
      // @ts-expect-error shapee is not a member of Tensor
      () => jacobian((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => hessian((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => hvp((x) => x.shapee, [1], [1]),
      // @ts-expect-error shapee is not a member of Tensor
      () => engine.grad((x) => x.shapee),
    ];
    expect(typos).toHaveLength(8);
  });

  it("numbers in give numbers out, Tensors give Tensors (the lean path and the general one agree)", () => {
    const numbers = grad(product, [0, 1])(3, 2);
    expectTypeOf(numbers).toEqualTypeOf<[number, number]>();
    expect(numbers).toEqual([2, 3]);
    const tensors = grad(product, [0, 1])(tensor(3), tensor(2));
    expectTypeOf(tensors).toEqualTypeOf<[Tensor, Tensor]>();
    expect(tensors[1].item()).toBe(3);
    const [value, gradient] = valueAndGrad((p: { w: Tensor; b: number }) => add(sum(p.w), p.b))({ w: tensor([1, 2]), b: 3 });
    expectTypeOf(value).toEqualTypeOf<Tensor>();
    expectTypeOf(gradient).toEqualTypeOf<{ w: Tensor; b: number }>();
    expect(gradient.b).toBe(1);
    expectTypeOf(jvp(product, [3, 2], [1, 0])).toEqualTypeOf<[number, number]>();
    expect(jvp(product, [3, 2], [1, 0])).toEqual([6, 2]);
    const [, pullback] = vjp(product, 3, 2);
    expectTypeOf(pullback(1)).toEqualTypeOf<[number, number]>();
    expectTypeOf(hvp(product, [3, 2], [1, 0])).toEqualTypeOf<[number, number]>();
    expect(hvp(product, [3, 2], [1, 0])).toEqual([0, 1]);
    expectTypeOf(jacobian(sin)(0)).toEqualTypeOf<number>();
    expect(jacobian(sin)(0)).toBe(1);
    const h = hessian((x: Tensor) => sum(mul(x, mul(x, x))))(tensor([1, 2]));
    expectTypeOf(h).toEqualTypeOf<Tensor>();
    expect(h.toArray()).toEqual([
      [6, 0],
      [0, 12],
    ]);
  });
});
