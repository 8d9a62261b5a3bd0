/**
 * This package's transformations have exactly the types of ir's `Engine` interface, whose
 * behaviour (Tensor parameters by context, numbers in → numbers out, the compile errors) ir's
 * types.test.ts pins once for every engine built on it. Type-checked by `tsc`, run by Vitest.
 */
import { type Engine, mul } from "@chainrule/ir";
import { describe, expect, expectTypeOf, it } from "vitest";
import { engine, grad, hessian, hvp, jacobian, jvp, valueAndGrad, vjp } from "./index.js";

describe("reverse types", () => {
  it("every transformation is typed as the Engine interface's", () => {
    expectTypeOf(engine).toMatchTypeOf<Engine>();
    expectTypeOf(grad).toEqualTypeOf<Engine["grad"]>();
    expectTypeOf(valueAndGrad).toEqualTypeOf<Engine["valueAndGrad"]>();
    expectTypeOf(jvp).toEqualTypeOf<Engine["jvp"]>();
    expectTypeOf(vjp).toEqualTypeOf<Engine["vjp"]>();
    expectTypeOf(jacobian).toEqualTypeOf<Engine["jacobian"]>();
    expectTypeOf(hessian).toEqualTypeOf<Engine["hessian"]>();
    expectTypeOf(hvp).toEqualTypeOf<Engine["hvp"]>();
  });

  it("an inline function gets Tensor parameters, and numbers give numbers", () => {
    const g = grad((x, y) => mul(x, y), [0, 1]);
    const [dx, dy] = g(3, 2);
    expectTypeOf(dx).toEqualTypeOf<number>();
    expect([dx, dy]).toEqual([2, 3]);
    // @ts-expect-error shapee is not a member of Tensor
    expect(() => grad((x) => x.shapee)(1)).toThrow();
  });
});
