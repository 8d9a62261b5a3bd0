import * as ir from "@chainrule/ir";
import { add, crossEntropy, matmul, Random, relu, tanh, tensor, transpose, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad } from "../engine.js";
import { AutogradError } from "../imperative/errors.js";
import { Parameter, variable, type Variable } from "../imperative/variable.js";
import { Linear, manualSeed, Module, ReLU, Sequential, Sigmoid, Tanh } from "./module.js";

const bits = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number>);

function mlp(): Sequential {
  manualSeed(42);
  return new Sequential(new Linear(2, 8), new Tanh(), new Linear(8, 3));
}

describe("Sequential MLP", () => {
  it("names parameters like torch and lists them in order", () => {
    const model = mlp();
    const named = model.namedParameters();
    expect(named.map(([n, p]) => [n, p.shape])).toEqual([
      ["0.weight", [8, 2]],
      ["0.bias", [8]],
      ["2.weight", [3, 8]],
      ["2.bias", [3]],
    ]);
    expect(model.parameters().every((p) => p instanceof Parameter && p.requiresGrad)).toBe(true);
    expect(model.parameters()[0]!.name).toBe("0.weight");
  });

  it("initializes like torch.nn.Linear (uniform in ±1/√in), reproducibly from manualSeed", () => {
    const a = mlp().stateDict(),
      b = mlp().stateDict();
    for (const k of Object.keys(a)) expect(bits(a[k]!)).toEqual(bits(b[k]!));
    for (const v of bits(a["0.weight"]!)) expect(Math.abs(v)).toBeLessThanOrEqual(1 / Math.sqrt(2));
    for (const v of bits(a["2.weight"]!)) expect(Math.abs(v)).toBeLessThanOrEqual(1 / Math.sqrt(8));
    const c = new Linear(2, 8, { rng: new Random(7) }).weight.value;
    expect(bits(c)).toEqual(bits(new Random(7).uniform([8, 2], { low: -1 / Math.sqrt(2), high: 1 / Math.sqrt(2) })));
  });

  it("forward + backward = functional grad of the same network on the stateDict, bitwise", () => {
    const model = mlp();
    const x = new Random(3).normal([5, 2]);
    const labels = tensor([0, 2, 1, 1, 0], { dtype: "int32" });
    const loss = model.forward(x);
    (crossEntropy(loss, labels) as Variable).backward();
    type P = Record<string, Tensor>;
    const functional = (p: P): Tensor => {
      const h = tanh(add(matmul(x, transpose(p["0.weight"]!)), p["0.bias"]!));
      return crossEntropy(add(matmul(h, transpose(p["2.weight"]!)), p["2.bias"]!), labels);
    };
    const want = grad(functional)(model.stateDict()) as P;
    for (const [name, p] of model.namedParameters()) expect(bits(p.grad!), name).toEqual(bits(want[name]!));
    model.zeroGrad();
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it("activations are the ir ops", () => {
    const x = tensor([-1, 0.5]);
    expect(new ReLU().forward(x).toArray()).toEqual(relu(x).toArray());
    expect(new Sigmoid().forward(x).toArray()).toEqual(ir.sigmoid(x).toArray());
  });
});

describe("stateDict", () => {
  it("round-trips, and loading checks keys, shapes and dtypes before assigning anything", () => {
    const model = mlp();
    const saved = model.stateDict();
    manualSeed(1);
    const other = new Sequential(new Linear(2, 8), new Tanh(), new Linear(8, 3));
    other.loadStateDict(saved);
    for (const [k, v] of Object.entries(other.stateDict())) expect(bits(v)).toEqual(bits(saved[k]!));
    const before = other.stateDict();
    expect(() => other.loadStateDict({ ...saved, "0.bias": tensor([1, 2]) })).toThrow(
      /expected 0.bias to be a float64\[8\] concrete tensor, got a Tensor f64\[2\]/,
    );
    // a value of the right dtype and shape that is not concrete says what it is instead of "f64[8], got f64[8]"
    const traced = variable(saved["0.bias"]!, { requiresGrad: true });
    expect(() => other.loadStateDict({ ...saved, "0.bias": traced })).toThrow(
      /0.bias to be a float64\[8\] concrete tensor, got .*variable/i,
    );
    const { ["2.bias"]: _, ...missing } = saved;
    expect(() => other.loadStateDict(missing)).toThrow(/missing 2.bias/);
    expect(() => other.loadStateDict({ ...saved, extra: tensor(1) })).toThrow(/unexpected extra/);
    for (const [k, v] of Object.entries(other.stateDict())) expect(v).toBe(before[k]);
  });

  it("custom modules: own parameters first, then sub-modules and arrays of modules, each parameter once", () => {
    class Net extends Module {
      readonly scale = new Parameter(tensor(1));
      readonly blocks = [new Linear(3, 3, { rng: new Random(1) }), new Linear(3, 3, { rng: new Random(2), bias: false })];
      readonly shared = this.scale;
      forward(x: Tensor): Tensor {
        return ir.mul(this.blocks[1]!.forward(relu(this.blocks[0]!.forward(x))), this.scale);
      }
    }
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(["scale", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight"]);
    expect(net.forward(tensor([[1, 2, 3]])).shape).toEqual([1, 3]);
  });

  it("errors: bad sizes, a wrong input width, a non-module in Sequential", () => {
    expect(() => new Linear(0, 3)).toThrow(AutogradError);
    expect(() => new Linear(2, 3).forward(tensor([[1, 2, 3]]))).toThrow(
      /expected an input whose last axis has 2 features, got shape \[1,3\]/,
    );
    expect(() => new Sequential(new Tanh(), {} as never)).toThrow(/expected modules/);
  });

  it("errors: options are checked (unknown keys, bias not a boolean), huge layers and non-tensor inputs say why", () => {
    const fails = (f: () => unknown, message: RegExp) => {
      expect(f).toThrow(AutogradError);
      expect(f).toThrow(message);
    };
    fails(() => new Linear(2, 3, { bias: "no" } as never), /Linear: expected options.bias to be true or false, got string "no"/);
    fails(() => new Linear(2, 3, { biased: false } as never), /Linear: unknown option "biased"; expected only bias, rng, dtype/);
    fails(() => new Linear(2, 3, { dtype: "int32" } as never), /Linear: expected options.dtype "float64" or "float32"/);
    fails(() => new Linear(2, 3, null as never), /Linear: expected an options object, got null/);
    fails(() => new Linear(1e6, 1e6), /Linear: expected at most 2147483647 weights \(inFeatures × outFeatures\), got 1000000 × 1000000/);
    fails(() => new Linear(2, 3).forward(3 as never), /Linear.forward: expected a Tensor of shape \[\.\.\., 2\], got number 3/);
    expect(new Linear(2, 3, { bias: false }).bias).toBeNull();
  });
});
