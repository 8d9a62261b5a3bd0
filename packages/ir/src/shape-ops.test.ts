import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  arange,
  broadcastTo,
  concat,
  expandDims,
  oneHot,
  pad,
  reshape,
  slice,
  squeeze,
  stack,
  take,
  tensor,
  transpose,
  zeros,
} from "./index.js";

const m = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

describe("reshape", () => {
  it("row-major, with one inferred -1, to and from scalars and empty shapes", () => {
    expectTensor(reshape(m(), [3, 2]), [
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expectTensor(reshape(m(), [-1]), [1, 2, 3, 4, 5, 6]);
    expectTensor(
      reshape(m(), [1, -1, 2]),
      [
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      ],
      { shape: [1, 3, 2] },
    );
    expectTensor(reshape([[7]], []), 7, { shape: [] });
    expectTensor(reshape(7, [1, 1]), [[7]]);
    expect(reshape(zeros([2, 0]), [0, 5]).shape).toEqual([0, 5]);
    expect(reshape(tensor([1, 2], { dtype: "int32" }), [2, 1]).dtype).toBe("int32");
  });

  it("returns the input itself when the shape is unchanged", () => {
    const t = m();
    expect(reshape(t, [2, 3])).toBe(t);
  });

  it("rejects bad shapes", () => {
    expectError(() => reshape(m(), [4, 2]), ShapeError, "reshape: expected a shape with 6 elements (from [2,3]), got [4,2]");
    expectError(() => reshape(m(), [-1, 4]), ShapeError, "reshape: expected a shape compatible with 6 elements (from [2,3]), got [-1,4]");
    expectError(() => reshape(m(), [-1, -1]), ArgumentError, "reshape: expected at most one -1 in the shape, got [-1,-1]");
    expectError(() => reshape(m(), [2, -3]), ArgumentError, "reshape: expected a shape of integers (one may be -1), got [2,-3]");
    expectError(() => reshape(m(), 6 as never), ArgumentError, "reshape: expected a shape of integers (one may be -1), got 6");
    expectError(
      () => reshape(zeros([0]), [0, -1]),
      ShapeError,
      "reshape: expected a shape compatible with 0 elements (from [0]), got [0,-1]",
    );
  });
});

describe("transpose", () => {
  it("reverses axes by default; takes a permutation with negative entries", () => {
    expectTensor(transpose(m()), [
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const t = reshape(arange(24), [2, 3, 4]);
    const p = transpose(t, [1, -1, 0]);
    expect(p.shape).toEqual([3, 4, 2]);
    // p[i, j, k] = t[k, i, j]
    expect((p.toArray() as number[][][])[2]![1]![1]).toBe(12 + 2 * 4 + 1);
    expectTensor(transpose(5), 5);
    expect(transpose(zeros([0, 2])).shape).toEqual([2, 0]);
  });

  it("rejects non-permutations", () => {
    expectError(() => transpose(m(), [0, 0]), ArgumentError, "transpose: expected a permutation of 2 axes, got [0,0]");
    expectError(() => transpose(m(), [0]), ArgumentError, "transpose: expected a permutation of 2 axes, got [0]");
    expectError(() => transpose(m(), [0, 2]), ArgumentError, "transpose: expected axis in [-2, 1] for rank 2, got 2");
    // regression: a non-array perm crashed with a TypeError
    expectError(() => transpose(m(), 1 as never), ArgumentError, "transpose: expected a permutation of 2 axes, got number 1");
  });
});

describe("broadcastTo, expandDims, squeeze", () => {
  it("broadcastTo adds leading axes and expands size-1 axes", () => {
    expectTensor(broadcastTo([1, 2], [2, 2]), [
      [1, 2],
      [1, 2],
    ]);
    expectTensor(broadcastTo([[1], [2]], [2, 3]), [
      [1, 1, 1],
      [2, 2, 2],
    ]);
    expectTensor(broadcastTo(5, [2]), [5, 5]);
    expect(broadcastTo([1], [3, 0]).shape).toEqual([3, 0]);
    expectError(() => broadcastTo([1, 2], [3]), ShapeError, "broadcastTo: expected broadcastable shapes, got [2] and [3]");
    expectError(() => broadcastTo([1, 2, 3], [1, 3, 1]), ShapeError, "broadcastTo: expected a shape that [3] broadcasts to, got [1,3,1]");
    expectError(() => broadcastTo([1], [-1]), ArgumentError, "broadcastTo: expected a shape of non-negative integers, got [-1]");
  });

  it("expandDims inserts a size-1 axis (negative counts from the end of the result)", () => {
    expect(expandDims(m(), 0).shape).toEqual([1, 2, 3]);
    expect(expandDims(m(), -1).shape).toEqual([2, 3, 1]);
    expect(expandDims(m(), 1).shape).toEqual([2, 1, 3]);
    expect(expandDims(5, 0).shape).toEqual([1]);
    expectError(() => expandDims(m(), 3), ArgumentError, "expandDims: expected axis in [-3, 2] for rank 3, got 3");
  });

  it("squeeze removes size-1 axes (all, or the given ones)", () => {
    const t = zeros([1, 2, 1]);
    expect(squeeze(t).shape).toEqual([2]);
    expect(squeeze(t, 0).shape).toEqual([2, 1]);
    expect(squeeze(t, [-1, 0]).shape).toEqual([2]);
    expect(squeeze([[5]]).shape).toEqual([]);
    expectError(() => squeeze(t, 1), ShapeError, "squeeze: expected axis 1 to have size 1, got shape [1,2,1]");
    expectError(() => squeeze(t, 3), ArgumentError, "squeeze: expected axis in [-3, 2] for rank 3, got 3");
  });
});

describe("slice and pad", () => {
  it("slices with one entry per axis, negative indices, open ends", () => {
    expectTensor(slice(m(), [0, 1], [2, 3]), [
      [2, 3],
      [5, 6],
    ]);
    expectTensor(slice(m(), [-1, 0]), [[4, 5, 6]]);
    expectTensor(slice(m(), [0, -2], [1, -1]), [[2]]);
    expectTensor(slice(m(), [1, 0], [undefined, 1]), [[4]]);
    expect(slice(m(), [1, 1], [1, 3]).shape).toEqual([0, 2]);
    const t = m();
    expect(slice(t, [0, 0])).toBe(t);
  });

  it("rejects bad bounds", () => {
    expectError(() => slice(m(), [0]), ArgumentError, "slice: expected begin with one entry per axis (2), got [0]");
    expectError(() => slice(m(), [0, 0], [1]), ArgumentError, "slice: expected end with one entry per axis (2), got [1]");
    expectError(
      () => slice(m(), [0, 2], [2, 1]),
      ArgumentError,
      "slice: expected -3 ≤ begin ≤ end ≤ 3 on axis 1 of shape [2,3], got begin 2, end 1",
    );
    expectError(
      () => slice(m(), [0, 0], [3, 3]),
      ArgumentError,
      "slice: expected -2 ≤ begin ≤ end ≤ 2 on axis 0 of shape [2,3], got begin 0, end 3",
    );
    expectError(
      () => slice(m(), [0, -4]),
      ArgumentError,
      "slice: expected -3 ≤ begin ≤ end ≤ 3 on axis 1 of shape [2,3], got begin -4, end 3",
    );
    expectError(() => slice(m(), [0, 0.5]), ArgumentError, "slice: expected integer begin and end on axis 1, got number 0.5 and number 3");
  });

  it("pad adds zeros before and after each axis", () => {
    expectTensor(pad([1, 2], [1], [2]), [0, 1, 2, 0, 0]);
    expectTensor(pad([[1]], [1, 0], [0, 1]), [
      [0, 0],
      [1, 0],
    ]);
    expectTensor(pad([[1]], [1, 1]), [
      [0, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
    expectTensor(pad(zeros([0]), [2], [0]), [0, 0]);
    expectTensor(pad(5, []), 5);
    expectTensor(pad(tensor([1], { dtype: "int32" }), [1], [0]), [0, 1], { dtype: "int32" });
    expectError(() => pad([1], [-1], [0]), ArgumentError, "pad: expected low to hold one non-negative integer per axis (1), got [-1]");
    expectError(() => pad([1], [0, 0]), ArgumentError, "pad: expected low to hold one non-negative integer per axis (1), got [0,0]");
  });
});

describe("concat and stack", () => {
  it("concat joins along an existing axis (negative allowed, empty parts allowed)", () => {
    expectTensor(concat([[1, 2], [3]]), [1, 2, 3]);
    expectTensor(concat([m(), [[7], [8]]], 1), [
      [1, 2, 3, 7],
      [4, 5, 6, 8],
    ]);
    expectTensor(concat([m(), [[0, 0, 0]]], -2), [
      [1, 2, 3],
      [4, 5, 6],
      [0, 0, 0],
    ]);
    expectTensor(concat([zeros([0]), [1]]), [1]);
    expectTensor(concat([tensor([1], { dtype: "float32" }), [2]]), [1, 2], { dtype: "float32" });
    expectError(() => concat([m(), [[1, 2]]], 0), ShapeError, "concat: expected shapes equal except on axis 0, got [2,3] and [1,2]");
    expectError(() => concat([]), ArgumentError, "concat: expected a non-empty array of tensors, got an array of length 0");
    expectError(() => concat([1, 2]), ShapeError, "concat: expected operands of rank ≥ 1, got scalars");
    expectError(() => concat([m()], 2), ArgumentError, "concat: expected axis in [-2, 1] for rank 2, got 2"); // regression: was ignored
    expectError(() => concat([m(), [1, 2, 3]]), ShapeError, "concat: expected shapes equal except on axis 0, got [2,3] and [3]");
  });

  it("stack joins along a new axis", () => {
    expectTensor(
      stack([
        [1, 2],
        [3, 4],
      ]),
      [
        [1, 2],
        [3, 4],
      ],
    );
    expectTensor(
      stack(
        [
          [1, 2],
          [3, 4],
        ],
        1,
      ),
      [
        [1, 3],
        [2, 4],
      ],
    );
    expectTensor(
      stack(
        [
          [1, 2],
          [3, 4],
        ],
        -1,
      ),
      [
        [1, 3],
        [2, 4],
      ],
    );
    expectTensor(stack([1, 2]), [1, 2]);
    expectError(() => stack([[1, 2], [3]]), ShapeError, "stack: expected tensors of one shape, got [2] and [1]");
    expectError(() => stack([[1], [2]], 3), ArgumentError, "stack: expected axis in [-2, 1] for rank 2, got 3");
  });
});

describe("take and oneHot", () => {
  it("take picks along an axis (negative indices count from the end)", () => {
    expectTensor(take([10, 20, 30], [2, 0, -1]), [30, 10, 30]);
    expectTensor(take(m(), [1], 1), [[2], [5]]);
    expectTensor(
      take(
        m(),
        [
          [0, 0],
          [1, 0],
        ],
        0,
      ),
      [
        [
          [1, 2, 3],
          [1, 2, 3],
        ],
        [
          [4, 5, 6],
          [1, 2, 3],
        ],
      ],
    );
    expectTensor(take(m(), 4), 5); // flattened, scalar index
    expectTensor(take(m(), tensor([1, 0], { dtype: "int32" }), -1), [
      [2, 1],
      [5, 4],
    ]);
    expect(take(m(), zeros([0]), 1).shape).toEqual([2, 0]);
    expectError(() => take([1, 2], [2]), ArgumentError, "take: expected indices in [-2, 1], got 2");
    expectError(() => take([1, 2], [0.5]), DTypeError, "take: expected integer indices, got 0.5");
    expectError(() => take([1, 2], [true]), DTypeError, "take: expected integer indices, got bool");
    expectError(() => take(m(), [0], 2), ArgumentError, "take: expected axis in [-2, 1] for rank 2, got 2");
  });

  it("oneHot rows of a given depth and dtype; out-of-range indices give zero rows", () => {
    expectTensor(
      oneHot([0, 2], 3),
      [
        [1, 0, 0],
        [0, 0, 1],
      ],
      { dtype: "float64" },
    );
    expectTensor(oneHot(1, 2, "int32"), [0, 1], { dtype: "int32" });
    expectTensor(oneHot([[1]], 2, "bool"), [[[false, true]]], { dtype: "bool" });
    expectTensor(oneHot([5], 2), [[0, 0]]);
    expectError(() => oneHot([0], -1), ArgumentError, "oneHot: expected a non-negative integer depth, got number -1");
    expectError(() => oneHot([0.5], 2), DTypeError, "oneHot: expected integer indices, got 0.5");
  });
});
