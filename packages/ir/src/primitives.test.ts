import { describe, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  bind,
  bindCustomJvp,
  bindCustomVjp,
  evalPrimitive,
  exp,
  inferAval,
  tensor,
  zeros,
  type Tensor,
} from "./index.js";

const i32 = (v: number[] | number[][], shape?: number[]) => tensor(v, { dtype: "int32", ...(shape ? { shape } : {}) });

describe("primitives bound directly (what engines' rules use)", () => {
  it("gather: out.shape = x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:]", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expectTensor(bind("gather", [x, i32([[2, 0]])], { axis: 1 }), [[[3, 1]], [[6, 4]]], { shape: [2, 1, 2] });
    expectTensor(bind("gather", [x, i32([1, 1, 0])], { axis: 0 }), [
      [4, 5, 6],
      [4, 5, 6],
      [1, 2, 3],
    ]);
    expectTensor(bind("gather", [x, i32(-1 as never)], { axis: 1 }), [3, 6], { shape: [2] });
    expectError(() => bind("gather", [x, tensor([0])], { axis: 0 }), DTypeError, "gather: expected int32 indices, got float64");
    expectError(() => bind("gather", [x, i32([0])], { axis: 2 }), ShapeError, "gather: expected axis in [0, 1], got 2");
  });

  it("scatterAdd (the transpose of gather) accumulates repeated indices", () => {
    // updates [2 rows, 3 picks]; indices pick columns 0, 2, 0 of a 3-column result
    const updates = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expectTensor(
      bind("scatterAdd", [updates, i32([0, 2, 0])], { axis: 1, size: 3 }),
      [
        [1 + 3, 0, 2],
        [4 + 6, 0, 5],
      ],
      { shape: [2, 3] },
    );
    expectTensor(bind("scatterAdd", [tensor([1, 2, 3]), i32([-1, 0, -1])], { axis: 0, size: 2 }), [2, 4]);
    // multi-dimensional indices at axis 0: updates [2, 2, 1] → out [3, 1]
    expectTensor(
      bind(
        "scatterAdd",
        [
          tensor([
            [[1], [2]],
            [[3], [4]],
          ]),
          i32([
            [0, 1],
            [1, 2],
          ]),
        ],
        { axis: 0, size: 3 },
      ),
      [[1], [5], [4]],
    );
    expectTensor(bind("scatterAdd", [zeros([0]), i32([], [0])], { axis: 0, size: 2 }), [0, 0]);
    expectError(
      () => bind("scatterAdd", [tensor([1]), i32([5])], { axis: 0, size: 2 }),
      ArgumentError,
      "scatterAdd: expected indices in [-2, 1], got 5",
    );
    expectError(
      () => bind("scatterAdd", [tensor([1, 2]), i32([0])], { axis: 0, size: 2 }),
      ShapeError,
      "scatterAdd: expected updates [2] to hold indices [1] at axis 0",
    );
    expectError(
      () => bind("scatterAdd", [tensor([1]), i32([0])], { axis: 1, size: 2 }),
      ShapeError,
      "scatterAdd: expected axis and size fitting updates [1], got axis 1, size 2",
    );
  });

  it("gather then scatterAdd is the adjoint pair: ⟨gather(x), u⟩ = ⟨x, scatterAdd(u)⟩", () => {
    const x = tensor([
      [1, -2],
      [3, 4],
      [0.5, 6],
    ]);
    const idx = i32([2, 0, 2, 1]);
    const u = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    const dot = (a: Tensor, b: Tensor) => Array.from(a.data).reduce((s, v, i) => s + v * b.data[i]!, 0);
    const left = dot(bind("gather", [x, idx], { axis: 0 }), u);
    const right = dot(x, bind("scatterAdd", [u, idx], { axis: 0, size: 3 }));
    expectTensor(tensor(left), right);
  });

  it("reduceMax, argmax, cast, pad, slice, concat at the primitive level", () => {
    expectTensor(
      bind(
        "reduceMax",
        [
          tensor([
            [1, 5],
            [7, 2],
          ]),
        ],
        { axes: [1] },
      ),
      [5, 7],
    );
    expectTensor(
      bind(
        "argmax",
        [
          tensor([
            [1, 5],
            [7, 2],
          ]),
        ],
        { axis: 0 },
      ),
      [1, 0],
      { dtype: "int32" },
    );
    expectTensor(bind("cast", [tensor([NaN, 0, -0.5])], { dtype: "bool" }), [true, false, true]);
    expectTensor(bind("cast", [tensor([1.9, -1.9])], { dtype: "int32" }), [1, -1]);
    expectTensor(bind("pad", [tensor([[1]])], { low: [0, 1], high: [1, 0] }), [
      [0, 1],
      [0, 0],
    ]);
    expectTensor(bind("slice", [tensor([1, 2, 3])], { begin: [1], end: [3] }), [2, 3]);
    expectTensor(bind("concat", [tensor([1]), tensor([2, 3]), tensor([4])], { axis: 0 }), [1, 2, 3, 4]);
  });

  it("shape rules reject bad params with op: expected …, got …", () => {
    const x = zeros([2, 3]);
    expectError(() => bind("reduceSum", [x], { axes: [1, 0] }), ShapeError, "reduceSum: expected sorted unique axes in [0, 1], got [1,0]");
    expectError(() => bind("reduceMax", [zeros([0])], { axes: [0] }), ShapeError, "reduceMax: expected a non-empty axis 0, got shape [0]");
    expectError(() => bind("reshape", [x], { shape: [5] }), ShapeError, "reshape: expected a shape with 6 elements (from [2,3]), got [5]");
    expectError(() => bind("transpose", [x], { perm: [0, 0] }), ShapeError, "transpose: expected a permutation of 0..1, got [0,0]");
    expectError(() => bind("transpose", [x], { perm: [0] }), ShapeError, "transpose: expected perm to be 2 integers, got [0]");
    expectError(
      () => bind("broadcastTo", [x], { shape: [3, 3] }),
      ShapeError,
      "broadcastTo: expected broadcastable shapes, got [2,3] and [3,3]",
    );
    expectError(
      () => bind("slice", [x], { begin: [0, 2], end: [2, 1] }),
      ShapeError,
      "slice: expected 0 ≤ begin ≤ end ≤ 3 on axis 1, got begin 2, end 1",
    );
    expectError(
      () => bind("pad", [x], { low: [0, -1], high: [0, 0] }),
      ShapeError,
      "pad: expected non-negative padding, got low [0,-1], high [0,0]",
    );
    expectError(() => bind("concat", [], { axis: 0 }), ShapeError, "concat: expected at least one operand, got none");
    expectError(
      () => bind("concat", [x, zeros([2, 3], "float32")], { axis: 0 }),
      DTypeError,
      "concat: expected operands of one dtype, got float64 and float32",
    );
    expectError(
      () => bind("matmul", [zeros([3]), zeros([3, 1])], {}),
      ShapeError,
      "matmul: expected operands of rank ≥ 2, got [3] and [3,1]",
    );
    expectError(() => bind("where", [tensor([1]), x, x], {}), DTypeError, "where: expected a bool condition, got float64");
    expectError(() => bind("argmax", [x], { axis: -1 }), ShapeError, "argmax: expected axis in [0, 1], got -1");
  });

  it("evalPrimitive runs a kernel for a given output aval; custom rules bind eagerly to their function", () => {
    const a = tensor([1, 2]);
    const out = inferAval("mul", [a, a], {});
    expectTensor(evalPrimitive("mul", [a, a], {}, out), [1, 4]);
    expectTensor(
      bindCustomJvp(
        {
          fun: (x) => exp(x),
          jvp: () => {
            throw new Error("not eager");
          },
        },
        [tensor(0)],
      ),
      1,
    );
    expectTensor(
      bindCustomVjp(
        {
          fun: (x) => exp(x),
          fwd: () => {
            throw new Error("not eager");
          },
          bwd: () => [],
        },
        [tensor(0)],
      ),
      1,
    );
  });
});
