/**
 * Every cache of the JIT has a bound (README, "Caches"): many distinct shapes keep each at its
 * bound instead of growing without limit.
 */
import { add, ARITY, greater, mul, sum, tensor, where, type Primitive, type Tensor } from "@chainrule/ir";
import { afterEach, describe, expect, it } from "vitest";
import { compileStats, configureKernels, jit } from "./index.js";
import { BoundedCache } from "@chainrule/wasm";
import { JS_ELEMENTWISE, JS_LOOP_CACHE_LIMIT, jsElementwiseLoop, jsLoopCacheSize } from "./wasm/js-elementwise.js";
import {
  kernelModule,
  kernelModuleCount,
  kernelModulesCompiled,
  MODULE_CACHE_LIMIT,
  reduceFunction,
  reduceKey,
  type OperandKind,
} from "@chainrule/wasm";

afterEach(() => {
  configureKernels();
});

describe("bounded caches", () => {
  it("the JS-elementwise loops: 4,000 distinct shapes add no loop (sizes are arguments, not part of the code)", () => {
    const kinds: OperandKind[] = ["full", "row"];
    jsElementwiseLoop("greater", kinds, "float64", "bool", {}, 1, 1);
    const loops = jsLoopCacheSize();
    for (let n = 1; n <= 4000; n++) {
      const out = new Uint8Array(2 * n);
      const x = Float64Array.from({ length: 2 * n }, (_, i) => i);
      jsElementwiseLoop(
        "greater",
        kinds,
        "float64",
        "bool",
        {},
        2,
        n,
      )(
        out,
        x,
        Float64Array.from({ length: n }, () => n - 0.5),
      );
      if (n % 1000 === 0) expect(out.reduce((a, v) => a + v, 0)).toBe(n);
    }
    expect(jsLoopCacheSize()).toBe(loops);
  });

  it("kernel programs of many shapes (comparisons and where as JavaScript loops) reuse their loops", () => {
    configureKernels({ everyProgram: true });
    const f = jit((x: Tensor) => sum(where(greater(x, 0), mul(x, 2), x)), { cacheSize: 8 });
    f(tensor([1]));
    f(tensor([1, -2, 3]));
    const loops = jsLoopCacheSize();
    for (let n = 2; n <= 200; n++) {
      const x = tensor(Float64Array.from({ length: n }, (_, i) => (i % 3) - 1));
      const want = Array.from(x.data).reduce((s, v) => s + (v > 0 ? 2 * v : v), 0);
      expect((f(x) as Tensor).item()).toBe(want);
    }
    expect(jsLoopCacheSize()).toBe(loops);
    expect(f.cacheSize).toBe(8);
    expect(f.source).toMatch(/WebAssembly kernels/);
  }, 120_000);

  it("the JS-elementwise loops: more distinct loops than the limit keep the cache at the limit, and evicted loops still compute", () => {
    const kinds: OperandKind[] = ["full", "row", "col", "scalar"];
    const ops = [...JS_ELEMENTWISE] as Primitive[];
    let made = 0;
    for (const op of ops) {
      const arity = ARITY[op] as number;
      const combos = kinds.flatMap((a) => kinds.flatMap((b) => kinds.map((c) => [a, b, c].slice(0, arity))));
      for (const ks of combos) {
        const inDtype = op === "where" ? "float64" : "float64";
        const outDtype = ["greater", "greaterEqual", "less", "lessEqual", "equal", "notEqual"].includes(op) ? "bool" : "float64";
        const params = op === "cast" ? { dtype: "float32" as const } : {};
        jsElementwiseLoop(op, ks, inDtype, outDtype, params as never, 1, 1);
        made++;
      }
    }
    expect(made).toBeGreaterThan(JS_LOOP_CACHE_LIMIT);
    expect(jsLoopCacheSize()).toBe(JS_LOOP_CACHE_LIMIT);
    const out = new Float64Array(4);
    jsElementwiseLoop(
      "add",
      ["full", "row"],
      "float64",
      "float64",
      {},
      2,
      2,
    )(out, new Float64Array([1, 2, 3, 4]), new Float64Array([10, 20]));
    expect(Array.from(out)).toEqual([11, 22, 13, 24]);
  });

  it("the WebAssembly module cache: 4,000 distinct kernels keep it at its limit", () => {
    const compiledBefore = kernelModulesCompiled();
    for (let n = 1; n <= 4000; n++) {
      const spec = { dtype: "float32" as const, op: "sum" as const, outer: 1, mid: n, inner: 1 };
      kernelModule(reduceKey(spec), false, () => [reduceFunction(spec, "k")]);
    }
    expect(kernelModulesCompiled() - compiledBefore).toBeGreaterThanOrEqual(4000 - MODULE_CACHE_LIMIT);
    expect(kernelModuleCount()).toBe(MODULE_CACHE_LIMIT);
  }, 120_000);

  it("a function's signature cache: 4,000 shapes keep it at cacheSize (64 by default), least recently used dropped first", () => {
    const f = jit((x: Tensor) => add(x, 1));
    const evictions = compileStats().evictions;
    const hot = tensor([1, 2]);
    for (let n = 1; n <= 4000; n++) {
      f(tensor(new Float64Array(n + 2)));
      if (n % 10 === 0) f(hot); // used often: never the least recently used
    }
    expect(f.cacheSize).toBe(64);
    expect(compileStats().evictions - evictions).toBe(4000 + 1 - 64);
    const compiles = compileStats().compiles;
    f(hot);
    expect(compileStats().compiles).toBe(compiles);
  }, 120_000);

  it("BoundedCache drops the least recently used entry", () => {
    const dropped: string[] = [];
    const c = new BoundedCache<string, number>(2, (k) => dropped.push(k));
    c.set("a", 1);
    c.set("b", 2);
    c.get("a");
    c.set("c", 3);
    expect(dropped).toEqual(["b"]);
    expect([c.get("a"), c.get("b"), c.get("c"), c.size]).toEqual([1, undefined, 3, 2]);
  });
});
