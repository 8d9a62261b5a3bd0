/**
 * Structured control flow under the JIT (issue 19): loops compile to loops (the graph does not
 * grow with the trip count, derivatives included), a cond on a traced predicate compiles to a
 * branch, and values and derivatives equal the unrolled JS loop's (orders 1 and 2).
 */
import * as ir from "@chainrule/ir";
import { ArgumentError, type Tensor, tensor } from "@chainrule/ir";
import { afterEach, describe, expect, it } from "vitest";
import { compileGraph, compileStats, grad, hessian, jit, jvp, resetCompileStats } from "./index.js";

const item = (t: unknown) => (t as Tensor).item();
const lastNodes = () => compileStats().events.at(-1)!.nodes;

afterEach(() => resetCompileStats());

/** c ← 0.999999·c + x, n times from 0. */
const leaky = (n: number) => (x: Tensor) =>
  ir.forLoop(0, n, (_i: Tensor, c: Tensor) => ir.add(ir.mul(c, 0.999999), x), ir.scalar(0)) as Tensor;
/** The same loop in plain JS; with x = 1 it is also ∂c/∂x (d ← 0.999999·d + 1). */
const leakyJs = (n: number, x: number) => {
  let c = 0;
  for (let i = 0; i < n; i++) c = c * 0.999999 + x;
  return c;
};

describe("loops compile to loops", () => {
  it("a 10⁶-step forLoop compiles to a graph the size of a 10-step one, and runs", () => {
    resetCompileStats();
    expect(item(jit(leaky(10))(ir.scalar(2)))).toBe(leakyJs(10, 2));
    const small = lastNodes();
    expect(item(jit(leaky(1_000_000))(ir.scalar(2)))).toBe(leakyJs(1_000_000, 2));
    expect(lastNodes()).toBe(small);
    expect(small).toBe(1);
  });

  it("its gradient is a forward loop storing the carries and a reversed loop: the graph stays small", () => {
    expect(item(grad(leaky(10))(ir.scalar(1)))).toBe(leakyJs(10, 1));
    const small = lastNodes();
    expect(item(grad(leaky(1_000_000))(ir.scalar(1)))).toBeCloseTo(leakyJs(1_000_000, 1), 6);
    expect(lastNodes()).toBe(small);
    expect(small).toBeLessThan(10);
  });

  it("the generated code calls the loop runtime instead of unrolling", () => {
    const g = ir.trace(leaky(1000), ir.scalar(1));
    const c = compileGraph(g);
    expect(c.source).toContain("rt_control(");
    expect(c.source.length).toBeLessThan(2000);
    expect((c.run(1) as number[])[0]).toBe(leakyJs(1000, 1));
  });
});

describe("cond on a traced predicate", () => {
  const f = (x: Tensor) =>
    ir.cond(
      ir.greater(x, 0),
      (a: Tensor) => ir.mul(a, ir.sin(a)),
      (a: Tensor) => ir.neg(ir.exp(a)),
      x,
    ) as Tensor;

  it("compiles (no ConcretizationError) and takes the branch the data picks, one compiled program for both", () => {
    resetCompileStats();
    const jf = jit(f);
    expect(item(jf(ir.scalar(2)))).toBe(2 * Math.sin(2));
    expect(item(jf(ir.scalar(-2)))).toBe(-Math.exp(-2));
    expect(compileStats().compiles).toBe(1);
  });

  it("derivatives: cond's VJP is a cond of the branches' VJPs (orders 1 and 2)", () => {
    expect(item(grad(f)(ir.scalar(2)))).toBeCloseTo(Math.sin(2) + 2 * Math.cos(2), 14);
    expect(item(grad(f)(ir.scalar(-2)))).toBeCloseTo(-Math.exp(-2), 14);
    expect(item(grad(grad(f))(ir.scalar(2)))).toBeCloseTo(2 * Math.cos(2) - 2 * Math.sin(2), 13);
    expect(item(jvp(f, [ir.scalar(-1)], [ir.scalar(1)])[1])).toBeCloseTo(-Math.exp(-1), 14);
  });

  it("switchCase on a traced index clamps it", () => {
    const s = jit((i: Tensor, x: Tensor) => ir.switchCase(i, [(a: Tensor) => ir.mul(a, 2), (a: Tensor) => ir.neg(a)], x));
    expect(item(s(ir.scalar(-4, "int32"), ir.scalar(3)))).toBe(6);
    expect(item(s(ir.scalar(9, "int32"), ir.scalar(3)))).toBe(-3);
  });
});

describe("scan and whileLoop under jit", () => {
  const xs = [0.5, -1.25, 2, 0.75];
  const scanned = (w: Tensor, x: Tensor) => {
    const [last, ys] = ir.scan((c: Tensor, v: Tensor) => [ir.tanh(ir.add(ir.mul(c, w), v)), ir.mul(c, c)], ir.mul(w, 0.5), x) as [
      Tensor,
      Tensor,
    ];
    return ir.add(last, ir.sum(ys));
  };
  const unrolled = (w: Tensor, x: Tensor) => {
    let c = ir.mul(w, 0.5);
    let total: Tensor = ir.scalar(0);
    for (let t = 0; t < xs.length; t++) {
      total = ir.add(total, ir.mul(c, c));
      c = ir.tanh(ir.add(ir.mul(c, w), ir.take(x, t)));
    }
    return ir.add(c, total);
  };

  it("value, gradients (w and xs) and Hessian equal the unrolled loop's", () => {
    const w = ir.scalar(0.8);
    const x = tensor(xs);
    expect(item(jit(scanned)(w, x))).toBeCloseTo(item(jit(unrolled)(w, x)), 14);
    const [gw, gx] = grad(scanned, [0, 1])(w, x) as [Tensor, Tensor];
    const [uw, ux] = grad(unrolled, [0, 1])(w, x) as [Tensor, Tensor];
    expect(item(gw)).toBeCloseTo(item(uw), 13);
    Array.from(gx.data).forEach((g, i) => expect(g).toBeCloseTo(ux.data[i]!, 13));
    expect(item(hessian(scanned)(w, x))).toBeCloseTo(item(hessian(unrolled)(w, x)), 12);
  });

  it("nested loops differentiate (a forLoop inside a scan body)", () => {
    const nested = (w: Tensor) =>
      (
        ir.scan(
          (c: Tensor, v: Tensor) => [ir.forLoop(0, 3, (_i: Tensor, k: Tensor) => ir.sin(ir.add(ir.mul(k, w), v)), c) as Tensor, c],
          ir.scalar(0.1),
          tensor(xs),
        ) as [Tensor, Tensor]
      )[0];
    const flat = (w: Tensor) => {
      let c: Tensor = ir.scalar(0.1);
      for (const v of xs) for (let i = 0; i < 3; i++) c = ir.sin(ir.add(ir.mul(c, w), v));
      return c;
    };
    expect(item(grad(nested)(ir.scalar(0.7)))).toBeCloseTo(item(grad(flat)(ir.scalar(0.7))), 13);
    expect(item(grad(grad(nested))(ir.scalar(0.7)))).toBeCloseTo(item(grad(grad(flat))(ir.scalar(0.7))), 12);
  });

  it("whileLoop: compiled, forward-differentiable, and refused in reverse mode with JAX's error", () => {
    const doubling = (x: Tensor) =>
      ir.whileLoop(
        (c: Tensor) => ir.less(c, 10),
        (c: Tensor) => ir.mul(c, 2),
        x,
      ) as Tensor;
    expect(item(jit(doubling)(ir.scalar(1.5)))).toBe(12);
    expect(item(jvp(doubling, [ir.scalar(1.5)], [ir.scalar(1)])[1])).toBe(8);
    expect(() => grad(doubling)(ir.scalar(1.5))).toThrow(ArgumentError);
    expect(() => grad(doubling)(ir.scalar(1.5))).toThrow(/whileLoop.*use forLoop with JS-number bounds or scan/);
  });

  it("forLoop with traced bounds is a whileLoop: one compiled program for every trip count, forward only", () => {
    const f = (n: Tensor, x: Tensor) => ir.forLoop(0, n, (_i: Tensor, c: Tensor) => ir.mul(c, x), ir.scalar(1)) as Tensor;
    resetCompileStats();
    const jf = jit(f);
    expect(item(jf(ir.scalar(4, "int32"), ir.scalar(3)))).toBe(81);
    expect(item(jf(ir.scalar(2, "int32"), ir.scalar(3)))).toBe(9);
    expect(compileStats().compiles).toBe(1);
    expect(() => grad(f, 1)(ir.scalar(4, "int32"), ir.scalar(3))).toThrow(/whileLoop/);
  });
});
