/** defineEngine's robustness: options it does not have, and a Jacobian that meets a customVjp function. */
import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import { toy, toyCore } from "./__tests__/toy-engine.js";
import { ArgumentError, defineEngine, ForwardModeError, mul, tensor, type EngineCore, type Tensor } from "./index.js";

describe("defineEngine: options and forward mode", () => {
  it("an option a transformation does not have (grad(f, 0, { holomorphic: true })) is an ArgumentError, never ignored", () => {
    const square = (x: Tensor) => mul(x, x);
    const loose = toy as unknown as Record<string, (...args: unknown[]) => (...args: unknown[]) => unknown>;
    for (const op of ["grad", "valueAndGrad", "jacobian", "jacfwd", "jacrev"]) {
      expectError(
        () => loose[op]!(square, 0, { holomorphic: true }),
        ArgumentError,
        `${op}: unknown option holomorphic (${op} takes (f, argnums, { hasAux }), the options hasAux)`,
      );
      expectError(() => loose[op]!(square, 0, { hasAux: 1 }), ArgumentError, `${op}: expected hasAux to be a boolean, got number 1`);
    }
    expectError(
      () => loose["hessian"]!(square, 0, { hasAux: true }),
      ArgumentError,
      "hessian: unknown option hasAux (hessian takes (f, argnums), no options)",
    );
    expectError(
      () => loose["grad"]!(square, 0, { hasAux: true, x: 1 }),
      ArgumentError,
      "grad: unknown option x (grad takes (f, argnums, { hasAux }), the options hasAux)",
    );
    const jvp = toy.jvp as unknown as (...args: unknown[]) => unknown;
    const hvp = toy.hvp as unknown as (...args: unknown[]) => unknown;
    expectError(
      () => jvp(square, [3], [1], { hasAux: true }),
      ArgumentError,
      "jvp: unknown option hasAux (jvp takes (f, primals, tangents), no options)",
    );
    expectError(
      () => hvp(square, [3], [1], { hasAux: true }),
      ArgumentError,
      "hvp: unknown option hasAux (hvp takes (f, primals, tangents), no options)",
    );
    // nothing, undefined and an empty object are no options
    expect(loose["grad"]!(square, 0, undefined)(3)).toBe(6);
    expect(loose["grad"]!(square, 0, {})(3)).toBe(6);
  });

  it("an auto Jacobian that meets a customVjp function in forward mode builds rows instead; a forward-only one raises", () => {
    const refusing: EngineCore = {
      ...toyCore,
      name: "refusing",
      jvp: () => {
        throw new ForwardModeError({ fun: (x: Tensor) => x, fwd: (x: Tensor) => [x, null], bwd: (_r, g) => [g] });
      },
    };
    const f = (x: Tensor) => mul(x, tensor([1, 2, 3]));
    // one input element, three output elements: auto picks forward mode first
    expectTensor(defineEngine(refusing).jacobian(f)(tensor(2)), [1, 2, 3]);
    expect(() => defineEngine({ ...refusing, jacobianMode: "forward" }).jacobian(f)(tensor(2))).toThrow(ForwardModeError);
  });
});
