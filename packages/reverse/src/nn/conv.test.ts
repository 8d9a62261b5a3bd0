/**
 * The convolution and pooling modules (issue 18): PyTorch's parameter names, shapes and default
 * initialization bounds, forward = the functional ops, unbatched inputs, and backward through a
 * small CNN = the functional gradient of the same network on its stateDict, bitwise.
 */
import {
  add,
  avgPool,
  conv2d,
  convTranspose,
  crossEntropy,
  maxPool,
  Random,
  relu,
  reshape,
  tensor,
  type Tensor,
  matmul,
  transpose,
} from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad } from "../engine.js";
import type { Variable } from "../imperative/variable.js";
import { AvgPool2d, Conv1d, Conv2d, ConvTranspose2d, MaxPool2d } from "./conv.js";
import { Linear, manualSeed, Module, ReLU, Sequential } from "./module.js";

const bits = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number>);

class Flat extends Module {
  forward(input: Tensor): Tensor {
    return reshape(input, [input.shape[0]!, input.size / input.shape[0]!]);
  }
}

describe("conv modules", () => {
  it("have PyTorch's parameter names and shapes", () => {
    manualSeed(0);
    const c = new Conv2d(3, 8, 3);
    expect(c.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ["weight", [8, 3, 3, 3]],
      ["bias", [8]],
    ]);
    expect(new Conv2d(4, 6, [3, 1], { groups: 2, bias: false }).namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ["weight", [6, 2, 3, 1]],
    ]);
    expect(new Conv1d(2, 5, 4).weight.shape).toEqual([5, 2, 4]);
    const t = new ConvTranspose2d(4, 6, 2, { groups: 2 });
    expect([t.weight.shape, t.bias!.shape]).toEqual([[4, 3, 2, 2], [6]]);
  });

  it("initialize like PyTorch: weight and bias uniform in ±1/√fanIn (fanIn = in/groups · Π kernel), reproducibly", () => {
    const a = new Conv2d(6, 4, 3, { groups: 2, rng: new Random(5) });
    const bound = 1 / Math.sqrt(3 * 9);
    const want = new Random(5);
    expect(bits(a.weight.value)).toEqual(bits(want.uniform([4, 3, 3, 3], { low: -bound, high: bound })));
    expect(bits(a.bias!.value)).toEqual(bits(want.uniform([4], { low: -bound, high: bound })));
    // the bound is attained closely over many draws, never exceeded
    const big = bits(new Conv2d(2, 64, 2, { rng: new Random(1) }).weight.value);
    expect(Math.max(...big.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(8));
    expect(Math.max(...big.map(Math.abs))).toBeGreaterThan(0.95 / Math.sqrt(8));
    // ConvTranspose2d's fanIn is weight.shape[1] · Π kernel = out/groups · k²
    const tb = bits(new ConvTranspose2d(2, 3, 2, { rng: new Random(2) }).weight.value);
    expect(Math.max(...tb.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(3 * 4));
    manualSeed(9);
    const first = bits(new Conv1d(2, 3, 2).weight.value);
    manualSeed(9);
    expect(bits(new Conv1d(2, 3, 2).weight.value)).toEqual(first);
  });

  it("forward is the functional op plus the bias; unbatched inputs work as in torch", () => {
    const x = new Random(3).normal([2, 3, 6, 5]);
    const m = new Conv2d(3, 4, [3, 2], { stride: [2, 1], padding: 1, dilation: [1, 2], rng: new Random(4) });
    const want = add(conv2d(x, m.weight.value, { stride: [2, 1], padding: 1, dilation: [1, 2] }), reshape(m.bias!.value, [4, 1, 1]));
    expect(bits(m.forward(x))).toEqual(bits(want));
    const one = new Random(3).normal([3, 6, 5]);
    expect(bits(m.forward(one))).toEqual(bits(reshape(m.forward(reshape(one, [1, 3, 6, 5])), [4, 3, 5])));
    // ConvTranspose2d: (5 − 1)·2 − 2 + (3 − 1) + 1 + 1 = 10
    const t = new ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1, rng: new Random(6) });
    const y = new Random(7).normal([1, 3, 5, 5]);
    const ty = t.forward(y);
    expect(ty.shape).toEqual([1, 2, 10, 10]);
    const ref = add(convTranspose(y, t.weight.value, { stride: 2, padding: 1, outputPadding: 1 }), reshape(t.bias!.value, [2, 1, 1]));
    expect(bits(ty)).toEqual(bits(ref));
    expect(bits(new MaxPool2d(2).forward(x))).toEqual(bits(maxPool(x, 2)));
    expect(bits(new AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }).forward(x))).toEqual(
      bits(avgPool(x, 3, { stride: 1, padding: 1, countIncludePad: false })),
    );
  });

  it("backward through a small CNN = the functional gradient on the stateDict, bitwise", () => {
    manualSeed(11);
    const model = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new ReLU(), new MaxPool2d(2), new Flat(), new Linear(4 * 3 * 3, 3));
    const x = new Random(12).normal([5, 1, 6, 6]);
    const labels = tensor([0, 2, 1, 1, 0], { dtype: "int32" });
    (crossEntropy(model.forward(x), labels) as Variable).backward();
    type P = Record<string, Tensor>;
    const functional = (p: P): Tensor => {
      const h = maxPool(relu(add(conv2d(x, p["0.weight"]!, { padding: 1 }), reshape(p["0.bias"]!, [4, 1, 1]))), 2);
      const logits = add(matmul(reshape(h, [5, 36]), transpose(p["4.weight"]!)), p["4.bias"]!);
      return crossEntropy(logits, labels);
    };
    const want = grad(functional)(model.stateDict()) as P;
    for (const [name, p] of model.namedParameters()) expect(bits(p.grad!), name).toEqual(bits(want[name]!));
  });

  it("check their arguments", () => {
    expect(() => new Conv2d(3, 4, 0)).toThrow("Conv2d: expected kernelSize to be an integer ≥ 1 or 2 of them, got 0");
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow(/Conv2d: expected groups \(2\) to divide inChannels \(3\)/);
    expect(() => new Conv2d(3, 4, 3, { strides: 2 } as never)).toThrow(/Conv2d: unknown option "strides"/);
    expect(() => new Conv2d(3, 4, 3).forward(new Random(1).normal([2, 2, 5, 5]))).toThrow(
      "Conv2d.forward: expected 3 input channels, got shape [2,2,5,5]",
    );
    expect(() => new MaxPool2d(2).forward(new Random(1).normal([5, 5]))).toThrow(
      /MaxPool2d.forward: expected an input \[N, C, H, W\] or \[C, H, W\]/,
    );
  });
});
