/**
 * The indexing family (issue 17) compiled: scatterMul/Min/Max run as the `rt_scatter` runtime
 * kernel (and interpreted inside WebAssembly kernel programs), takeAlongAxis and at(…) take their
 * indices as inputs of the compiled function (range-checked at run time with the eager messages),
 * strided slices compile to views. Values are hand-computed (NumPy's ufunc.at and slicing).
 */
import { ArgumentError, at, bind, dot, reshape, arange, slice, takeAlongAxis, Tensor, tensor } from "@chainrule/ir";
import { afterEach, describe, expect, it } from "vitest";
import { configureKernels, grad, jit } from "./index.js";

afterEach(() => {
  configureKernels();
});

const int32 = (values: number[]) => new Tensor("int32", [values.length], Int32Array.from(values));
const values = (t: unknown) => Array.from((t as Tensor).data);

describe.each([
  ["JavaScript", false],
  ["WebAssembly kernel programs", true],
])("the indexing family compiled (%s)", (_name, everyProgram) => {
  it("scatterMul/Min/Max with repeated indices, float64 and int32", () => {
    configureKernels({ everyProgram });
    const f = jit((x: Tensor, u: Tensor, i: Tensor) => [
      bind("scatterMul", [x, u, i], { axis: 0 }),
      bind("scatterMin", [x, u, i], { axis: 0 }),
      bind("scatterMax", [x, u, i], { axis: 0 }),
    ]);
    const [m, lo, hi] = f(tensor([1, 2, 3, 4]), tensor([2, 0, 5]), int32([2, 0, -2])) as Tensor[];
    expect(values(m)).toEqual([0, 2, 30, 4]);
    expect(values(lo)).toEqual([0, 2, 2, 4]);
    expect(values(hi)).toEqual([1, 2, 5, 4]);
    const [mi] = f(int32([1, 2, 3]), int32([4, 5]), int32([1, 1])) as Tensor[];
    expect(mi!.dtype).toBe("int32");
    expect(values(mi)).toEqual([1, 40, 3]);
  });

  it("at(x, i) with the index an input: values, gradients, and the run-time range check", () => {
    configureKernels({ everyProgram });
    const f = jit((x: Tensor, i: Tensor, v: Tensor) => at(x, i).set(v));
    expect(values(f(tensor([1, 2, 3, 4]), int32([2, 0, 2]), tensor([10, 20, 30])))).toEqual([20, 2, 30, 4]);
    expect(values(f(tensor([1, 2, 3, 4]), int32([-1, 1, 3]), tensor([10, 20, 30])))).toEqual([1, 20, 3, 30]);
    expect(() => f(tensor([1, 2, 3, 4]), int32([4, 0, 0]), tensor([1, 2, 3]))).toThrow(
      new ArgumentError("at: expected indices in [-4, 3], got 4"),
    );
    const g = grad((x: Tensor, v: Tensor, i: Tensor) => sumOf(at(x, i).mul(v)), [0, 1]);
    const [gx, gv] = g(tensor([1, 2, 3, 4]), tensor([2, 5, 3]), int32([2, 0, 2])) as Tensor[];
    expect(values(gx)).toEqual([5, 1, 6, 1]);
    expect(values(gv)).toEqual([9, 1, 6]);
  });

  it("takeAlongAxis with the indices an input, strided slices and N-d dot", () => {
    configureKernels({ everyProgram });
    const t = jit((x: Tensor, i: Tensor) => takeAlongAxis(x, i, 0));
    expect(values(t(tensor([10, 20, 30]), int32([2, -3, 2])))).toEqual([30, 10, 30]);
    expect(() => t(tensor([10, 20, 30]), int32([0, 3]))).toThrow(new ArgumentError("takeAlongAxis: expected indices in [-3, 2], got 3"));
    const s = jit((x: Tensor) => [slice(x, [0, 1], undefined, [2, 2]), slice(x, [undefined, 3], [undefined, 0], [-1, -2])]);
    const [even, back] = s(reshape(arange(24), [4, 6])) as Tensor[];
    expect(values(even)).toEqual([1, 3, 5, 13, 15, 17]);
    expect(values(back)).toEqual([21, 19, 15, 13, 9, 7, 3, 1]);
    const d = jit((a: Tensor, b: Tensor) => dot(a, b));
    const out = d(reshape(arange(24), [2, 3, 4]), reshape(arange(40), [2, 4, 5])) as Tensor;
    expect(out.shape).toEqual([2, 3, 2, 5]);
    expect(values(out).slice(0, 5)).toEqual([70, 76, 82, 88, 94]);
  });
});

function sumOf(t: Tensor): Tensor {
  return bind("reduceSum", [t], { axes: t.shape.map((_, i) => i) });
}
