/**
 * Structured control flow (issue 19) in the reverse engine: loops run in JS and every step is
 * recorded on the tape (the tape grows with the trip count), the imperative API differentiates
 * through them, and whileLoop refuses reverse mode with JAX's error. Values and derivatives at
 * orders 1 and 2 against unrolled loops run in every engine's conformance suite
 * (conformance/src/optable/control.ts).
 */
import * as ir from "@chainrule/ir";
import { ArgumentError, type Tensor, tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad, jvp, tapeRows, variable, type Variable } from "./index.js";

const step = (x: Tensor) => (_i: Tensor, c: Tensor) => ir.add(ir.mul(ir.sin(c), x), 0.25);

describe("structured control flow in reverse mode", () => {
  it("a forLoop records each step: the tape of n steps holds n times the body's nodes", () => {
    const rows = (n: number) => tapeRows((x: Tensor) => ir.forLoop(0, n, step(x), x), [0.5]).length;
    expect(rows(6) - rows(3)).toBe(rows(3) - rows(0));
    expect(rows(3) - rows(0)).toBe(3 * 3);
  });

  it("grad of a scan equals the derivative written out by hand", () => {
    // c ← c·x over xs = [x, x, x] from c = 1: c = x³, and ys = [1, x, x²] sum to 1 + x + x²
    const f = (x: Tensor) => {
      const [c, ys] = ir.scan((k: Tensor, v: Tensor) => [ir.mul(k, v), k] as const, ir.scalar(1), ir.stack([x, x, x]));
      return ir.add(c, ir.sum(ys));
    };
    expect((grad(f)(ir.scalar(2)) as Tensor).item()).toBe(3 * 4 + 1 + 2 * 2);
    expect((grad(grad(f))(ir.scalar(2)) as Tensor).item()).toBe(6 * 2 + 2);
  });

  it("the imperative API differentiates through forLoop and cond", () => {
    const x = variable(tensor([0.5, -1.5]), { requiresGrad: true });
    const out = ir.forLoop(
      0,
      3,
      (_i: Tensor, c: Tensor) =>
        ir.cond(
          ir.greater(ir.sum(c), 0),
          (a: Tensor) => ir.mul(a, 2),
          (a: Tensor) => ir.mul(a, -1),
          c,
        ),
      x,
    );
    (ir.sum(out) as Variable).backward();
    // sum = −1 < 0: c ← −c gives [−0.5, 1.5] (sum 1 > 0), then c ← 2c twice: out = 4·(−x), ∂sum/∂x = −4
    expect(Array.from(out.data)).toEqual([-2, 6]);
    expect(Array.from(x.grad!.data)).toEqual([-4, -4]);
  });

  it("whileLoop: jvp works; grad, vjp and backward() throw JAX's error", () => {
    const doubling = (x: Tensor) =>
      ir.whileLoop(
        (c: Tensor) => ir.less(c, 10),
        (c: Tensor) => ir.mul(c, 2),
        x,
      );
    expect((jvp(doubling, [ir.scalar(1.5)], [ir.scalar(1)])[1] as Tensor).item()).toBe(8);
    expect(() => grad(doubling)(ir.scalar(1.5))).toThrow(ArgumentError);
    expect(() => grad(doubling)(ir.scalar(1.5))).toThrow(/^whileLoop: .*use forLoop with JS-number bounds or scan/);
    expect(() => doubling(variable(ir.scalar(1.5), { requiresGrad: true }))).toThrow(/whileLoop/);
    // a loop on values no reverse transformation differentiates runs under grad
    const counted = (x: Tensor) =>
      ir.mul(
        x,
        ir.whileLoop(
          (c: Tensor) => ir.less(c, 10),
          (c: Tensor) => ir.mul(c, 2),
          ir.scalar(1),
        ),
      );
    expect((grad(counted)(ir.scalar(3)) as Tensor).item()).toBe(16);
  });
});
