import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import { DTypeError, ShapeError, arange, dot, matmul, outer, reshape, tensor, zeros } from "./index.js";

/** The textbook triple loop, for comparison. */
function naive(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}

describe("matmul (NumPy semantics)", () => {
  it("2-D by 2-D against hand values", () => {
    expectTensor(
      matmul(
        [
          [1, 2],
          [3, 4],
        ],
        [
          [5, 6],
          [7, 8],
        ],
      ),
      [
        [19, 22],
        [43, 50],
      ],
    );
    expectTensor(matmul([[1, 2, 3]], [[1], [1], [1]]), [[6]]);
    const a = [
      [1, -2, 3],
      [0, 4, 5],
    ];
    const b = [
      [2, 1],
      [0, -1],
      [3, 3],
    ];
    expectTensor(matmul(a, b), naive(a, b));
  });

  it("1-D operands are promoted and the added axis removed", () => {
    expectTensor(matmul([1, 2, 3], [4, 5, 6]), 32, { shape: [] });
    expectTensor(
      matmul(
        [
          [1, 2],
          [3, 4],
        ],
        [1, 1],
      ),
      [3, 7],
      { shape: [2] },
    );
    expectTensor(
      matmul(
        [1, 1],
        [
          [1, 2],
          [3, 4],
        ],
      ),
      [4, 6],
      { shape: [2] },
    );
    expectTensor(
      matmul([1, 1], reshape(arange(8), [2, 2, 2])),
      [
        [2, 4],
        [10, 12],
      ],
      { shape: [2, 2] },
    );
  });

  it("batches with broadcasting (no batch copies needed)", () => {
    const a = reshape(arange(12), [2, 2, 3]); // two 2×3 matrices
    const b = tensor([
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    const out = matmul(a, b);
    expect(out.shape).toEqual([2, 2, 2]);
    expectTensor(out, [
      naive(
        [
          [0, 1, 2],
          [3, 4, 5],
        ],
        b.toArray() as number[][],
      ),
      naive(
        [
          [6, 7, 8],
          [9, 10, 11],
        ],
        b.toArray() as number[][],
      ),
    ]);
    const c = matmul(zeros([3, 1, 2, 2]), zeros([4, 2, 5]));
    expect(c.shape).toEqual([3, 4, 2, 5]);
    const left = tensor([
      [
        [1, 0],
        [0, 1],
      ],
    ]); // [1,2,2]
    const right = reshape(arange(8), [2, 2, 2]);
    expectTensor(matmul(left, right), right.toArray());
    expectTensor(matmul(right, left), right.toArray());
  });

  it("empty and size-1 dimensions", () => {
    expectTensor(matmul(zeros([2, 0]), zeros([0, 3])), [
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(matmul(zeros([0, 2]), zeros([2, 3])).shape).toEqual([0, 3]);
    expect(matmul(zeros([0, 2, 2]), zeros([2, 2])).shape).toEqual([0, 2, 2]);
    expectTensor(matmul([[2]], [[3]]), [[6]]);
  });

  it("dtypes: f32 stays f32, int32 stays int32, bool becomes int32, mixed promotes", () => {
    expectTensor(matmul(tensor([[1, 2]], { dtype: "float32" }), [[0.5], [0.25]]), [[1]], { dtype: "float32" });
    expectTensor(matmul(tensor([[1, 2]], { dtype: "int32" }), tensor([[3], [4]], { dtype: "int32" })), [[11]], { dtype: "int32" });
    expectTensor(matmul([[true, true]], [[true], [false]]), [[1]], { dtype: "int32" });
    expect(matmul(tensor([[1]], { dtype: "float32" }), tensor([[1]])).dtype).toBe("float64");
  });

  it("rejects mismatched inner dimensions, scalars and unbroadcastable batches", () => {
    expectError(() => matmul(zeros([2, 3]), zeros([4, 5])), ShapeError, "matmul: expected inner dimensions to match, got [2,3] and [4,5]");
    expectError(() => matmul(zeros([3]), zeros([4])), ShapeError, "matmul: expected inner dimensions to match, got [3] and [4]");
    expectError(() => matmul(zeros([2, 3]), zeros([2])), ShapeError, "matmul: expected inner dimensions to match, got [2,3] and [2]");
    expectError(() => matmul(zeros([2]), zeros([3, 2])), ShapeError, "matmul: expected inner dimensions to match, got [2] and [3,2]");
    expectError(() => matmul(2, zeros([2])), ShapeError, "matmul: expected operands of rank ≥ 1, got [] and [2]");
    expectError(() => matmul(zeros([2, 1, 2]), zeros([3, 2, 1])), ShapeError, "matmul: expected broadcastable shapes, got [2] and [3]");
  });

  it("rejects bool operands at the primitive", async () => {
    const { bind } = await import("./index.js");
    expectError(() => bind("matmul", [tensor([[true]]), tensor([[true]])], {}), DTypeError, "matmul: expected numeric operands, got bool");
  });
});

describe("dot and outer", () => {
  it("dot: vectors, matrices, scalars", () => {
    expectTensor(dot([1, 2], [3, 4]), 11);
    expectTensor(
      dot(
        [
          [1, 2],
          [3, 4],
        ],
        [1, 0],
      ),
      [1, 3],
    );
    expectTensor(dot(2, [1, 2]), [2, 4]);
    // N-d operands: see indexing-ops.test.ts
    expectError(() => dot(zeros([1, 1, 2]), zeros([3])), ShapeError, "dot: expected inner dimensions to match, got [1,1,2] and [3]");
    expectError(() => dot([1, 2], [1, 2, 3]), ShapeError, "dot: expected inner dimensions to match, got [2] and [3]");
  });

  it("outer of the flattened operands", () => {
    expectTensor(outer([1, 2], [3, 4, 5]), [
      [3, 4, 5],
      [6, 8, 10],
    ]);
    expectTensor(outer([[1], [2]], 3), [[3], [6]]);
    expect(outer(zeros([0]), [1, 2]).shape).toEqual([0, 2]);
  });
});
