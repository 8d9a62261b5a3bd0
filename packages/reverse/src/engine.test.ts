import * as ir from "@chainrule/ir";
import { ChainruleError, customJvp, customVjp, defineEngine, NanError, Tensor, tensor, withDebugNans, type Engine } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { engine, grad, hessian, hvp, jacobian, jvp, reverseCore as reverseCoreForTests, valueAndGrad, vjp } from "./engine.js";
import { formatTape, tapeRows, traceBackward } from "./index.js";

const seed = (x: Tensor, y: Tensor) => ir.mul(ir.add(x, y), ir.sub(x, y));
const arr = (t: unknown) => (t as Tensor).toArray();
// Loosely typed views of the transformations, for calls the precise types reject on purpose.
type Loose = (f: unknown, argnums?: number | number[]) => (...args: unknown[]) => unknown;
const looseGrad = grad as unknown as Loose;
const looseHvp = hvp as unknown as (f: unknown, primals: unknown[], tangents: unknown[]) => unknown;

describe("the seed f(x, y) = (x + y)(x − y) at (3, 2)", () => {
  it("grad gives [6, -4] and valueAndGrad gives 5 with numbers out", () => {
    expect(grad(seed, [0, 1])(3, 2)).toEqual([6, -4]);
    expect(valueAndGrad(seed, [0, 1])(3, 2)).toEqual([5, [6, -4]]);
    expect(grad(seed)(3, 2)).toBe(6);
    expect(grad(seed, 1)(3, 2)).toBe(-4);
  });

  it("Tensor in gives Tensor out", () => {
    const g = grad(seed, [0, 1])(tensor(3), tensor(2));
    expect(g[0]).toBeInstanceOf(Tensor);
    expect(g.map((t) => t.item())).toEqual([6, -4]);
    const [v, gx] = valueAndGrad(seed)(tensor(3), 2);
    expect(v).toBeInstanceOf(Tensor);
    expect(gx.item()).toBe(6);
  });

  it("the learner's trace reproduces the backward-pass table", () => {
    const rows = traceBackward(seed, 3, 2);
    const byName = Object.fromEntries(rows.map((r) => [r.node, r]));
    expect(rows.map((r) => [r.node, r.op, r.inputs.join(",")])).toEqual([
      ["x", "input", ""],
      ["y", "input", ""],
      ["a", "add", "x,y"],
      ["b", "sub", "x,y"],
      ["f", "mul", "a,b"],
    ]);
    expect([byName.a!.value, byName.b!.value, byName.f!.value]).toEqual([5, 1, 5]);
    expect([byName.f!.adjoint, byName.a!.adjoint, byName.b!.adjoint, byName.x!.adjoint, byName.y!.adjoint]).toEqual([1, 1, 5, 6, -4]);
    // x̄ = ā·∂a/∂x + b̄·∂b/∂x = 1 + 5; ȳ = ā·∂a/∂y + b̄·∂b/∂y = 1 − 5
    const terms = (name: string) => Object.fromEntries(byName[name]!.terms.map((t) => [t.from, t.value]));
    expect(terms("x")).toEqual({ a: 1, b: 5 });
    expect(terms("y")).toEqual({ a: 1, b: -5 });
    expect(terms("a")).toEqual({ f: 1 });
    expect(terms("b")).toEqual({ f: 5 });
    expect(byName.f!.isOutput).toBe(true);
    const table = formatTape(rows);
    expect(table.split("\n")[0]).toMatch(/^node\s+op\s+inputs\s+value\s+adjoint\s+terms$/);
    expect(table).toMatch(/^f\s+mul\s+a, b\s+5\s+1\s+\(seed\)$/m);
    expect(table).toMatch(/^x\s+input\s+3\s+6\s+a: 1, b: 5$/m);
    // each term is (source adjoint) · (local partial): ȳ gets b̄ · ∂b/∂y = 5 · (−1)
    expect(byName.y!.terms.map((t) => t.partial)).toEqual([1, -1]);
    expect(byName.b!.terms[0]!.partial).toBe(5); // ∂f/∂b = a = 5
  });

  it("the learner's trace names inputs, shows constants and unreached nodes", () => {
    const rows = tapeRows((p, q) => ir.add(ir.mul(p, 2), ir.mul(ir.stopGradient(q), 0)), [1, 4], {
      inputNames: ["p", "q"],
      outputName: "out",
    });
    expect(rows.map((r) => r.node)).toEqual(["p", "q", "a", "out"]);
    expect(rows[2]!.inputs).toEqual(["p", "2"]);
    expect(rows[1]!.adjoint).toBe(0);
    expect(rows[0]!.adjoint).toBe(2);
  });
});

describe("higher orders and nesting", () => {
  const cube = (x: Tensor) => ir.mul(x, ir.mul(x, x));
  it("orders 1–3 of x³ and of sin(x)·eˣ", () => {
    expect(grad(cube)(2)).toBe(12);
    expect(grad(grad(cube))(2)).toBe(12);
    expect(grad(grad(grad(cube)))(2)).toBe(6);
    expect(grad(grad(grad(grad(cube))))(2)).toBe(0);
    const f = (x: Tensor) => ir.mul(ir.sin(x), ir.exp(x));
    const x = 0.7;
    // (sin eˣ)' = eˣ(sin + cos), '' = 2eˣ cos, ''' = 2eˣ(cos − sin)
    expect(grad(f)(x)).toBeCloseTo(Math.exp(x) * (Math.sin(x) + Math.cos(x)), 12);
    expect(grad(grad(f))(x)).toBeCloseTo(2 * Math.exp(x) * Math.cos(x), 12);
    expect(grad(grad(grad(f)))(x)).toBeCloseTo(2 * Math.exp(x) * (Math.cos(x) - Math.sin(x)), 12);
  });

  it("third order through tanh, log, sqrt, div, pow", () => {
    const f = (x: Tensor) => ir.add(ir.tanh(x), ir.add(ir.log(x), ir.add(ir.sqrt(x), ir.add(ir.div(1, x), ir.pow(x, 2.5)))));
    const x = 1.3;
    const t = Math.tanh(x);
    // tanh''' = −2(1 − t²)(1 − 3t²); log''' = 2/x³; sqrt''' = 3/8 x^−5/2; (1/x)''' = −6/x⁴; (x^2.5)''' = 2.5·1.5·0.5 x^−0.5
    const expected = -2 * (1 - t * t) * (1 - 3 * t * t) + 2 / x ** 3 + (3 / 8) * x ** -2.5 - 6 / x ** 4 + 2.5 * 1.5 * 0.5 * x ** -0.5;
    expect(grad(grad(grad(f)))(x)).toBeCloseTo(expected, 10);
  });

  it("has no perturbation confusion: d/dx [x · (d/dy (x + y))(1)] at 1 is 1", () => {
    const f = (x: Tensor) => ir.mul(x, grad((y: Tensor) => ir.add(x, y))(1));
    expect(grad(f)(1)).toBe(1);
    // and the variant whose inner derivative depends on x: d/dx [x · d/dy(x·y)] = d/dx x² = 2x
    const g = (x: Tensor) => ir.mul(x, grad((y: Tensor) => ir.mul(x, y))(1));
    expect(grad(g)(3)).toBe(6);
  });

  it("hessian, hvp, jacobian and jvp", () => {
    const f = (x: Tensor) => ir.sum(ir.mul(ir.mul(x, x), ir.sin(x)));
    const x = tensor([0.3, -1.2, 2]);
    const h = hessian(f)(x);
    expect(h.shape).toEqual([3, 3]);
    const xs = x.data;
    for (let i = 0; i < 3; i++) {
      const v = xs[i]!;
      const d2 = 2 * Math.sin(v) + 4 * v * Math.cos(v) - v * v * Math.sin(v);
      for (let j = 0; j < 3; j++) expect(h.data[i * 3 + j]!).toBeCloseTo(i === j ? d2 : 0, 12);
    }
    const v = tensor([1, 2, 3]);
    const hv = hvp(f, [x], [v]);
    expect(hv).toHaveLength(1);
    for (let i = 0; i < 3; i++) expect(hv[0]!.data[i]!).toBeCloseTo(h.data[i * 4]! * v.data[i]!, 12);
    const jac = jacobian((t: Tensor) => ir.mul(ir.sin(t), 2))(x);
    expect(jac.shape).toEqual([3, 3]);
    expect(jac.data[4]).toBeCloseTo(2 * Math.cos(-1.2), 14);
    const [out, tangent] = jvp((t: Tensor) => ir.exp(t), [x], [v]);
    expect(arr(out)).toEqual(Array.from(xs, Math.exp));
    Array.from(xs).forEach((xi, i) => expect(tangent.data[i]).toBeCloseTo(Math.exp(xi) * v.data[i]!, 14));
    expect(hessian(seed, [0, 1])(3, 2)).toEqual([
      [2, 0],
      [0, -2],
    ]);
    expect(hvp(seed, [3, 2], [1, 1])).toEqual([2, -2]);
    expect(jvp(seed, [3, 2], [1, 0])).toEqual([5, 6]);
  });

  it("forward-over-reverse and reverse-over-forward-style mixes agree", () => {
    const f = (x: Tensor) => ir.mul(ir.exp(x), ir.cos(x));
    const second = grad(grad(f))(0.4);
    const viaJvp = jvp(grad(f), [0.4], [1])[1];
    const viaGradOfJvp = grad((x: Tensor) => jvp(f, [x], [1])[1])(0.4);
    expect(viaJvp).toBeCloseTo(second, 13);
    expect(viaGradOfJvp).toBeCloseTo(second, 13);
  });
});

describe("pytrees, argnums and numbers", () => {
  const model = (p: { w: Tensor; b: Tensor }, x: Tensor) => ir.sum(ir.square(ir.add(ir.matmul(x, p.w), p.b)));
  const params = {
    w: tensor([
      [1, 2],
      [3, 4],
    ]),
    b: tensor([0.5, -0.5]),
  };
  const x = tensor([
    [1, 0],
    [0, 1],
    [1, 1],
  ]);

  it("differentiates an object of tensors and mirrors its structure", () => {
    const g = grad(model)(params, x);
    expect(Object.keys(g)).toEqual(["w", "b"]);
    expect(g.w.shape).toEqual([2, 2]);
    // r = xW + b; dL/dW = 2 xᵀ r; dL/db = 2 Σ r
    const r = ir.add(ir.matmul(x, params.w), params.b);
    expect(arr(g.w)).toEqual(arr(ir.mul(2, ir.matmul(ir.transpose(x), r))));
    expect(arr(g.b)).toEqual(arr(ir.mul(2, ir.sum(r, 0))));
  });

  it("argnums arrays give a tuple; nested arrays of numbers give numbers", () => {
    const f = (a: number[], s: number, b: Tensor) => ir.mul(ir.add(ir.mul(a[0]!, a[1]!), s), ir.sum(b));
    const g = grad(f, [0, 2])([2, 3], 10, tensor([1, 1]));
    expect(g[0]).toEqual([6, 4]);
    expect(arr(g[1])).toEqual([16, 16]);
    expect(grad(f, 1)([2, 3], 10, tensor([1, 1]))).toBe(2);
  });

  it("outputs that do not depend on the inputs give zero gradients; unused inputs get zeros", () => {
    expect(grad((_x: Tensor) => ir.scalar(3))(1)).toBe(0);
    expect(grad((_x: Tensor, y: Tensor) => ir.mul(y, 2), [0, 1])(1, 5)).toEqual([0, 2]);
    expect(arr(grad((x: Tensor) => ir.sum(ir.stopGradient(x)))(tensor([1, 2])))).toEqual([0, 0]);
    expect(grad((_x: Tensor) => 7)(1)).toBe(0);
    const [pb0] = vjp((x: Tensor) => [ir.mul(x, 2), ir.scalar(1)], 3).slice(1) as unknown as [(ct: unknown) => unknown[]];
    expect(pb0([1, 1])).toEqual([2]);
  });

  it("float32 stays float32", () => {
    const g = grad((x: Tensor) => ir.sum(ir.mul(x, x)))(tensor([1, 2], { dtype: "float32" }));
    expect(g.dtype).toBe("float32");
    expect(arr(g)).toEqual([2, 4]);
  });
});

describe("define-by-run control flow", () => {
  it("branches and loops on concrete values", () => {
    const f = (x: Tensor) => (x.item() > 0 ? ir.mul(x, x) : ir.neg(x));
    expect(grad(f)(3)).toBe(6);
    expect(grad(f)(-3)).toBe(-1);
    // Newton iterations for √a, a data-dependent number of steps
    const root = (a: Tensor) => {
      let y: Tensor = ir.scalar(1);
      let steps = 0;
      while (Math.abs(ir.sub(ir.mul(y, y), a).item()) > 1e-14 && steps++ < 100) y = ir.mul(0.5, ir.add(y, ir.div(a, y)));
      return y;
    };
    expect(grad(root)(4)).toBeCloseTo(0.25, 12);
    const power = (x: Tensor, n: number) => {
      let acc: Tensor = ir.scalar(1);
      for (let i = 0; i < n; i++) acc = ir.mul(acc, x);
      return acc;
    };
    expect(grad(power)(2, 5)).toBe(80);
  });
});

describe("conventions", () => {
  it("relu'(0) = 0, abs'(0) = 0, sqrt'(0) = +∞", () => {
    expect(looseGrad(ir.relu)(0)).toBe(0);
    expect(looseGrad(ir.relu)(2)).toBe(1);
    expect(looseGrad(ir.abs)(0)).toBe(0);
    expect(looseGrad(ir.abs)(-2)).toBe(-1);
    expect(looseGrad(ir.sqrt)(0)).toBe(Infinity);
  });

  it("maximum/minimum ties split ½ each; reduce-max with k ties gives g/k", () => {
    expect(looseGrad(ir.maximum, [0, 1])(1, 1)).toEqual([0.5, 0.5]);
    expect(looseGrad(ir.minimum, [0, 1])(2, 2)).toEqual([0.5, 0.5]);
    expect(looseGrad(ir.maximum, [0, 1])(3, 1)).toEqual([1, 0]);
    expect(arr(grad((x: Tensor) => ir.max(x))(tensor([1, 3, 3, 3, 2])))).toEqual([0, 1 / 3, 1 / 3, 1 / 3, 0]);
    expect(
      arr(
        grad((x: Tensor) => ir.sum(ir.max(x, 1)))(
          tensor([
            [1, 1],
            [2, 0],
          ]),
        ),
      ),
    ).toEqual([
      [0.5, 0.5],
      [1, 0],
    ]);
  });

  it("0 · ∞ = 0 in a backward pass (a zero cotangent meets sqrt′(0) = ∞)", () => {
    expect(grad((x: Tensor) => ir.mul(ir.sqrt(x), 0))(0)).toBe(0);
    expect(grad((x: Tensor) => ir.where(ir.greater(x, 0), ir.sqrt(x), 0))(0)).toBe(0);
    expect(grad((x: Tensor) => ir.mul(ir.sqrt(x), 2))(0)).toBe(Infinity);
  });
});

describe("custom rules", () => {
  it("customVjp uses fwd/bwd (a gradient clipper)", () => {
    const clipGrad = customVjp(
      (x: Tensor) => x,
      (x: Tensor) => [x, null],
      (_res: null, ct: Tensor) => [ir.clip(ct, -1, 1)],
    );
    expect(grad((x: Tensor) => ir.mul(clipGrad(x), 5))(2)).toBe(1);
    expect(grad((x: Tensor) => ir.mul(clipGrad(x), 0.5))(2)).toBe(0.5);
  });

  it("customVjp residuals and second order through bwd", () => {
    const square = customVjp(
      (x: Tensor) => ir.mul(x, x),
      (x: Tensor) => [ir.mul(x, x), x],
      (x: Tensor, ct: Tensor) => [ir.mul(ir.mul(2, x), ct)],
    );
    expect(looseGrad(square)(3)).toBe(6);
    expect(looseGrad(looseGrad(square))(3)).toBe(2);
  });

  it("customJvp is transposed for reverse mode, to any order", () => {
    // softplus(x) = log(1 + eˣ) with the stable derivative σ(x)
    const softplus = customJvp(
      (x: Tensor) => ir.log1p(ir.exp(x)),
      ([x], [dx]) => [ir.log1p(ir.exp(x!)), ir.mul(ir.sigmoid(x!), dx!)],
    );
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    expect(looseGrad(softplus)(0.3)).toBeCloseTo(s(0.3), 14);
    expect(looseGrad(looseGrad(softplus))(0.3)).toBeCloseTo(s(0.3) * (1 - s(0.3)), 14);
    expect(looseGrad(softplus)(1000)).toBe(1);
    // a rule that differs from the true derivative is honored (it is what the user asked for)
    const fake = customJvp(
      (x: Tensor) => ir.sin(x),
      ([x], [dx]) => [ir.sin(x!), ir.mul(dx!, 10)],
    );
    expect(looseGrad(fake)(1)).toBe(10);
    // two inputs, broadcasting tangents
    const mulRule = customJvp(
      (a: Tensor, b: Tensor) => ir.mul(a, b),
      ([a, b], [da, db]) => [ir.mul(a!, b!), ir.add(ir.mul(da!, b!), ir.mul(a!, db!))],
    );
    expect(
      grad((a: Tensor, b: Tensor) => ir.sum(mulRule(a, b)), [0, 1])(tensor([1, 2]), 3).map((g: unknown) =>
        g instanceof Tensor ? g.toArray() : g,
      ),
    ).toEqual([[3, 3], 3]);
  });

  it("bad custom rules get clear errors; number cotangents are accepted", () => {
    const badArity = customVjp(
      (x: Tensor) => x,
      (x: Tensor) => [x, null],
      () => [],
    );
    expect(() => looseGrad(badArity)(1)).toThrow(
      /^customVjp: expected bwd of "anonymous" to return an array of 1 cotangent \(one per argument\), got an array of length 0$/,
    );
    const badShape = customVjp(
      (x: Tensor) => ir.sum(x),
      (x: Tensor) => [ir.sum(x), null],
      () => [tensor([1, 2, 3])],
    );
    expect(() => looseGrad(badShape)(tensor([1, 2]))).toThrow(
      /^customVjp: expected bwd of "anonymous" to return cotangent 0 of type float64\[2\] \(argument 0's\) or null, got float64\[3\]$/,
    );
    const badFwd = customVjp(
      (x: Tensor) => x,
      (() => 3) as never,
      () => [ir.scalar(1)],
    );
    const badFwdMessage = /^customVjp: expected fwd of "anonymous" to return \[output Tensor, residuals\], got number 3$/;
    expect(() => looseGrad(badFwd)(1)).toThrow(badFwdMessage);
    const numbers = customVjp(
      (x: Tensor) => ir.mul(x, 2),
      (x: Tensor) => [ir.mul(x, 2), null],
      (() => [7]) as never,
    );
    expect(looseGrad(numbers)(1)).toBe(7);
    const badJvp = customJvp((x: Tensor) => x, (() => 1) as never);
    expect(() => looseGrad(badJvp)(1)).toThrow(
      /^customJvp: expected the jvp rule of "anonymous" to return \[primal output, tangent output\] \(two Tensors\), got number 1$/,
    );
  });

  it("stopGradient gives zero", () => {
    expect(grad((x: Tensor) => ir.mul(ir.stopGradient(x), x))(3)).toBe(3);
  });
});

describe("errors", () => {
  const reference: Engine = defineEngine(reverseCoreForTests);
  const messageOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("expected a throw");
  };

  it("the lean grad path throws exactly what defineEngine throws", () => {
    const cases: [string, () => unknown, () => unknown][] = [
      [
        "non-scalar output",
        () => grad((x: Tensor) => ir.mul(x, tensor([1, 2])))(1),
        () => reference.grad((x: Tensor) => ir.mul(x, tensor([1, 2])))(1),
      ],
      ["two outputs", () => grad((x: Tensor) => [x, x])(1), () => reference.grad((x: Tensor) => [x, x])(1)],
      [
        "int output",
        () => grad((x: Tensor) => ir.argmax(ir.reshape(x, [1])))(1),
        () => reference.grad((x: Tensor) => ir.argmax(ir.reshape(x, [1])))(1),
      ],
      ["argnums out of range", () => grad(seed, 2)(1, 2), () => reference.grad(seed, 2)(1, 2)],
      ["duplicate argnums", () => grad(seed, [0, 0])(1, 2), () => reference.grad(seed, [0, 0])(1, 2)],
      ["int input", () => grad(seed)(tensor([1], { dtype: "int32" }), 2), () => reference.grad(seed)(tensor([1], { dtype: "int32" }), 2)],
      ["not a function", () => looseGrad(3)(1), () => (reference.grad as unknown as Loose)(3)(1)],
    ];
    for (const [label, ours, theirs] of cases) expect(messageOf(ours), label).toBe(messageOf(theirs));
    expect(messageOf(cases[0]![1])).toMatch(/^grad: expected f to return a scalar, got shape \[2\]$/);
  });

  it("a tracer that escapes its transformation is reported", () => {
    let leaked: Tensor | undefined;
    grad((x: Tensor) => {
      leaked = x;
      return x;
    })(1);
    expect(() => ir.add(leaked!, 1)).toThrow(ChainruleError);
    try {
      ir.add(leaked!, 1);
    } catch (error) {
      expect((error as ChainruleError).code).toBe("ESCAPED_TRACER");
    }
  });

  it("bad hvp and vjp cotangent structures name the transformation", () => {
    expect(() => looseHvp(seed, [3, 2], [1])).toThrow(/^hvp: expected tangents with the structure/);
    const [, pullback] = vjp(seed, 3, 2);
    expect(() => pullback([1, 2] as never)).toThrow(/^vjp pullback: expected a cotangent/);
    expect(() => looseHvp(3, [1], [1])).toThrow(/^hvp: expected a function/);
    const vector = (x: Tensor) => ir.mul(x, tensor([1, 2]));
    expect(messageOf(() => looseHvp(vector, [1], [1]))).toBe(
      messageOf(() => (reference.hvp as unknown as (...a: unknown[]) => unknown)(vector, [1], [1])),
    );
    expect(messageOf(() => looseHvp(vector, [1], [1]))).toMatch(/^hvp: expected f to return a scalar/);
  });
});

describe("NaN-debug mode", () => {
  it("names the forward primitive that made a NaN, with shapes", () => {
    const f = (x: Tensor) => ir.sum(ir.log(ir.sub(x, 2)));
    expect(grad(f)(tensor([1, 3]))).toBeDefined(); // off: NaN flows silently
    expect(() => withDebugNans(() => grad(f)(tensor([1, 3])))).toThrow(NanError);
    expect(() => withDebugNans(() => grad(f)(tensor([1, 3])))).toThrow(
      /reverse: log produced NaN from non-NaN inputs \(shapes \[2\] → \[2\]\)/,
    );
  });

  it("names the backward primitive that made a NaN", () => {
    // atan2 is 0 at the origin but its partials are 0/0 there
    const f = (x: Tensor) => ir.atan2(ir.mul(x, 2), 0);
    expect(() => withDebugNans(() => grad(f)(0))).toThrow(/reverse: backward pass of atan2 produced NaN/);
    expect(withDebugNans(() => grad(f)(4))).toBe(0);
  });

  it("jvp (double vjp) does not trip on its own seed: sqrt at 0 gives +∞ tangent", () => {
    expect(withDebugNans(() => jvp(ir.sqrt, [0], [1]))).toEqual([0, Infinity]);
  });

  it("stays quiet when NaN comes in", () => {
    expect(withDebugNans(() => looseGrad(ir.exp)(NaN))).toBeNaN();
  });
});

it("exports an Engine named reverse", () => {
  expect(engine.name).toBe("reverse");
  expect(engine.specVersion).toBe(ir.SPEC_VERSION);
  for (const key of ["grad", "valueAndGrad", "jvp", "vjp", "jacobian", "hessian", "hvp"] as const)
    expect(typeof engine[key]).toBe("function");
});

// no-eval.test.ts reruns this file under --disallow-code-generation-from-strings and sets this
// variable: there the check proves the flag was in force where the engine ran; in a normal run
// it shows the probe itself works (code generation is allowed).
it("code generation from strings is blocked exactly when the no-eval run asks for it", () => {
  if (process.env.CHAINRULE_EXPECT_NO_EVAL === "1") expect(() => new Function("return 1")).toThrow(EvalError);
  else expect(new Function("return 1")()).toBe(1);
});
