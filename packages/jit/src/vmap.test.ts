/**
 * vmap under the JIT: jit(vmap(f)) and jit(vmap(grad(f))) compile one program whose size does not
 * depend on the batch size (compileStats' node counts), with values equal to a loop; grad of a
 * vmapped function compiles; vmap of a compiled function runs (interpreted, as any jit under an
 * enclosing transformation).
 */
import { describe, expect, it } from "vitest";
import { add, matmul, mean, mul, Random, sin, square, stack, sub, sum, take, tanh, type Tensor } from "@chainrule/ir";
import { compileStats, grad, jit, onCompile, resetCompileStats, vmap, vmapFallbacks, type CompileEvent } from "./index.js";

const loss = (w: Tensor, x: Tensor, y: Tensor) => square(sub(sum(tanh(matmul(x, w))), y));

function data(batch: number) {
  const rng = new Random(7);
  return { w: rng.uniform([3, 4], { low: -1, high: 1 }), xs: rng.uniform([batch, 3], { low: -1, high: 1 }), ys: rng.uniform([batch]) };
}

function compiledNodes(run: () => unknown): CompileEvent[] {
  const events: CompileEvent[] = [];
  const off = onCompile((e) => events.push(e));
  try {
    run();
  } finally {
    off();
  }
  return events;
}

describe("vmap under jit", () => {
  it("jit(vmap(grad(loss))) compiles once per batch size into a program of the same size for 4 and 64 examples", () => {
    const perExample = jit(vmap(grad(loss), { inAxes: [null, 0, 0] }));
    const small = data(4);
    const large = data(64);
    const a = compiledNodes(() => perExample(small.w, small.xs, small.ys));
    const b = compiledNodes(() => perExample(large.w, large.xs, large.ys));
    expect(a.length).toBe(1);
    expect(b.length).toBe(1);
    expect(b[0]!.nodes).toBe(a[0]!.nodes);
    expect(b[0]!.optimizedNodes).toBe(a[0]!.optimizedNodes);
    // one program: no node per example (a loop over 64 examples would need hundreds)
    expect(b[0]!.nodes).toBeLessThan(60);
    const got = perExample(large.w, large.xs, large.ys) as Tensor;
    expect(got.shape).toEqual([64, 3, 4]);
    for (const j of [0, 17, 63]) {
      const alone = grad(loss)(large.w, take(large.xs, j, 0), take(large.ys, j, 0)) as Tensor;
      const row = take(got, j, 0);
      Array.from(alone.data).forEach((v, i) => expect(row.data[i]).toBeCloseTo(v, 12));
    }
    expect(vmapFallbacks()).toEqual([]);
  });

  it("the second call with the same shapes is a cache hit", () => {
    resetCompileStats();
    const f = jit(vmap((x: Tensor) => sin(mul(x, x))));
    const { xs } = data(8);
    f(xs);
    f(xs);
    expect(compileStats().compiles).toBe(1);
    expect(compileStats().cacheHits).toBe(1);
  });

  it("grad of a vmapped loss compiles, and equals the mean of the per-example gradients", () => {
    const { w, xs, ys } = data(6);
    const batchLoss = (v: Tensor) => mean(vmap(loss, { inAxes: [null, 0, 0] })(v, xs, ys));
    const g = grad(batchLoss)(w) as Tensor;
    let total: Tensor | undefined;
    for (let j = 0; j < 6; j++) {
      const gj = grad(loss)(w, take(xs, j, 0), take(ys, j, 0)) as Tensor;
      total = total === undefined ? gj : add(total, gj);
    }
    Array.from(total!.data).forEach((v, i) => expect(g.data[i]).toBeCloseTo(v / 6, 12));
  });

  it("vmap of a jitted function runs it on the whole batch", () => {
    const f = jit((x: Tensor) => sum(sin(x)));
    const { xs } = data(5);
    const got = vmap(f)(xs) as Tensor;
    const loop = stack([0, 1, 2, 3, 4].map((j) => f(take(xs, j, 0)) as Tensor));
    Array.from(loop.data).forEach((v, i) => expect(got.data[i]).toBeCloseTo(v, 14));
  });
});
