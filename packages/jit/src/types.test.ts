/**
 * The static types of the JIT's exports (type-checked by `tsc` in `npm run typecheck`, run by
 * Vitest so each type is also compared with what the call returns): inline functions get `Tensor`
 * parameters by context; JS numbers in give JS numbers out (as every engine), `jit(f)` accepts
 * numbers where `f` takes Tensors and returns `f`'s own result types. The `@ts-expect-error` lines
 * are the negative cases: each must stay a compile error.
 */
import { add, mul, sin, stack, sum, type Tensor, tensor } from "@chainrule/ir";
import { describe, expect, expectTypeOf, it } from "vitest";
import { engine, grad, hessian, hvp, jacobian, jit, jvp, valueAndGrad, vjp } from "./index.js";

const product = (x: Tensor, y: Tensor) => mul(x, y);
const t = (values: number | number[]) => tensor(values);

describe("jit types: inline functions get Tensor parameters by context", () => {
  it("jit, grad, valueAndGrad, jacobian, hessian (with options)", () => {
    const f = jit((x, y) => {
      expectTypeOf(x).toEqualTypeOf<Tensor>();
      expectTypeOf(y).toEqualTypeOf<Tensor>();
      return mul(x, y);
    });
    expect(f(3, 2).item()).toBe(6);
    const g = grad(
      (x, y) => {
        expectTypeOf(x).toEqualTypeOf<Tensor>();
        return mul(x, y);
      },
      [0, 1],
      { kernels: false },
    );
    expect(g(3, 2)).toEqual([2, 3]);
    const v = valueAndGrad((x) => {
      expectTypeOf(x).toEqualTypeOf<Tensor>();
      return sin(x);
    });
    expect(v(0)).toEqual([0, 1]);
    expect(
      jacobian((x) => {
        expectTypeOf(x).toEqualTypeOf<Tensor>();
        return mul(x, x);
      })(3),
    ).toBe(6);
    expect(
      hessian((x) => {
        expectTypeOf(x).toEqualTypeOf<Tensor>();
        return mul(x, mul(x, x));
      })(2),
    ).toBe(12);
  });

  it("jvp, vjp, hvp", () => {
    const [value, tangent] = jvp(
      (x, y) => {
        expectTypeOf(x).toEqualTypeOf<Tensor>();
        return mul(x, y);
      },
      [3, 2],
      [1, 0],
    );
    expect([value, tangent]).toEqual([6, 2]);
    const [out, pullback] = vjp((x) => {
      expectTypeOf(x).toEqualTypeOf<Tensor>();
      return mul(x, x);
    }, 3);
    expect([out, pullback(1)]).toEqual([9, [6]]);
    expect(
      hvp(
        (x) => {
          expectTypeOf(x).toEqualTypeOf<Tensor>();
          return mul(x, mul(x, x));
        },
        [2],
        [1],
      ),
    ).toEqual([12]);
  });

  it("a misspelt member of an inline parameter is a compile error", () => {
    // created, never called: only the types are under test
    const typos = [
      // @ts-expect-error shapee is not a member of Tensor
      () => jit((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => grad((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => valueAndGrad((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => jacobian((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => hessian((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => jvp((x) => x.shapee, [1], [1]),
      // @ts-expect-error shapee is not a member of Tensor
      () => vjp((x) => x.shapee, 1),
      // @ts-expect-error shapee is not a member of Tensor
      () => hvp((x) => x.shapee, [1], [1]),
      // @ts-expect-error shapee is not a member of Tensor
      () => engine.grad((x) => x.shapee),
    ];
    expect(typos).toHaveLength(9);
  });
});

describe("jit types: results follow the call's arguments", () => {
  it("jit(f) accepts numbers where f takes Tensors and keeps f's result types", () => {
    const f = jit(product);
    const fromNumbers = f(3, 2);
    expectTypeOf(fromNumbers).toEqualTypeOf<Tensor>();
    expect(fromNumbers.item()).toBe(6);
    expectTypeOf(f(t([1, 2]), 2)).toEqualTypeOf<Tensor>();
    const tree = jit((x: Tensor, k: number) => ({ y: mul(x, k), unit: 1 }))(t(2), 3);
    expectTypeOf(tree).toEqualTypeOf<{ y: Tensor; unit: number }>();
    expect(tree.y.item()).toBe(6);
    expect(tree.unit).toBe(1);
    // @ts-expect-error product takes two arguments
    expect(() => f(3)).toThrow();
    // @ts-expect-error a string is not a Tensor
    expect(() => f(3, "2")).toThrow();
  });

  it("grad, valueAndGrad, jvp, vjp, hvp", () => {
    const both = grad(product, [0, 1]);
    expectTypeOf(both(3, 2)).toEqualTypeOf<[number, number]>();
    expect(both(3, 2)).toEqual([2, 3]);
    const tensors = both(t(3), t(2));
    expectTypeOf(tensors).toEqualTypeOf<[Tensor, Tensor]>();
    expect(tensors[0].item()).toBe(2);
    expectTypeOf(both.source).toEqualTypeOf<string | undefined>();
    expectTypeOf(valueAndGrad(product)(3, 2)).toEqualTypeOf<[number, number]>();
    expectTypeOf(valueAndGrad(product)(t(3), 2)).toEqualTypeOf<[Tensor, Tensor]>();
    expectTypeOf(jvp(product, [3, 2], [1, 0])).toEqualTypeOf<[number, number]>();
    expectTypeOf(jvp(product, [t(3), 2], [1, 0])).toEqualTypeOf<[Tensor, Tensor]>();
    const [value, pullback] = vjp(product, 3, t(2));
    expectTypeOf(value).toEqualTypeOf<Tensor>();
    expectTypeOf(pullback(1)).toEqualTypeOf<[number, Tensor]>();
    expect(pullback(1)[0]).toBe(2);
    const hv = hvp(product, [3, 2], [1, 0]);
    expectTypeOf(hv).toEqualTypeOf<[number, number]>();
    expect(hv).toEqual([0, 1]);
  });

  it("jacobian and hessian need no casts", () => {
    expectTypeOf(jacobian(sin)(0)).toEqualTypeOf<number>();
    expect(jacobian(sin)(0)).toBe(1);
    const matrix = jacobian((x: Tensor) => mul(x, x))(t([1, 2]));
    expectTypeOf(matrix).toEqualTypeOf<Tensor>();
    expect(matrix.toArray()).toEqual([
      [2, 0],
      [0, 4],
    ]);
    const tree = jacobian((x: Tensor) => ({ a: sum(x), b: [mul(x, 2)] }))(1);
    expectTypeOf(tree).toEqualTypeOf<{ a: number; b: number[] }>();
    expect(tree).toEqual({ a: 1, b: [2] });
    const vector = jacobian((x: Tensor) => stack([x, mul(x, x)]))(t(2));
    expectTypeOf(vector).toEqualTypeOf<Tensor>();
    expect(vector.toArray()).toEqual([1, 4]);
    const mixed = jacobian((p: { w: Tensor; s: Tensor }) => mul(sum(p.w), p.s))({ w: t([1, 2]), s: 3 });
    expectTypeOf(mixed).toEqualTypeOf<{ w: Tensor; s: Tensor }>();
    expect(mixed.s.item()).toBe(3);
    const h = hessian((x: Tensor, y: Tensor) => mul(add(x, y), mul(x, y)), [0, 1])(1, 2);
    expectTypeOf(h).toEqualTypeOf<[[number, number], [number, number]]>();
    expect(h).toEqual([
      [4, 6],
      [6, 2],
    ]);
    expectTypeOf(hessian(product)(t(2), t(3))).toEqualTypeOf<Tensor>();
  });
});
