import { describe, expect, it } from "vitest";
import {
  add,
  mul,
  sub,
  sin,
  exp,
  sum,
  tensor,
  maximum,
  max,
  sqrt,
  abs,
  relu,
  customJvp,
  customVjp,
  cos,
  ForwardModeError,
  neg,
  stopGradient,
  type Tensor,
} from "@chainrule/ir";
import { interpreter as E } from "./ad.js";

describe("interpretive engine", () => {
  it("seed gradient", () => {
    expect(E.grad((x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y)), [0, 1])(3, 2)).toEqual([6, -4]);
  });
  it("third order and perturbation confusion", () => {
    const g3 = E.grad(E.grad(E.grad((x: Tensor) => mul(sin(x), exp(x)))));
    const x = 0.7;
    // d³/dx³ (sin x eˣ) = 2eˣ(cos x − sin x)
    expect(g3(x)).toBeCloseTo(2 * Math.exp(x) * (Math.cos(x) - Math.sin(x)), 10);
    const conf = E.grad((x: Tensor) => mul(x, E.grad((y: Tensor) => add(x, y))(1)));
    expect(conf(1)).toBe(1);
  });
  it("conventions", () => {
    expect(E.grad((x: Tensor) => maximum(x, 2))(2)).toBe(0.5);
    expect(E.grad((x: Tensor) => abs(x))(0)).toBe(0);
    expect(E.grad((x: Tensor) => relu(x))(0)).toBe(0);
    expect(E.grad((x: Tensor) => sqrt(x))(0)).toBe(Infinity);
    expect(E.grad((x: Tensor) => max(x))(tensor([1, 3, 3])).toArray()).toEqual([0, 0.5, 0.5]);
    expect(E.grad((x: Tensor) => mul(stopGradient(x), x))(3)).toBe(3);
  });
  it("custom rules in both modes", () => {
    const f = customJvp(
      (x: Tensor) => sin(x),
      ([x], [t]) => [sin(x!), mul(t!, 2)],
    );
    expect(E.grad((x: Tensor) => f(x))(1)).toBe(2);
    expect(E.jvp((x: Tensor) => f(x), [1], [1])[1]).toBe(2);
    const g = customVjp(
      (x: Tensor) => cos(x),
      (x: Tensor) => [cos(x), x],
      (_r: Tensor, ct: Tensor) => [mul(ct, 3)],
    );
    expect(E.grad((x: Tensor) => g(x))(1)).toBe(3);
    // forward mode of a customVjp function is an error (bwd is never transposed into a jvp) ...
    expect(() => E.jvp((x: Tensor) => g(x), [1], [1])).toThrow(ForwardModeError);
    // ... and the "auto" Jacobian, which would pick forward mode for one input, takes rows instead
    expect(E.jacobian((x: Tensor) => g(x))(1)).toBe(3);
    expect((E.jacobian((x: Tensor) => mul(g(x), tensor([1, 2])))(1) as unknown as Tensor).toArray()).toEqual([3, 6]);
    expect(E.hessian((x: Tensor) => sum(mul(x, mul(x, x))))(tensor([1, 2]))).toBeTruthy();
    void neg;
  });
});
