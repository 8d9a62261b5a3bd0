/** The direct loops compute exactly (bitwise) what ir's eager kernels compute. */
import { evalPrimitive, inferAval, Random, Tensor, type DType, type Primitive } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { fastPad, fastPrimal, fastSlice, fillLike, matmulNN, matmulNT, matmulTN, mulScaled } from "./arith.js";

const rng = new Random(5);
const random = (shape: number[], dtype: DType = "float64") => rng.normal(shape, { dtype });

function reference(prim: Primitive, inputs: Tensor[], params: object): Tensor {
  return evalPrimitive(prim, inputs, params as never, inferAval(prim, inputs, params as never));
}

function same(a: Tensor, b: Tensor): void {
  expect(a.dtype).toBe(b.dtype);
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.data)).toEqual(Array.from(b.data));
}

describe.each(["float64", "float32"] as const)("direct loops in %s", (dtype) => {
  it.each(["add", "sub", "mul", "div"] as const)("%s, same shapes and scalar broadcasting", (prim) => {
    for (const [sa, sb] of [[[5], [5]], [[2, 3], []], [[], [2, 3]], [[4], [1]], [[1], [2, 2]], [[], []]] as number[][][]) {
      const inputs = [random(sa!, dtype), random(sb!, dtype)];
      same(fastPrimal(prim, inputs, {})!, reference(prim, inputs, {}));
    }
  });

  it("declines what needs the general kernel", () => {
    expect(fastPrimal("add", [random([2, 1], dtype), random([1, 3], dtype)], {})).toBeUndefined();
    expect(fastPrimal("exp", [random([2], dtype)], {})).toBeUndefined();
    expect(fastSlice(random([3, 3], dtype), [0, 1], [3, 3])).toBeUndefined();
    expect(fastPad(random([3, 3], dtype), [0, 1], [0, 0])).toBeUndefined();
    expect(fillLike(random([2], dtype), [2])).toBeUndefined();
  });

  it("neg, slice, pad and full sums", () => {
    const x = random([6, 2], dtype);
    same(fastPrimal("neg", [x], {})!, reference("neg", [x], {}));
    same(fastPrimal("slice", [x], { begin: [1, 0], end: [4, 2] })!, reference("slice", [x], { begin: [1, 0], end: [4, 2] }));
    same(fastPrimal("pad", [x], { low: [2, 0], high: [1, 0] })!, reference("pad", [x], { low: [2, 0], high: [1, 0] }));
    const long = random([1001], dtype);
    same(fastPrimal("reduceSum", [long], { axes: [0] })!, reference("reduceSum", [long], { axes: [0] }));
    same(fastPrimal("reduceSum", [x], { axes: [0, 1] })!, reference("reduceSum", [x], { axes: [0, 1] }));
  });

  it("matrix products A·B, A·Bᵀ and Aᵀ·B", () => {
    const t = (x: Tensor) => reference("transpose", [x], { perm: [1, 0] });
    for (const [m, k, n] of [[1, 1, 1], [3, 4, 5], [7, 9, 6], [5, 13, 2], [8, 8, 8]] as const) {
      const a = random([m, k], dtype);
      const b = random([k, n], dtype);
      same(matmulNN(a, b)!, reference("matmul", [a, b], {}));
      const bt = random([n, k], dtype);
      same(matmulNT(a, bt)!, reference("matmul", [a, t(bt)], {}));
      const c = random([m, n], dtype);
      same(matmulTN(a, c)!, reference("matmul", [t(a), c], {}));
    }
    expect(matmulNN(random([2, 2, 3], dtype), random([3, 2], dtype))).toBeUndefined();
    expect(matmulNN(random([2, 3], dtype), random([2, 3], dtype))).toBeUndefined();
  });

  it("mulScaled and fillLike", () => {
    const a = random([4], dtype);
    const b = random([4], dtype);
    same(mulScaled(a, b, 2), reference("mul", [reference("mul", [a, b], {}), new Tensor(dtype, [], dtype === "float64" ? Float64Array.of(2) : Float32Array.of(2))], {}));
    const c = random([], dtype);
    same(fillLike(c, [2, 3])!, reference("broadcastTo", [c], { shape: [2, 3] }));
  });
});
