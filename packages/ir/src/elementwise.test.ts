import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  abs,
  add,
  astype,
  clip,
  cos,
  div,
  equal,
  exp,
  expm1,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  log1p,
  maximum,
  minimum,
  mul,
  neg,
  notEqual,
  pow,
  reciprocal,
  relu,
  sigmoid,
  sign,
  sin,
  sqrt,
  square,
  sub,
  tan,
  tanh,
  tensor,
  where,
  zeros,
} from "./index.js";

const f32 = (v: number[]) => tensor(v, { dtype: "float32" });
const i32 = (v: number[]) => tensor(v, { dtype: "int32" });

describe("unary float ops against hand-computed values", () => {
  const x = [0, 0.5, -1];
  const cases: [string, (t: never) => unknown, (v: number) => number][] = [
    ["exp", exp, Math.exp],
    ["log", log, Math.log],
    ["log1p", log1p, Math.log1p],
    ["expm1", expm1, Math.expm1],
    ["sin", sin, Math.sin],
    ["cos", cos, Math.cos],
    ["tan", tan, Math.tan],
    ["tanh", tanh, Math.tanh],
    ["sqrt", sqrt, Math.sqrt],
    ["reciprocal", reciprocal, (v) => 1 / v],
    ["sigmoid", sigmoid, (v) => 1 / (1 + Math.exp(-v))],
  ];
  for (const [name, op, ref] of cases) {
    it(`${name} on f64, f32, int32 (promoted to f64), scalars and empty tensors`, () => {
      expectTensor(op(tensor(x) as never), x.map(ref), { dtype: "float64", shape: [3], digits: 14 });
      expectTensor(
        op(f32(x) as never),
        x.map((v) => Math.fround(ref(v))),
        { dtype: "float32", digits: 6 },
      );
      expectTensor(op(i32([1, 2]) as never), [ref(1), ref(2)], { dtype: "float64", digits: 14 });
      expectTensor(op(0.5 as never), ref(0.5), { dtype: "float64", shape: [], digits: 14 });
      expectTensor(op(zeros([2, 0]) as never), [[], []], { shape: [2, 0] });
      expectTensor(op([[0.5]] as never), [[ref(0.5)]], { shape: [1, 1], digits: 14 });
    });
  }

  it("hand values: exp(0)=1, log(1)=0, sqrt(4)=2, log(0)=-∞, sqrt(-1)=NaN, 1/0=∞", () => {
    expectTensor(exp(0), 1);
    expectTensor(log([1, 0, -1]), [0, -Infinity, NaN], { digits: 15 });
    expectTensor(sqrt([4, -1]), [2, NaN], { digits: 15 });
    expectTensor(reciprocal([0, 4]), [Infinity, 0.25]);
    expectTensor(log1p(1e-20), 1e-20);
    expectTensor(expm1(1e-20), 1e-20);
  });

  it("sigmoid is stable for large |x| (no overflow, exact limits)", () => {
    expectTensor(sigmoid([-1000, 0, 1000]), [0, 0.5, 1]);
    expectTensor(sigmoid(2), 1 / (1 + Math.exp(-2)), { digits: 15 });
  });

  it("square keeps the dtype (int32 stays int32)", () => {
    expectTensor(square([-3, 2]), [9, 4], { dtype: "float64" });
    expectTensor(square(i32([-3])), [9], { dtype: "int32" });
    expectTensor(square(f32([1.5])), [2.25], { dtype: "float32" });
  });
});

describe("unary numeric ops: neg, abs, sign, relu", () => {
  it("hand values on floats, with sign(0) = 0", () => {
    expectTensor(neg([1, -2, 0]), [-1, 2, -0]);
    expectTensor(abs([-1.5, 0, 2]), [1.5, 0, 2]);
    expectTensor(sign([-3, 0, 2, NaN]), [-1, 0, 1, NaN], { digits: 15 });
    expectTensor(relu([-1, 0, 2]), [0, 0, 2]);
  });

  it("keep int32; bool becomes int32", () => {
    expectTensor(neg(i32([1, -2])), [-1, 2], { dtype: "int32" });
    expectTensor(abs(i32([-4])), [4], { dtype: "int32" });
    expectTensor(sign(i32([-4, 0])), [-1, 0], { dtype: "int32" });
    expectTensor(relu(i32([-4, 3])), [0, 3], { dtype: "int32" });
    expectTensor(neg([true, false]), [-1, 0], { dtype: "int32" });
    expectTensor(abs(f32([-0.5])), [0.5], { dtype: "float32" });
  });
});

describe("binary arithmetic", () => {
  it("hand values", () => {
    expectTensor(add([1, 2], [10, 20]), [11, 22]);
    expectTensor(sub([1, 2], [10, 20]), [-9, -18]);
    expectTensor(mul([1, 2], [10, 20]), [10, 40]);
    expectTensor(div([1, 2], [4, 0]), [0.25, Infinity]);
    expectTensor(pow([2, 4, -8], [3, 0.5, 1 / 3]), [8, 2, NaN], { digits: 14 });
    expectTensor(maximum([1, 5, NaN], [3, 2, 0]), [3, 5, NaN], { digits: 15 });
    expectTensor(minimum([1, 5, 0], [3, 2, NaN]), [1, 2, NaN], { digits: 15 });
  });

  it("broadcasts by NumPy rules: scalars, size-1 axes, leading axes, empty axes", () => {
    expectTensor(
      add([[1], [2]], [10, 20, 30]),
      [
        [11, 21, 31],
        [12, 22, 32],
      ],
      { shape: [2, 3] },
    );
    expectTensor(mul(tensor([[1, 2, 3]]), 2), [[2, 4, 6]], { shape: [1, 3] });
    expectTensor(sub(10, [[1, 2]]), [[9, 8]]);
    expectTensor(
      add(
        zeros([2, 1, 3]),
        tensor([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      ),
      [
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
      ],
      { shape: [2, 2, 3] },
    );
    expectTensor(add(zeros([0, 3]), [1, 2, 3]), [], { shape: [0, 3] });
    expectTensor(add(zeros([2, 1]), zeros([1, 0])), [[], []], { shape: [2, 0] });
    expectTensor(add([5], 1), [6], { shape: [1] });
    expectTensor(add(tensor([[5]]), tensor(1)), [[6]], { shape: [1, 1] });
  });

  it("rejects shapes that do not broadcast", () => {
    expectError(() => add([1, 2], [1, 2, 3]), ShapeError, "add: expected broadcastable shapes, got [2] and [3]");
    expectError(() => mul(zeros([2, 3]), zeros([3, 2])), ShapeError, "mul: expected broadcastable shapes, got [2,3] and [3,2]");
    expectError(() => maximum(zeros([0]), zeros([2])), ShapeError, "maximum: expected broadcastable shapes, got [0] and [2]");
  });

  it("rejects strings, undefined, null, functions and ragged arrays, naming the op", () => {
    expectError(() => add("1" as never, 2), ArgumentError, 'add: expected a number, Tensor or nested array, got string "1"');
    expectError(() => mul(1, undefined as never), ArgumentError, "mul: expected a number, Tensor or nested array, got undefined");
    expectError(() => sub(null as never, 1), ArgumentError, "sub: expected a number, Tensor or nested array, got null");
    expectError(() => div((() => 1) as never, 1), ArgumentError, "div: expected a number, Tensor or nested array, got a function");
    expectError(
      () => add([[1, 2], [3]], 1),
      ArgumentError,
      "add: expected a rectangular nested array, got a ragged array (length 1 at values[1], expected 2)",
    );
    expectError(() => exp("x" as never), ArgumentError, 'exp: expected a number, Tensor or nested array, got string "x"');
    expectError(() => neg(undefined as never), ArgumentError, "neg: expected a number, Tensor or nested array, got undefined");
  });
});

describe("dtypes and weak typing", () => {
  it("float32 results stay float32 with JS numbers (weakly typed)", () => {
    expectTensor(add(f32([1.5]), 2), [3.5], { dtype: "float32" });
    expectTensor(mul(0.1, f32([3])), [Math.fround(Math.fround(0.1) * 3)], { dtype: "float32" });
    expectTensor(div(f32([1]), 3), [Math.fround(1 / 3)], { dtype: "float32" });
    expectTensor(pow(f32([2]), 0.5), [Math.fround(Math.SQRT2)], { dtype: "float32" });
    expectTensor(add(f32([1]), [[2], [3]]), [[3], [4]], { dtype: "float32" }); // nested arrays are weak too
  });

  it("promotes strongly typed operands: bool < int32 < float32 < float64", () => {
    expect(add(f32([1]), tensor([1])).dtype).toBe("float64");
    expect(add(i32([1]), f32([1])).dtype).toBe("float32");
    expect(add(i32([1]), new Float32Array([1])).dtype).toBe("float32"); // typed arrays are strong
    expect(add(tensor([true]), i32([1])).dtype).toBe("int32");
  });

  it("int32 stays int32 with integer numbers; a fraction makes float64 (regression: [1.5] was truncated)", () => {
    expectTensor(add(i32([1, 2]), 3), [4, 5], { dtype: "int32" });
    expectTensor(add(i32([1, 2]), 0.5), [1.5, 2.5], { dtype: "float64" });
    expectTensor(add(i32([1, 2]), [1.5, 1.5]), [2.5, 3.5], { dtype: "float64" });
    expectTensor(mul(i32([1, 2]), [2, 3]), [2, 6], { dtype: "int32" });
  });

  it("numbers without tensors are float64; booleans alone stay bool", () => {
    expectTensor(add(2, 3), 5, { dtype: "float64" });
    expectTensor(where(true, false, true), false, { dtype: "bool" });
  });

  it("bool arithmetic: bool ⊕ bool → int32, bool ⊕ number → float64", () => {
    expectTensor(add([true, true], [true, false]), [2, 1], { dtype: "int32" });
    expectTensor(add([true, false], 1), [2, 1], { dtype: "float64" });
    expectTensor(mul(tensor([true, false]), 2.5), [2.5, 0], { dtype: "float64" });
  });

  it("div and pow of integers give float64", () => {
    expectTensor(div(i32([1]), i32([2])), [0.5], { dtype: "float64" });
    expectTensor(pow(i32([2]), 2), [4], { dtype: "float64" });
  });

  it("astype converts (truncating to int32, nonzero to true)", () => {
    expectTensor(astype([1.7, -1.7, 0], "int32"), [1, -1, 0], { dtype: "int32" });
    expectTensor(astype([0.5, 0, -2], "bool"), [true, false, true], { dtype: "bool" });
    expectTensor(astype([true], "float32"), [1], { dtype: "float32" });
    expectError(
      () => astype([1], "float16" as never),
      DTypeError,
      'astype: expected dtype one of float64, float32, int32, bool, got "float16"',
    );
  });
});

describe("comparison and selection", () => {
  it("comparisons give bool with broadcasting", () => {
    expectTensor(greater([1, 2, 3], 2), [false, false, true], { dtype: "bool" });
    expectTensor(greaterEqual([1, 2, 3], 2), [false, true, true]);
    expectTensor(
      less([[1], [3]], [2, 3]),
      [
        [true, true],
        [false, false],
      ],
      { shape: [2, 2] },
    );
    expectTensor(lessEqual(2, [1, 2, 3]), [false, true, true]);
    expectTensor(equal([1, NaN], [1, NaN]), [true, false]);
    expectTensor(notEqual([1, NaN], [1, NaN]), [false, true]);
    expectTensor(equal(i32([1, 2]), 1.0), [true, false]);
    expectTensor(equal([true, false], [true, true]), [true, false]);
    expectTensor(equal(f32([0.1]), 0.1), [true]); // 0.1 becomes float32(0.1): weak typing
    expectTensor(equal(f32([0.1]), tensor(0.1)), [false]); // a float64 tensor is strong: f32(0.1) ≠ 0.1
    expectError(() => less([1, 2], [1, 2, 3]), ShapeError, "less: expected broadcastable shapes, got [2] and [3]");
  });

  it("where selects with three-way broadcasting", () => {
    expectTensor(where([true, false], [1, 2], [10, 20]), [1, 20]);
    expectTensor(
      where([[true], [false]], [1, 2], 0),
      [
        [1, 2],
        [0, 0],
      ],
      { shape: [2, 2] },
    );
    expectTensor(where(true, f32([1]), 2), [1], { dtype: "float32" });
    expectTensor(where([true, false], i32([1, 2]), 7), [1, 7], { dtype: "int32" });
    expectError(() => where([1, 0], 1, 2), DTypeError, "where: expected a bool condition, got float64");
    expectError(() => where([true, false], [1, 2, 3], 0), ShapeError, "where: expected broadcastable shapes, got [2] and [3]");
  });

  it("clip clamps to [low, high] with broadcasting bounds", () => {
    expectTensor(clip([-2, 0.5, 3], 0, 1), [0, 0.5, 1]);
    expectTensor(clip([[-2, 5]], [0, 1], 2), [[0, 2]]);
    expectTensor(clip(i32([-2, 5]), 0, 3), [0, 3], { dtype: "int32" });
    expectTensor(clip(f32([-2, 5]), 0, 3), [0, 3], { dtype: "float32" });
    expectTensor(clip([-1, 0.5, 2], 1, 0), [0, 0, 0]); // low > high: high wins, as min(max(x, low), high) in NumPy
    expectTensor(clip([0, 1, 2], 1, 1), [1, 1, 1]);
  });
});

describe("the dtype rules of primitives reject what ops would not produce", () => {
  it("bool arithmetic on primitives, mixed dtypes", async () => {
    const { bind } = await import("./index.js");
    expectError(() => bind("add", [tensor([true]), tensor([true])], {}), DTypeError, "add: expected numeric operands, got bool");
    expectError(() => bind("add", [tensor([1]), f32([1])], {}), DTypeError, "add: expected operands of one dtype, got float64 and float32");
    expectError(() => bind("exp", [i32([1])], {}), DTypeError, "exp: expected a float32 or float64 operand, got int32");
    expectError(() => bind("div", [i32([1]), i32([1])], {}), DTypeError, "div: expected a float32 or float64 operand, got int32");
    expectError(() => bind("neg", [tensor([true])], {}), DTypeError, "neg: expected a numeric operand, got bool");
  });
});
