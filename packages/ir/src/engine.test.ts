import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import { toy, toyCore } from "./__tests__/toy-engine.js";
import {
  ArgumentError,
  ChainruleError,
  DTypeError,
  SPEC_VERSION,
  ShapeError,
  type Tensor,
  add,
  customJvp,
  defineEngine,
  exp,
  matmul,
  mul,
  sin,
  stopGradient,
  sub,
  sum,
  tensor,
  zeros,
} from "./index.js";

const seed = (x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y));
const cube = (x: Tensor) => sum(mul(mul(x, x), x));

describe("defineEngine: the Engine API from a flat jvp/vjp core", () => {
  it("carries name and specVersion", () => {
    expect(toy.name).toBe("toy");
    expect(toy.specVersion).toBe(SPEC_VERSION);
  });

  it("grad of the seed: numbers in, numbers out, argnums number or array", () => {
    expect(toy.grad(seed, [0, 1])(3, 2)).toEqual([6, -4]);
    expect(toy.grad(seed)(3, 2)).toBe(6);
    expect(toy.grad(seed, 1)(3, 2)).toBe(-4);
    expect(toy.valueAndGrad(seed)(3, 2)).toEqual([5, 6]);
    expect(toy.valueAndGrad(seed, [1])(3, 2)).toEqual([5, [-4]]);
  });

  it("grad with tensors gives tensors of the argument's shape", () => {
    expectTensor(toy.grad(cube)(tensor([1, 2])), [3, 12], { shape: [2] });
    const [value, g] = toy.valueAndGrad(cube)(tensor([1, 2]));
    expectTensor(value, 9);
    expectTensor(g, [3, 12]);
    expectTensor(toy.grad((x: Tensor) => sum(x))(tensor([[1, 2]], { dtype: "float32" })), [[1, 1]], { dtype: "float32" });
  });

  it("gradients mirror pytree arguments (numbers stay numbers)", () => {
    const loss = (p: { w: Tensor; b: number[] }, x: Tensor) => add(sum(mul(p.w, x)), mul(p.b[0]!, 3));
    const g = toy.grad(loss)({ w: tensor([1, 2]), b: [5] }, tensor([10, 20]));
    expectTensor(g.w, [10, 20]);
    expect(g.b).toEqual([3]);
    const both = toy.grad(loss, [0, 1])({ w: tensor([1, 2]), b: [5] }, tensor([10, 20]));
    expectTensor(both[1], [1, 2]);
    const withNull = toy.grad((p: { a: number; skip: null }) => mul(p.a, p.a))({ a: 3, skip: null });
    expect(withNull).toEqual({ a: 6, skip: null });
  });

  it("jvp and vjp with structures", () => {
    expect(toy.jvp(seed, [3, 2], [1, 0])).toEqual([5, 6]);
    const [out, tangent] = toy.jvp((x: Tensor) => ({ s: sum(x), d: mul(x, 2) }), [tensor([1, 2])], [tensor([1, 1])]);
    expectTensor(out.s, 3);
    expectTensor(tangent.d, [2, 2]);
    const [value, pullback] = toy.vjp(seed, 3, 2);
    expect(value).toBe(5);
    expect(pullback(1)).toEqual([6, -4]);
    expect(pullback(2)).toEqual([12, -8]);
    const [, pull2] = toy.vjp((x: Tensor) => [sum(x), mul(x, 3)], tensor([1, 2]));
    const [ct] = pull2([1, tensor([1, 0])]);
    expectTensor(ct, [4, 1]);
  });

  it("jacobian has shape out.shape ++ in.shape in every mode, and mirrors structures", () => {
    const square = (x: Tensor) => mul(x, x);
    const expected = [
      [2, 0, 0],
      [0, 4, 0],
      [0, 0, 6],
    ];
    for (const mode of ["forward", "reverse", "auto"] as const) {
      const engine = defineEngine({ ...toyCore, jacobianMode: mode });
      expectTensor(engine.jacobian(square)(tensor([1, 2, 3])), expected, { shape: [3, 3] });
      const m = tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      expectTensor(engine.jacobian((x: Tensor) => matmul(m, x))(tensor([0, 0])), m.toArray(), { shape: [3, 2] });
      expectTensor(engine.jacobian((x: Tensor) => sum(x))(tensor([[1, 2]])), [[1, 1]], { shape: [1, 2] });
      expectTensor(engine.jacobian((x: Tensor) => mul(x, 2))(zeros([0])), [], { shape: [0, 0] });
      expectTensor(engine.jacobian((x: Tensor) => sum(x))(zeros([0])), [], { shape: [0] });
      expect(engine.jacobian(seed, [0, 1])(3, 2)).toEqual([6, -4]);
      const tree = engine.jacobian((x: Tensor) => ({ a: sum(x), b: [mul(x, 2)] }))(tensor([1, 2]));
      expectTensor(tree.a, [1, 1]);
      expectTensor(tree.b[0], [
        [2, 0],
        [0, 2],
      ]);
    }
  });

  it("hessian and hvp", () => {
    expectTensor(toy.hessian(cube)(tensor([1, 2])), [
      [6, 0],
      [0, 12],
    ]);
    expect(toy.hessian(seed, [0, 1])(3, 2)).toEqual([
      [2, 0],
      [0, -2],
    ]);
    expect(toy.hvp(seed, [3, 2], [1, 1])).toEqual([2, -2]);
    const [h] = toy.hvp(cube, [tensor([1, 2])], [tensor([1, 0])]);
    expectTensor(h, [6, 0]);
  });

  it("hvp: a JS number leaf among tensor leaves gives a JS number (the result mirrors the primals)", () => {
    const f = (p: { w: Tensor; s: Tensor }) => mul(sum(mul(p.w, p.w)), p.s);
    const [hv] = toy.hvp(f, [{ w: tensor([1, 2]), s: 3 }], [{ w: tensor([1, 0]), s: 1 }]);
    expectTensor(hv.w, [8, 4]); // ∂²/∂w² · [1, 0] + ∂²/∂w∂s · 1 = [6, 0] + [2, 4]
    expect(hv.s).toBe(2); // ∂²/∂s∂w · [1, 0] = 2·w₀
  });

  it("nests to third order without perturbation confusion", () => {
    const fourth = (x: Tensor) => mul(mul(x, x), mul(x, x));
    expect(toy.grad(toy.grad(toy.grad(fourth)))(2)).toBe(48); // 24x
    expect(toy.grad(toy.grad(sin))(0.5)).toBeCloseTo(-Math.sin(0.5), 15);
    // d/dx [x · (d/dy (x + y))(1)] at x = 1 is 1, not 2
    expect(toy.grad((x: Tensor) => mul(x, toy.grad((y: Tensor) => add(x, y))(1)))(1)).toBe(1);
  });

  it("stopGradient and the default (inlining) custom-rule processing", () => {
    expect(toy.grad((x: Tensor) => mul(x, stopGradient(x)))(3)).toBe(3);
    // the toy trace does not override processCustomJvp, so the function itself is differentiated
    const f = customJvp(
      (x) => exp(x),
      ([x], [dx]) => [exp(x!), mul(100, dx!)],
    );
    expect(toy.grad((x: Tensor) => f(x))(0)).toBe(1);
  });

  it("argument errors name the transformation", () => {
    expectError(() => toy.grad("f" as never), ArgumentError, 'grad: expected a function, got string "f"');
    expectError(() => toy.jacobian(undefined as never), ArgumentError, "jacobian: expected a function, got undefined");
    expectError(() => toy.hessian(5 as never), ArgumentError, "hessian: expected a function, got number 5");
    expectError(() => toy.grad(seed, -1 as never), ArgumentError, "grad: expected argnums to be non-negative integers, got -1");
    expectError(() => toy.grad(seed, 0.5 as never), ArgumentError, "grad: expected argnums to be non-negative integers, got 0.5");
    expectError(
      () => toy.valueAndGrad(seed, [] as never),
      ArgumentError,
      "valueAndGrad: expected argnums to be an argument index or a non-empty array of them, got []",
    );
    expectError(
      () => toy.grad(seed, "0" as never),
      ArgumentError,
      'grad: expected argnums to be an argument index or a non-empty array of them, got "0"',
    );
    expectError(() => toy.grad(seed, [0, 0]), ArgumentError, "grad: expected distinct argnums, got [0,0]");
    expectError(
      () => toy.grad(seed, 2 as never)(3, 2),
      ArgumentError,
      "grad: expected argnums in [0, 1] (f was called with 2 arguments), got 2",
    );
    expectError(
      () => toy.grad(seed, [0, 5] as never)(3, 2),
      ArgumentError,
      "grad: expected argnums in [0, 1] (f was called with 2 arguments), got [0,5]",
    );
    expectError(
      () => toy.grad(seed)("3" as never, 2),
      ArgumentError,
      'grad: expected numbers, Tensors, arrays or plain objects, got string "3" at args[0]',
    );
    expectError(
      () => toy.grad(seed)(tensor([1], { dtype: "int32" }), 2),
      DTypeError,
      "grad: expected float inputs to differentiate, got int32 at args[0]",
    );
    expectError(() => toy.grad((x: Tensor) => mul(x, 2))(tensor([1, 2])), ShapeError, "grad: expected f to return a scalar, got shape [2]");
    expectError(() => toy.grad((x: Tensor) => [x, x])(1), ShapeError, "grad: expected f to return a scalar, got 2 outputs");
    expectError(
      () => toy.jvp(seed, 3 as never, [1] as never),
      ArgumentError,
      "jvp: expected primals and tangents as arrays of arguments, got number 3 and an array of length 1",
    );
    expectError(
      () => toy.jvp(seed, [3, 2], [1] as never),
      ArgumentError,
      "jvp: expected tangents with the structure [number, number], got [number]",
    );
    expectError(
      () => toy.jvp(cube, [tensor([1, 2])], [tensor([1])]),
      ShapeError,
      "jvp: expected tangent leaf 0 of shape [2] like its primal, got [1]",
    );
    const [, pullback] = toy.vjp(cube, tensor([1, 2]));
    expectError(
      () => pullback([1, 2] as never),
      ArgumentError,
      "vjp pullback: expected a cotangent with the structure Tensor, got [number, number]",
    );
    expectError(
      () => pullback(tensor([1, 2])),
      ShapeError,
      "vjp pullback: expected a cotangent leaf 0 of shape [] like its output, got [2]",
    );
    expectError(
      () => toy.hvp(seed, 3 as never, [1] as never),
      ArgumentError,
      "hvp: expected primals as an array of arguments, got number 3",
    );
  });

  it("a tracer leaked out of a transformation is refused when used again", () => {
    let leaked: Tensor | undefined;
    toy.grad((x: Tensor) => {
      leaked = x;
      return mul(x, x);
    })(2);
    try {
      mul(leaked!, 2);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ChainruleError);
      expect((e as ChainruleError).code).toBe("ESCAPED_TRACER");
      expect((e as Error).message).toBe(
        "mul: expected values of active transformations, got a toy tracer f64[] from a transformation that has already returned " +
          "(a tracer leaked out of grad/jvp/jit, e.g. stored in an outer variable)",
      );
    }
  });
});
