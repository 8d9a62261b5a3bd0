import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  crossEntropy,
  customJvp,
  customVjp,
  exp,
  logSoftmax,
  mse,
  mul,
  softmax,
  stopGradient,
  sum,
  tensor,
  zeros,
} from "./index.js";

describe("softmax and logSoftmax", () => {
  it("hand values along the last axis by default, or another (negative) axis", () => {
    const e = Math.E;
    expectTensor(softmax([0, 1]), [1 / (1 + e), e / (1 + e)], { digits: 15 });
    expectTensor(
      softmax([
        [0, 0],
        [0, Math.log(3)],
      ]),
      [
        [0.5, 0.5],
        [0.25, 0.75],
      ],
      { digits: 15 },
    );
    expectTensor(
      softmax(
        [
          [0, 0],
          [0, Math.log(3)],
        ],
        0,
      ),
      [
        [0.5, 0.25],
        [0.5, 0.75],
      ],
      { digits: 15 },
    );
    expectTensor(logSoftmax([0, 0]), [-Math.log(2), -Math.log(2)], { digits: 15 });
    expectTensor(
      logSoftmax(
        [
          [0, 5],
          [0, 5],
        ],
        -2,
      ),
      [
        [-Math.log(2), -Math.log(2)],
        [-Math.log(2), -Math.log(2)],
      ],
      { digits: 15 },
    );
    expectTensor(logSoftmax([[1], [0]], 0), [[1 - Math.log(Math.E + 1)], [-Math.log(Math.E + 1)]], { digits: 15 });
  });

  it("are max-shifted: huge logits do not overflow, -∞ gives 0 probability", () => {
    expectTensor(softmax([1000, 1000]), [0.5, 0.5]);
    expectTensor(logSoftmax([1000, 0]), [0, -1000]);
    expectTensor(softmax([0, -Infinity]), [1, 0]);
    expectTensor(logSoftmax([0, -Infinity]), [0, -Infinity]);
  });

  it("dtypes, size-1 and empty axes", () => {
    expectTensor(softmax(tensor([0, 0], { dtype: "float32" })), [0.5, 0.5], { dtype: "float32" });
    expectTensor(softmax(tensor([1, 2], { dtype: "int32" })), [1 / (1 + Math.E), Math.E / (1 + Math.E)], { dtype: "float64", digits: 15 });
    expectTensor(softmax([[5], [7]]), [[1], [1]]);
    expect(softmax(zeros([2, 0])).shape).toEqual([2, 0]);
    expect(logSoftmax(zeros([2, 0])).shape).toEqual([2, 0]);
    expectError(() => softmax([1, 2], 1), ArgumentError, "softmax: expected axis in [-1, 0] for rank 1, got 1");
    expectError(() => logSoftmax(3), ArgumentError, "logSoftmax: expected axis in [0, -1] for rank 0, got -1");
  });
});

describe("crossEntropy", () => {
  it("with class indices: mean over the batch of −log softmax at the label", () => {
    const logits = [
      [0, 0],
      [0, Math.log(3)],
    ];
    expectTensor(crossEntropy(logits, [0, 1]), (Math.log(2) - Math.log(0.75)) / 2, { digits: 15 });
    expectTensor(crossEntropy([0, 0, 0], 2), Math.log(3), { digits: 15 });
    expectTensor(crossEntropy(logits, tensor([1, 1], { dtype: "int32" })), (Math.log(2) - Math.log(0.75)) / 2, { digits: 15 });
  });

  it("with probabilities of the logits' shape", () => {
    expectTensor(crossEntropy([[0, Math.log(3)]], [[0.5, 0.5]]), -(0.5 * Math.log(0.25) + 0.5 * Math.log(0.75)), { digits: 15 });
  });

  it("masked (−∞) logits of other classes give a finite loss (regression: was NaN)", () => {
    expectTensor(crossEntropy([[0, -Infinity]], [0]), 0, { digits: 15 });
    expectTensor(crossEntropy([[1000, 0]], [1]), 1000);
  });

  it("rejects mismatched labels", () => {
    expectError(
      () => crossEntropy([[0, 0]], [[1, 0, 0]]),
      ShapeError,
      "crossEntropy: expected labels of shape [1] (class indices) or [1,2] (probabilities), got [1,3]",
    );
    expectError(() => crossEntropy(1, 0), ShapeError, "crossEntropy: expected logits of rank ≥ 1 (classes on the last axis), got a scalar");
    expectError(
      () => crossEntropy([[0, 0]], ["a"] as never),
      ArgumentError,
      'crossEntropy: expected numbers, booleans or nested arrays of them, got string "a" at values[0]',
    );
    expectError(() => crossEntropy([[0, 0]], [0.5]), DTypeError, "crossEntropy: expected integer class indices, got 0.5");
    expectError(() => crossEntropy([[0, 0]], [true]), DTypeError, "crossEntropy: expected integer class indices, got bool");
    // regression: an out-of-range label silently contributed 0 to the loss
    expectError(() => crossEntropy([[0, 0]], [2]), ArgumentError, "crossEntropy: expected class indices in [0, 1], got 2");
    expectError(
      () =>
        crossEntropy(
          [
            [0, 0],
            [0, 0],
          ],
          tensor([0, -1], { dtype: "int32" }),
        ),
      ArgumentError,
      "crossEntropy: expected class indices in [0, 1], got -1",
    );
  });
});

describe("mse", () => {
  it("mean of squared differences; numbers and nested arrays are weakly typed", () => {
    expectTensor(mse([1, 2, 3], [1, 0, 0]), (0 + 4 + 9) / 3, { digits: 15 });
    expectTensor(mse(tensor([1, 2], { dtype: "float32" }), [0, 0]), 2.5, { dtype: "float32" });
    expectTensor(mse(2, 5), 9);
    expectError(() => mse([1, 2], [1, 2, 3]), ShapeError, "mse: expected prediction and target of one shape, got [2] and [3]");
    expectError(() => mse([[1, 2]], [1, 2]), ShapeError, "mse: expected prediction and target of one shape, got [1,2] and [2]");
  });
});

describe("differentiation control, eagerly", () => {
  it("stopGradient is the identity on values", () => {
    expectTensor(stopGradient([1, 2]), [1, 2]);
    expectTensor(stopGradient(tensor([1], { dtype: "int32" })), [1], { dtype: "int32" });
  });

  it("customJvp/customVjp compute fun(...args) eagerly", () => {
    const f = customJvp(
      (x) => exp(x),
      ([x], [dx]) => [exp(x!), mul(exp(x!), dx!)],
    );
    expectTensor(f(0), 1);
    const g = customVjp(
      (x, y) => mul(x, y),
      (x, y) => [mul(x, y), [x, y]],
      ([x, y], ct) => [mul(ct, y!), mul(ct, x!)],
    );
    expectTensor(g([1, 2], 3), [3, 6]);
    expectTensor(sum(g(tensor([1, 2]), tensor([3, 4]))), 11);
  });

  it("customJvp/customVjp reject non-functions", () => {
    expectError(
      () => customJvp(1 as never, (() => 0) as never),
      ArgumentError,
      "customJvp: expected (fun, jvp) functions, got number 1 and a function",
    );
    expectError(
      () => customVjp((() => 0) as never, (() => 0) as never, "b" as never),
      ArgumentError,
      'customVjp: expected (fun, fwd, bwd) functions, got a function, a function and string "b"',
    );
  });
});
