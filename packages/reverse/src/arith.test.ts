/** The direct loops compute exactly (bitwise) what ir's eager kernels compute. */
import { evalPrimitive, inferAval, Random, Tensor, type DType, type Primitive } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import * as ir from "@chainrule/ir";
import { fastPad, fastPrimal, fastSlice, fillLike, inSlab, matmulNN, matmulNT, matmulTN, mulNoNan } from "./arith.js";
import { grad, jvp, valueAndGrad, vjp } from "./engine.js";

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
    for (const [sa, sb] of [
      [[5], [5]],
      [[2, 3], []],
      [[], [2, 3]],
      [[4], [1]],
      [[1], [2, 2]],
      [[], []],
    ] as number[][][]) {
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
    for (const [m, k, n] of [
      [1, 1, 1],
      [3, 4, 5],
      [7, 9, 6],
      [5, 13, 2],
      [8, 8, 8],
    ] as const) {
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

  it("mulNoNan (zeros, infinities, NaN; full and scalar operands) and fillLike", () => {
    const a = new Tensor(dtype, [6], (dtype === "float64" ? Float64Array : Float32Array).from([0, -0, Infinity, NaN, 2, 0]));
    const b = new Tensor(dtype, [6], (dtype === "float64" ? Float64Array : Float32Array).from([Infinity, NaN, 0, 0, -3, 5]));
    same(mulNoNan(a, b), reference("mulNoNan", [a, b], {}));
    const s = new Tensor(dtype, [], dtype === "float64" ? Float64Array.of(0) : Float32Array.of(0));
    same(mulNoNan(a, s), reference("mulNoNan", [a, s], {}));
    same(mulNoNan(s, b), reference("mulNoNan", [s, b], {}));
    const c = random([], dtype);
    same(fillLike(c, [2, 3])!, reference("broadcastTo", [c], { shape: [2, 3] }));
    same(fastPrimal("broadcastTo", [c], { shape: [4] })!, reference("broadcastTo", [c], { shape: [4] }));
  });
});

describe("slab allocation", () => {
  it("mid-sized temporaries come from slabs; results handed back never do", () => {
    const x = random([1000]);
    expect(inSlab(fastPrimal("add", [x, x], {})!)).toBe(true);
    expect(inSlab(fastPrimal("add", [random([4]), random([4])], {})!)).toBe(false); // small: on the V8 heap
    expect(inSlab(fastPrimal("add", [random([20000]), random([20000])], {})!)).toBe(false); // large: own buffer
    const f = (t: Tensor) => ir.sum(ir.mul(ir.sin(ir.mul(t, t)), t));
    const g = grad(f)(x);
    expect(inSlab(g)).toBe(false);
    const [value, gv] = valueAndGrad((t: Tensor) => ir.mul(t, t))(random([]));
    expect(inSlab(value) || inSlab(gv)).toBe(false);
    const [out, pullback] = vjp((t: Tensor) => ir.mul(ir.exp(t), t), x);
    expect(inSlab(out)).toBe(false);
    expect(inSlab(pullback(ir.ones([1000]))[0]!)).toBe(false);
    const [primal, tangent] = jvp((t: Tensor) => ir.mul(t, t), [x], [x]);
    expect(inSlab(primal) || inSlab(tangent)).toBe(false);
  });

  it("slab-backed values are independent: later allocations do not disturb earlier results", () => {
    const x = random([500]);
    const a = fastPrimal("mul", [x, x], {})!;
    const copy = Array.from(a.data);
    for (let i = 0; i < 200; i++) fastPrimal("add", [x, x], {});
    expect(Array.from(a.data)).toEqual(copy);
  });
});
