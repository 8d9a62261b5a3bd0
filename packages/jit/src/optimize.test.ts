/**
 * Each optimization preserves results: programs (random and hand-picked, with their gradients)
 * are compiled with every pass on, each pass off in turn, and fusion/buffer reuse off, and must
 * match eager evaluation of the traced graph bit for bit (float64; float32 with exactFloat32).
 */
import { describe, expect, it } from "vitest";
import * as ir from "@chainrule/ir";
import { evalGraph, tensor, trace, type Graph, type Tensor } from "@chainrule/ir";
import { interpreter } from "./ad.js";
import { compileGraph, runCompiled, type CompileOptions } from "./compile.js";

const VARIANTS: Record<string, CompileOptions> = {
  all: {},
  none: { optimize: false, fuse: false, reuse: false },
  noFold: { optimize: { fold: false } },
  noSimplify: { optimize: { simplify: false } },
  noCse: { optimize: { cse: false } },
  noDce: { optimize: { dce: false } },
  noFusion: { fuse: false },
  noReuse: { reuse: false },
};

function same(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return false;
  return Array.from(a.data).every((v, i) => Object.is(v, b.data[i]) || (Number.isNaN(v) && Number.isNaN(b.data[i]!)));
}

function checkAll(graph: Graph, inputs: Tensor[], extra: CompileOptions = {}): void {
  const want = evalGraph(graph, inputs);
  for (const [name, options] of Object.entries(VARIANTS)) {
    const got = runCompiled(compileGraph(graph, { ...options, ...extra }), inputs);
    // run twice: pooled buffers must not leak state between calls
    const again = runCompiled(compileGraph(graph, { ...options, ...extra }), inputs);
    got.forEach((t, i) => {
      if (!same(t, want[i]!) || !same(again[i]!, want[i]!))
        throw new Error(`${name}: output ${i} differs: ${Array.from(t.data)} vs ${Array.from(want[i]!.data)}`);
    });
  }
}

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** A random program over x: [3, 4] and y: [4] mixing elementwise ops, broadcasting, views and reductions. */
function randomProgram(seed: number) {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  return (x: Tensor, y: Tensor): Tensor[] => {
    const pool: Tensor[] = [x, ir.broadcastTo(y, [3, 4]), ir.mul(x, 1), ir.add(x, -0)];
    for (let k = 0; k < 12; k++) {
      const a = pick(pool);
      const b = pick(pool);
      const op = pick([
        "add",
        "mul",
        "sub",
        "div",
        "tanh",
        "sin",
        "exp",
        "max",
        "where",
        "slice",
        "pad",
        "transpose",
        "sum",
        "neg",
        "sqrtabs",
        "cse",
      ]);
      let r: Tensor;
      switch (op) {
        case "add":
          r = ir.add(a, b);
          break;
        case "mul":
          r = ir.mul(a, pick([b, ir.tensor(0.5), ir.tensor(1)]));
          break;
        case "sub":
          r = ir.sub(a, b);
          break;
        case "div":
          r = ir.div(a, ir.add(ir.mul(b, b), 1));
          break;
        case "tanh":
          r = ir.tanh(a);
          break;
        case "sin":
          r = ir.sin(a);
          break;
        case "exp":
          r = ir.exp(ir.tanh(a));
          break;
        case "max":
          r = ir.maximum(a, b);
          break;
        case "where":
          r = ir.where(ir.greater(a, b), a, ir.neg(b));
          break;
        case "slice":
          r = ir.pad(ir.slice(a, [1, 0], [3, 3]), [1, 0]) as Tensor;
          break;
        case "pad":
          r = ir.add(ir.slice(ir.concat([a, b], 0), [1, 0], [4, 4]), a);
          break;
        case "transpose":
          r = ir.transpose(ir.transpose(a));
          break;
        case "sum":
          r = ir.mul(a, ir.sum(b));
          break;
        case "neg":
          r = ir.neg(ir.neg(a));
          break;
        case "sqrtabs":
          r = ir.sqrt(ir.abs(a));
          break;
        default:
          r = ir.add(ir.mul(a, b), ir.mul(a, b));
      }
      if (r.shape.join() === "3,4") pool.push(r);
    }
    const out = pool[pool.length - 1]!;
    return [out, ir.sum(out), ir.max(out, 1)];
  };
}

describe("optimizations preserve results", () => {
  it("100 random programs and 25 of their gradients, every pass toggled", { timeout: 120_000 }, () => {
    const x = tensor([
      [0.5, -1, 2, 0],
      [1.5, -0.25, 3, -2],
      [0.1, 0.2, -0.3, 4],
    ]);
    const y = tensor([0.3, -0.7, 1.1, 0]);
    for (let seed = 1; seed <= 100; seed++) {
      const f = randomProgram(seed);
      checkAll(trace(f as never, x, y), [x, y]);
      if (seed % 4 === 0) {
        const g = (a: Tensor, b: Tensor) => interpreter.grad((p: Tensor, q: Tensor) => ir.sum(f(p, q)[0]!), [0, 1])(a, b);
        checkAll(trace(g as never, x, y), [x, y]);
      }
    }
  });

  it("rank-1 stencils (slices and pads of fused values, recomputed by their readers) and their gradients", { timeout: 60_000 }, () => {
    const x = tensor([0.5, -1, 2, 0, 1.5, -0.25, 3, -2]);
    for (let seed = 1; seed <= 30; seed++) {
      const random = rng(seed);
      const f = (v: Tensor) => {
        let y = ir.tanh(ir.mul(v, 0.5));
        for (let k = 0; k < 3; k++) {
          const lo = 1 + Math.floor(random() * 2);
          const a = ir.slice(y, [0], [-lo]);
          const b = ir.slice(y, [lo]);
          const z = ir.add(ir.mul(a, ir.sin(b)), ir.mul(b, b));
          y = ir.add(ir.pad(z, [lo], [0]) as Tensor, ir.pad(ir.exp(z), [0], [lo]) as Tensor);
        }
        return ir.sum(y);
      };
      const gf = (v: Tensor) => interpreter.grad(f)(v);
      checkAll(trace(f as never, x), [x]);
      const graph = trace(gf as never, x);
      checkAll(graph, [x]);
      if (seed === 1) expect(compileGraph(graph).source).toContain("(recomputed)");
    }
  });

  it("float32 with exactFloat32 matches the eager kernels bit for bit; the default is within f32 rounding", { timeout: 60_000 }, () => {
    const x = tensor(
      [
        [0.5, -1, 2, 0],
        [1.5, -0.25, 3, -2],
        [0.1, 0.2, -0.3, 4],
      ],
      { dtype: "float32" },
    );
    const y = tensor([0.3, -0.7, 1.1, 0], { dtype: "float32" });
    for (let seed = 1; seed <= 40; seed++) {
      const graph = trace(randomProgram(seed) as never, x, y);
      checkAll(graph, [x, y], { exactFloat32: true });
      const want = evalGraph(graph, [x, y]);
      runCompiled(compileGraph(graph), [x, y]).forEach((t, i) => {
        Array.from(t.data).forEach((v, j) => {
          const w = want[i]!.data[j]!;
          if (Number.isFinite(w)) expect(Math.abs(v - w)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(w)));
        });
      });
    }
  });

  it("each pass does its job: CSE merges, DCE drops, folding and simplification remove nodes", () => {
    const x = tensor([1, 2, 3]);
    const f = (x: Tensor) => {
      const unused = ir.exp(x);
      void unused;
      const a = ir.add(ir.mul(x, 2), ir.mul(x, 2)); // CSE
      const c = ir.mul(ir.tensor([1, 2, 3]), 2); // folded at trace time already; keep a foldable reshape
      return ir.neg(ir.neg(ir.mul(ir.add(a, c), 1))); // simplify: x·1, neg(neg x)
    };
    const graph = trace(f as never, x);
    const optimized = compileGraph(graph);
    expect(optimized.optimizedNodeCount).toBeLessThan(graph.nodes.length);
    expect(compileGraph(graph, { optimize: { cse: false } }).optimizedNodeCount).toBeGreaterThan(optimized.optimizedNodeCount);
    expect(compileGraph(graph, { optimize: { simplify: false } }).optimizedNodeCount).toBeGreaterThan(optimized.optimizedNodeCount);
    expect(compileGraph(graph, { optimize: { dce: false } }).optimizedNodeCount).toBeGreaterThan(optimized.optimizedNodeCount);
    expect(optimized.source).not.toContain("exp");
    checkAll(graph, [x]);
  });

  it("mulNoNan by a finite non-zero constant becomes a plain product; by 0 or ∞ it keeps its zero guard", () => {
    const x = tensor([0, 2, Infinity, Number.NaN]);
    const plain = trace(((x: Tensor) => ir.mulNoNan(x, ir.full([4], 100))) as never, x);
    expect(compileGraph(plain).source).not.toContain("mulNoNan");
    checkAll(plain, [x]);
    for (const c of [0, Infinity]) {
      const guarded = trace(((x: Tensor) => ir.mulNoNan(x, ir.full([4], c))) as never, x);
      expect(compileGraph(guarded).source).toContain("mulNoNan");
      checkAll(guarded, [x]);
    }
  });

  it("fusion makes one loop of an elementwise chain with broadcasting; buffers are reused by liveness", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const chain = (x: Tensor) => ir.sum(ir.tanh(ir.add(ir.mul(x, tensor([1, 2, 3])), ir.sin(x))));
    const fused = compileGraph(trace(chain as never, x));
    expect(fused.fusedLoops).toBe(1);
    expect(fused.pooledBytes).toBe(0);
    expect(compileGraph(trace(chain as never, x), { fuse: false }).fusedLoops).toBeGreaterThan(3);
    // a chain through matmuls: intermediates die young, so few buffers are needed
    const w = tensor([
      [0.5, -0.5],
      [0.25, 1],
    ]);
    const deep = (w: Tensor) => {
      let h = w;
      for (let k = 0; k < 8; k++) h = ir.tanh(ir.matmul(h, w));
      return ir.sum(h);
    };
    const graph = trace(deep as never, w);
    const reused = compileGraph(graph);
    const fresh = compileGraph(graph, { reuse: false });
    expect(reused.pooledBytes).toBeLessThan(fresh.pooledBytes / 3);
    checkAll(graph, [w]);
  });

  it("after the first call nothing is allocated but the returned arrays", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const g = (x: Tensor) => interpreter.grad((v: Tensor) => ir.sum(ir.tanh(ir.matmul(v, ir.transpose(v)))))(x);
    const c = compileGraph(trace(g as never, x));
    const body = c.source.slice(c.source.indexOf("return function compiled"));
    const allocations = body.match(/new \w+Array\(/g) ?? [];
    expect(allocations.length).toBe(1); // the gradient returned to the caller
    expect(body).not.toMatch(/\.slice\(|\.map\(|\[\]/);
  });
});
