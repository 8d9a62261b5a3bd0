/**
 * Training checks with the real engines: every optimizer drives a convex quadratic to its
 * minimum, Rosenbrock from (−1.2, 1) (lbfgs to 1e-8 in ≤ 100 iterations, adam to 1e-3), a
 * logistic regression and a small MLP reach a stated accuracy — with each engine, and the
 * engines agree. `minimize` only ever sees the engine as a value.
 */
import { engine as forward } from "@chainrule/forward";
import {
  add,
  crossEntropy,
  dot,
  log1p,
  exp,
  matmul,
  mean,
  mul,
  neg,
  Random,
  square,
  sub,
  sum,
  tanh,
  tensor,
  type Engine,
  type Tensor,
} from "@chainrule/ir";
import { compileStats, engine as jit, resetCompileStats } from "@chainrule/jit";
import { engine as reverse } from "@chainrule/reverse";
import { describe, expect, it, vi } from "vitest";

// training runs take seconds, more on a loaded machine: no timing assertions, generous timeouts
vi.setConfig({ testTimeout: 120_000 });
import {
  adagrad,
  adam,
  adamw,
  cosineAnnealing,
  lbfgs,
  minimize,
  rmsprop,
  sgd,
  type MinimizeOptions,
  type Optimizer,
  type OptimizerState,
} from "./index.js";

const ENGINES: [string, Engine][] = [
  ["forward", forward],
  ["reverse", reverse],
  ["jit", jit],
];

const quiet = { quiet: true } as const;

// ── a convex quadratic over a pytree {w: Tensor[2], c: number}: ½ xᵀAx − bᵀx with x = (w, c) ──
// A = [[3, 1, 0], [1, 2, ½], [0, ½, 1]] (positive definite), b = A·(1, −2, ½) so the minimum is at (1, −2, ½)
interface Quad {
  w: Tensor;
  c: number;
}
const A2 = tensor([
  [3, 1],
  [1, 2],
]);
const AC = tensor([0, 0.5]);
const BW = tensor([1, -2.75]);
const BC = -0.5;
const quadratic = ({ w, c }: Quad) =>
  add(sub(add(mul(0.5, dot(w, matmul(A2, w))), mul(c, dot(AC, w))), dot(BW, w)), sub(mul(0.5, square(c)), mul(BC, c)));
const quadStart = (): Quad => ({ w: tensor([0, 0]), c: 0 });
const distanceToMinimum = ({ w, c }: Quad) => Math.hypot(w.data[0]! - 1, w.data[1]! + 2, c - 0.5);

/** Each optimizer with settings that fit the problem, and its step budget. */
const QUADRATIC_RUNS: [string, () => Optimizer<OptimizerState>, number][] = [
  ["sgd", () => sgd({ lr: 0.2 }), 300],
  ["sgd nesterov", () => sgd({ lr: 0.05, momentum: 0.9, nesterov: true }), 300],
  ["adam", () => adam({ lr: cosineAnnealing({ init: 0.1, steps: 600 }) }), 600],
  ["adam amsgrad", () => adam({ lr: cosineAnnealing({ init: 0.1, steps: 600 }), amsgrad: true }), 600],
  [
    "adamw (weightDecay 0: decay would move the minimum)",
    () => adamw({ lr: cosineAnnealing({ init: 0.1, steps: 600 }), weightDecay: 0 }),
    600,
  ],
  ["rmsprop", () => rmsprop({ lr: cosineAnnealing({ init: 0.02, steps: 1000 }) }), 1000],
  ["rmsprop centered + momentum", () => rmsprop({ lr: cosineAnnealing({ init: 0.01, steps: 1000 }), centered: true, momentum: 0.5 }), 1000],
  ["adagrad", () => adagrad({ lr: 0.5 }), 500],
  // torch's default tolerances stop L-BFGS at a loss change of 1e-9 (≈ 1e-5 from x*): tighter here
  ["lbfgs", () => lbfgs({ toleranceChange: 1e-15 }), 3],
  ["lbfgs strong Wolfe", () => lbfgs({ lineSearch: "strongWolfe", toleranceChange: 1e-15 }), 2],
];

// ── Rosenbrock ──
const rosenbrock = ([x, y]: [number, number]) => add(square(sub(1, x)), mul(100, square(sub(y, square(x)))));

// ── data for the classifiers (seeded) ──
function logisticData() {
  const random = new Random(7);
  const n = 200;
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = [random.nextNormal(), random.nextNormal()];
    x.push(p);
    // a linear rule with label noise
    y.push(2 * p[0]! - p[1]! + 0.5 + 0.3 * random.nextNormal() > 0 ? 1 : -1);
  }
  return { x: tensor(x), sign: tensor(y), labels: y };
}

function xorData() {
  const random = new Random(11);
  const x: number[][] = [];
  const y: number[] = [];
  while (x.length < 200) {
    const p = [random.nextFloat() * 2 - 1, random.nextFloat() * 2 - 1];
    if (Math.abs(p[0]!) < 0.1 || Math.abs(p[1]!) < 0.1) continue; // a margin around the axes
    x.push(p);
    y.push(p[0]! * p[1]! > 0 ? 1 : 0);
  }
  return { x: tensor(x), labels: tensor(y, { dtype: "int32" }), y };
}

function train<P, S extends OptimizerState>(loss: (p: P) => unknown, params: P, options: Omit<MinimizeOptions<P, S>, "quiet">) {
  return minimize(loss, params, { ...options, ...quiet });
}

for (const [name, engine] of ENGINES) {
  describe(`training with the ${name} engine`, () => {
    for (const [label, make, steps] of QUADRATIC_RUNS) {
      it(`${label} drives a convex quadratic to its minimum`, () => {
        const result = train(quadratic, quadStart(), { engine, optimizer: make(), steps });
        expect(distanceToMinimum(result.params)).toBeLessThan(1e-6);
        expect(result.loss).toBeCloseTo(-0.5 * (1 + 5.5 - 0.25), 10); // f(x*) = −½ bᵀx*
      });
    }
    it("float32 params stay float32 through training", () => {
      const target = tensor([1, -2, 0.5], { dtype: "float32" });
      const loss = (w: Tensor) => sum(square(sub(w, target)));
      const optimizers: Optimizer<OptimizerState>[] = [
        adam({ lr: cosineAnnealing({ init: 0.1, steps: 300 }) }),
        lbfgs({ lineSearch: "strongWolfe" }),
      ];
      for (const optimizer of optimizers) {
        const result = train(loss, tensor([0, 0, 0], { dtype: "float32" }), {
          engine,
          optimizer,
          steps: optimizer.name === "lbfgs" ? 3 : 300,
        });
        expect(result.params.dtype).toBe("float32");
        expect(result.params.data).toBeInstanceOf(Float32Array);
        Array.from(result.params.data).forEach((v, i) => expect(Math.abs(v - target.data[i]!), optimizer.name).toBeLessThan(1e-4));
      }
    });
    it("lbfgs (strong Wolfe): Rosenbrock from (−1.2, 1) to within 1e-8 of (1, 1) in ≤ 100 iterations", () => {
      const optimizer = lbfgs({ lineSearch: "strongWolfe", toleranceGrad: 1e-12, toleranceChange: 0 });
      const result = train(rosenbrock, [-1.2, 1] as [number, number], { engine, optimizer, steps: 5 });
      const [x, y] = result.params;
      expect(Math.hypot(x - 1, y - 1)).toBeLessThan(1e-8);
      expect(result.state.iterations).toBeLessThanOrEqual(100);
    });
    it("adam: Rosenbrock from (−1.2, 1) to within 1e-3 of (1, 1)", () => {
      const result = train(rosenbrock, [-1.2, 1] as [number, number], { engine, optimizer: adam({ lr: 0.05 }), steps: 2500 });
      const [x, y] = result.params;
      expect(Math.hypot(x - 1, y - 1)).toBeLessThan(1e-3);
    });
    it("logistic regression reaches ≥ 95% training accuracy", () => {
      const { x, sign, labels } = logisticData();
      // mean log(1 + exp(−y·(Xw + b))), y = ±1
      const loss = ({ w, b }: { w: Tensor; b: number }) => mean(log1p(exp(neg(mul(sign, add(matmul(x, w), b))))));
      const result = train(loss, { w: tensor([0, 0]), b: 0 }, { engine, optimizer: sgd({ lr: 0.5, momentum: 0.9 }), steps: 200 });
      const { w, b } = result.params;
      const correct = labels.filter(
        (label, i) => Math.sign(w.data[0]! * x.data[2 * i]! + w.data[1]! * x.data[2 * i + 1]! + b) === label,
      ).length;
      expect(correct / labels.length).toBeGreaterThanOrEqual(0.95);
      expect(result.loss).toBeLessThan(result.losses[0]!);
    });
    it("a 2-8-2 tanh MLP learns XOR quadrants to ≥ 95% training accuracy", () => {
      const { x, labels, y } = xorData();
      const random = new Random(3);
      const init = {
        w1: random.normal([2, 8], { std: 1 }),
        b1: tensor(new Array(8).fill(0)),
        w2: random.normal([8, 2], { std: 0.5 }),
        b2: tensor([0, 0]),
      };
      type Mlp = typeof init;
      const logits = (p: Mlp) => add(matmul(tanh(add(matmul(x, p.w1), p.b1)), p.w2), p.b2);
      const result = train((p: Mlp) => crossEntropy(logits(p), labels), init, { engine, optimizer: adam({ lr: 0.05 }), steps: 300 });
      const out = logits(result.params);
      const correct = y.filter((label, i) => (out.data[2 * i + 1]! > out.data[2 * i]! ? 1 : 0) === label).length;
      expect(correct / y.length).toBeGreaterThanOrEqual(0.95);
    });
  });
}

describe("engines agree", () => {
  const [firstName, first] = ENGINES[0]!;
  const others = ENGINES.slice(1);
  for (const [name, engine] of others) {
    it(`${firstName} and ${name}: the same optimizer runs give the same params`, () => {
      for (const [label, make, steps] of QUADRATIC_RUNS) {
        const a = train(quadratic, quadStart(), { engine: first, optimizer: make(), steps: Math.min(steps, 50) }).params;
        const b = train(quadratic, quadStart(), { engine, optimizer: make(), steps: Math.min(steps, 50) }).params;
        expect(Math.abs(a.c - b.c), label).toBeLessThan(1e-12);
        Array.from(a.w.data).forEach((v, i) => expect(Math.abs(v - b.w.data[i]!), label).toBeLessThan(1e-12));
      }
      const optimizer = () => lbfgs({ lineSearch: "strongWolfe", toleranceGrad: 1e-12, toleranceChange: 0 });
      const ra = train(rosenbrock, [-1.2, 1] as [number, number], { engine: first, optimizer: optimizer(), steps: 5 });
      const rb = train(rosenbrock, [-1.2, 1] as [number, number], { engine, optimizer: optimizer(), steps: 5 });
      expect(Math.abs(ra.params[0] - rb.params[0])).toBeLessThan(1e-10);
      expect(Math.abs(ra.params[1] - rb.params[1])).toBeLessThan(1e-10);
    });
  }
});

describe("minimize with the jit engine", () => {
  it("compiles the loss's valueAndGrad once and reuses it on every step", () => {
    resetCompileStats();
    const result = minimize(quadratic, quadStart(), { engine: jit, optimizer: adam({ lr: 0.1 }), steps: 40, quiet: true });
    expect(result.evaluations).toBe(41);
    const stats = compileStats();
    expect(stats.compiles).toBe(1);
    expect(stats.cacheHits).toBe(40);
  });
});
