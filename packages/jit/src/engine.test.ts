import { describe, expect, it } from "vitest";
import { add, ConcretizationError, cos, exp, greater, matmul, mul, sin, sub, sum, tanh, tensor, where, type Tensor } from "@chainrule/ir";
import * as ir from "@chainrule/ir";
import {
  compileStats,
  engine,
  grad,
  hessian,
  interpreter,
  jacobian,
  jit,
  jvp,
  onCompile,
  resetCompileStats,
  valueAndGrad,
  vjp,
  hvp,
  type CompileEvent,
} from "./index.js";

const seed = (x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y));

describe("jit engine", () => {
  it("compiles the seed gradient to plain number arithmetic, numbers in and out", () => {
    const g = grad(seed, [0, 1]);
    expect(g(3, 2)).toEqual([6, -4]);
    expect(g(10, 4)).toEqual([20, -8]);
    expect(g.source).toContain("return [");
    expect(g.source).not.toMatch(/Array\(/);
    expect(g.source).toMatch(/\/\/ v\d+: add/);
    expect(engine.name).toBe("jit");
  });

  it("caches by signature and reports every recompile with its reason", () => {
    resetCompileStats();
    const events: CompileEvent[] = [];
    const off = onCompile((e) => events.push(e));
    const g = grad((x: Tensor) => sum(mul(x, x)));
    g(tensor([1, 2, 3]));
    g(tensor([4, 5, 6]));
    g(tensor([1, 2, 3, 4]));
    g(tensor([1, 2, 3], { dtype: "float32" }));
    off();
    expect(events.map((e) => e.reason)).toEqual([
      "first call",
      "signature changed: (float64[3]) → (float64[4])",
      "signature changed: (float64[4]) → (float32[3])",
    ]);
    expect(compileStats().compiles).toBe(3);
    expect(compileStats().cacheHits).toBe(1);
    expect(g.cacheSize).toBe(3);
  });

  it("nests: grad∘grad∘grad compiles one graph; jit of grad and grad of jit agree with the interpreter", () => {
    const f = (x: Tensor) => mul(sin(x), exp(x));
    const g3 = grad(grad(grad(f)));
    for (const x of [0.7, -1.2]) expect(g3(x)).toBeCloseTo(2 * Math.exp(x) * (Math.cos(x) - Math.sin(x)), 12);
    const confusion = grad((x: Tensor) => mul(x, grad((y: Tensor) => add(x, y))(1)));
    expect(confusion(1)).toBe(1);
    const jg = jit(grad(f));
    expect((jg(tensor(0.3)) as Tensor).item()).toBeCloseTo(interpreter.grad(f)(0.3) as number, 14);
    const gj = grad(jit(f));
    expect(gj(0.3)).toBeCloseTo(interpreter.grad(f)(0.3), 14);
  });

  it("every transformation agrees with the interpreter, including number-in/number-out and pytrees", () => {
    const f = (p: { w: Tensor; b: number }, x: Tensor) => sum(tanh(add(matmul(x, p.w), p.b)));
    const p = {
      w: tensor([
        [0.1, 0.2],
        [0.3, -0.4],
      ]),
      b: 0.5,
    };
    const x = tensor([[1, 2]]);
    const cases: [unknown, unknown][] = [
      [grad(f)(p, x), interpreter.grad(f)(p, x)],
      [valueAndGrad(f, [0, 1])(p, x), interpreter.valueAndGrad(f, [0, 1])(p, x)],
      [jacobian((v: Tensor) => mul(v, v))(tensor([1, 2])), interpreter.jacobian((v: Tensor) => mul(v, v))(tensor([1, 2]))],
      [
        hessian((a: Tensor, b: Tensor) => mul(mul(a, a), b), [0, 1])(2, 3),
        interpreter.hessian((a: Tensor, b: Tensor) => mul(mul(a, a), b), [0, 1])(2, 3),
      ],
      [jvp(seed, [3, 2], [1, 1]), interpreter.jvp(seed, [3, 2], [1, 1])],
      [
        hvp((v: Tensor) => sum(mul(v, mul(v, v))), [tensor([1, 2])], [tensor([1, 0])]),
        interpreter.hvp((v: Tensor) => sum(mul(v, mul(v, v))), [tensor([1, 2])], [tensor([1, 0])]),
      ],
      [grad(seed, 1)(3, tensor(2)), interpreter.grad(seed, 1)(3, tensor(2))],
      [valueAndGrad(seed)(tensor(3), 2), interpreter.valueAndGrad(seed)(tensor(3), 2)],
    ];
    const plain = (v: unknown): unknown =>
      v instanceof Object && "toArray" in (v as object)
        ? { tensor: (v as Tensor).toArray(), dtype: (v as Tensor).dtype }
        : Array.isArray(v)
          ? v.map(plain)
          : v !== null && typeof v === "object"
            ? Object.fromEntries(Object.entries(v).map(([k, w]) => [k, plain(w)]))
            : v;
    for (const [got, want] of cases) expect(plain(got)).toEqual(plain(want));
    const [value, pullback] = vjp(seed, 3, 2);
    expect(value).toBe(5);
    expect(pullback(1)).toEqual([6, -4]);
  });

  it("a branch on a traced value throws a ConcretizationError suggesting where(...); where() compiles", () => {
    const branchy = (x: Tensor) => (x.item() > 0 ? sin(x) : cos(x));
    expect(() => grad(branchy)(1)).toThrow(ConcretizationError);
    expect(() => grad(branchy)(1)).toThrow(/where\(/);
    expect(() => grad(branchy)(1)).toThrow(/read at .*engine\.test\.ts/);
    const selected = grad((x: Tensor) => sum(where(greater(x, 0), sin(x), cos(x))));
    expect(selected(tensor([1, -1])).toArray()).toEqual([Math.cos(1), -Math.sin(-1)]);
  });

  it("jit evaluates with the same results as eager ops; staticArgnums bakes JS numbers in", () => {
    const f = (x: Tensor, k: number) => sum(mul(tanh(x), k));
    const x = tensor([0.5, -1, 2]);
    const eager = f(x, 3).item();
    const dynamic = jit(f);
    expect(dynamic(x, 3).item()).toBe(eager);
    const fixed = jit((x: Tensor, n: number) => ir.slice(x, [n]), { staticArgnums: [1] });
    expect(fixed(x, 1).toArray()).toEqual([-1, 2]);
    expect(fixed(x, 2).toArray()).toEqual([2]);
    expect(fixed.cacheSize).toBe(2);
  });

  it("static (non-differentiated) number arguments are part of the signature", () => {
    const g = grad((x: Tensor, k: number) => mul(x, k));
    expect(g(1, 2)).toBe(2);
    expect(g(1, 5)).toBe(5);
  });
});
