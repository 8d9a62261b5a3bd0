/** The issue-18 modules and initialisers: PyTorch's names, shapes, defaults and values (hand-computed). */
import { Random, sum, mul, tensor, Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { AutogradError } from "../imperative/errors.js";
import { Parameter, type variable } from "../imperative/variable.js";
import { init } from "./init.js";
import { BatchNorm1d, BatchNorm2d, Dropout, Embedding, Flatten, GELU, LayerNorm, SiLU } from "./layers.js";
import { Buffer, Linear, manualSeed, Sequential } from "./module.js";

const values = (t: Tensor | null): number[] => Array.from((t as Tensor).data as ArrayLike<number>);
const close = (got: number[], want: number[], digits = 12) => {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, digits));
};

// x [N = 2, C = 2]: channel 0 holds 1, 3 (mean 2, biased var 1, unbiased 2); channel 1 holds 2, 6 (mean 4, var 4, unbiased 8)
const x = () =>
  tensor([
    [1, 2],
    [3, 6],
  ]);

describe("BatchNorm1d / BatchNorm2d", () => {
  it("has weight (ones) and bias (zeros) as parameters, runningMean/runningVar as buffers in the stateDict", () => {
    const bn = new BatchNorm1d(2);
    expect(bn.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ["weight", [2]],
      ["bias", [2]],
    ]);
    expect(bn.namedBuffers().map(([n]) => n)).toEqual(["runningMean", "runningVar"]);
    expect(Object.keys(bn.stateDict())).toEqual(["weight", "bias", "runningMean", "runningVar"]);
    expect(values(bn.weight!.value)).toEqual([1, 1]);
    expect(values(bn.runningVar!.value)).toEqual([1, 1]);
  });

  it("training: normalizes with batch statistics and updates the running ones (momentum 0.1, unbiased variance)", () => {
    const bn = new BatchNorm1d(2);
    const y = bn.forward(x());
    const [a, b] = [1 / Math.sqrt(1 + 1e-5), 2 / Math.sqrt(4 + 1e-5)];
    close(values(y), [-a, -b, a, b]);
    close(values(bn.runningMean!.value), [0.2, 0.4]);
    close(values(bn.runningVar!.value), [1.1, 1.7]);
    expect(bn.runningMean!.value).not.toBeInstanceOf(Parameter);
  });

  it("eval(): normalizes with the running statistics and leaves them alone; train()/eval() recurse through Sequential", () => {
    const bn = new BatchNorm1d(2, { eps: 0.5 });
    const model = new Sequential(new Linear(2, 2), bn);
    model.eval();
    expect(bn.training).toBe(false);
    close(values(bn.forward(x())), [1 / Math.sqrt(1.5), 2 / Math.sqrt(1.5), 3 / Math.sqrt(1.5), 6 / Math.sqrt(1.5)]);
    expect(values(bn.runningMean!.value)).toEqual([0, 0]);
    model.train();
    expect(bn.training && model.training).toBe(true);
    // buffers inside Sequential are named by position, like parameters
    expect(model.namedBuffers().map(([n]) => n)).toEqual(["1.runningMean", "1.runningVar"]);
    expect(Object.keys(model.stateDict())).toEqual(["0.weight", "0.bias", "1.weight", "1.bias", "1.runningMean", "1.runningVar"]);
  });

  it("backward: the gradient of Σ w·y reaches weight and bias (∂/∂bias = Σ_N w, ∂/∂weight = Σ_N w·x̂)", () => {
    const bn = new BatchNorm1d(2);
    const w = tensor([
      [1, 2],
      [3, 5],
    ]);
    const loss = sum(mul(bn.forward(x()), w)) as ReturnType<typeof variable>;
    loss.backward();
    const [a, b] = [1 / Math.sqrt(1 + 1e-5), 2 / Math.sqrt(4 + 1e-5)];
    close(values(bn.bias!.grad), [4, 7]);
    close(values(bn.weight!.grad), [-a + 3 * a, -2 * b + 5 * b]);
  });

  it("BatchNorm2d normalizes [N, C, H, W] per channel; shapes are checked", () => {
    const bn = new BatchNorm2d(3);
    const input = new Random(1).normal([2, 3, 2, 2]);
    const y = bn.forward(input);
    for (let c = 0; c < 3; c++) {
      const channel = [0, 1].flatMap((n) => values(y).slice(n * 12 + c * 4, n * 12 + c * 4 + 4));
      expect(channel.reduce((s, v) => s + v, 0) / 8).toBeCloseTo(0, 12);
    }
    expect(() => bn.forward(new Random(1).normal([2, 3]))).toThrow(
      /BatchNorm2d\.forward: expected x of rank 4 with 3 channels on axis 1, got shape \[2,3\]/,
    );
    expect(() => new BatchNorm1d(0)).toThrow(AutogradError);
  });

  it("loadStateDict restores the buffers too", () => {
    const bn = new BatchNorm1d(2);
    bn.forward(x());
    const saved = bn.stateDict();
    const fresh = new BatchNorm1d(2);
    fresh.loadStateDict(saved);
    expect(values(fresh.runningVar!.value)).toEqual(values(bn.runningVar!.value));
  });
});

describe("LayerNorm, Dropout, Embedding, Flatten, GELU, SiLU", () => {
  it("LayerNorm: weight ones and bias zeros of normalizedShape; [1, 2, 3] → (x − 2)/√(2/3 + eps)", () => {
    const ln = new LayerNorm(3);
    expect(ln.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ["weight", [3]],
      ["bias", [3]],
    ]);
    const s = Math.sqrt(2 / 3 + 1e-5);
    close(values(ln.forward(tensor([1, 2, 3]))), [-1 / s, 0, 1 / s]);
    expect(new LayerNorm([2, 3], { elementwiseAffine: false }).parameters()).toEqual([]);
  });

  it("Dropout: zeroes about p of the elements in training (others × 1/(1 − p)); the identity in eval", () => {
    manualSeed(3);
    const drop = new Dropout(0.25);
    const ones = new Tensor("float64", [4000], new Float64Array(4000).fill(1));
    const y = values(drop.forward(ones));
    const zeros = y.filter((v) => v === 0).length / 4000;
    expect(Math.abs(zeros - 0.25)).toBeLessThan(5 * Math.sqrt((0.25 * 0.75) / 4000));
    expect(y.every((v) => v === 0 || v === 4 / 3)).toBe(true);
    // a fresh mask per call
    expect(values(drop.forward(ones))).not.toEqual(y);
    drop.eval();
    expect(drop.forward(ones)).toBe(ones);
    expect(() => new Dropout(2)).toThrow(/Dropout: expected p in \[0, 1\], got 2/);
  });

  it("Embedding: weight [num, dim] ~ N(0, 1); forward picks rows; repeated rows accumulate gradient", () => {
    manualSeed(5);
    const big = new Embedding(1000, 10);
    const w = values(big.weight.value);
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(w.length));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / w.length));
    const emb = new Embedding(3, 2);
    const idx = new Tensor("int32", [3], Int32Array.from([2, 0, 2]));
    const out = emb.forward(idx);
    const table = values(emb.weight.value);
    expect(values(out)).toEqual([table[4]!, table[5]!, table[0]!, table[1]!, table[4]!, table[5]!]);
    (sum(out) as ReturnType<typeof variable>).backward();
    expect(values(emb.weight.grad)).toEqual([1, 1, 0, 0, 2, 2]);
  });

  it("Flatten keeps the batch axis by default; startDim/endDim choose the axes", () => {
    const t = new Tensor("float64", [2, 3, 4, 5], new Float64Array(120));
    expect(new Flatten().forward(t).shape).toEqual([2, 60]);
    expect(new Flatten(0, 1).forward(t).shape).toEqual([6, 4, 5]);
    expect(new Flatten(2).forward(t).shape).toEqual([2, 3, 20]);
    expect(() => new Flatten(3, 1).forward(t)).toThrow(AutogradError);
  });

  it("GELU (exact and tanh) and SiLU at 1: Φ(1) = 0.841344746…, σ(1) = 0.731058578…", () => {
    close(values(new GELU().forward(tensor([1, 0]))), [0.8413447460685429, 0]);
    close(values(new GELU("tanh").forward(tensor([1]))), [0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715))]);
    close(values(new SiLU().forward(tensor([1]))), [0.7310585786300049]);
  });
});

describe("init (torch.nn.init)", () => {
  const weight = (shape: number[]) => new Parameter(new Tensor("float64", shape, new Float64Array(shape.reduce((p, d) => p * d, 1))));
  const stats = (t: Tensor) => {
    const v = values(t);
    const m = v.reduce((s, x) => s + x, 0) / v.length;
    return { max: Math.max(...v.map(Math.abs)), variance: v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length, n: v.length };
  };

  it("calculateGain: 1, 5/3, √2, √(2/(1 + 0.01²)), 3/4", () => {
    expect(init.calculateGain("linear")).toBe(1);
    expect(init.calculateGain("tanh")).toBe(5 / 3);
    expect(init.calculateGain("relu")).toBe(Math.SQRT2);
    expect(init.calculateGain("leakyRelu")).toBeCloseTo(Math.sqrt(2 / 1.0001), 15);
    expect(init.calculateGain("leakyRelu", Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 15);
    expect(init.calculateGain("selu")).toBe(0.75);
  });

  it("xavierUniform: U(±gain·√(6/(fanIn + fanOut))) with conv fans (weight [16, 3, 3, 3]: fanIn 27, fanOut 144)", () => {
    const w = weight([16, 3, 3, 3]);
    init.xavierUniform(w, { gain: 2, rng: new Random(1) });
    const bound = 2 * Math.sqrt(6 / (27 + 144));
    const { max, variance, n } = stats(w.value);
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.95 * bound);
    expect(Math.abs(variance - bound ** 2 / 3)).toBeLessThan((5 * bound ** 2) / Math.sqrt(n));
  });

  it("kaimingNormal (relu, fanIn) has variance 2/fanIn; kaimingUniform(a = √5) is Linear's U(±1/√fanIn)", () => {
    const w = weight([200, 50]);
    init.kaimingNormal(w, { nonlinearity: "relu", rng: new Random(2) });
    const { variance, n } = stats(w.value);
    expect(Math.abs(variance - 2 / 50)).toBeLessThan((5 * Math.SQRT2 * (2 / 50)) / Math.sqrt(n));
    const u = weight([200, 50]);
    init.kaimingUniform(u, { a: Math.sqrt(5), rng: new Random(3) });
    expect(stats(u.value).max).toBeLessThanOrEqual(1 / Math.sqrt(50) + 1e-15);
    expect(stats(u.value).max).toBeGreaterThan(0.99 / Math.sqrt(50));
    const fanOut = weight([20, 500]);
    init.kaimingNormal(fanOut, { mode: "fanOut", rng: new Random(4) });
    expect(Math.abs(stats(fanOut.value).variance - 2 / 20)).toBeLessThan((5 * Math.SQRT2 * (2 / 20)) / Math.sqrt(10000));
  });

  it("constant, zeros, ones, uniform, normal fill in place (buffers too); fans need rank ≥ 2", () => {
    const w = weight([2, 2]);
    expect(init.ones(w)).toBe(w);
    expect(values(w.value)).toEqual([1, 1, 1, 1]);
    init.constant(w, 0.5);
    expect(values(w.value)).toEqual([0.5, 0.5, 0.5, 0.5]);
    const b = new Buffer(tensor([1, 2, 3]));
    init.zeros(b);
    expect(values(b.value)).toEqual([0, 0, 0]);
    init.uniform(b, 2, 3, { rng: new Random(0) });
    expect(values(b.value).every((v) => v >= 2 && v < 3)).toBe(true);
    expect(() => init.xavierUniform(weight([3]))).toThrow(
      /init\.xavierUniform: expected a weight of rank ≥ 2 to compute its fans, got shape \[3\]/,
    );
    expect(() => init.kaimingNormal(weight([2, 2]), { mode: "in" as never })).toThrow(/expected mode "fanIn" or "fanOut"/);
    expect(() => init.zeros(tensor([1]) as never)).toThrow(/init\.zeros: expected a Parameter or a Buffer/);
  });
});
