import {
  atan2,
  abs,
  add,
  ArgumentError,
  clip,
  cos,
  customJvp,
  customVjp,
  div,
  exp,
  ForwardModeError,
  greater,
  log,
  matmul,
  max,
  maximum,
  mul,
  NanError,
  reshape,
  relu,
  ShapeError,
  sin,
  slice,
  sqrt,
  stopGradient,
  sub,
  sum,
  tanh,
  Tensor,
  tensor,
  withDebugNans,
  type TensorLike,
} from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { createEngine, engine, grad, hessian, hvp, jacobian, jvp, valueAndGrad, vjp } from "./index.js";

const seed = (x: TensorLike, y: TensorLike): Tensor => mul(add(x, y), sub(x, y));
const arr = (t: unknown) => (t as Tensor).toArray();
/** Element i of a vector, as a scalar. */
const reduceSumFor = (v: Tensor, i: number) => reshape(slice(v, [i], [i + 1]), []);
const close = (got: number, want: number, tol = 1e-9) => expect(Math.abs(got - want)).toBeLessThanOrEqual(tol * (1 + Math.abs(want)));

describe("the seed (x + y)(x − y) at (3, 2)", () => {
  it("grad, valueAndGrad, jvp, vjp with numbers in and out", () => {
    expect(grad(seed, [0, 1])(3, 2)).toEqual([6, -4]);
    expect(grad(seed)(3, 2)).toBe(6);
    expect(grad(seed, 1)(3, 2)).toBe(-4);
    expect(valueAndGrad(seed, [0, 1])(3, 2)).toEqual([5, [6, -4]]);
    expect(jvp(seed, [3, 2], [1, 0])).toEqual([5, 6]);
    expect(jvp(seed, [3, 2], [0, 1])).toEqual([5, -4]);
    const [value, pullback] = vjp(seed, 3, 2);
    expect(value).toBe(5);
    expect(pullback(1)).toEqual([6, -4]);
    expect(pullback(2)).toEqual([12, -8]);
    expect(engine.name).toBe("forward");
  });

  it("Tensor inputs give Tensor gradients", () => {
    const g = grad(seed, [0, 1])(tensor(3), tensor(2));
    expect(g.map((t) => t.item())).toEqual([6, -4]);
    expect(g[0]).toBeInstanceOf(Tensor);
  });
});

describe("higher order by nesting", () => {
  const cube = (x: TensorLike) => mul(mul(x, x), x);
  it("grad to order 3 (numbers and tensors)", () => {
    expect(grad(cube)(2)).toBe(12);
    expect(grad(grad(cube))(2)).toBe(12);
    expect(grad(grad(grad(cube)))(2)).toBe(6);
    const f = (x: TensorLike) => mul(sin(x), exp(x));
    // (sin·eˣ)''' = 2eˣ(cos x − sin x)
    const x = 0.7;
    close(grad(grad(grad(f)))(x), 2 * Math.exp(x) * (Math.cos(x) - Math.sin(x)));
    close(grad(grad(grad(f)))(tensor(x)).item(), 2 * Math.exp(x) * (Math.cos(x) - Math.sin(x)));
  });

  it("hessian (forward over forward) and hvp agree with the closed form", () => {
    // f(x) = Σ xᵢ² xᵢ₊₁ + sin x₀: H = [[2x₁ − sin x₀, 2x₀, 0], [2x₀, 2x₂, 2x₁], [0, 2x₁, 0]]
    const f = (v: Tensor) => {
      const [a, b, c] = [0, 1, 2].map((i) => reduceSumFor(v, i));
      return add(add(mul(mul(a!, a!), b!), mul(mul(b!, b!), c!)), sin(a!));
    };
    const x = tensor([0.5, -1.2, 2]);
    const [x0, x1, x2] = [0.5, -1.2, 2];
    const want = [
      [2 * x1 - Math.sin(x0), 2 * x0, 0],
      [2 * x0, 2 * x2, 2 * x1],
      [0, 2 * x1, 0],
    ];
    for (const e of [engine, createEngine({ chunkSize: 1 }), createEngine({ chunkSize: 2 })]) {
      const h = e.hessian(f)(x);
      expect(h.shape).toEqual([3, 3]);
      (h.toArray() as number[][]).forEach((row, i) => row.forEach((v, j) => close(v, want[i]![j]!)));
      const v = tensor([1, -2, 0.5]);
      const hv = e.hvp(f, [x], [v])[0]!;
      hv.data.forEach((got, i) =>
        close(
          got,
          want[i]!.reduce((s, hij, j) => s + hij * v.data[j]!, 0),
        ),
      );
    }
  });

  it("hessian with respect to several arguments and numbers", () => {
    const f = (x: TensorLike, y: TensorLike) => mul(mul(x, x), y);
    expect(hessian(f, [0, 1])(3, 2)).toEqual([
      [4, 6],
      [6, 0],
    ]);
    expect(hvp(f, [3, 2], [1, 0])).toEqual([4, 6]);
  });

  it("no perturbation confusion: d/dx [x · (d/dy (x + y))(1)] at x = 1 is 1", () => {
    const inner = (x: TensorLike) => grad((y: TensorLike) => add(x, y))(1);
    expect(grad((x: TensorLike) => mul(x, inner(x)))(1)).toBe(1);
    expect(grad((x: TensorLike) => mul(x, inner(x)))(tensor(1)).item()).toBe(1);
  });

  it("an inner derivative closing over the outer variable", () => {
    // g(x) = d/dy [x·sin(x·y)] at y = x  = x² cos(x²); g'(x) = 2x cos(x²) − 2x³ sin(x²)
    const g = (x: TensorLike) => grad((y: TensorLike) => mul(x, sin(mul(x, y))))(x);
    const x = 0.9;
    close(g(x) as number, x * x * Math.cos(x * x));
    close(grad(g)(x), 2 * x * Math.cos(x * x) - 2 * x ** 3 * Math.sin(x * x));
    // and through jvp: the inner tangent must not leak into the outer one
    const [, outer] = jvp((t: TensorLike) => jvp((s: TensorLike) => mul(s, t), [2], [1])[1], [3], [1]);
    expect(outer).toBe(1);
  });

  it("an escaped tracer is reported", () => {
    let leaked: TensorLike = 0;
    grad((x: TensorLike) => {
      leaked = x;
      return mul(x, x);
    })(tensor(2));
    expect(() => grad((y: TensorLike) => mul(leaked, y))(tensor(1))).toThrow(/already returned/);
  });
});

describe("chunking", () => {
  const f = (v: Tensor) => sum(mul(sin(v), matmul(tensor([[1, 2, 3, 4, 5]]), v)));
  const x = tensor([[0.1], [0.2], [-0.3], [0.4], [1.5]]);
  it("gives the same gradient for every chunk size", () => {
    const want = arr(createEngine({ chunkSize: 1 }).grad(f)(x)) as number[][];
    for (const k of [2, 3, 4, 5, 64]) {
      const got = arr(createEngine({ chunkSize: k }).grad(f)(x)) as number[][];
      got.forEach((row, i) => close(row[0]!, want[i]![0]!));
      expect(createEngine({ chunkSize: k }).chunkSize).toBe(k);
    }
  });

  it("Jacobians are out.shape ++ in.shape, assembled from chunked columns", () => {
    const g = (v: Tensor) => mul(sin(v), 2);
    const v = tensor([0.1, 0.2, 0.3]);
    for (const k of [1, 2, 64]) {
      const j = createEngine({ chunkSize: k }).jacobian(g)(v);
      expect(j.shape).toEqual([3, 3]);
      (j.toArray() as number[][]).forEach((row, i) => row.forEach((val, c) => close(val, i === c ? 2 * Math.cos(v.data[i]!) : 0)));
    }
    const wide = jacobian((a: Tensor) =>
      matmul(
        tensor([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
        a,
      ),
    )(tensor([1, 1]));
    expect(wide.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it("jacobian over pytrees, argnums arrays and numbers matches jvp columns", () => {
    const f = (p: { a: Tensor; b: number }, c: number) => ({ u: mul(sin(p.a), c), v: [mul(p.b, c)] });
    const p = { a: tensor([0.1, 0.2, 0.3]), b: 2 };
    for (const e of [engine, createEngine({ chunkSize: 2 })]) {
      const j = e.jacobian(f, [0, 1])(p, 3) as { u: [{ a: Tensor; b: Tensor }, Tensor]; v: [[{ a: Tensor; b: Tensor }, Tensor]] };
      expect(j.u[0].a.shape).toEqual([3, 3]);
      (j.u[0].a.toArray() as number[][]).forEach((row, i) => row.forEach((val, c) => close(val, i === c ? 3 * Math.cos(p.a.data[i]!) : 0)));
      expect(j.u[0].b.shape).toEqual([3]);
      expect(j.u[0].b.toArray()).toEqual([0, 0, 0]);
      (j.u[1].toArray() as number[]).forEach((val, i) => close(val, Math.sin(p.a.data[i]!)));
      // numbers come back as numbers only when every input or that output was a number
      expect(j.v[0][0].b.item()).toBe(3);
      expect(j.v[0][1].item()).toBe(2);
      expect(j.v[0][0].a.toArray()).toEqual([0, 0, 0]);
    }
    // a single argnum gives the block itself; float32 inputs give float32 blocks
    const j32 = jacobian((x: Tensor) => mul(x, 2))(tensor([1, 2], { dtype: "float32" }));
    expect(j32.dtype).toBe("float32");
    expect(j32.toArray()).toEqual([
      [2, 0],
      [0, 2],
    ]);
  });

  it("jacobian errors come from the standard plumbing", () => {
    expect(() => jacobian(seed, 5)(3, 2)).toThrow(/argnums/);
    expect(() => jacobian((x: Tensor) => x)(tensor([1, 2], { dtype: "int32" }))).toThrow(/jacobian: expected float inputs/);
    const untyped = jacobian as (f: unknown) => (x: number) => unknown;
    expect(() => untyped(() => "no")(1)).toThrow(/^jacobian: expected numbers, Tensors/);
    expect(jacobian((x: TensorLike, y: TensorLike) => mul(x, y), [0, 1])(3, 2)).toEqual([2, 3]);
  });

  it("rejects a bad chunk size", () => {
    expect(() => createEngine({ chunkSize: 0 })).toThrow(ArgumentError);
    expect(() => createEngine({ chunkSize: 1.5 })).toThrow(/chunkSize/);
  });

  it("directions in one chunk never contaminate each other (0 · ∞ = 0 in tangents)", () => {
    for (const e of [engine, createEngine({ fastKernels: false })]) {
      expect(e.grad((x: TensorLike, y: TensorLike) => add(sqrt(x), y), [0, 1])(0, 1)).toEqual([Infinity, 1]);
      expect(e.grad((x: TensorLike, y: TensorLike) => add(log(x), mul(y, 2)), [0, 1])(0, 1)).toEqual([Infinity, 2]);
      const g = e.grad((v: Tensor) => sum(sqrt(v)))(tensor([0, 4]));
      expect(g.toArray()).toEqual([Infinity, 0.25]);
    }
  });
});

describe("pytrees, argnums, numbers", () => {
  it("differentiates nested objects and arrays, mirroring their structure", () => {
    const f = (p: { w: Tensor; b: [number, Tensor] }, x: number) => add(sum(mul(p.w, x)), mul(p.b[0], sum(p.b[1])));
    const params = { w: tensor([1, 2]), b: [3, tensor([4, 5])] as [number, Tensor] };
    const g = grad(f)(params, 10);
    expect(g.w.toArray()).toEqual([10, 10]);
    expect(g.b[0]).toBe(9);
    expect(g.b[1].toArray()).toEqual([3, 3]);
    const [value, both] = valueAndGrad(f, [0, 1])(params, 10);
    expect(value.item()).toBe(30 + 27);
    expect(both[1]).toBe(3);
  });

  it("jvp and vjp over pytrees", () => {
    const f = (p: { a: number; b: Tensor }) => ({ s: mul(p.a, sum(p.b)), t: sin(p.b) });
    const [out, tan] = jvp(f, [{ a: 2, b: tensor([0, 1]) }], [{ a: 1, b: tensor([1, 0]) }]);
    expect(out.s.item()).toBe(2);
    expect(tan.s.item()).toBe(1 + 2);
    close((tan.t.toArray() as number[])[0]!, 1);
    const [, pullback] = vjp(f, { a: 2, b: tensor([0, 1]) });
    const [ct] = pullback({ s: 1, t: tensor([0, 0]) });
    expect(ct.a).toBe(1);
    expect(ct.b.toArray()).toEqual([2, 2]);
  });
});

describe("control flow (define-by-run)", () => {
  it("if on values and loops", () => {
    const f = (x: TensorLike) => ((x as Tensor).item() > 0 ? mul(x, x) : neg3(x));
    const neg3 = (x: TensorLike) => mul(x, -3);
    expect(grad(f)(2)).toBe(4);
    expect(grad(f)(-2)).toBe(-3);
    // Newton's iteration for √a: the derivative flows through the loop
    const root = (a: TensorLike) => {
      let r: TensorLike = a;
      for (let i = 0; i < 30; i++) r = mul(0.5, add(r, div(a, r)));
      return r;
    };
    close(grad(root)(4), 0.25);
    close(grad(grad(root))(4), -1 / 32);
  });
});

describe("conventions", () => {
  it("relu'(0) = 0, abs'(0) = 0, sqrt'(0) = +∞, ties split", () => {
    expect(grad(relu)(0)).toBe(0);
    expect(grad(relu)(2)).toBe(1);
    expect(grad(abs)(0)).toBe(0);
    expect(grad(sqrt)(0)).toBe(Infinity);
    expect(grad(maximum, [0, 1])(1, 1)).toEqual([0.5, 0.5]);
    const g = grad((v: Tensor) => max(v))(tensor([3, 1, 3, 3]));
    expect(g.toArray()).toEqual([1 / 3, 0, 1 / 3, 1 / 3]);
    expect(grad((x: TensorLike) => mul(stopGradient(x), x))(3)).toBe(3);
    expect(grad((x: TensorLike) => (greater(x, 0).item() ? x : 0))(1)).toBe(1);
  });
});

describe("custom rules", () => {
  it("customJvp uses the rule (also in vector mode and when nested)", () => {
    // a "wrong" rule proves the rule is used: d f = 3·dx instead of cos x dx
    let calls = 0;
    const f = customJvp(
      (x: Tensor) => sin(x),
      ([x], [dx]) => {
        calls++;
        return [sin(x!), mul(dx!, mul(3, cos(sub(x!, x!))))];
      },
    );
    expect(grad(f)(1)).toBe(3);
    calls = 0;
    const g = grad((v: Tensor) => sum(f(v)))(tensor([1, 2, 3]));
    expect(g.toArray()).toEqual([3, 3, 3]);
    // linear in the tangents: one call carries all three directions
    expect(calls).toBe(1);
    // two arguments, one without a tangent
    const h = customJvp(
      (a: Tensor, b: Tensor) => mul(a, b),
      ([a, b], [da, db]) => [mul(a!, b!), add(mul(da!, b!), mul(a!, db!))],
    );
    expect(grad((x: TensorLike) => h(x, tensor(5)))(2)).toBe(5);
    expect(grad(h, [0, 1])(2, 5)).toEqual([5, 2]);
    // nested: the rule's own ops are differentiated — d/dx 3·cos(x − x) = 0
    expect(Math.abs(grad(grad(f))(1))).toBe(0);
  });

  it("a customVjp function under forward mode is a ForwardModeError naming it (bwd is never guessed into a jvp)", () => {
    let calls = 0;
    // gradient clipping: bwd is not linear, so no forward rule can be read off it
    const clipGrad = customVjp(
      function clipGrad(x: Tensor) {
        return x;
      },
      (x: Tensor) => [x, null] as [Tensor, null],
      (_r, ct) => {
        calls++;
        return [clip(ct, -0.1, 0.1)];
      },
    );
    const f = (x: Tensor) => mul(clipGrad(x), 5);
    const refused = /^customVjp: can't apply forward-mode autodiff \(jvp\) to the customVjp function "clipGrad": .*customJvp/;
    for (const call of [
      () => jvp(f, [1], [1]),
      () => grad(f)(1),
      () => valueAndGrad(f)(tensor(1)),
      () => vjp(f, 1),
      () => jacobian(f)(tensor([1, 2])),
      () => hessian(f)(1),
      () => hvp(f, [1], [1]),
      () => createEngine({ chunkSize: 1 }).grad((x: Tensor) => sum(f(x)))(tensor([1, 2])),
    ]) {
      expect(call).toThrow(ForwardModeError);
      expect(call).toThrow(refused);
    }
    expect(calls).toBe(0);
    // without a tangent the function just runs (and an unnamed one is "anonymous")
    expect(jvp((x: Tensor, y: Tensor) => add(x, clipGrad(y)), [1, 2], [1, 0])).toEqual([3, 1]);
    const anonymous = customVjp(
      (x: Tensor) => x,
      (x: Tensor) => [x, null] as [Tensor, null],
      (_r, ct) => [ct],
    );
    expect(() => grad(anonymous)(1)).toThrow(/the customVjp function "anonymous"/);
  });
});

describe("errors", () => {
  it("non-scalar output, non-function, bad argnums", () => {
    expect(() => grad((v: Tensor) => mul(v, 2))(tensor([1, 2]))).toThrow(ShapeError);
    expect(() => grad((v: TensorLike) => mul(v, tensor([1, 2])))(3)).toThrow("grad: expected f to return a scalar, got shape [2]");
    expect(() => valueAndGrad((v: TensorLike) => mul(v, tensor([1, 2])))(3)).toThrow(/^valueAndGrad: expected f to return a scalar/);
    expect(() => (grad as (f: unknown) => (x: number) => unknown)(3)(1)).toThrow(ArgumentError);
    expect(() => grad(seed, 5)(3, 2)).toThrow(/argnums/);
    expect(() => grad(seed, [0, 0])(3, 2)).toThrow(/distinct argnums/);
    expect(() => jvp(seed, [3, 2], [1] as never)).toThrow(/tangents/);
  });

  it("NaN-debug names the primitive and the shapes (primal and tangent)", () => {
    const f = (v: Tensor) => sum(log(sub(v, 1)));
    expect(() => grad(f)(tensor([0.5, 2]))).not.toThrow();
    let caught: unknown;
    try {
      withDebugNans(() => grad(f)(tensor([0.5, 2])));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NanError);
    expect(String((caught as Error).message)).toMatch(/^forward: log produced NaN from non-NaN inputs \(shapes \[2\] → \[2\]\)/);
    // a NaN made by a tangent computation: atan2's partials are 0/0 at the origin
    expect(() => withDebugNans(() => jvp((x: TensorLike) => atan2(x, 0), [0], [1]))).toThrow(/forward: tangent of atan2 produced NaN/);
    // ∞ · 0 in a tangent product is 0 (the 0 · ∞ convention), not a NaN
    expect(withDebugNans(() => jvp((x: TensorLike) => mul(x, 0), [1], [Infinity]))[1]).toBe(0);
    // the rules-only path checks too
    expect(() => withDebugNans(() => createEngine({ fastKernels: false }).grad((x: TensorLike) => log(x))(-1))).toThrow(/forward: log/);
    // off by default: NaN flows through
    expect(Number.isNaN(grad((x: TensorLike) => sqrt(x))(-1))).toBe(true);
    expect(tanh).toBeTypeOf("function");
  });
});
