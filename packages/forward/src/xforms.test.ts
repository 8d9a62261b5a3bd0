/**
 * The forward engine's own paths under issue 19's transformations: hasAux bypasses the lean
 * JS-number grad and the chunked Jacobian (which know nothing of aux), jacfwd is the chunked
 * Jacobian, checkpoint is f itself. Expected values are hand-computed.
 */
import { cos, mul, sin, sum, tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { checkpoint, createEngine, grad, hessian, jacfwd, jacobian, jacrev, linearize, valueAndGrad } from "./index.js";

describe("forward: hasAux, jacfwd/jacrev, linearize, checkpoint", () => {
  it("grad and valueAndGrad with hasAux on JS numbers (the lean path steps aside)", () => {
    // f(x, y) = x²·y, aux = x·y
    const f = (x: number, y: number) => [mul(mul(x, x), y), mul(x, y)];
    const [g, aux] = grad(f, [0, 1], { hasAux: true })(3, 2);
    expect(g).toEqual([12, 9]);
    expect((aux as Tensor).item()).toBe(6);
    const [[value, aux2], g2] = valueAndGrad(f, 0, { hasAux: true })(3, 2);
    expect(value).toBe(18);
    expect((aux2 as Tensor).item()).toBe(6);
    expect(g2).toBe(12);
  });

  it("jacobian with hasAux, on a small chunk size (several passes); jacfwd = jacrev = jacobian", () => {
    const small = createEngine({ chunkSize: 2 });
    const x = tensor([0.1, 0.2, 0.3, 0.4, 0.5]);
    const [J, aux] = small.jacobian((v: Tensor) => [sin(v), sum(v)], 0, { hasAux: true })(x);
    const cosines = [0.1, 0.2, 0.3, 0.4, 0.5].map(Math.cos);
    const rows = (J as Tensor).toArray() as number[][];
    rows.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(i === j ? cosines[i]! : 0, 14)));
    expect((aux as Tensor).item()).toBeCloseTo(1.5, 14);
    const f = (v: Tensor) => mul(v, cos(v));
    const expected = (jacobian(f)(x) as Tensor).toArray();
    expect((jacfwd(f)(x) as Tensor).toArray()).toEqual(expected);
    expect((jacrev(f)(x) as Tensor).toArray()).toEqual(expected);
  });

  it("linearize and checkpoint", () => {
    const [y, jvpFn] = linearize((v: number) => mul(v, v), 3);
    expect(y).toBe(9);
    expect(jvpFn(1)).toBe(6);
    expect(jvpFn(2)).toBe(12);
    const remat = checkpoint((v: number) => mul(sin(v), v));
    // d²/dx² x·sin x = 2cos x - x·sin x
    expect(hessian(remat)(0.7)).toBeCloseTo(2 * Math.cos(0.7) - 0.7 * Math.sin(0.7), 12);
  });
});
