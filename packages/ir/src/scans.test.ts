/** Scans and sorting (issue 17): values against hand-computed and NumPy-documented results. */
import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  ShapeError,
  argsort,
  bind,
  cummax,
  cummin,
  cumprod,
  cumsum,
  logcumsumexp,
  sort,
  tensor,
  topK,
  zeros,
} from "./index.js";

const m = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
const i32 = (v: number[]) => tensor(v, { dtype: "int32" });

/** log Σ exp by a naive loop in float64 (inputs small enough not to overflow). */
function naiveLogcumsumexp(xs: number[]): number[] {
  let s = 0;
  return xs.map((x) => {
    s += Math.exp(x);
    return Math.log(s);
  });
}

describe("cumsum and cumprod", () => {
  it("along the last axis by default, or any axis", () => {
    expectTensor(cumsum([1, 2, 3, 4]), [1, 3, 6, 10]);
    expectTensor(cumsum(m()), [
      [1, 3, 6],
      [4, 9, 15],
    ]);
    expectTensor(cumsum(m(), 0), [
      [1, 2, 3],
      [5, 7, 9],
    ]);
    expectTensor(cumsum(m(), -2), [
      [1, 2, 3],
      [5, 7, 9],
    ]);
    expectTensor(cumprod([1, 2, 3, 4]), [1, 2, 6, 24]);
    expectTensor(cumprod(m(), 0), [
      [1, 2, 3],
      [4, 10, 18],
    ]);
    expectTensor(cumprod([2, 0, 3, Infinity]), [2, 0, 0, NaN]);
  });
  it("int32 and bool (as int32), float32 kept", () => {
    expectTensor(cumsum(i32([1, -2, 3])), [1, -1, 2], { dtype: "int32" });
    expectTensor(cumsum([true, false, true]), [1, 1, 2], { dtype: "int32" });
    // wraps like NumPy's int32: 2147483647 + 1 = −2147483648
    expectTensor(cumsum(i32([2147483647, 1])), [2147483647, -2147483648], { dtype: "int32" });
    expectTensor(cumprod(i32([65536, 65536, 3])), [65536, 0, 0], { dtype: "int32" });
    expectTensor(cumsum(tensor([0.1, 0.2], { dtype: "float32" })), [Math.fround(0.1), Math.fround(Math.fround(0.1) + Math.fround(0.2))], {
      dtype: "float32",
    });
  });
  it("empty and size-1 axes", () => {
    expectTensor(cumsum(zeros([2, 0])), [[], []], { shape: [2, 0] });
    expectTensor(cumprod(zeros([0])), [], { shape: [0] });
    expectTensor(cumprod([[5], [7]], 1), [[5], [7]]);
  });
  it("rejects scalars and bad axes", () => {
    expectError(() => cumsum(3), ShapeError, "cumsum: expected an operand of rank ≥ 1, got shape []");
    expectError(() => cumprod([1, 2], 1), ArgumentError, "cumprod: expected axis in [-1, 0] for rank 1, got 1");
  });
});

describe("linearScan", () => {
  it("hᵢ = aᵢ·hᵢ₋₁ + bᵢ, forward and reverse, a broadcasting", () => {
    const a = tensor([0.5, 2, -1]);
    const b = tensor([1, 1, 1]);
    // h = [1, 2·1 + 1, −1·3 + 1]
    expectTensor(bind("linearScan", [a, b], { axis: 0, reverse: 0 }), [1, 3, -2]);
    // from the end: h₂ = 1, h₁ = 2·1 + 1, h₀ = 0.5·3 + 1
    expectTensor(bind("linearScan", [a, b], { axis: 0, reverse: 1 }), [2.5, 3, 1]);
    expectTensor(
      bind(
        "linearScan",
        [
          tensor([[2], [3]]),
          tensor([
            [1, 1],
            [1, 1],
          ]),
        ],
        { axis: 1, reverse: 0 },
      ),
      [
        [1, 3],
        [1, 4],
      ],
    );
  });
  it("checks its operands", () => {
    expectError(
      () => bind("linearScan", [tensor([1, 2]), tensor([1, 2, 3])], { axis: 0, reverse: 0 }),
      ShapeError,
      "linearScan: expected coefficients of rank 1 broadcasting to [3], got [2]",
    );
    expectError(
      () => bind("linearScan", [tensor([1]), tensor([1])], { axis: 0, reverse: 2 }),
      ShapeError,
      "linearScan: expected reverse to be 0 or 1, got 2",
    );
  });
});

describe("cummax and cummin", () => {
  it("running extrema, like np.maximum.accumulate, NaN propagating", () => {
    expectTensor(cummax([1, 3, 2, 5, 4]), [1, 3, 3, 5, 5]);
    expectTensor(cummin([5, 3, 4, 1, 2]), [5, 3, 3, 1, 1]);
    expectTensor(cummax(m(), 0), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expectTensor(
      cummin(
        [
          [3, 1],
          [2, 4],
        ],
        0,
      ),
      [
        [3, 1],
        [2, 1],
      ],
    );
    expectTensor(cummax([1, NaN, 5]), [1, NaN, NaN]);
    expectTensor(cummin([1, NaN, -5]), [1, NaN, NaN]);
    expectTensor(cummin(i32([3, -2147483648, 5])), [3, -2147483648, -2147483648], { dtype: "int32" });
    expectTensor(cummax([false, true, false]), [false, true, true], { dtype: "bool" });
  });
  it("argcummax points at the latest tie", () => {
    expectTensor(bind("argcummax", [tensor([1, 3, 3, 2, 3])], { axis: 0 }), [0, 1, 2, 2, 4], { dtype: "int32" });
    expectTensor(bind("argcummax", [tensor([1, NaN, 5, NaN])], { axis: 0 }), [0, 1, 1, 1]);
  });
});

describe("logcumsumexp", () => {
  it("matches a naive loop", () => {
    const xs = [0.5, -1, 2, 0.25, -3];
    expectTensor(logcumsumexp(xs), naiveLogcumsumexp(xs), { digits: 12 });
    expectTensor(
      logcumsumexp(m(), 0),
      [
        [1, 2, 3],
        [Math.log(Math.exp(1) + Math.exp(4)), Math.log(Math.exp(2) + Math.exp(5)), Math.log(Math.exp(3) + Math.exp(6))],
      ],
      { digits: 12 },
    );
  });
  it("no underflow far below the running max, no overflow far above 0, infinities", () => {
    // the first entry is −1000 exactly: exp(−1000) underflows, the shifted scan does not
    expectTensor(logcumsumexp([-1000, 0, -2000]), [-1000, 0, 0]);
    expectTensor(logcumsumexp([1000, 1000]), [1000, 1000 + Math.LN2]);
    expectTensor(logcumsumexp([-Infinity, -Infinity, 1, Infinity, 2]), [-Infinity, -Infinity, 1, Infinity, Infinity]);
    expectTensor(logcumsumexp([1, NaN, 2]), [1, NaN, NaN]);
  });
});

describe("sort, argsort and topK", () => {
  it("sort ascending along the last axis by default, NaN last, like np.sort", () => {
    expectTensor(sort([3, 1, 2, NaN, 0]), [0, 1, 2, 3, NaN]);
    expectTensor(
      sort([
        [3, 1, 2],
        [0, -1, 5],
      ]),
      [
        [1, 2, 3],
        [-1, 0, 5],
      ],
    );
    expectTensor(
      sort(
        [
          [3, 1],
          [0, 2],
        ],
        0,
      ),
      [
        [0, 1],
        [3, 2],
      ],
    );
    expectTensor(sort(i32([3, -1, 2])), [-1, 2, 3], { dtype: "int32" });
    expectTensor(sort([true, false, true]), [false, true, true], { dtype: "bool" });
  });
  it("argsort is stable (ties keep index order), like np.argsort(kind='stable')", () => {
    expectTensor(argsort([3, 1, 3, 1, 2]), [1, 3, 4, 0, 2], { dtype: "int32" });
    expectTensor(argsort([0, -0, NaN, -Infinity]), [3, 0, 1, 2]);
    expectTensor(
      argsort(
        [
          [2, 1],
          [1, 2],
        ],
        0,
      ),
      [
        [1, 0],
        [0, 1],
      ],
    );
  });
  it("topK: largest first, ties by lower index, NaN as the largest", () => {
    const [v, i] = topK([1, 5, 3, 5, 2], 3);
    expectTensor(v, [5, 5, 3]);
    expectTensor(i, [1, 3, 2], { dtype: "int32" });
    const [v2, i2] = topK(
      [
        [1, NaN, 3],
        [4, 4, 0],
      ],
      2,
    );
    expectTensor(v2, [
      [NaN, 3],
      [4, 4],
    ]);
    expectTensor(i2, [
      [1, 2],
      [0, 1],
    ]);
    const [empty] = topK([1, 2], 0);
    expect(empty.shape).toEqual([0]);
  });
  it("rejects bad k and scalars", () => {
    expectError(() => topK([1, 2], 3), ArgumentError, "topK: expected k to be an integer in [0, 2], got 3");
    expectError(() => topK([1, 2], 1.5), ArgumentError, "topK: expected k to be an integer in [0, 2], got 1.5");
    expectError(() => sort(1), ShapeError, "sort: expected an operand of rank ≥ 1, got shape []");
  });
});
