import { describe, expect, it } from "vitest";
import { expectError } from "./__tests__/helpers.js";
import {
  ArgumentError,
  checkCustomRule,
  DTypeError,
  ForwardModeError,
  ShapeError,
  scalar,
  tensor,
  type CustomJvpRule,
  type CustomVjpRule,
  type Tensor,
} from "./index.js";

const identity = (x: Tensor) => x;
function softclip(x: Tensor) {
  return x;
}
const jvpRule: CustomJvpRule = { fun: softclip, jvp: ([x], [t]) => [x!, t!] };
const vjpRule: CustomVjpRule = { fun: softclip, fwd: (x) => [x, null], bwd: (_r, g) => [g] };
const f64x2 = tensor([1, 2]);

describe("checkCustomRule: what a custom rule returns, one message for every engine", () => {
  it("names the function by fun's name, or anonymous", () => {
    expect(new ForwardModeError(vjpRule).functionName).toBe("softclip");
    expect(new ForwardModeError({ ...vjpRule, fun: [(x: Tensor) => x][0]! }).functionName).toBe("anonymous");
    expect(new ForwardModeError({ ...vjpRule, fun: [identity][0]! }).functionName).toBe("identity");
    expect(() => checkCustomRule("jvp", { ...jvpRule, fun: [(x: Tensor) => x][0]! }, 5)).toThrow(/the jvp rule of "anonymous"/);
  });

  it("jvp: a [primal, tangent] pair of two Tensors, the tangent of the primal's type (and the function's, when known)", () => {
    const pair: [Tensor, Tensor] = [f64x2, tensor([3, 4])];
    expect(checkCustomRule("jvp", jvpRule, pair)).toEqual(pair);
    expect(checkCustomRule("jvp", jvpRule, pair, f64x2)).toEqual(pair);
    const prefix = 'customJvp: expected the jvp rule of "softclip" to return';
    expectError(
      () => checkCustomRule("jvp", jvpRule, 5),
      ArgumentError,
      `${prefix} [primal output, tangent output] (two Tensors), got number 5`,
    );
    expectError(
      () => checkCustomRule("jvp", jvpRule, [f64x2, 5]),
      ArgumentError,
      `${prefix} [primal output, tangent output] (two Tensors), got [float64[2], number 5]`,
    );
    expectError(
      () => checkCustomRule("jvp", jvpRule, [f64x2]),
      ArgumentError,
      `${prefix} [primal output, tangent output] (two Tensors), got an array of length 1`,
    );
    expectError(
      () => checkCustomRule("jvp", jvpRule, [f64x2, tensor([1, 2, 3])]),
      ShapeError,
      `${prefix} a tangent of type float64[2] (the primal output's), got float64[3]`,
    );
    expectError(
      () => checkCustomRule("jvp", jvpRule, [f64x2, tensor([1, 2], { dtype: "float32" })]),
      DTypeError,
      `${prefix} a tangent of type float64[2] (the primal output's), got float32[2]`,
    );
    expectError(
      () => checkCustomRule("jvp", jvpRule, [tensor([1, 2, 3]), tensor([1, 2, 3])], f64x2),
      ShapeError,
      `${prefix} a primal output of type float64[2] (the function's output), got float64[3]`,
    );
  });

  it("fwd: [output Tensor, residuals]", () => {
    expect(checkCustomRule("fwd", vjpRule, [f64x2, { any: "residuals" }])).toEqual([f64x2, { any: "residuals" }]);
    const prefix = 'customVjp: expected fwd of "softclip" to return [output Tensor, residuals], got';
    expectError(() => checkCustomRule("fwd", vjpRule, f64x2), ArgumentError, `${prefix} Tensor f64[2]`);
    expectError(() => checkCustomRule("fwd", vjpRule, [3, null]), ArgumentError, `${prefix} [number 3, residuals]`);
  });

  it("bwd: one cotangent per argument of its type; null is zero, a number fits a rank-0 argument, non-float arguments get null", () => {
    const args = [f64x2, scalar(1), tensor([1, 2], { dtype: "int32" })];
    const g = tensor([5, 6]);
    expect(checkCustomRule("bwd", vjpRule, [g, 2, tensor([0, 0])], args)).toEqual([g, scalar(2), null]);
    expect(checkCustomRule("bwd", vjpRule, [null, undefined, null], args)).toEqual([null, null, null]);
    const prefix = 'customVjp: expected bwd of "softclip" to return';
    expectError(
      () => checkCustomRule("bwd", vjpRule, [g], args),
      ArgumentError,
      `${prefix} an array of 3 cotangents (one per argument), got an array of length 1`,
    );
    expectError(
      () => checkCustomRule("bwd", vjpRule, g, [f64x2]),
      ArgumentError,
      `${prefix} an array of 1 cotangent (one per argument), got Tensor f64[2]`,
    );
    expectError(
      () => checkCustomRule("bwd", vjpRule, [tensor([1, 2, 3])], [f64x2]),
      ShapeError,
      `${prefix} cotangent 0 of type float64[2] (argument 0's) or null, got float64[3]`,
    );
    expectError(
      () => checkCustomRule("bwd", vjpRule, [tensor([1, 2], { dtype: "float32" })], [f64x2]),
      DTypeError,
      `${prefix} cotangent 0 of type float64[2] (argument 0's) or null, got float32[2]`,
    );
    expectError(
      () => checkCustomRule("bwd", vjpRule, [3], [f64x2]),
      ArgumentError,
      `${prefix} cotangent 0 of type float64[2] (argument 0's) or null, got number 3`,
    );
    expectError(
      () => checkCustomRule("bwd", vjpRule, [g, "x", null], args),
      ArgumentError,
      `${prefix} cotangent 1 of type float64[] (argument 1's) or null, got string "x"`,
    );
  });

  it("malformed calls (an engine's bug, not a rule's) are ArgumentErrors too", () => {
    const call = checkCustomRule as (...args: unknown[]) => unknown;
    expectError(
      () => call("both", vjpRule, []),
      ArgumentError,
      'checkCustomRule: expected the kind "jvp", "fwd" or "bwd", got string "both"',
    );
    expectError(
      () => call("bwd", vjpRule, [f64x2], [5]),
      ArgumentError,
      'checkCustomRule: expected the arguments\' types for "bwd", got an array of length 1',
    );
    expectError(
      () => call("jvp", jvpRule, [f64x2, f64x2], 5),
      ArgumentError,
      'checkCustomRule: expected the output\'s type for "jvp", got number 5',
    );
    expectError(
      () => call("fwd", null, 3),
      ArgumentError,
      'customVjp: expected fwd of "anonymous" to return [output Tensor, residuals], got number 3',
    );
  });

  it("ForwardModeError names the function and points to customJvp", () => {
    const error = new ForwardModeError(vjpRule);
    expect(error).toBeInstanceOf(ForwardModeError);
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.code).toBe("ARGUMENT");
    expect(error.functionName).toBe("softclip");
    expect(error.message).toMatch(/^customVjp: can't apply forward-mode autodiff \(jvp\) to the customVjp function "softclip": /);
    expect(error.message).toMatch(/define a forward rule with customJvp/);
  });
});
