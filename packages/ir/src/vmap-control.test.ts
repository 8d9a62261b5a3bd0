/**
 * vmap of structured control flow (issue 19): a batched predicate or index turns cond/switchCase
 * into a select, a batched whileLoop test runs while any element continues and freezes the
 * finished ones; loops with batched carries. Each against f applied to each element alone.
 */
import { describe, expect, it } from "vitest";
import {
  add,
  cond,
  forLoop,
  greater,
  less,
  mul,
  neg,
  scan,
  sin,
  stack,
  switchCase,
  take,
  toFunction,
  trace,
  vmapFallbacks,
  tensor,
  vmap,
  whileLoop,
} from "./index.js";
import type { Tensor } from "./tensor.js";

const xs = tensor([-1.5, 0.25, 2, -0.5, 3]);
const rowsOf = (t: Tensor) => Array.from({ length: t.shape[0]! }, (_, j) => take(t, j, 0));
/** f applied to each element alone, stacked: the reference. */
const stacked = (f: (x: Tensor) => Tensor, t: Tensor) => stack(rowsOf(t).map(f)).toArray();

describe("vmap of control flow with a batched predicate", () => {
  it("cond on a batched predicate selects per element (both branches run)", () => {
    const f = (x: Tensor) =>
      cond(
        greater(x, 0),
        (v: Tensor) => sin(v),
        (v: Tensor) => mul(v, 3),
        x,
      );
    expect(vmap(f)(xs).toArray()).toEqual(stacked(f, xs));
    // by hand: x > 0 ? sin x : 3x
    expect(vmap(f)(xs).toArray()).toEqual([-4.5, Math.sin(0.25), Math.sin(2), -1.5, Math.sin(3)]);
  });

  it("switchCase on a batched index: each element takes its own (clamped) branch", () => {
    const idx = tensor([0, 1, 2, 7, -3], { dtype: "int32" });
    const f = (i: Tensor, x: Tensor) => switchCase(i, [(v: Tensor) => neg(v), (v: Tensor) => mul(v, 10), (v: Tensor) => add(v, 100)], x);
    expect(vmap(f)(idx, xs).toArray()).toEqual([1.5, 2.5, 102, 99.5, -3]);
  });

  it("whileLoop with a batched test runs until every element stops, the finished ones unchanged", () => {
    // doubles x until it exceeds 10: a different trip count per element
    const f = (x: Tensor) =>
      whileLoop(
        (v: Tensor) => less(v, 10),
        (v: Tensor) => mul(v, 2),
        x,
      );
    const pos = tensor([0.3, 1, 7, 12, 2.5]);
    expect(vmap(f)(pos).toArray()).toEqual(stacked(f, pos));
    expect(vmap(f)(pos).toArray()).toEqual([19.2, 16, 14, 12, 10]);
  });

  it("forLoop and scan with batched carries equal the loop per element", () => {
    const f = (x: Tensor) => forLoop(0, 3, (_i: Tensor, c: Tensor) => add(mul(c, 0.5), sin(c)), x);
    expect(vmap(f)(xs).toArray()).toEqual(stacked(f, xs));
    const g = (x: Tensor) => scan((c: Tensor, s: Tensor) => [add(c, mul(s, x)), c] as const, x, tensor([1, 2, 3]))[0];
    expect(vmap(g)(xs).toArray()).toEqual(stacked(g, xs));
  });
  it("staged (trace + toFunction) gives the same per-element selection", () => {
    const f = (x: Tensor) =>
      cond(
        greater(x, 0),
        (v: Tensor) => sin(v),
        (v: Tensor) => mul(v, 3),
        x,
      );
    const w = (x: Tensor) =>
      whileLoop(
        (v: Tensor) => less(v, 10),
        (v: Tensor) => mul(v, 2),
        x,
      );
    const pos = tensor([0.3, 1, 7, 12, 2.5]);
    const run = (h: (x: Tensor) => Tensor, t: Tensor) => toFunction(trace(vmap(h), t))(t) as Tensor;
    expect(run(f, xs).toArray()).toEqual(stacked(f, xs));
    expect(run(w, pos).toArray()).toEqual(stacked(w, pos));
  });

  it("staged: a loop under vmap stays one control node whatever the batch size, no fallback", () => {
    const f = (x: Tensor) => forLoop(0, 50, (_i: Tensor, c: Tensor) => add(mul(c, 0.5), sin(x)), x);
    const g = (x: Tensor) => scan((c: Tensor, s: Tensor) => [add(c, mul(s, x)), mul(c, s)] as const, x, tensor([1, 2, 3]));
    const small = trace(vmap(f), tensor([1, 2]));
    const big = trace(vmap(f), xs);
    expect(big.nodes.length).toBe(small.nodes.length);
    expect((toFunction(big)(xs) as Tensor).toArray()).toEqual(stacked(f, xs));
    const [c, ys] = toFunction(trace(vmap(g), xs))(xs) as [Tensor, Tensor];
    expect(c.toArray()).toEqual(stacked((x) => g(x)[0], xs));
    expect(ys.toArray()).toEqual(stacked((x) => g(x)[1], xs));
    expect(vmapFallbacks()).toEqual([]);
  });

  it("staged: a shared predicate batches the branches; a cond inside a loop body on a batched value selects", () => {
    const f = (p: Tensor, x: Tensor) =>
      cond(
        p,
        (v: Tensor) => sin(v),
        (v: Tensor) => mul(v, 3),
        x,
      );
    for (const p of [tensor(true), tensor(false)]) {
      const got = toFunction(trace(vmap(f, { inAxes: [null, 0] }), p, xs))(p, xs) as Tensor;
      expect(got.toArray()).toEqual(stacked((x) => f(p, x), xs));
    }
    // the cond node sits inside the loop body: batched by the body's batch trace
    const h = (x: Tensor) =>
      forLoop(
        0,
        4,
        (_i: Tensor, c: Tensor) =>
          cond(
            greater(c, 1),
            (v: Tensor) => mul(v, 0.5),
            (v: Tensor) => add(v, 0.75),
            c,
          ),
        x,
      );
    expect((toFunction(trace(vmap(h), xs))(xs) as Tensor).toArray()).toEqual(stacked(h, xs));
  });
});
