/**
 * FUSING_MATH against TENSOR_MATH: the same values bit for bit (checked also against Math.* per
 * element), lazy only on large concrete float operands, TENSOR_MATH's own result everywhere else.
 */
import { afterEach, describe, expect, it } from "vitest";
import { isPending, LazyTensor, setFusion } from "../fusion.js";
import { Tensor } from "../tensor.js";
import { FUSING_MATH } from "./fusing-math.js";
import { TENSOR_MATH } from "./tensor-math.js";

afterEach(() => {
  setFusion({ enabled: true, minSize: 4096 });
});

const N = 5000;
const make = (dtype: "float64" | "float32", at: (i: number) => number) => {
  const data = dtype === "float64" ? new Float64Array(N) : new Float32Array(N);
  for (let i = 0; i < N; i++) data[i] = at(i);
  return new Tensor(dtype, [N], data);
};
const bits = (t: Tensor) => Array.from(t.data, (v) => (Object.is(v, -0) ? "-0" : String(v)));

describe("FUSING_MATH", () => {
  it.each(["float64", "float32"] as const)("%s: every fusing entry is lazy on large operands and bitwise TENSOR_MATH", (dtype) => {
    const a = make(dtype, (i) => Math.sin(i) + 1.5);
    const b = make(dtype, (i) => Math.cos(i) * 3);
    const results: [string, Tensor, Tensor][] = [
      ["add", FUSING_MATH.add(a, b), TENSOR_MATH.add(a, b)],
      ["sub", FUSING_MATH.sub(1, a), TENSOR_MATH.sub(1, a)],
      ["mul", FUSING_MATH.mul(a, 0.1), TENSOR_MATH.mul(a, 0.1)],
      ["div", FUSING_MATH.div(b, a), TENSOR_MATH.div(b, a)],
      ["neg", FUSING_MATH.neg(a), TENSOR_MATH.neg(a)],
      ["pow", FUSING_MATH.pow(a, b), TENSOR_MATH.pow(a, b)],
      ["exp", FUSING_MATH.exp(b), TENSOR_MATH.exp(b)],
      ["log", FUSING_MATH.log(a), TENSOR_MATH.log(a)],
      ["sin", FUSING_MATH.sin(b), TENSOR_MATH.sin(b)],
      ["cos", FUSING_MATH.cos(b), TENSOR_MATH.cos(b)],
      ["sign", FUSING_MATH.sign(b), TENSOR_MATH.sign(b)],
      ["sqrt", FUSING_MATH.sqrt(a), TENSOR_MATH.sqrt(a)],
      ["sinh", FUSING_MATH.sinh(b), TENSOR_MATH.sinh(b)],
      ["cosh", FUSING_MATH.cosh(b), TENSOR_MATH.cosh(b)],
      ["round", FUSING_MATH.round(b), TENSOR_MATH.round(b)],
      ["scale", FUSING_MATH.scale(b, a), TENSOR_MATH.scale(b, a)],
      ["scale by 0", FUSING_MATH.scale(b, 0), TENSOR_MATH.scale(b, 0)],
    ];
    for (const [name, fused, plain] of results) {
      expect(fused, name).toBeInstanceOf(LazyTensor);
      expect(bits(fused), name).toEqual(bits(plain));
    }
    // an independent check of two entries: Math.* per element, rounded like the storage
    const round = dtype === "float32" ? Math.fround : (v: number) => v;
    const e = FUSING_MATH.exp(b).data;
    const l = FUSING_MATH.log(a).data;
    for (const i of [0, 1, 777, N - 1]) {
      expect(e[i]).toBe(round(Math.exp(b.data[i]!)));
      expect(l[i]).toBe(round(Math.log(a.data[i]!)));
    }
  });

  it("a chain of entries stays lazy until read, then equals the unfused chain", () => {
    const a = make("float64", (i) => i / N);
    const fused = FUSING_MATH.mul(FUSING_MATH.exp(a), FUSING_MATH.sin(a));
    expect(isPending(fused)).toBe(true);
    expect(bits(fused)).toEqual(bits(TENSOR_MATH.mul(TENSOR_MATH.exp(a), TENSOR_MATH.sin(a))));
    expect(isPending(fused)).toBe(false);
  });

  it("small operands, fusion off, or int32 values: TENSOR_MATH's plain results", () => {
    const small = new Tensor("float64", [3], Float64Array.of(1, 2, 3));
    expect(FUSING_MATH.exp(small)).not.toBeInstanceOf(LazyTensor);
    expect(Array.from(FUSING_MATH.exp(small).data)).toEqual([Math.exp(1), Math.exp(2), Math.exp(3)]);
    const ints = new Tensor("int32", [N], new Int32Array(N).fill(2));
    expect(FUSING_MATH.add(ints, ints)).not.toBeInstanceOf(LazyTensor);
    expect(FUSING_MATH.add(ints, ints).data[0]).toBe(4);
    setFusion({ enabled: false });
    expect(FUSING_MATH.exp(make("float64", (i) => i))).not.toBeInstanceOf(LazyTensor);
    setFusion({ enabled: true, minSize: 1 });
    expect(FUSING_MATH.exp(small)).toBeInstanceOf(LazyTensor);
  });
});
