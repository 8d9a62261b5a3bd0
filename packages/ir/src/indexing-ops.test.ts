/**
 * Strided slices, N-d dot, takeAlongAxis, at(…) and the scatterMul/Min/Max primitives: values
 * against NumPy's (computed with NumPy 2.4 and written out here), the derivative rules of the
 * scatters against hand-computed gradients, and the errors.
 */
import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  arange,
  at,
  DEFINITIONS,
  DTypeError,
  dot,
  evalGraph,
  reshape,
  parseGraph,
  serializeGraph,
  ShapeError,
  slice,
  takeAlongAxis,
  Tensor,
  TENSOR_MATH,
  tensor,
  trace,
  zeros,
  type Params,
  type VjpNode,
} from "./index.js";

const grid = (rows: number, cols: number) => reshape(arange(rows * cols), [rows, cols]);
const int32 = (values: number[], shape: number[] = [values.length]) => new Tensor("int32", shape, Int32Array.from(values));

describe("slice with steps (NumPy's x[b:e:s])", () => {
  it("positive steps: x[0:4:2, 1:6:2] and x[1:4:3, 0:5:4]", () => {
    expectTensor(slice(grid(4, 6), [0, 1], [4, 6], [2, 2]), [
      [1, 3, 5],
      [13, 15, 17],
    ]);
    expectTensor(slice(grid(4, 6), [1, 0], [4, 5], [3, 4]), [[6, 10]]);
    // steps longer than the axis keep the first element
    expectTensor(slice(arange(5), [1], undefined, [7]), [1]);
    // a huge step does not pad the axis to its length (it used to hit MAX_ELEMENTS in pad)
    expectTensor(slice(arange(3), [0], [3], [1e10]), [0]);
    expectTensor(slice(arange(3), [2], [undefined], [-1e10]), [2]);
  });

  it("negative steps: x[::-1, ::-2] and x[3:0:-2, 4:0:-3]", () => {
    expectTensor(slice(grid(4, 6), [undefined, undefined], undefined, [-1, -2]), [
      [23, 21, 19],
      [17, 15, 13],
      [11, 9, 7],
      [5, 3, 1],
    ]);
    expectTensor(slice(grid(4, 6), [3, 4], [0, 0], [-2, -3]), [
      [22, 19],
      [10, 7],
    ]);
    expectTensor(slice(arange(5), [-2], [-5], [-1]), [3, 2, 1]);
    expect(slice(arange(5), [2], [2], [-1]).shape).toEqual([0]);
    expect(slice(zeros([0]), [undefined], undefined, [-1]).shape).toEqual([0]);
  });

  it("keeps the dtype and returns x itself for the full range", () => {
    const x = int32([1, 2, 3, 4]);
    expectTensor(slice(x, [0], [4], [3]), [1, 4], { dtype: "int32" });
    expect(slice(x, [0], [4], [1])).toBe(x);
  });

  it("rejects zero or non-integer steps, bad step lists and bounds against the step's direction", () => {
    expectError(() => slice(arange(4), [0], [4], [0]), ArgumentError, "slice: expected a non-zero integer step on axis 0, got number 0");
    expectError(
      () => slice(arange(4), [0], [4], [1.5]),
      ArgumentError,
      "slice: expected a non-zero integer step on axis 0, got number 1.5",
    );
    expectError(() => slice(arange(4), [0], [4], [1, 1]), ArgumentError, "slice: expected steps with one entry per axis (1), got [1,1]");
    expectError(
      () => slice(arange(4), [1], [3], [-1]),
      ArgumentError,
      "slice: expected -4 ≤ end ≤ begin < 4 on axis 0 of shape [4] for step -1, got begin 1, end 3",
    );
    expectError(
      () => slice(arange(4), [3], [1], [2]),
      ArgumentError,
      "slice: expected -4 ≤ begin ≤ end ≤ 4 on axis 0 of shape [4], got begin 3, end 1",
    );
  });
});

describe("dot with NumPy's N-d semantics", () => {
  const a = reshape(arange(24), [2, 3, 4]);

  it("contracts the last axis of a with the second-to-last of b: [2,3,4]·[2,4,5] → [2,3,2,5]", () => {
    const out = dot(a, reshape(arange(40), [2, 4, 5]));
    expect(out.shape).toEqual([2, 3, 2, 5]);
    expectTensor(slice(out, [0, 0, 0, 0], [1, 1, 2, 5]), [
      [
        [
          [70, 76, 82, 88, 94],
          [190, 196, 202, 208, 214],
        ],
      ],
    ]);
    expectTensor(slice(out, [1, 2, 0, 0], [2, 3, 2, 5]), [
      [
        [
          [670, 756, 842, 928, 1014],
          [2390, 2476, 2562, 2648, 2734],
        ],
      ],
    ]);
  });

  it("with a vector on either side, and scalars multiplying", () => {
    expectTensor(dot(a, arange(4)), [
      [14, 38, 62],
      [86, 110, 134],
    ]);
    expectTensor(dot(arange(3), a), [
      [20, 23, 26, 29],
      [56, 59, 62, 65],
    ]);
    expect(dot(2, a).shape).toEqual([2, 3, 4]);
  });

  it("rejects mismatched contracted axes", () => {
    expectError(() => dot(a, zeros([3, 5])), ShapeError, "dot: expected inner dimensions to match, got [2,3,4] and [3,5]");
  });
});

describe("takeAlongAxis (NumPy's take_along_axis)", () => {
  it("picks along an axis, negative indices counting from the end", () => {
    expectTensor(takeAlongAxis(grid(3, 4), int32([0, 2, 1, -1, 3, 0], [3, 2]), 1), [
      [0, 2],
      [5, 7],
      [11, 8],
    ]);
    expectTensor(takeAlongAxis(grid(3, 4), int32([2, 0, 1, 1], [1, 4]), 0), [[8, 1, 6, 7]]);
  });

  it("broadcasts the other axes of x and indices, and flattens without an axis", () => {
    expectTensor(takeAlongAxis(reshape(arange(4), [1, 4]), int32([0, 3, 1], [3, 1]), 1), [[0], [3], [1]]);
    expectTensor(takeAlongAxis(grid(2, 3), int32([5, 0, 4])), [5, 0, 4]);
  });

  it("accepts integer-valued float indices, and checks its indices", () => {
    expectTensor(takeAlongAxis([10, 20, 30], [2, 2, 0], 0), [30, 30, 10]);
    expectError(
      () => takeAlongAxis(grid(2, 3), int32([3, 0], [2, 1]), 1),
      ArgumentError,
      "takeAlongAxis: expected indices in [-3, 2], got 3",
    );
    expectError(
      () => takeAlongAxis(grid(2, 3), int32([0, 1]), 1),
      ShapeError,
      "takeAlongAxis: expected indices of rank 2 (the operand's), got shape [2]",
    );
    expectError(() => takeAlongAxis([1, 2], [0.5], 0), DTypeError, "takeAlongAxis: expected integer indices, got 0.5");
  });

  it("runs in a traced graph with the indices as an input (range checked at run time)", () => {
    const g = trace((x: Tensor, i: Tensor) => takeAlongAxis(x, i, 0), tensor([1, 2, 3]), int32([0, 1]));
    expectTensor(evalGraph(g, [tensor([1, 2, 3]), int32([2, -3])])[0], [3, 1]);
    expectError(() => evalGraph(g, [tensor([1, 2, 3]), int32([3, 0])]), ArgumentError, "takeAlongAxis: expected indices in [-3, 2], got 3");
  });
});

describe("at(x, index): functional index updates (NumPy's ufunc.at for the accumulating ones)", () => {
  it("an integer or an index tensor along axis 0; repeated cells accumulate (add, mul) or the last write wins (set)", () => {
    expectTensor(at(zeros([3, 2]), 1).set(5), [
      [0, 0],
      [5, 5],
      [0, 0],
    ]);
    const x = tensor([1, 2, 3, 4]);
    const i = int32([2, 0, 2]);
    expectTensor(at(x, i).set([10, 20, 30]), [20, 2, 30, 4]);
    expectTensor(at(x, i).add([10, 20, 30]), [21, 2, 43, 4]);
    expectTensor(at(x, i).mul([2, 5, 3]), [5, 2, 18, 4]);
    expectTensor(at(x, i).max([5, 0, 2]), [1, 2, 5, 4]);
    expectTensor(at(x, i).min([5, 0, 2]), [0, 2, 2, 4]);
    expectTensor(at(x, -1).add(1), [1, 2, 3, 5]);
  });

  it("one entry per leading axis: integers, index tensors and slices, with NumPy's advanced-indexing layout", () => {
    // z[1:, [0, 2]] = 7
    expectTensor(at(zeros([4, 3]), [{ start: 1 }, int32([0, 2])]).set(7), [
      [0, 0, 0],
      [7, 0, 7],
      [7, 0, 7],
      [7, 0, 7],
    ]);
    // y[[0, 0, 3], [1, 1, 2]] = [10, 20, 30]: the repeated cell (0, 1) keeps the last
    expectTensor(at(grid(4, 3), [int32([0, 0, 3]), int32([1, 1, 2])]).set([10, 20, 30]), [
      [0, 20, 2],
      [3, 4, 5],
      [6, 7, 8],
      [9, 10, 30],
    ]);
    // np.maximum.at(y, ([0, 3], slice(None, None, 2)), 5)
    expectTensor(at(grid(4, 3), [int32([0, 3]), { step: 2 }]).max(5), [
      [5, 1, 5],
      [3, 4, 5],
      [6, 7, 8],
      [9, 10, 11],
    ]);
    // np.add.at(y, ([0, 1], slice(0, 2), [1, 3]), [[100, 200], [300, 400]]): the advanced block (2) goes first
    expectTensor(
      at(reshape(arange(24), [2, 3, 4]), [int32([0, 1]), { start: 0, stop: 2 }, int32([1, 3])]).add([
        [100, 200],
        [300, 400],
      ]),
      [
        [
          [0, 101, 2, 3],
          [4, 205, 6, 7],
          [8, 9, 10, 11],
        ],
        [
          [12, 13, 14, 315],
          [16, 17, 18, 419],
          [20, 21, 22, 23],
        ],
      ],
    );
    // slices clamp like Python's, and walk backwards with a negative step: cells 4, 2, 0
    expectTensor(at(zeros([5]), [{ step: -2, stop: -100 }]).set([1, 2, 3]), [3, 0, 2, 0, 1]);
    expectTensor(at(zeros([3]), [{ start: -10, stop: 10 }]).add(1), [1, 1, 1]);
  });

  it("runs in a traced graph with the index an input, and survives JSON", () => {
    const g = trace((x: Tensor, i: Tensor, v: Tensor) => at(x, i).max(v), tensor([1, 2, 3]), int32([0, 0]), tensor([0, 0]));
    const back = parseGraph(serializeGraph(g));
    expectTensor(evalGraph(back, [tensor([1, 2, 3]), int32([2, -3]), tensor([5, 0])])[0], [1, 2, 5]);
    expectError(
      () => evalGraph(back, [tensor([1, 2, 3]), int32([2, 3]), tensor([5, 0])]),
      ArgumentError,
      "at: expected indices in [-3, 2], got 3",
    );
  });

  it("keeps x's dtype and shape", () => {
    const x = int32([1, 2, 3]);
    expectTensor(at(x, 0).mul(4), [4, 2, 3], { dtype: "int32" });
    expectTensor(at(tensor([1, 2], { dtype: "float32" }), 1).set(0.5), [1, 0.5], { dtype: "float32" });
  });

  it("rejects out-of-range indices, bad entries and bad updates", () => {
    expectError(() => at([1, 2, 3], 3), ArgumentError, "at: expected indices in [-3, 2], got 3");
    expectError(() => at([1, 2, 3], int32([0, -4])).set(0), ArgumentError, "at: expected indices in [-3, 2], got -4");
    expectError(() => at([1, 2], [0, 0]), ArgumentError, "at: expected at most 1 index entries (one per leading axis), got 2");
    expectError(() => at([1, 2], tensor([0])), DTypeError, "at: expected int32 index tensors, got float64 on axis 0");
    expectError(
      () => at([1, 2], [{ step: 0 }]),
      ArgumentError,
      'at: expected a slice { start, stop, step } of integers (step ≠ 0) on axis 0, got {"step":0}',
    );
    expectError(
      () => at([1, 2], ["a" as never]),
      ArgumentError,
      'at: expected an integer, an int32 tensor or a slice { start, stop, step } on axis 0, got string "a"',
    );
    expectError(() => at(int32([1, 2]), 0).set(0.5), DTypeError, "at: expected integer updates for an int32 tensor, got 0.5");
    expectError(() => at(int32([1, 2]), 0).set(tensor(1)), DTypeError, "at: expected updates of dtype int32, got float64");
    expectError(
      () => at([1, 2, 3], int32([0, 1])).set([1, 2, 3]),
      ShapeError,
      "at: expected updates that broadcast to the indexed shape [2], got shape [3]",
    );
    expectError(() => at(tensor([true]), 0), DTypeError, "at: expected a numeric tensor, got bool");
  });
});

/** A recorded node of a scatter primitive, as a reverse engine would give its VJP rule. */
function node<P extends "scatterMul" | "scatterMin" | "scatterMax">(x: Tensor[], y: Tensor, params: Params<P>): VjpNode<P> {
  return { params, x, y, shape: (i) => x[i]!.shape, dtype: y.dtype, arity: 3, same: (i, j) => i === j };
}

function vjp(prim: "scatterMul" | "scatterMin" | "scatterMax", x: Tensor[], ct: Tensor): (Tensor | null)[] {
  const def = DEFINITIONS[prim];
  const y = def.kernel(x, { axis: 0 }, { shape: x[0]!.shape, dtype: x[0]!.dtype });
  return def.vjp.vjp!(ct, node(x, y, { axis: 0 }) as never, 3, TENSOR_MATH);
}

describe("the scatter primitives' derivative rules (hand-computed)", () => {
  const w = tensor([1, 2, 3, 4]);
  const i = int32([2, 0, 2]);

  it("scatterMul: x̄ = ȳ · Π updates, ū = ȳ · x · Π other updates, with no division by a zero update", () => {
    const [gx, gu] = vjp("scatterMul", [tensor([1, 2, 3, 4]), tensor([2, 5, 3]), i], w);
    expectTensor(gx, [5, 2, 18, 4]);
    expectTensor(gu, [27, 1, 18]);
    const [gx0, gu0] = vjp("scatterMul", [tensor([1, 2, 3, 4]), tensor([0, 5, 0]), i], w);
    expectTensor(gx0, [5, 2, 0, 4]);
    expectTensor(gu0, [0, 1, 0]);
    const [, gu1] = vjp("scatterMul", [tensor([1, 2, 3, 4]), tensor([0, 5, 3]), i], w);
    expectTensor(gu1, [27, 1, 0]);
  });

  it("scatterMax/Min: the cotangent goes to the winners of each cell, 1/k to each of k tied ones", () => {
    const [gx, gu] = vjp("scatterMax", [tensor([1, 2, 5, 4]), tensor([5, 0, 5]), i], w);
    expectTensor(gx, [1, 2, 1, 4], { digits: 15 });
    expectTensor(gu, [1, 0, 1], { digits: 15 });
    const [hx, hu] = vjp("scatterMin", [tensor([1, 2, 3, 4]), tensor([5, 0, 2]), i], w);
    expectTensor(hx, [0, 2, 0, 4]);
    expectTensor(hu, [0, 1, 3]);
  });

  it("check their operands", () => {
    const def = DEFINITIONS.scatterMax;
    const aval = (shape: number[], dtype: "float64" | "int32" = "float64") => ({ shape, dtype });
    expect(() => def.shape([aval([4]), aval([3]), aval([3])], { axis: 0 })).toThrow("scatterMax: expected int32 indices, got float64");
    expect(() => def.shape([aval([4]), aval([2]), aval([3], "int32")], { axis: 0 })).toThrow(
      "scatterMax: expected updates of shape [3] (operand [4], indices [3], axis 0), got [2]",
    );
  });
});
