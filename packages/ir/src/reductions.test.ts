import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  all,
  any,
  argmax,
  argmin,
  arange,
  logsumexp,
  max,
  mean,
  min,
  prod,
  reshape,
  std,
  sum,
  tensor,
  variance,
  zeros,
} from "./index.js";

const m = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
const i32 = (v: number[]) => tensor(v, { dtype: "int32" });

describe("sum", () => {
  it("over all axes, one axis, several axes, negative axes", () => {
    expectTensor(sum(m()), 21, { shape: [] });
    expectTensor(sum(m(), 0), [5, 7, 9]);
    expectTensor(sum(m(), 1), [6, 15]);
    expectTensor(sum(m(), -1), [6, 15]);
    expectTensor(sum(m(), -2), [5, 7, 9]);
    expectTensor(sum(m(), [0, 1]), 21);
    expectTensor(sum(m(), [-1, 0]), 21);
    const t = reshape(arange(24), [2, 3, 4]);
    expectTensor(sum(t, [0, 2]), [
      0 + 1 + 2 + 3 + 12 + 13 + 14 + 15,
      4 + 5 + 6 + 7 + 16 + 17 + 18 + 19,
      8 + 9 + 10 + 11 + 20 + 21 + 22 + 23,
    ]);
  });

  it("keepdims keeps reduced axes as size 1", () => {
    expectTensor(sum(m(), 1, true), [[6], [15]], { shape: [2, 1] });
    expectTensor(sum(m(), undefined, true), [[21]], { shape: [1, 1] });
    expectTensor(sum(m(), [-2], true), [[5, 7, 9]], { shape: [1, 3] });
  });

  it("empty axes sum to 0; size-1 axes; an empty axis list is the identity; scalars", () => {
    expectTensor(sum(zeros([0])), 0);
    expectTensor(sum(zeros([2, 0]), 1), [0, 0]);
    expectTensor(sum(zeros([2, 0]), 0), [], { shape: [0] });
    expectTensor(sum(tensor([[7]]), 0), [7]);
    expectTensor(sum(m(), []), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expectTensor(sum(5), 5);
  });

  it("dtypes: f32 stays f32, int32 stays int32, bool counts as int32", () => {
    expectTensor(sum(tensor([0.5, 0.25], { dtype: "float32" })), 0.75, { dtype: "float32" });
    expectTensor(sum(i32([1, 2, 3])), 6, { dtype: "int32" });
    expectTensor(sum([true, true, false]), 2, { dtype: "int32" });
  });

  it("rejects out-of-range, non-integer and repeated axes", () => {
    expectError(() => sum(m(), 2), ArgumentError, "sum: expected axis in [-2, 1] for rank 2, got 2");
    expectError(() => sum(m(), -3), ArgumentError, "sum: expected axis in [-2, 1] for rank 2, got -3");
    expectError(() => sum(m(), 0.5), ArgumentError, "sum: expected an integer axis, got 0.5");
    expectError(() => sum(m(), "0" as never), ArgumentError, 'sum: expected an integer axis, got "0"');
    expectError(() => sum(m(), [0, -2]), ArgumentError, "sum: expected distinct axes, got [0,-2]");
    expectError(() => sum(5, 0), ArgumentError, "sum: expected axis in [0, -1] for rank 0, got 0");
    expectError(() => sum("x" as never), ArgumentError, 'sum: expected a number, Tensor or nested array, got string "x"');
  });

  it("axis errors have code AXIS", () => {
    try {
      sum(m(), 5);
    } catch (e) {
      expect((e as ArgumentError).code).toBe("AXIS");
    }
    expect.assertions(1);
  });
});

describe("mean and variance", () => {
  it("hand values with axes and keepdims", () => {
    expectTensor(mean(m()), 3.5);
    expectTensor(mean(m(), 0), [2.5, 3.5, 4.5]);
    expectTensor(mean(m(), -1, true), [[2], [5]]);
    expectTensor(mean(i32([1, 2])), 1.5, { dtype: "float64" });
    expectTensor(mean(tensor([1, 2], { dtype: "float32" })), 1.5, { dtype: "float32" });
    expectTensor(mean(zeros([0])), NaN);
    expectTensor(variance([1, 2, 3, 4]), 1.25);
    expectTensor(variance(m(), 1), [2 / 3, 2 / 3], { digits: 15 });
    expectTensor(variance(m(), 0, true), [[2.25, 2.25, 2.25]]);
  });
});

describe("max and min", () => {
  it("hand values with axes, negative axes and keepdims", () => {
    expectTensor(max(m()), 6);
    expectTensor(max(m(), 0), [4, 5, 6]);
    expectTensor(max(m(), -1, true), [[3], [6]]);
    expectTensor(min(m(), 1), [1, 4]);
    expectTensor(min(m(), undefined, true), [[1]]);
    expectTensor(max([-Infinity, -Infinity]), -Infinity);
  });

  it("NaN propagates", () => {
    expectTensor(max([1, NaN, 3]), NaN);
    expectTensor(min([NaN, 1]), NaN);
  });

  it("int32 keeps its dtype (regression: negative maxima came out as 0)", () => {
    expectTensor(max(i32([-5, -3])), -3, { dtype: "int32" });
    expectTensor(min(i32([-5, -3])), -5, { dtype: "int32" });
    expectTensor(max(tensor([-2147483648], { dtype: "int32" })), -2147483648);
  });

  it("f32 stays f32; reducing a non-empty axis of a tensor with an empty other axis works", () => {
    expectTensor(max(tensor([1, 2], { dtype: "float32" })), 2, { dtype: "float32" });
    expectTensor(max(zeros([0, 3]), 1), [], { shape: [0] });
  });

  it("rejects empty axes and bool", () => {
    expectError(() => max(zeros([0])), ShapeError, "max: expected a non-empty axis 0, got shape [0]");
    expectError(() => min(zeros([2, 0]), 1), ShapeError, "min: expected a non-empty axis 1, got shape [2,0]");
    expectError(() => max([true]), DTypeError, "max: expected a numeric operand, got bool");
    expectError(() => min([true]), DTypeError, "min: expected a numeric operand, got bool");
    expectError(() => max(m(), 3), ArgumentError, "max: expected axis in [-2, 1] for rank 2, got 3");
  });
});

describe("logsumexp", () => {
  it("hand values and keepdims", () => {
    expectTensor(logsumexp([0, 0]), Math.log(2), { digits: 15 });
    expectTensor(
      logsumexp(m(), 1),
      [Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), Math.log(Math.exp(4) + Math.exp(5) + Math.exp(6))],
      { digits: 13 },
    );
    expectTensor(logsumexp(m(), -1, true), [[3.40760596444438], [6.40760596444438]], { digits: 13 });
  });

  it("never overflows (max-shifted) and handles infinities", () => {
    expectTensor(logsumexp([1000, 1000]), 1000 + Math.log(2), { digits: 12 });
    expectTensor(logsumexp([-1000, -1000]), -1000 + Math.log(2), { digits: 12 });
    expectTensor(logsumexp([-Infinity, -Infinity]), -Infinity);
    expectTensor(logsumexp([Infinity, 0]), Infinity);
    expectTensor(logsumexp([-Infinity, 0]), 0);
  });

  it("empty axis gives log 0 = -∞ (regression: threw from max)", () => {
    expectTensor(logsumexp(zeros([0])), -Infinity);
    expectTensor(logsumexp(zeros([2, 0]), 1), [-Infinity, -Infinity]);
    expectTensor(logsumexp(zeros([2, 0]), 1, true), [[-Infinity], [-Infinity]]);
  });

  it("float32 stays float32", () => {
    expectTensor(logsumexp(tensor([0, 0], { dtype: "float32" })), Math.fround(Math.log(2)), { dtype: "float32" });
  });
});

describe("argmax", () => {
  it("first maximum along an axis, or of the flattened tensor", () => {
    expectTensor(argmax([1, 3, 3, 2]), 1, { dtype: "int32" });
    expectTensor(
      argmax(
        tensor([
          [1, 9],
          [8, 2],
        ]),
      ),
      1,
      { dtype: "int32" },
    );
    expectTensor(
      argmax(
        tensor([
          [1, 9],
          [8, 2],
        ]),
        0,
      ),
      [1, 0],
      { dtype: "int32" },
    );
    expectTensor(
      argmax(
        tensor([
          [1, 9],
          [8, 2],
        ]),
        -1,
      ),
      [1, 0],
    );
    expectTensor(argmax([1, NaN, 5]), 1); // NaN counts as the maximum, like NumPy
    expectTensor(argmax([true, false, true]), 0);
    expectTensor(argmax(zeros([0, 3]), 1), [], { shape: [0] });
  });

  it("rejects empty tensors and bad axes", () => {
    expectError(() => argmax(zeros([0])), ShapeError, "argmax: expected a non-empty tensor, got shape [0]");
    expectError(() => argmax(zeros([2, 0]), 1), ShapeError, "argmax: expected a non-empty axis 1, got shape [2,0]");
    expectError(() => argmax([1, 2], 1), ArgumentError, "argmax: expected axis in [-1, 0] for rank 1, got 1");
  });
});

// ── family: reductions, scans and sorting (issue 17) ─────────────────────────────────────────

describe("prod", () => {
  it("over all axes, one axis, several axes, keepdims, like NumPy", () => {
    expectTensor(prod(m()), 720, { shape: [] });
    expectTensor(prod(m(), 0), [4, 10, 18]);
    expectTensor(prod(m(), -1), [6, 120]);
    expectTensor(prod(m(), 1, true), [[6], [120]]);
    const t = reshape(arange(1, 13), [2, 3, 2]);
    // NumPy: np.prod(np.arange(1, 13).reshape(2, 3, 2), axis=(0, 2)) = [1·2·7·8, 3·4·9·10, 5·6·11·12]
    expectTensor(prod(t, [0, 2]), [112, 1080, 3960]);
    expectTensor(prod(t, [2, 0], true), [[[112], [1080], [3960]]]);
  });
  it("zeros, empty axes, int32 and bool", () => {
    expectTensor(prod([2, 0, 3]), 0);
    expectTensor(prod(zeros([2, 0]), 1), [1, 1]);
    expectTensor(prod(zeros([0])), 1);
    expectTensor(prod(i32([3, -4, 5])), -60, { dtype: "int32" });
    // int32 products wrap like NumPy's: 65536² = 2³² ≡ 0
    expectTensor(prod(i32([65536, 65536, 7])), 0, { dtype: "int32" });
    expectTensor(prod([true, true, false]), 0, { dtype: "int32" });
    expectTensor(prod(5), 5);
  });
  it("rejects bad arguments", () => {
    expectError(() => prod(m(), 2), ArgumentError, "prod: expected axis in [-2, 1] for rank 2, got 2");
    expectError(() => prod(m(), 0, "yes" as never), ArgumentError, 'prod: expected keepdims to be a boolean, got string "yes"');
  });
});

describe("argmin", () => {
  it("first occurrence on ties, NaN wins, int32 and bool, like NumPy", () => {
    expectTensor(argmin([3, 1, 1, 4]), 1, { dtype: "int32" });
    expectTensor(
      argmin(
        [
          [4, 2, 2],
          [0, 9, -1],
        ],
        1,
      ),
      [1, 2],
    );
    expectTensor(
      argmin(
        [
          [4, 2],
          [0, 9],
        ],
        0,
      ),
      [1, 0],
    );
    expectTensor(argmin([1, NaN, -5]), 1);
    expectTensor(argmin(i32([5, -2147483648, 3])), 1);
    expectTensor(argmin([true, false, false]), 1);
    expectTensor(
      argmin([
        [3, 0],
        [-1, 2],
      ]),
      2,
    );
  });
  it("rejects empty axes", () => {
    expectError(() => argmin(zeros([0])), ShapeError, "argmin: expected a non-empty tensor, got shape [0]");
    expectError(() => argmin(zeros([2, 0]), 1), ShapeError, "argmin: expected a non-empty axis 1, got shape [2,0]");
    expectError(() => argmin([1, 2], 1), ArgumentError, "argmin: expected axis in [-1, 0] for rank 1, got 1");
  });
});

describe("std", () => {
  it("population (ddof 0) and sample (ddof 1) standard deviation, like NumPy", () => {
    // np.std([1, 2, 3, 4]) = √1.25, np.std(…, ddof=1) = √(5/3)
    expectTensor(std([1, 2, 3, 4]), Math.sqrt(1.25));
    expectTensor(std([1, 2, 3, 4], undefined, false, { ddof: 1 }), Math.sqrt(5 / 3));
    expectTensor(std(m(), 0), [1.5, 1.5, 1.5]);
    expectTensor(std(m(), 1, true, { ddof: 1 }), [[1], [1]]);
    expectTensor(std(i32([2, 4])), 1, { dtype: "float64" });
  });
  it("rejects a ddof without degrees of freedom left", () => {
    expectError(
      () => std([1, 2], 0, false, { ddof: 2 }),
      ArgumentError,
      "std: expected ddof below the number of reduced elements (2), got 2",
    );
    expectError(() => std([1, 2], 0, false, { ddof: 0.5 }), ArgumentError, "std: expected ddof to be a non-negative integer, got 0.5");
    expectError(() => std(zeros([0])), ArgumentError, "std: expected ddof below the number of reduced elements (0), got 0");
  });
});

describe("all and any", () => {
  it("reduce truthiness to bool (NaN is truthy), like NumPy", () => {
    const t = tensor([
      [1, 0, 2],
      [NaN, 3, -1],
    ]);
    expectTensor(all(t), false, { dtype: "bool" });
    expectTensor(all(t, 1), [false, true], { dtype: "bool" });
    expectTensor(any(t, 0), [true, true, true], { dtype: "bool" });
    expectTensor(any(zeros([2, 2]), 1, true), [[false], [false]], { dtype: "bool", shape: [2, 1] });
    expectTensor(all([true, true]), true);
    expectTensor(any(i32([0, 0, 7])), true);
  });
  it("empty axes: all is true, any is false", () => {
    expectTensor(all(zeros([0])), true);
    expectTensor(any(zeros([3, 0]), 1), [false, false, false]);
  });
});
