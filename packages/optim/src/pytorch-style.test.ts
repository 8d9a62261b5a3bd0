/**
 * The stateful optimizers driving `@chainrule/reverse`'s imperative autograd: a PyTorch-style
 * loop (zeroGrad, forward, backward, step) and `minimize` on the functional twin reach
 * bit-identical parameters from the same seed; a model and optimizer saved as JSON resume
 * bit-identically. (10,000 steps with Adam do not grow the heap: examples/src/pytorch-style-mlp.test.ts.)
 */
import { add, crossEntropy, matmul, mul, Random, sum, tanh, tensor, transpose, type Tensor } from "@chainrule/ir";
import { backward, engine, gradients, Linear, manualSeed, Sequential, Tanh, variable } from "@chainrule/reverse";
import { describe, expect, it } from "vitest";
import {
  Adam,
  adam,
  cosineAnnealing,
  LBFGS,
  lbfgs,
  minimize,
  SGD,
  sgd,
  treeFromJSON,
  treeToJSON,
  type Optimizer,
  type OptimizerState,
  type StatefulOptimizer,
} from "./index.js";

const x = new Random(1).normal([24, 3]);
const labels = tensor(
  Array.from({ length: 24 }, (_, i) => (i * 7) % 3),
  { dtype: "int32" },
);
const bits = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number>);

function model(): Sequential {
  manualSeed(3);
  return new Sequential(new Linear(3, 16), new Tanh(), new Linear(16, 3));
}
type P = Record<string, Tensor>;
const linear = (p: P, k: number, h: Tensor): Tensor => add(matmul(h, transpose(p[`${k}.weight`]!)), p[`${k}.bias`]!);
const functionalLoss = (p: P): Tensor => crossEntropy(linear(p, 2, tanh(linear(p, 0, x))), labels);

const CASES: [string, () => Optimizer<OptimizerState>, (m: Sequential) => StatefulOptimizer][] = [
  ["Adam", () => adam({ lr: 0.02 }), (m) => new Adam(m.parameters(), { lr: 0.02 })],
  [
    "Adam + cosine schedule",
    () => adam({ lr: cosineAnnealing({ init: 0.05, steps: 40 }) }),
    (m) => new Adam(m.parameters(), { lr: cosineAnnealing({ init: 0.05, steps: 40 }) }),
  ],
  [
    "SGD nesterov",
    () => sgd({ lr: 0.1, momentum: 0.9, nesterov: true }),
    (m) => new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true }),
  ],
];

describe("PyTorch-style loop = minimize, bitwise", () => {
  for (const [name, functional, stateful] of CASES) {
    it(`${name}: 40 steps`, () => {
      const m = model();
      const opt = stateful(m);
      const losses: number[] = [];
      for (let k = 0; k < 40; k++) {
        opt.zeroGrad();
        const loss = crossEntropy(m.forward(x), labels);
        backward(loss);
        opt.step();
        losses.push(loss.item());
      }
      const result = minimize(functionalLoss, model().stateDict(), { engine, optimizer: functional(), steps: 40, quiet: true });
      for (const [key, value] of Object.entries(m.stateDict())) expect(bits(value), key).toEqual(bits(result.params[key]!));
      expect(result.losses.slice(0, 40)).toEqual(losses);
    }, 60_000);
  }

  it("LBFGS with a closure = minimize with lbfgs", () => {
    const m = model();
    const opt = new LBFGS(m.parameters(), { lineSearch: "strongWolfe", maxIter: 4 });
    const closure = (): Tensor => {
      opt.zeroGrad();
      const loss = crossEntropy(m.forward(x), labels);
      backward(loss);
      return loss;
    };
    for (let k = 0; k < 3; k++) opt.step(closure);
    const result = minimize(functionalLoss, model().stateDict(), {
      engine,
      optimizer: lbfgs({ lineSearch: "strongWolfe", maxIter: 4 }),
      steps: 3,
      quiet: true,
    });
    for (const [key, value] of Object.entries(m.stateDict())) expect(bits(value), key).toEqual(bits(result.params[key]!));
  }, 60_000);
});

describe("saving and resuming", () => {
  it("model stateDict (treeToJSON) and optimizer stateDict resume bit-identically", () => {
    const m = model();
    const opt = new Adam(m.parameters(), { lr: 0.02 });
    const train = (mm: Sequential, o: StatefulOptimizer, n: number): void => {
      for (let k = 0; k < n; k++) {
        o.zeroGrad();
        backward(crossEntropy(mm.forward(x), labels));
        o.step();
      }
    };
    train(m, opt, 5);
    const saved = JSON.stringify({ model: treeToJSON(m.stateDict()), optimizer: opt.stateDict() });
    train(m, opt, 5);
    const restored = JSON.parse(saved);
    manualSeed(99);
    const copy = new Sequential(new Linear(3, 16), new Tanh(), new Linear(16, 3));
    copy.loadStateDict(treeFromJSON<P>(restored.model));
    const copyOpt = new Adam(copy.parameters(), { lr: 0.02 });
    copyOpt.loadStateDict(restored.optimizer);
    train(copy, copyOpt, 5);
    for (const [key, value] of Object.entries(copy.stateDict())) expect(bits(value), key).toEqual(bits(m.stateDict()[key]!));
  });

  it("a step with gradients that carry a graph (createGraph) uses their values", () => {
    const w = variable(tensor([0.5, -1]), { requiresGrad: true });
    const [g] = gradients(sum(mul(w, mul(w, w))), [w], { createGraph: true });
    w.grad = g!;
    new SGD([w], { lr: 0.1 }).step();
    expect(Array.from(w.value.data)).toEqual([0.5 - 0.1 * 3 * 0.25, -1 - 0.1 * 3]);
  });
});
