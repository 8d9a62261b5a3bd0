/**
 * The transformations of issue 19 under the JIT: hasAux, jacfwd/jacrev, linearize (compiled once),
 * checkpoint, static arguments (staticArgnums/staticArgnames, non-pytree values), weak JS numbers,
 * and a nested jit that does not run f again on every call. Expected values are hand-computed.
 */
import { add, arange, customVjp, mul, sin, sum, take, tensor, traceWith, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import {
  checkpoint,
  compileStats,
  engine,
  grad,
  interpreter,
  jacfwd,
  jacobian,
  jacrev,
  jit,
  linearize,
  resetCompileStats,
  valueAndGrad,
  vjp,
} from "./index.js";
import { optimize, toProgram, type Program } from "./optimize.js";

const closeTo = (values: number[]) => values.map((v) => expect.closeTo(v, 12));

describe("jit: hasAux", () => {
  // f(x) = Σ x·sin(x), aux = { s: Σ x, n: 2 }
  const f = (x: Tensor) => [sum(mul(x, sin(x))), { s: sum(x), n: 2 }] as const;
  const d = (v: number) => Math.sin(v) + v * Math.cos(v);

  it("grad → [g, aux] and valueAndGrad → [[value, aux], g], compiled", () => {
    const x = tensor([0.5, 2]);
    const [g, aux] = grad(f, 0, { hasAux: true })(x);
    expect((g as Tensor).toArray()).toEqual(closeTo([d(0.5), d(2)]));
    expect((aux.s as Tensor).item()).toBe(2.5);
    expect(aux.n).toBe(2);
    const [[value, aux2], g2] = valueAndGrad(f, undefined, { hasAux: true })(x);
    expect((value as Tensor).item()).toBeCloseTo(0.5 * Math.sin(0.5) + 2 * Math.sin(2), 12);
    expect(aux2.n).toBe(2);
    expect((g2 as Tensor).toArray()).toEqual(closeTo([d(0.5), d(2)]));
  });

  it("jacobian, jacfwd, jacrev → [J, aux]; vjp(f, x, { hasAux: true }) → [out, pullback, aux]", () => {
    for (const jac of [jacobian, jacfwd, jacrev]) {
      const [J, aux] = jac((x: Tensor) => [mul(x, x), 7], 0, { hasAux: true })(tensor([1, 3]));
      expect((J as Tensor).toArray()).toEqual([
        [2, 0],
        [0, 6],
      ]);
      expect(aux).toBe(7);
    }
    const [out, pullback, aux] = vjp((x: Tensor) => [mul(x, 3), { k: 3 }], tensor([1, 2]), { hasAux: true });
    expect((out as Tensor).toArray()).toEqual([3, 6]);
    expect(aux).toEqual({ k: 3 });
    expect((pullback(tensor([1, 10]))[0] as Tensor).toArray()).toEqual([3, 30]);
  });
});

describe("jit: linearize", () => {
  it("the linear map is compiled once (a program of the tangent only) and reused for every tangent", () => {
    const f = (x: Tensor) => mul(sin(x), x);
    const x = tensor([0.5, 2]);
    const [out, jvpFn] = linearize(f, x);
    expect((out as Tensor).toArray()).toEqual(closeTo([0.5 * Math.sin(0.5), 2 * Math.sin(2)]));
    resetCompileStats();
    const d = (v: number) => Math.cos(v) * v + Math.sin(v);
    for (let i = 0; i < 5; i++) {
      expect((jvpFn(tensor([i, 1])) as Tensor).toArray()).toEqual(closeTo([i * d(0.5), d(2)]));
    }
    // the tangent-only program, compiled at the first call, then reused
    expect(compileStats().compiles).toBe(1);
    expect(compileStats().cacheHits).toBeGreaterThanOrEqual(4);
  });
});

describe("jit: checkpoint", () => {
  it("grad through a checkpointed function compiles, with the plain gradient", () => {
    const layer = checkpoint((h: Tensor) => sin(mul(h, 1.5)));
    const g = grad((x: Tensor) => sum(layer(layer(x))))(tensor([0.25, -1]));
    // d/dx sin(1.5·sin(1.5x)) = 2.25·cos(1.5·sin(1.5x))·cos(1.5x)
    const d = (v: number) => 2.25 * Math.cos(1.5 * Math.sin(1.5 * v)) * Math.cos(1.5 * v);
    expect((g as Tensor).toArray()).toEqual(closeTo([d(0.25), d(-1)]));
  });
});

/** Peak bytes of the values live at once when the program runs its nodes in order (a naive liveness walk). */
function peakLiveBytes(program: Program): number {
  const lastUse = new Map<number, number>();
  program.nodes.forEach((n, i) => n.inputs.forEach((id) => lastUse.set(id, i)));
  for (const id of program.outputs) lastUse.set(id, Infinity);
  const bytes = (shape: readonly number[]) => 8 * shape.reduce((a, b) => a * b, 1);
  const live = new Map<number, number>();
  let peak = 0;
  program.nodes.forEach((n, i) => {
    live.set(n.id, bytes(n.shape));
    peak = Math.max(
      peak,
      [...live.values()].reduce((a, b) => a + b, 0),
    );
    for (const id of [...live.keys()]) if ((lastUse.get(id) ?? -1) <= i) live.delete(id);
  });
  return peak;
}

describe("jit: checkpoint keeps its recomputation apart (CSE does not merge it back)", () => {
  it("the optimized gradient program of a deep chain holds far fewer bytes at once", () => {
    const block = (h: Tensor) => {
      for (let i = 0; i < 8; i++) h = sin(mul(h, 0.9));
      return h;
    };
    const remat = checkpoint(block);
    const chain = (step: (h: Tensor) => Tensor) => (x: Tensor) => {
      let h = x;
      for (let b = 0; b < 6; b++) h = step(h);
      return sum(h);
    };
    const x = tensor(Array.from({ length: 1000 }, (_, i) => i / 1000));
    const programOf = (f: (x: Tensor) => Tensor) =>
      optimize(toProgram(traceWith({ name: "probe" }, (v: Tensor) => interpreter.grad(f)(v), x)));
    const plain = programOf(chain(block));
    const checkpointed = programOf(chain(remat));
    // the recomputed forward nodes survive optimization
    expect(checkpointed.nodes.length).toBeGreaterThan(plain.nodes.length);
    // plain: the 48 layers' intermediates live until the backward pass; checkpointed: 6 block inputs + one block
    expect(peakLiveBytes(checkpointed) * 2).toBeLessThan(peakLiveBytes(plain));
    expect((grad(chain(remat))(x) as Tensor).toArray()).toEqual((grad(chain(block))(x) as Tensor).toArray());
  });
});

describe("jit: static arguments", () => {
  it("staticArgnums: jit((x, i) => take(x, i), { staticArgnums: [1] })(arange(20), 3) is 3; a new value recompiles", () => {
    const f = jit((x: Tensor, i: number) => take(x, i), { staticArgnums: [1] });
    expect((f(arange(20), 3) as Tensor).item()).toBe(3);
    expect((f(arange(20), 7) as Tensor).item()).toBe(7);
    expect(f.cacheSize).toBe(2);
  });

  it("staticArgnames names parameters; non-pytree static values (strings, options) reach f as they are", () => {
    const f = jit((x: Tensor, mode: string, opts: { scale: number; label: string }) => (mode === "sin" ? mul(sin(x), opts.scale) : x), {
      staticArgnames: ["mode", "opts"],
    });
    const x = tensor([1, 2]);
    expect((f(x, "sin", { scale: 2, label: "a" }) as Tensor).toArray()).toEqual(closeTo([2 * Math.sin(1), 2 * Math.sin(2)]));
    expect((f(x, "id", { scale: 2, label: "a" }) as Tensor).toArray()).toEqual([1, 2]);
    expect(f.cacheSize).toBe(2);
    // equal plain data hits the cache
    f(x, "id", { scale: 2, label: "a" });
    expect(f.cacheSize).toBe(2);
    expect(() => jit((x: Tensor) => x, { staticArgnames: ["y"] })).toThrow(
      'jit: expected staticArgnames to name parameters of f, which has parameters (x), got "y"',
    );
  });
});

describe("jit: weak JS numbers", () => {
  it("a JS number argument keeps a float32 tensor float32, as eagerly", () => {
    const x = tensor([1, 2], { dtype: "float32" });
    const f = (a: Tensor, b: number) => add(mul(a, b), b);
    const eager = f(x, 0.5);
    const compiled = jit(f)(x, 0.5) as Tensor;
    expect(eager.dtype).toBe("float32");
    expect(compiled.dtype).toBe("float32");
    expect(compiled.toArray()).toEqual([1, 1.5]);
    // a JS number alone stays float64
    expect((jit((b: number) => mul(b, 2))(0.5) as Tensor).dtype).toBe("float64");
  });
});

describe("jit nested in another transformation", () => {
  it("traces f once per signature, not on every call", () => {
    let runs = 0;
    const inner = jit((y: Tensor) => {
      runs++;
      return mul(y, sin(y));
    });
    resetCompileStats();
    // the interpreter runs its function on every call (it does not compile): each call meets jit(f) on tracers
    const outer = interpreter.grad((y: Tensor) => sum(inner(y)));
    const d = (v: number) => Math.sin(v) + v * Math.cos(v);
    for (let i = 0; i < 5; i++) expect((outer(tensor([1, 2])) as Tensor).toArray()).toEqual(closeTo([d(1), d(2)]));
    expect(runs).toBe(1);
    expect(compileStats().nestedTraces).toBe(1);
    // a new shape traces again, once
    for (let i = 0; i < 3; i++) outer(tensor([1, 2, 3]));
    expect(runs).toBe(2);
    // a JS number f returns stays a JS number, as from the compiled jit
    const pair = jit((y: Tensor) => [sum(y), 3]);
    interpreter.grad((y: Tensor) => {
      expect(pair(y)[1]).toBe(3);
      return pair(y)[0] as Tensor;
    })(tensor([1, 2]));
  });

  it("f that closes over the enclosing transformation's tracer, or has a custom rule, runs as it is", () => {
    const clip = customVjp(
      (x: Tensor) => x,
      (x: Tensor): [Tensor, null] => [x, null],
      (_r: unknown, ct: Tensor) => [mul(ct, 0)],
    );
    const inner = jit((y: Tensor) => sum(clip(y)));
    // the custom rule (a zero cotangent) is honored
    expect((engine.grad((y: Tensor) => inner(y))(tensor([1, 2])) as Tensor).toArray()).toEqual([0, 0]);
    const outer = engine.grad((a: number) => jit((y: Tensor) => mul(y, a))(tensor(3)));
    expect(outer(2)).toBe(3);
  });
});
