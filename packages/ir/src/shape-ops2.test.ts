/**
 * The shape ops of issue 17 (shape-ops2.ts) against NumPy: the expected arrays are the examples of
 * NumPy's documentation for np.split, np.flip, np.tile, np.repeat, np.roll, np.diag,
 * np.diagonal, np.triu/np.tril, np.swapaxes and np.moveaxis (and a few more written out by hand).
 * Gradients are checked in every engine by the conformance suite.
 */
import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  ShapeError,
  arange,
  diag,
  diagonal,
  flip,
  moveaxis,
  repeat,
  reshape,
  roll,
  split,
  swapaxes,
  tensor,
  tile,
  tril,
  triu,
  zeros,
} from "./index.js";

const range = (n: number, shape: number[]) => reshape(arange(n), shape);

describe("split", () => {
  it("into equal sections, or at indices (clipped, negative from the end, decreasing pairs empty)", () => {
    expect(split(arange(9), 3).map((t) => t.toArray())).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ]);
    expect(split(arange(8), [3, 5, 6, 10]).map((t) => t.toArray())).toEqual([[0, 1, 2], [3, 4], [5], [6, 7], []]);
    expect(split(arange(5), [-2, 1]).map((t) => t.toArray())).toEqual([[0, 1, 2], [], [1, 2, 3, 4]]);
    expect(split(arange(4), []).map((t) => t.toArray())).toEqual([[0, 1, 2, 3]]);
  });

  it("along another (negative) axis, keeping the dtype", () => {
    const parts = split(
      tensor(
        [
          [0, 1, 2],
          [3, 4, 5],
        ],
        { dtype: "int32" },
      ),
      [1],
      -1,
    );
    expectTensor(parts[0], [[0], [3]], { dtype: "int32" });
    expectTensor(parts[1], [
      [1, 2],
      [4, 5],
    ]);
    expect(split(range(12, [2, 6]), 3, 1).map((t) => t.shape)).toEqual([
      [2, 2],
      [2, 2],
      [2, 2],
    ]);
  });

  it("rejects sections that do not divide the axis, bad counts and bad axes", () => {
    expectError(() => split(arange(5), 2), ShapeError, "split: expected a number of sections dividing axis 0 (length 5) of [5], got 2");
    expectError(() => split(zeros([0]), 2), ShapeError, "split: expected a number of sections dividing axis 0 (length 0) of [0], got 2");
    expectError(() => split(arange(4), 0), ArgumentError, "split: expected the number of sections to be a positive integer, got number 0");
    expectError(() => split(arange(4), [1.5]), ArgumentError, "split: expected split indices to be an integer, got number 1.5");
    expectError(() => split(arange(4), 2, 1), ArgumentError, "split: expected axis in [-1, 0] for rank 1, got 1");
    expectError(() => split(3, 1), ShapeError, "split: expected an input of rank ≥ 1, got shape []");
  });
});

describe("flip and roll", () => {
  const b = () => range(8, [2, 2, 2]);

  it("flip: one axis, several, or all", () => {
    expectTensor(flip(b(), 0), [
      [
        [4, 5],
        [6, 7],
      ],
      [
        [0, 1],
        [2, 3],
      ],
    ]);
    expectTensor(flip(b(), 1), [
      [
        [2, 3],
        [0, 1],
      ],
      [
        [6, 7],
        [4, 5],
      ],
    ]);
    expectTensor(flip(b()), [
      [
        [7, 6],
        [5, 4],
      ],
      [
        [3, 2],
        [1, 0],
      ],
    ]);
    expectTensor(flip(b(), [0, -1]), [
      [
        [5, 4],
        [7, 6],
      ],
      [
        [1, 0],
        [3, 2],
      ],
    ]);
    expectTensor(flip(tensor([true, false, false])), [false, false, true], { dtype: "bool" });
    expectTensor(flip(5), 5);
  });

  it("roll: flattened without an axis, along axes, several at once", () => {
    expectTensor(roll(arange(10), 2), [8, 9, 0, 1, 2, 3, 4, 5, 6, 7]);
    expectTensor(roll(arange(10), -2), [2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const x2 = () => range(10, [2, 5]);
    expectTensor(roll(x2(), 1), [
      [9, 0, 1, 2, 3],
      [4, 5, 6, 7, 8],
    ]);
    expectTensor(roll(x2(), -1, 0), [
      [5, 6, 7, 8, 9],
      [0, 1, 2, 3, 4],
    ]);
    expectTensor(roll(x2(), 1, 1), [
      [4, 0, 1, 2, 3],
      [9, 5, 6, 7, 8],
    ]);
    expectTensor(roll(x2(), -1, 1), [
      [1, 2, 3, 4, 0],
      [6, 7, 8, 9, 5],
    ]);
    expectTensor(roll(x2(), [2, 1], [1, 0]), [
      [8, 9, 5, 6, 7],
      [3, 4, 0, 1, 2],
    ]);
    // shifts of a repeated axis add up; a shift of a whole period is the identity
    expectTensor(roll(arange(5), [1, 1], [0, 0]), [3, 4, 0, 1, 2]);
    expectTensor(roll(arange(5), 15), [0, 1, 2, 3, 4]);
    expectTensor(roll(arange(5), 1, []), [0, 1, 2, 3, 4]);
    expectTensor(roll(range(6, [2, 3]), 1, [0, 1]), [
      [5, 3, 4],
      [2, 0, 1],
    ]);
  });

  it("rejects bad shifts and axes", () => {
    expectError(() => roll(arange(3), 0.5), ArgumentError, "roll: expected shift to be an integer, got number 0.5");
    expectError(() => roll(arange(3), [1, 2]), ArgumentError, "roll: expected one shift without an axis, got [1,2]");
    expectError(
      () => roll(zeros([2, 2, 2]), [1, 2], [0, 1, 2]),
      ArgumentError,
      "roll: expected shift and axis of one length, got [1,2] and [0,1,2]",
    );
    expectError(() => flip(arange(3), 1), ArgumentError, "flip: expected axis in [-1, 0] for rank 1, got 1");
  });
});

describe("tile and repeat", () => {
  it("tile: reps padded with leading 1s, or the input with leading axes", () => {
    expectTensor(tile([0, 1, 2], 2), [0, 1, 2, 0, 1, 2]);
    expectTensor(tile([0, 1, 2], [2, 2]), [
      [0, 1, 2, 0, 1, 2],
      [0, 1, 2, 0, 1, 2],
    ]);
    expectTensor(tile([0, 1, 2], [2, 1, 2]), [[[0, 1, 2, 0, 1, 2]], [[0, 1, 2, 0, 1, 2]]]);
    expectTensor(
      tile(
        [
          [1, 2],
          [3, 4],
        ],
        2,
      ),
      [
        [1, 2, 1, 2],
        [3, 4, 3, 4],
      ],
    );
    expectTensor(
      tile(
        [
          [1, 2],
          [3, 4],
        ],
        [2, 1],
      ),
      [
        [1, 2],
        [3, 4],
        [1, 2],
        [3, 4],
      ],
    );
    expect(tile([1, 2], 0).shape).toEqual([0]);
    expectTensor(tile(tensor([true]), 3), [true, true, true], { dtype: "bool" });
  });

  it("repeat: flattened without an axis, a count or one count per element", () => {
    expectTensor(repeat(3, 4), [3, 3, 3, 3]);
    expectTensor(
      repeat(
        [
          [1, 2],
          [3, 4],
        ],
        2,
      ),
      [1, 1, 2, 2, 3, 3, 4, 4],
    );
    expectTensor(
      repeat(
        [
          [1, 2],
          [3, 4],
        ],
        3,
        1,
      ),
      [
        [1, 1, 1, 2, 2, 2],
        [3, 3, 3, 4, 4, 4],
      ],
    );
    expectTensor(
      repeat(
        [
          [1, 2],
          [3, 4],
        ],
        [1, 2],
        0,
      ),
      [
        [1, 2],
        [3, 4],
        [3, 4],
      ],
    );
    expectTensor(repeat([5, 6, 7], [0, 2, 1]), [6, 6, 7]);
    expectTensor(
      repeat(
        [
          [1, 2],
          [3, 4],
        ],
        [2],
        -1,
      ),
      [
        [1, 1, 2, 2],
        [3, 3, 4, 4],
      ],
    );
  });

  it("rejects negative counts, mismatched lists and huge results", () => {
    expectError(() => tile([1], -1), ArgumentError, "tile: expected reps to be a non-negative integer, got number -1");
    expectError(() => repeat([1, 2], -1), ArgumentError, "repeat: expected repeats to be a non-negative integer, got number -1");
    expectError(() => repeat([1, 2, 3], [1, 2]), ShapeError, "repeat: expected 1 or 3 repeats for axis 0 of [3], got 2");
    expectError(
      () => tile([1, 2], [2 ** 20, 2 ** 20]),
      ArgumentError,
      "tile: expected a result of at most 2147483647 elements (MAX_ELEMENTS), got shape [1048576,2097152]",
    );
  });
});

describe("diag, diagonal, triu, tril", () => {
  const x = () => range(9, [3, 3]);

  it("diag of a matrix is its k-th diagonal; of a vector, a matrix", () => {
    expectTensor(diag(x()), [0, 4, 8]);
    expectTensor(diag(x(), 1), [1, 5]);
    expectTensor(diag(x(), -1), [3, 7]);
    expectTensor(diag(diag(x())), [
      [0, 0, 0],
      [0, 4, 0],
      [0, 0, 8],
    ]);
    expectTensor(diag([1, 2], 1), [
      [0, 1, 0],
      [0, 0, 2],
      [0, 0, 0],
    ]);
    expectTensor(diag([1, 2], -2), [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [1, 0, 0, 0],
      [0, 2, 0, 0],
    ]);
    expectTensor(diag(tensor([true, true])), [
      [true, false],
      [false, true],
    ]);
  });

  it("diagonal: offsets, other axes (the diagonal goes last), empty diagonals", () => {
    expectTensor(diagonal(range(4, [2, 2])), [0, 3]);
    expectTensor(diagonal(range(4, [2, 2]), 1), [1]);
    const a = () => range(8, [2, 2, 2]);
    expectTensor(diagonal(a(), 0, 0, 1), [
      [0, 6],
      [1, 7],
    ]);
    expectTensor(diagonal(a(), 0, -2, -1), [
      [0, 3],
      [4, 7],
    ]);
    const c = () => range(12, [3, 4]);
    expectTensor(diagonal(c(), 1), [1, 6, 11]);
    expectTensor(diagonal(c(), -1), [4, 9]);
    expectTensor(diagonal(c(), 0, 1, 0), [0, 5, 10]);
    expect(diagonal(c(), 5).shape).toEqual([0]);
    expect(diagonal(zeros([2, 0, 3]), 0, 0, 2).shape).toEqual([0, 2]);
  });

  it("triu and tril of the last two axes", () => {
    const m = [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
      [10, 11, 12],
    ];
    expectTensor(triu(m, -1), [
      [1, 2, 3],
      [4, 5, 6],
      [0, 8, 9],
      [0, 0, 12],
    ]);
    expectTensor(triu(m, 1), [
      [0, 2, 3],
      [0, 0, 6],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expectTensor(tril(m), [
      [1, 0, 0],
      [4, 5, 0],
      [7, 8, 9],
      [10, 11, 12],
    ]);
    expectTensor(tril(m, -1), [
      [0, 0, 0],
      [4, 0, 0],
      [7, 8, 0],
      [10, 11, 12],
    ]);
    const batch = tril(range(60, [3, 4, 5]));
    expectTensor(reshape(split(batch, 3)[1]!, [20]), [20, 0, 0, 0, 0, 25, 26, 0, 0, 0, 30, 31, 32, 0, 0, 35, 36, 37, 38, 0]);
    expect(tril(tensor([[1, 2]], { dtype: "int32" })).dtype).toBe("int32");
  });

  it("rejects bad ranks, offsets and axes", () => {
    expectError(() => diag(zeros([2, 2, 2])), ShapeError, "diag: expected a 1-d or 2-d input, got shape [2,2,2]");
    expectError(() => diag([1], 0.5), ArgumentError, "diag: expected k to be an integer, got number 0.5");
    expectError(() => diagonal([1, 2]), ShapeError, "diagonal: expected an input of rank ≥ 2, got shape [2]");
    expectError(() => diagonal(x(), 0, 1, -1), ArgumentError, "diagonal: expected two different axes, got 1 and -1 (rank 2)");
    expectError(() => diagonal(x(), 0, 0, 2), ArgumentError, "diagonal: expected axis in [-2, 1] for rank 2, got 2");
    expectError(() => triu([1, 2]), ShapeError, "triu: expected an input of rank ≥ 2, got shape [2]");
    expectError(() => tril(x(), "1" as never), ArgumentError, 'tril: expected k to be an integer, got string "1"');
  });
});

describe("swapaxes and moveaxis", () => {
  it("swapaxes", () => {
    expectTensor(swapaxes([[1, 2, 3]], 0, 1), [[1], [2], [3]]);
    expectTensor(swapaxes(range(8, [2, 2, 2]), 0, -1), [
      [
        [0, 4],
        [2, 6],
      ],
      [
        [1, 5],
        [3, 7],
      ],
    ]);
    expectError(() => swapaxes(zeros([2, 3]), 0, 2), ArgumentError, "swapaxes: expected axis in [-2, 1] for rank 2, got 2");
  });

  it("moveaxis: one axis or several, the others keeping their order", () => {
    const x = zeros([3, 4, 5]);
    expect(moveaxis(x, 0, -1).shape).toEqual([4, 5, 3]);
    expect(moveaxis(x, -1, 0).shape).toEqual([5, 3, 4]);
    expect(moveaxis(x, [0, 1], [-1, -2]).shape).toEqual([5, 4, 3]);
    expect(moveaxis(x, [1, 2], [0, 1]).shape).toEqual([4, 5, 3]);
    expectTensor(moveaxis(range(6, [1, 2, 3]), 2, 0), [[[0, 3]], [[1, 4]], [[2, 5]]]);
  });

  it("moveaxis rejects repeated or mismatched axes", () => {
    expectError(() => moveaxis(zeros([2, 3]), [0, 0], [0, 1]), ArgumentError, "moveaxis: expected distinct source axes, got [0,0]");
    expectError(
      () => moveaxis(zeros([2, 3]), [0, 1], 0),
      ArgumentError,
      "moveaxis: expected source and destination of one length, got 2 axes and 1",
    );
  });
});
