/**
 * The static types of the `Engine` API (type-checked by `tsc` in `npm run typecheck`, run by
 * Vitest so each type is also compared with what the call returns):
 * - inline functions get `Tensor` parameters by context, and a typo on them is a compile error;
 * - JS numbers in give JS numbers out, Tensors give Tensors, pytrees keep their structure.
 * The `@ts-expect-error` lines are the negative cases: each must stay a compile error.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { expectTensor } from "./__tests__/helpers.js";
import { toy } from "./__tests__/toy-engine.js";
import { add, mul, sin, stack, sum, type Tensor, tensor } from "./index.js";

const seed = (x: Tensor, y: Tensor) => mul(add(x, y), add(x, mul(y, -1)));
const t = (values: number | number[]) => tensor(values);

describe("Engine types: inline functions get Tensor parameters by context", () => {
  it("grad, valueAndGrad, jacobian, hessian", () => {
    const g = toy.grad(
      (x, y) => {
        expectTypeOf(x).toEqualTypeOf<Tensor>();
        expectTypeOf(y).toEqualTypeOf<Tensor>();
        return mul(x, y);
      },
      [0, 1],
    );
    expect(g(3, 2)).toEqual([2, 3]);
    const v = toy.valueAndGrad((x) => {
      expectTypeOf(x).toEqualTypeOf<Tensor>();
      return sin(x);
    });
    expect(v(0)).toEqual([0, 1]);
    const j = toy.jacobian((x) => {
      expectTypeOf(x).toEqualTypeOf<Tensor>();
      return mul(x, x);
    });
    expect(j(3)).toBe(6);
    const h = toy.hessian((x) => {
      expectTypeOf(x).toEqualTypeOf<Tensor>();
      return mul(x, mul(x, x));
    });
    expect(h(2)).toBe(12);
  });

  it("jvp, vjp, hvp", () => {
    const [value, tangent] = toy.jvp(
      (x, y) => {
        expectTypeOf(x).toEqualTypeOf<Tensor>();
        expectTypeOf(y).toEqualTypeOf<Tensor>();
        return mul(x, y);
      },
      [3, 2],
      [1, 0],
    );
    expect([value, tangent]).toEqual([6, 2]);
    const [out, pullback] = toy.vjp((x) => {
      expectTypeOf(x).toEqualTypeOf<Tensor>();
      return mul(x, x);
    }, 3);
    expect([out, pullback(1)]).toEqual([9, [6]]);
    const hv = toy.hvp(
      (x) => {
        expectTypeOf(x).toEqualTypeOf<Tensor>();
        return mul(x, mul(x, x));
      },
      [2],
      [1],
    );
    expect(hv).toEqual([12]);
  });

  it("a misspelt member of an inline parameter is a compile error", () => {
    // created, never called: only the types are under test
    const typos = [
      // @ts-expect-error shapee is not a member of Tensor
      () => toy.grad((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => toy.valueAndGrad((x) => sum(x.shapee)),
      // @ts-expect-error shapee is not a member of Tensor
      () => toy.jacobian((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => toy.hessian((x) => x.shapee),
      // @ts-expect-error shapee is not a member of Tensor
      () => toy.jvp((x) => x.shapee, [1], [1]),
      // @ts-expect-error shapee is not a member of Tensor
      () => toy.vjp((x) => x.shapee, 1),
      // @ts-expect-error shapee is not a member of Tensor
      () => toy.hvp((x) => x.shapee, [1], [1]),
    ];
    expect(typos).toHaveLength(7);
  });
});

describe("Engine types: results follow the call's arguments", () => {
  it("grad: numbers give numbers, Tensors give Tensors, per argument", () => {
    const both = toy.grad(seed, [0, 1]);
    const numbers = both(3, 2);
    expectTypeOf(numbers).toEqualTypeOf<[number, number]>();
    expect(numbers).toEqual([6, -4]);
    const tensors = both(t(3), t(2));
    expectTypeOf(tensors).toEqualTypeOf<[Tensor, Tensor]>();
    expectTensor(tensors[0], 6);
    const mixed = both(3, t(2));
    expectTypeOf(mixed).toEqualTypeOf<[number, Tensor]>();
    expect(mixed[0]).toBe(6);
    expectTensor(mixed[1], -4);
    expectTypeOf(toy.grad(seed)(3, 2)).toEqualTypeOf<number>();
    expectTypeOf(toy.grad(seed, 1)(3, t(2))).toEqualTypeOf<Tensor>();
    expectTypeOf(toy.grad(sin)(0.5)).toEqualTypeOf<number>();
    expectTypeOf(toy.grad(toy.grad(sin))(0.5)).toEqualTypeOf<number>();
    expect(toy.grad(toy.grad(sin))(0.5)).toBeCloseTo(-Math.sin(0.5), 15);
    // ops passed directly (their parameters are TensorLike, a recursive type) nest without TS2589
    const third = toy.grad(toy.grad(toy.grad(sin)));
    expectTypeOf(third(0)).toEqualTypeOf<number>();
    expect(third(0)).toBe(-1); // −cos 0
  });

  it("grad: pytrees keep their structure, extra arguments are not differentiated", () => {
    const loss = (p: { w: Tensor; b: number[] }, x: Tensor) => add(sum(mul(p.w, x)), mul(p.b[0]!, 3));
    const g = toy.grad(loss)({ w: t([1, 2]), b: [5] }, t([10, 20]));
    expectTypeOf(g).toEqualTypeOf<{ w: Tensor; b: number[] }>();
    expectTensor(g.w, [10, 20]);
    expect(g.b).toEqual([3]);
    const numbers = toy.grad(loss)({ w: 1, b: [5] }, 2);
    expectTypeOf(numbers).toEqualTypeOf<{ w: number; b: number[] }>();
    expect(numbers).toEqual({ w: 2, b: [3] });
    const scaled = toy.grad((x: Tensor, k: number) => mul(x, k))(2, 3);
    expectTypeOf(scaled).toEqualTypeOf<number>();
    expect(scaled).toBe(3);
  });

  it("valueAndGrad: the value is a number when every differentiated argument is", () => {
    const numbers = toy.valueAndGrad(seed, [0, 1])(3, 2);
    expectTypeOf(numbers).toEqualTypeOf<[number, [number, number]]>();
    expect(numbers).toEqual([5, [6, -4]]);
    const tensors = toy.valueAndGrad(seed)(t(3), 2);
    expectTypeOf(tensors).toEqualTypeOf<[Tensor, Tensor]>();
    expectTensor(tensors[0], 5);
    // only argument 1 is differentiated, and it is a number
    const second = toy.valueAndGrad(seed, 1)(t(3), 2);
    expectTypeOf(second).toEqualTypeOf<[number, number]>();
    expect(second).toEqual([5, -4]);
  });

  it("jvp, vjp and hvp follow the primals", () => {
    const numbers = toy.jvp(seed, [3, 2], [1, 0]);
    expectTypeOf(numbers).toEqualTypeOf<[number, number]>();
    expect(numbers).toEqual([5, 6]);
    const tensors = toy.jvp(seed, [t(3), 2], [1, 0]);
    expectTypeOf(tensors).toEqualTypeOf<[Tensor, Tensor]>();
    expectTensor(tensors[1], 6);
    const [tree, treeTangent] = toy.jvp((x: Tensor) => ({ s: sum(x), d: mul(x, 2) }), [t([1, 2])], [t([1, 1])]);
    expectTypeOf(treeTangent).toEqualTypeOf<{ s: Tensor; d: Tensor }>();
    expectTensor(tree.s, 3);

    const [value, pullback] = toy.vjp(seed, 3, 2);
    expectTypeOf(value).toEqualTypeOf<number>();
    expectTypeOf(pullback(1)).toEqualTypeOf<[number, number]>();
    expect(pullback(1)).toEqual([6, -4]);
    const [, pullMixed] = toy.vjp(seed, t(3), 2);
    expectTypeOf(pullMixed(1)).toEqualTypeOf<[Tensor, number]>();
    expect(pullMixed(1)[1]).toBe(-4);

    const hv = toy.hvp(seed, [3, 2], [1, 1]);
    expectTypeOf(hv).toEqualTypeOf<[number, number]>();
    expect(hv).toEqual([2, -2]);
    const f = (p: { w: Tensor; s: Tensor }) => mul(sum(mul(p.w, p.w)), p.s);
    const [mirrored] = toy.hvp(f, [{ w: t([1, 2]), s: 3 }], [{ w: t([1, 0]), s: 1 }]);
    expectTypeOf(mirrored).toEqualTypeOf<{ w: Tensor; s: number }>();
    expectTensor(mirrored.w, [8, 4]);
    expect(mirrored.s).toBe(2);
  });

  it("jacobian and hessian need no casts", () => {
    const scalar = toy.jacobian(sin)(0);
    expectTypeOf(scalar).toEqualTypeOf<number>();
    expect(scalar).toBe(1);
    const matrix = toy.jacobian((x: Tensor) => mul(x, x))(t([1, 2]));
    expectTypeOf(matrix).toEqualTypeOf<Tensor>();
    expectTensor(matrix, [
      [2, 0],
      [0, 4],
    ]);
    expectTypeOf(toy.jacobian(seed, [0, 1])(3, 2)).toEqualTypeOf<[number, number]>();
    const tree = toy.jacobian((x: Tensor) => ({ a: sum(x), b: [mul(x, 2)] }))(t([1, 2]));
    expectTypeOf(tree).toEqualTypeOf<{ a: Tensor; b: Tensor[] }>();
    expectTensor(tree.a, [1, 1]);
    const vector = toy.jacobian((x: Tensor) => stack([x, mul(x, x)]))(t(2));
    expectTypeOf(vector).toEqualTypeOf<Tensor>();
    expectTensor(vector, [1, 4]);

    const hessian = toy.hessian((x: Tensor) => sum(mul(x, mul(x, x))))(t([1, 2]));
    expectTypeOf(hessian).toEqualTypeOf<Tensor>();
    expectTensor(hessian, [
      [6, 0],
      [0, 12],
    ]);
    const second = toy.hessian(sin)(0.5);
    expectTypeOf(second).toEqualTypeOf<number>();
    expect(second).toBeCloseTo(-Math.sin(0.5), 15);
    // a tree of outputs: the output's structure, a Hessian block per leaf (f(x) = {a: Σx³, b: [Σx²]})
    const perOutput = toy.hessian((x: Tensor) => ({ a: sum(mul(x, mul(x, x))), b: [sum(mul(x, x))] }))(t([1, 2]));
    expectTypeOf(perOutput).toEqualTypeOf<{ a: Tensor; b: Tensor[] }>();
    expectTensor(perOutput.a, [
      [6, 0],
      [0, 12],
    ]);
    expectTensor(perOutput.b[0]!, [
      [2, 0],
      [0, 2],
    ]);
    // a number input, a pair of outputs: d²/dx² [x³, sin x] at 0.5 = [3, −sin 0.5]
    const pair = toy.hessian((x: Tensor) => [mul(x, mul(x, x)), sin(x)] as const)(0.5);
    expectTypeOf(pair).toEqualTypeOf<[number, number]>();
    expect(pair[0]).toBeCloseTo(3, 12);
    expect(pair[1]).toBeCloseTo(-Math.sin(0.5), 12);
    const block = toy.hessian(seed, [0, 1])(3, 2);
    expectTypeOf(block).toEqualTypeOf<[[number, number], [number, number]]>();
    expect(block).toEqual([
      [2, 0],
      [0, -2],
    ]);
  });

  it("arguments that do not fit the function are compile errors", () => {
    // @ts-expect-error seed takes two arguments
    expect(() => toy.grad(seed)(3)).toThrow();
    // @ts-expect-error a string is not a Tensor
    expect(() => toy.grad(seed)(3, "2")).toThrow();
    const loss = (p: { w: Tensor }) => sum(p.w);
    // @ts-expect-error the params have no key v
    expect(() => toy.grad(loss)({ v: 1 })).toThrow();
    // @ts-expect-error the tangents need one entry per primal
    expect(() => toy.jvp(seed, [3, 2], [1])).toThrow();
    // @ts-expect-error seed takes two arguments
    expect(() => toy.hvp(seed, [3], [1])).toThrow();
  });
});

describe("Engine types: hasAux, linearize, jacfwd/jacrev, checkpoint (issue 19)", () => {
  it("results carry aux's type; inline functions still get Tensor parameters", () => {
    const f = (x: Tensor) => [sum(mul(x, x)), { label: 1, y: x }] as const;
    const [g, aux] = toy.grad(f, 0, { hasAux: true })(t([1, 2]));
    expectTypeOf(g).toEqualTypeOf<Tensor>();
    expectTypeOf(aux).toEqualTypeOf<{ label: number; y: Tensor }>();
    expectTensor(g, [2, 4]);
    const [[value, aux2], g2] = toy.valueAndGrad(f, 0, { hasAux: true })(t([1, 2]));
    expectTypeOf(value).toEqualTypeOf<Tensor>();
    expectTypeOf(aux2.label).toEqualTypeOf<number>();
    expectTypeOf(g2).toEqualTypeOf<Tensor>();
    const [, pullback, aux3] = toy.vjp(f, t([1, 2]), { hasAux: true });
    expectTypeOf(aux3.y).toEqualTypeOf<Tensor>();
    expectTensor(pullback(1)[0], [2, 4]);
    const jf = toy.jacfwd((x) => {
      expectTypeOf(x).toEqualTypeOf<Tensor>();
      return mul(x, x);
    });
    expect(jf(3)).toBe(6);
    const [y, jvpFn] = toy.linearize((x: number) => mul(x, x), 3);
    expectTypeOf(y).toEqualTypeOf<number>();
    expect(jvpFn(1)).toBe(6);
    const layer = toy.checkpoint((x: Tensor) => sin(x));
    expectTypeOf(layer).toEqualTypeOf<(x: Tensor) => Tensor>();
    // @ts-expect-error: hasAux is a boolean
    expect(() => toy.grad(f, 0, { hasAux: 1 })).toThrow("grad: expected hasAux to be a boolean, got number 1");
  });
});
