/**
 * The transformations of issue 19 as defineEngine builds them (on the toy engine): hasAux,
 * linearize, jacfwd/jacrev, the Hessian of a non-scalar output, checkpoint, and weak tensors.
 * Expected values are hand-computed derivatives.
 */
import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import { toy } from "./__tests__/toy-engine.js";
import { add, ArgumentError, cos, exp, greater, isWeak, markWeak, mul, sin, slice, sum, tensor, type Tensor } from "./index.js";

const x3 = () => tensor([0.5, -1, 2]);

describe("hasAux", () => {
  // f(x) = Σ x², aux = { s: sin(x), i: x > 0, n: 3 }
  const f = (x: Tensor) => [sum(mul(x, x)), { s: sin(x), i: greater(x, 0), n: 3 }] as const;

  it("grad → [g, aux]: aux is f's value, not differentiated; numbers stay numbers", () => {
    const [g, aux] = toy.grad(f, 0, { hasAux: true })(x3());
    expectTensor(g, [1, -2, 4]);
    expectTensor(aux.s, [Math.sin(0.5), Math.sin(-1), Math.sin(2)], { digits: 12 });
    expectTensor(aux.i, [true, false, true], { dtype: "bool" });
    expect(aux.n).toBe(3);
  });

  it("valueAndGrad → [[value, aux], g]; `(f, { hasAux })` means argnums 0", () => {
    const [[value, aux], g] = toy.valueAndGrad(f, undefined, { hasAux: true })(x3());
    expectTensor(value, 5.25);
    expect(aux.n).toBe(3);
    expectTensor(g, [1, -2, 4]);
    const loose = toy.valueAndGrad as unknown as (f: unknown, o: unknown) => (x: Tensor) => [[Tensor, unknown], Tensor];
    expectTensor(loose(f, { hasAux: true })(x3())[1], [1, -2, 4]);
  });

  it("grad with argnums [0, 1] and JS numbers: [[∂x, ∂y], aux]", () => {
    // f(x, y) = x²y, aux = x + y
    const [[dx, dy], aux] = toy.grad((x: number, y: number) => [mul(mul(x, x), y), add(x, y)], [0, 1], { hasAux: true })(3, 2);
    expect(dx).toBe(12);
    expect(dy).toBe(9);
    expectTensor(aux, 5);
  });

  it("jacobian → [J, aux]; jacfwd and jacrev too", () => {
    for (const jac of [toy.jacobian, toy.jacfwd, toy.jacrev]) {
      const [J, aux] = jac((x: Tensor) => [sin(x), exp(x)], 0, { hasAux: true })(tensor([0, 1]));
      expectTensor(J, [
        [1, 0],
        [0, Math.cos(1)],
      ]);
      expectTensor(aux, [1, Math.E], { digits: 12 });
    }
  });

  it("vjp(f, ...primals, { hasAux: true }) → [out, pullback, aux]; the pullback takes out's cotangent only", () => {
    const [out, pullback, aux] = toy.vjp((x: Tensor) => [mul(x, 3), { scale: 3 }], tensor([1, 2]), { hasAux: true });
    expectTensor(out, [3, 6]);
    expect(aux).toEqual({ scale: 3 });
    const [ct] = pullback(tensor([1, 10]));
    expectTensor(ct, [3, 30]);
  });

  it("f must return a pair; hasAux must be a boolean", () => {
    expectError(
      () => toy.grad((x: Tensor) => sum(x), 0, { hasAux: true })(x3()),
      ArgumentError,
      "grad: expected f to return a pair [out, aux] (hasAux is true), got toy tracer f64[]",
    );
    expectError(() => toy.grad(f, 0, { hasAux: "yes" as never }), ArgumentError, 'grad: expected hasAux to be a boolean, got string "yes"');
  });

  it("aux of a nested transformation is a primal of the enclosing one (differentiable there)", () => {
    // inner: d/dy (x·y²) = 2xy, aux = x·y; outer: d/dx (aux at y = 3) = 3
    const outer = toy.grad((x: number) => toy.grad((y: number) => [mul(x, mul(y, y)), mul(x, y)], 0, { hasAux: true })(3)[1]);
    expect(outer(2)).toBe(3);
  });
});

describe("linearize", () => {
  it("[f(x), jvpFn]: jvpFn is J·t at x, reusable", () => {
    // f(x) = sin(x)·x, J = diag(cos(x)·x + sin(x))
    const x = tensor([0.5, 2]);
    const [out, jvpFn] = toy.linearize((v: Tensor) => mul(sin(v), v), x);
    expectTensor(out, [Math.sin(0.5) * 0.5, Math.sin(2) * 2], { digits: 12 });
    const d = (v: number) => Math.cos(v) * v + Math.sin(v);
    expectTensor(jvpFn(tensor([1, 0])), [d(0.5), 0], { digits: 12 });
    expectTensor(jvpFn(tensor([0, 2])), [0, 2 * d(2)], { digits: 12 });
  });

  it("several primals, JS numbers in → numbers out; a wrong tangent count is an error", () => {
    const [out, jvpFn] = toy.linearize((a: number, b: number) => mul(a, b), 3, 4);
    expect(out).toBe(12);
    expect(jvpFn(1, 0)).toBe(4);
    expect(jvpFn(0, 1)).toBe(3);
    expectError(() => (jvpFn as (...t: number[]) => unknown)(1), ArgumentError, "linearize: expected 2 tangents (one per primal), got 1");
  });
});

describe("hessian of a non-scalar output (jacfwd(jacrev(f)))", () => {
  it("has shape out.shape ++ in.shape ++ in.shape", () => {
    // f(x) = [x0²·x1, sin(x0)]: H[0] = [[2x1, 2x0], [2x0, 0]], H[1] = [[-sin(x0), 0], [0, 0]]
    const H = toy.hessian((x: Tensor) => {
      const [a, b] = [slice(x, [0], [1]), slice(x, [1], [2])] as const;
      return add(mul(mul(mul(a, a), b), tensor([1, 0])), mul(sin(a), tensor([0, 1])));
    })(tensor([0.5, 3]));
    expectTensor(
      H,
      [
        [
          [6, 1],
          [1, 0],
        ],
        [
          [-Math.sin(0.5), 0],
          [0, 0],
        ],
      ],
      { digits: 12, shape: [2, 2, 2] },
    );
  });

  it("a scalar output keeps the Hessian of in.shape ++ in.shape, numbers for numbers", () => {
    expect(toy.hessian((x: number) => mul(mul(x, x), x))(2)).toBe(12);
  });
});

describe("checkpoint", () => {
  const layer = (h: Tensor) => sin(mul(h, 1.5));
  // d/dx Σ sin(1.5·sin(1.5x)) = 1.5·cos(1.5·s1)·1.5·cos(1.5x), s1 = sin(1.5x)
  const expected = (v: number) => 2.25 * Math.cos(1.5 * Math.sin(1.5 * v)) * Math.cos(1.5 * v);

  it("the gradient through checkpointed layers equals the plain one, for both policies", () => {
    for (const policy of [undefined, "nothingSaveable", "everythingSaveable"] as const) {
      const remat = toy.checkpoint(layer, policy === undefined ? undefined : { policy });
      const g = toy.grad((x: Tensor) => sum(remat(remat(x))))(tensor([0.25, -1]));
      expectTensor(g, [expected(0.25), expected(-1)], { digits: 12 });
    }
  });

  it("eagerly f just runs; pytrees in and out; forward mode (jvp, Hessians) goes through f", () => {
    const both = toy.checkpoint((p: { a: Tensor; b: number }) => [mul(p.a, p.b), cos(p.a)]);
    const [u, v] = both({ a: tensor([0, 1]), b: 2 });
    expectTensor(u, [0, 2]);
    expectTensor(v, [1, Math.cos(1)], { digits: 12 });
    const [, t] = toy.jvp((a: Tensor) => sum(both({ a, b: 2 })[0]!), [tensor([1, 2])], [tensor([1, 1])]);
    expectTensor(t, 4);
    // d²/dx² sin(x)·x = 2cos(x) - x·sin(x)
    const h = toy.hessian(toy.checkpoint((x: number) => mul(sin(x), x)))(1);
    expect(h).toBeCloseTo(2 * Math.cos(1) - Math.sin(1), 12);
  });

  it("checks its arguments", () => {
    expectError(() => toy.checkpoint(3 as never), ArgumentError, "checkpoint: expected a function, got number 3");
    expectError(
      () => toy.checkpoint(layer, { policy: "dots" as never }),
      ArgumentError,
      'checkpoint: expected policy to be "nothingSaveable" or "everythingSaveable", got "dots"',
    );
    expectError(
      () => toy.checkpoint(layer, { save: true } as never),
      ArgumentError,
      'checkpoint: expected options among policy, got an unknown option "save"',
    );
  });
});

describe("weak tensors", () => {
  it("a tensor marked weak takes the other operand's dtype, as a non-integer JS number does", () => {
    const x = tensor([1, 2], { dtype: "float32" });
    const w = markWeak(tensor(0.5));
    expect(isWeak(w)).toBe(true);
    expect(isWeak(tensor(0.5))).toBe(false);
    expectTensor(add(x, w), [1.5, 2.5], { dtype: "float32" });
    expect(add(x, tensor(0.5)).dtype).toBe("float64");
    // meeting int32 it makes float64, like add(int32, 0.5)
    expect(add(tensor([1], { dtype: "int32" }), w).dtype).toBe("float64");
  });
});
