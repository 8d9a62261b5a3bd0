import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  Tensor,
  add,
  arange,
  eye,
  full,
  linspace,
  ones,
  reshape,
  scalar,
  tensor,
  zeros,
} from "./index.js";

describe("tensor()", () => {
  it("makes a float64 scalar from a number and bool from a boolean", () => {
    expectTensor(tensor(2.5), 2.5, { dtype: "float64", shape: [] });
    expectTensor(tensor(true), true, { dtype: "bool", shape: [] });
  });

  it("infers shapes of nested arrays, including empty and size-1 dimensions", () => {
    expectTensor(
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: "float64", shape: [2, 3] },
    );
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[]]).shape).toEqual([1, 0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
    expect(tensor([[[7]]]).shape).toEqual([1, 1, 1]);
    expect(tensor([]).dtype).toBe("float64");
  });

  it("gives bool only when every leaf is a boolean, else float64", () => {
    expectTensor(tensor([true, false]), [true, false], { dtype: "bool" });
    expectTensor(tensor([true, 2]), [1, 2], { dtype: "float64" });
  });

  it("honours dtype and shape options", () => {
    expectTensor(
      tensor([1, 2, 3, 4], { shape: [2, 2] }),
      [
        [1, 2],
        [3, 4],
      ],
      { shape: [2, 2] },
    );
    expectTensor(tensor([1, -1, 2147483647], { dtype: "int32" }), [1, -1, 2147483647], { dtype: "int32" });
    expectTensor(tensor([0.1], { dtype: "float32" }), [Math.fround(0.1)], { dtype: "float32" });
    expectTensor(tensor(5, { shape: [1, 1] }), [[5]], { shape: [1, 1] });
  });

  it("stores bool as 0/1 whatever the source (regression: 2 and 256 were stored as is / wrapped)", () => {
    expect(Array.from(tensor([2, 0, 256, -1], { dtype: "bool" }).data)).toEqual([1, 0, 1, 1]);
    expect(Array.from(tensor(new Uint8Array([0, 5])).data)).toEqual([0, 1]);
    expect(Array.from(tensor(new Float64Array([0.5, 0]), { dtype: "bool" }).data)).toEqual([1, 0]);
    expect(Array.from(full([2], 7, "bool").data)).toEqual([1, 1]);
  });

  it("copies typed arrays, keeping their dtype", () => {
    const source = new Float32Array([1, 2, 3, 4]);
    const t = tensor(source, { shape: [2, 2] });
    source[0] = 99;
    expectTensor(
      t,
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "float32" },
    );
    expect(tensor(new Int32Array([1, 2])).dtype).toBe("int32");
    expect(tensor(new Float64Array(0)).shape).toEqual([0]);
    expectTensor(tensor(new Float64Array([1, -2]), { dtype: "int32" }), [1, -2], { dtype: "int32" });
  });

  it("copies a Tensor (converting its dtype, reshaping)", () => {
    const a = tensor([1, 2, 3, 4]);
    const b = tensor(a, { dtype: "float32", shape: [2, 2] });
    expectTensor(
      b,
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "float32" },
    );
    expect(b.data).not.toBe(a.data);
  });

  it("rejects strings, undefined, ragged arrays and bad options with exact messages", () => {
    expectError(
      () => tensor("abc" as never),
      ArgumentError,
      'tensor: expected numbers, booleans or nested arrays of them, got string "abc" at values',
    );
    expectError(
      () => tensor(undefined as never),
      ArgumentError,
      "tensor: expected numbers, booleans or nested arrays of them, got undefined at values",
    );
    expectError(
      () => tensor([1, "2"] as never),
      ArgumentError,
      'tensor: expected numbers, booleans or nested arrays of them, got string "2" at values[1]',
    );
    expectError(
      () => tensor([[1, 2], [3]]),
      ArgumentError,
      "tensor: expected a rectangular nested array, got a ragged array (length 1 at values[1], expected 2)",
    );
    expectError(
      () => tensor([[1], 2] as never),
      ArgumentError,
      "tensor: expected a rectangular nested array, got a ragged array (a scalar at values[1] where an array of depth 1 was expected)",
    );
    // regression: [1, [2]] used to be read as shape [2, 1]
    expectError(
      () => tensor([1, [2]] as never),
      ArgumentError,
      "tensor: expected a rectangular nested array, got a ragged array (an array at values[1] where a number was expected)",
    );
    expectError(
      () => tensor([[], [1]]),
      ArgumentError,
      "tensor: expected a rectangular nested array, got a ragged array (length 1 at values[1], expected 0)",
    );
    expectError(
      () => tensor({ a: 1 } as never),
      ArgumentError,
      "tensor: expected a number, boolean, nested array, typed array or Tensor, got an object ([object Object])",
    );
    expectError(
      () => tensor(new Int16Array(2) as never),
      ArgumentError,
      "tensor: expected a number, boolean, nested array, typed array or Tensor, got an object ([object Int16Array])",
    );
    expectError(() => tensor([1, 2, 3], { shape: [2, 2] }), ShapeError, "tensor: expected shape [2,2] to match 3 elements, got 4 elements");
    expectError(
      () => tensor([1], { shape: [-1] }),
      ArgumentError,
      "tensor: expected a shape (an array of non-negative integers), got [-1]",
    );
    expectError(
      () => tensor([1], { dtype: "float16" as never }),
      DTypeError,
      'tensor: expected dtype one of float64, float32, int32, bool, got "float16"',
    );
  });
});

describe("creation helpers", () => {
  it("zeros, ones, full", () => {
    expectTensor(
      zeros([2, 2]),
      [
        [0, 0],
        [0, 0],
      ],
      { dtype: "float64" },
    );
    expectTensor(ones([3], "int32"), [1, 1, 1], { dtype: "int32" });
    expectTensor(full([], 7, "float32"), 7, { dtype: "float32", shape: [] });
    expect(zeros([0, 3]).size).toBe(0);
    expectError(() => zeros([2, 1.5]), ArgumentError, "zeros: expected a shape (an array of non-negative integers), got [2,1.5]");
    expectError(() => full([2], "x" as never), ArgumentError, 'full: expected a number fill value, got string "x"');
    expectError(() => zeros([2], "int64" as never), DTypeError, 'zeros: expected dtype one of float64, float32, int32, bool, got "int64"');
  });

  it("arange follows NumPy (half-open, any step sign)", () => {
    expectTensor(arange(4), [0, 1, 2, 3]);
    expectTensor(arange(2, 5), [2, 3, 4]);
    expectTensor(arange(5, 0, -2), [5, 3, 1]);
    expectTensor(arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75]);
    expectTensor(arange(3, 3), [], { shape: [0] });
    expectTensor(arange(0, 3, 1, "int32"), [0, 1, 2], { dtype: "int32" });
    expectError(() => arange(0, 3, 0), ArgumentError, "arange: expected a non-zero step, got 0");
    expectError(() => arange(0, Infinity), ArgumentError, "arange: expected a finite number stop, got number Infinity");
    expectError(() => arange("3" as never), ArgumentError, 'arange: expected a finite number stop, got string "3"');
  });

  it("linspace includes both ends exactly", () => {
    expectTensor(linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1]);
    expectTensor(linspace(2, 2, 1), [2]);
    expectTensor(linspace(0, 1, 0), [], { shape: [0] });
    expect(linspace(0.1, 0.7, 7).data[6]).toBe(0.7);
    expectError(() => linspace(0, 1, -1), ArgumentError, "linspace: expected a non-negative integer count, got number -1");
    expectError(() => linspace(0, undefined as never, 3), ArgumentError, "linspace: expected a finite number stop, got undefined");
  });

  it("eye, square and rectangular", () => {
    expectTensor(eye(2), [
      [1, 0],
      [0, 1],
    ]);
    expectTensor(
      eye(2, 3, "int32"),
      [
        [1, 0, 0],
        [0, 1, 0],
      ],
      { dtype: "int32" },
    );
    expectTensor(eye(0), [], { shape: [0, 0] });
    expectError(() => eye(-1), ArgumentError, "eye: expected a shape (an array of non-negative integers), got [-1,-1]");
  });

  it("scalar()", () => {
    expectTensor(scalar(3), 3, { dtype: "float64", shape: [] });
    expectTensor(scalar(3, "int32"), 3, { dtype: "int32" });
  });
});

describe("reading tensors", () => {
  it("toArray gives nested arrays (a number for rank 0, booleans for bool)", () => {
    expect(tensor(4).toArray()).toBe(4);
    expect(tensor([[true], [false]]).toArray()).toEqual([[true], [false]]);
    expect(zeros([2, 0]).toArray()).toEqual([[], []]);
  });

  it("item reads exactly one element", () => {
    expect(tensor([[3]]).item()).toBe(3);
    expect(tensor(true).item()).toBe(1);
    expectError(() => tensor([1, 2]).item(), ShapeError, "item: expected a tensor with exactly one element, got shape [2]");
    expectError(() => zeros([0]).item(), ShapeError, "item: expected a tensor with exactly one element, got shape [0]");
  });

  it("rank, size, typeString, describe", () => {
    const t = zeros([2, 3], "float32");
    expect([t.rank, t.size, t.typeString(), t.describe()]).toEqual([2, 6, "f32[2,3]", "Tensor f32[2,3]"]);
  });

  it("toString is readable and elides long axes", () => {
    expect(
      tensor([
        [1, 2],
        [3, 4],
      ]).toString(),
    ).toBe("Tensor(f64[2,2]) [[1, 2], [3, 4]]");
    expect(tensor(0.1, { dtype: "float32" }).toString()).toBe("Tensor(f32[]) 0.1");
    expect(tensor(1 / 3).toString()).toBe("Tensor(f64[]) 0.333333");
    expect(tensor([NaN, Infinity, -Infinity]).toString()).toBe("Tensor(f64[3]) [NaN, Infinity, -Infinity]");
    expect(tensor([true, false]).toString()).toBe("Tensor(bool[2]) [true, false]");
    expect(arange(10, undefined, 1, "int32").toString()).toBe("Tensor(i32[10]) [0, 1, 2, …, 7, 8, 9]");
    expect(zeros([0]).toString()).toBe("Tensor(f64[0]) []");
    expect(tensor(1e-9).toString()).toBe("Tensor(f64[]) 1.00000e-9");
    expect(`${tensor(2)}`).toBe("Tensor(f64[]) 2");
    expect(String(tensor([1]))).toBe("Tensor(f64[1]) [1]");
  });

  it("refuses implicit conversion to a number", () => {
    const t = tensor(2);
    const message =
      "Tensor: cannot convert a f64[] tensor to a JS number implicitly (JS operators would lose derivatives); use ops such as " +
      "add/mul, or .item() to read a value";
    expectError(() => (t as unknown as number) * 2, ArgumentError, message);
    expectError(() => +(t as unknown as number), ArgumentError, message);
    expectError(() => (t as unknown as number) + 1, ArgumentError, message);
    expectError(() => (t as unknown as number) < 3, ArgumentError, message);
  });

  it("is an instance of Tensor and never shares storage with creation inputs", () => {
    const values = [1, 2];
    const t = tensor(values);
    values[0] = 5;
    expect(t).toBeInstanceOf(Tensor);
    expect(t.toArray()).toEqual([1, 2]);
  });
});

describe("a tensor whose buffer was detached", () => {
  it("throws a clear error on read (and so does every op), instead of reading as empty", () => {
    const t = tensor([1, 2, 3, 4], { dtype: "float32" });
    const alias = reshape(t, [2, 2]); // shares the buffer
    structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
    expect(() => t.data).toThrow(
      "data: expected a tensor with readable data, got float32[4] whose buffer was detached: " +
        "it was donated to a compiled call (jit(f, { donate })) or transferred",
    );
    expect(() => alias.toArray()).toThrow(/float32\[2,2\] whose buffer was detached/);
    expect(() => add(t, 1)).toThrow(ArgumentError);
    expect(t.shape).toEqual([4]);
    const s = scalar(2);
    structuredClone(s.data.buffer, { transfer: [s.data.buffer as ArrayBuffer] });
    expect(() => s.item()).toThrow(/whose buffer was detached/);
  });

  it("empty tensors still read as empty", () => {
    expect(tensor([], { dtype: "float64" }).data.length).toBe(0);
    expect(zeros([0, 3]).data.length).toBe(0);
  });
});
