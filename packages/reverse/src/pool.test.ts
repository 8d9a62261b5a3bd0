/**
 * The backward sweep's buffer pool (SweepPool in arith.ts): dead adjoints are reused within a
 * sweep and accumulated into in place, results are bit-identical to sweeps without the pool, and
 * no buffer handed to user code (returned gradients, custom rules' arguments and results, the
 * pullback of a retained tape, values of an enclosing transformation) is ever overwritten.
 */
import * as ir from "@chainrule/ir";
import { customVjp, type Tensor } from "@chainrule/ir";
import { afterEach, describe, expect, it } from "vitest";
import { clearFreeList, setPooling, type SweepPool } from "./arith.js";
import { grad, hvp, vjp } from "./index.js";
import { reverseVjp } from "./tape.js";

// 10,000 float64s: 80 KB, above the 32 KiB below which results are carved out of slabs instead
const N = 10_000;
const input = (shift = 0) => Float64Array.from({ length: N }, (_, i) => 1 + 0.5 * Math.sin(i + shift));

/** W2: Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², with slices (bench/src/impls/chainrule.ts). */
function rosenbrock(x: Tensor): Tensor {
  const n = x.shape[0]!;
  const head = ir.slice(x, [0], [n - 1]);
  const tail = ir.slice(x, [1]);
  const t = ir.sub(tail, ir.mul(head, head));
  const u = ir.sub(1, head);
  return ir.sum(ir.add(ir.mul(100, ir.mul(t, t)), ir.mul(u, u)));
}

/** ∂f/∂xᵢ = −400 xᵢ tᵢ − 2(1 − xᵢ) + 200 tᵢ₋₁ with tᵢ = xᵢ₊₁ − xᵢ², by a naive loop. */
function rosenbrockGrad(x: Float64Array): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length - 1; i++) {
    const t = x[i + 1]! - x[i]! * x[i]!;
    g[i] = g[i]! - 400 * x[i]! * t - 2 * (1 - x[i]!);
    g[i + 1] = 200 * t;
  }
  return g;
}

function sweepPool(f: (x: Tensor) => Tensor, x: Tensor): { g: Float64Array; pool: SweepPool } {
  const { trace, slots } = reverseVjp((xs) => [f(xs[0]!)], [x]);
  let seen: SweepPool | undefined;
  const [g] = trace.backward(slots, [ir.scalar(1)], [0], undefined, false, (p) => {
    seen = p;
  });
  return { g: g!.data as Float64Array, pool: seen! };
}

afterEach(() => {
  setPooling(true);
  ir.setFusion({ enabled: true });
});

describe("the sweep's buffer pool", () => {
  it("reuses dead adjoint buffers within one W2 sweep (fusion off: one array per primitive)", () => {
    ir.setFusion({ enabled: false });
    const { pool } = sweepPool(rosenbrock, ir.tensor(input()));
    // the sweep's large arrays: sum's fill, the scales and products of the mul rules, neg, the two pads
    expect(pool.allocations).toBeGreaterThanOrEqual(8);
    // the adjoints of length n − 1 released after their entry ran serve later ones of that length
    expect(pool.reused).toBeGreaterThanOrEqual(2);
  });

  it("fused, a W2 sweep computes only what a non-elementwise primitive reads: the two pads' operands and results", () => {
    const unfused = (() => {
      ir.setFusion({ enabled: false });
      return sweepPool(rosenbrock, ir.tensor(input())).pool.allocations;
    })();
    ir.setFusion({ enabled: true });
    const { g, pool } = sweepPool(rosenbrock, ir.tensor(input()));
    expect(pool.allocations).toBeLessThanOrEqual(5);
    expect(pool.allocations).toBeLessThan(unfused);
    const want = rosenbrockGrad(input());
    for (let i = 0; i < N; i++) expect(Math.abs(g[i]! - want[i]!)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(want[i]!)));
  });

  it("a later sweep takes the buffers an earlier one released (the free list outlives the sweep)", () => {
    ir.setFusion({ enabled: false });
    clearFreeList();
    const first = sweepPool(rosenbrock, ir.tensor(input())).pool;
    const second = sweepPool(rosenbrock, ir.tensor(input(1))).pool;
    expect(second.allocations).toBe(first.allocations);
    expect(second.reused).toBeGreaterThan(first.reused);
  });

  it("gives gradients bit-identical to a sweep without the pool, and close to the hand-written loop", () => {
    const x = input();
    const pooled = grad(rosenbrock)(ir.tensor(x)) as Tensor;
    setPooling(false);
    const plain = grad(rosenbrock)(ir.tensor(x)) as Tensor;
    expect(Array.from(pooled.data)).toEqual(Array.from(plain.data));
    const hand = rosenbrockGrad(x);
    for (let i = 0; i < N; i += 997) expect(pooled.data[i]).toBeCloseTo(hand[i]!, 8);
  });

  it("accumulates in place without touching a term that two inputs share (x + x, x·x)", () => {
    const x = input();
    // f = Σ (x + x)·x + x·x: every cotangent fans out to the same slot several times
    const f = (t: Tensor) => ir.sum(ir.add(ir.mul(ir.add(t, t), t), ir.mul(t, t)));
    const g = grad(f)(ir.tensor(x)) as Tensor;
    for (let i = 0; i < N; i += 101) expect(g.data[i]).toBe(6 * x[i]!);
  });

  it("never overwrites a gradient returned by an earlier call", () => {
    const a = input(0);
    const b = input(1);
    const gradient = grad(rosenbrock);
    const ga = gradient(ir.tensor(a)) as Tensor;
    const kept = Array.from(ga.data);
    for (let k = 0; k < 3; k++) gradient(ir.tensor(b));
    expect(Array.from(ga.data)).toEqual(kept);
    const hand = rosenbrockGrad(a);
    for (let i = 0; i < N; i += 997) expect(ga.data[i]).toBeCloseTo(hand[i]!, 8);
  });

  it("a retained tape's pullback gives the same gradients twice, and the first is not overwritten", () => {
    const x = ir.tensor(input());
    const [, pullback] = vjp(rosenbrock, x) as [Tensor, (ct: Tensor) => Tensor[]];
    const first = pullback(ir.scalar(1))[0]!;
    const kept = Array.from(first.data);
    const second = pullback(ir.scalar(1))[0]!;
    expect(Array.from(second.data)).toEqual(kept);
    expect(Array.from(first.data)).toEqual(kept);
    expect(second.data).not.toBe(first.data);
  });

  it("never recycles what a customVjp rule receives or returns", () => {
    const seenCts: Tensor[] = [];
    const copies: number[][] = [];
    const results: Tensor[] = [];
    // identity whose bwd keeps the cotangent it receives and returns it unchanged
    const keepCt = customVjp(
      (x: Tensor) => x,
      (x: Tensor) => [x, null],
      (_res: null, ct: Tensor) => {
        seenCts.push(ct);
        copies.push(Array.from(ct.data));
        const out = ir.mul(ct, 1);
        results.push(out);
        return [out];
      },
    );
    const x = input();
    const f = (t: Tensor) => ir.sum(ir.mul(keepCt(ir.mul(t, t)), keepCt(ir.mul(t, 3))));
    const g = grad(f)(ir.tensor(x)) as Tensor;
    // d/dx Σ 3x³ = 9x²
    for (let i = 0; i < N; i += 101) expect(g.data[i]).toBeCloseTo(9 * x[i]! * x[i]!, 9);
    for (let k = 0; k < seenCts.length; k++) expect(Array.from(seenCts[k]!.data)).toEqual(copies[k]);
    for (let k = 0; k < results.length; k++) expect(Array.from(results[k]!.data)).toEqual(copies[k]);
  });

  it("second order: an inner sweep on tracers of an outer one (hvp) matches the hand-written Hessian product", () => {
    const x = input();
    const v = input(2);
    // f = Σ x³ + x²·2: H v = (6x + 4) v
    const f = (t: Tensor) => ir.sum(ir.add(ir.mul(ir.mul(t, t), t), ir.mul(ir.mul(t, t), 2)));
    const [hv] = hvp(f, [ir.tensor(x)], [ir.tensor(v)]) as [Tensor];
    for (let i = 0; i < N; i += 101) expect(hv!.data[i]).toBeCloseTo((6 * x[i]! + 4) * v[i]!, 8);
  });
});
