/**
 * Stateful optimizers (torch.optim style) follow exactly the functional trajectories. Params here
 * are plain `{ value, grad }` objects (the structural interface), with gradients set by hand the
 * way `loss.backward()` would set them.
 */
import { tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import {
  Adagrad,
  adagrad,
  Adam,
  adam,
  AdamW,
  adamw,
  cosineAnnealing,
  LBFGS,
  lbfgs,
  RMSprop,
  rmsprop,
  SGD,
  sgd,
  type StatefulOptimizer,
  type Objective,
  type Optimizer,
  type OptimizerState,
  type ParameterLike,
} from "./index.js";

type Values = [Tensor, Tensor, number]; // float64 w, float32 h, a number b
const C = [1, 3, 0.5];

/** f = Σ cᵢ (wᵢ − 1)² + Σ (hᵢ + 2)² + (b − 3)⁴ and its gradient. */
function gradient([w, h, b]: readonly (Tensor | number)[]): Values {
  return [
    tensor(Array.from((w as Tensor).data, (v, i) => 2 * C[i]! * (v - 1))),
    tensor(
      Array.from((h as Tensor).data, (v) => 2 * (v + 2)),
      { dtype: "float32" },
    ),
    4 * ((b as number) - 3) ** 3,
  ];
}
function value([w, h, b]: readonly (Tensor | number)[]): number {
  let f = ((b as number) - 3) ** 4;
  (w as Tensor).data.forEach((v, i) => (f += C[i]! * (v - 1) ** 2));
  (h as Tensor).data.forEach((v) => (f += (v + 2) ** 2));
  return f;
}
const start = (): Values => [tensor([0.3, -0.7, 2]), tensor([0.25, -1], { dtype: "float32" }), 1.5];
const bits = (vs: readonly (Tensor | number)[]): number[] => vs.flatMap((v) => (typeof v === "number" ? [v] : Array.from(v.data)));
const params = (): ParameterLike[] => start().map((v) => ({ value: v, grad: null }));
/** What backward() does: set each param's grad from the current values. */
function backward(ps: ParameterLike[]): void {
  gradient(ps.map((p) => p.value)).forEach((g, i) => (ps[i]!.grad = g));
}

const CASES: [string, () => Optimizer<OptimizerState>, (ps: ParameterLike[]) => StatefulOptimizer][] = [
  [
    "SGD momentum nesterov decay",
    () => sgd({ lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
    (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
  ],
  [
    "Adam amsgrad",
    () => adam({ lr: 0.05, amsgrad: true, weightDecay: 1e-2 }),
    (ps) => new Adam(ps, { lr: 0.05, amsgrad: true, weightDecay: 1e-2 }),
  ],
  [
    "Adam with a schedule",
    () => adam({ lr: cosineAnnealing({ init: 0.1, steps: 30 }) }),
    (ps) => new Adam(ps, { lr: cosineAnnealing({ init: 0.1, steps: 30 }) }),
  ],
  ["AdamW", () => adamw({ lr: 0.05 }), (ps) => new AdamW(ps, { lr: 0.05 })],
  [
    "RMSprop centered momentum",
    () => rmsprop({ lr: 0.01, centered: true, momentum: 0.5 }),
    (ps) => new RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.5 }),
  ],
  ["Adagrad", () => adagrad({ lr: 0.1, lrDecay: 0.01 }), (ps) => new Adagrad(ps, { lr: 0.1, lrDecay: 0.01 })],
];

describe("stateful optimizers = the functional core, bitwise", () => {
  for (const [name, functional, stateful] of CASES) {
    it(`${name}: 30 steps of zeroGrad/backward/step`, () => {
      const opt = functional();
      let values: (Tensor | number)[] = start();
      let state = opt.init(values);
      const ps = params();
      const o = stateful(ps);
      for (let k = 0; k < 30; k++) {
        ({ params: values, state } = opt.update(gradient(values), state, values));
        o.zeroGrad();
        expect(ps.every((p) => p.grad === null)).toBe(true);
        backward(ps);
        expect(o.step()).toBeUndefined();
        expect(bits(ps.map((p) => p.value)), `step ${k}`).toEqual(bits(values));
      }
      expect(o.stepCount).toBe(30);
      expect((ps[1]!.value as Tensor).dtype).toBe("float32");
      expect(typeof ps[2]!.value).toBe("number");
      expect(o.stateDict().state).toEqual(JSON.parse(JSON.stringify(state)));
    });
  }

  it("LBFGS with a strong-Wolfe line search: step(closure) = the functional step", () => {
    const objective: Objective<(Tensor | number)[]> = (p) => ({ loss: value(p), grads: gradient(p) });
    const opt = lbfgs({ lineSearch: "strongWolfe", maxIter: 5 });
    let values: (Tensor | number)[] = start();
    let state = opt.init(values);
    const ps = params();
    const o = new LBFGS(ps, { lineSearch: "strongWolfe", maxIter: 5 });
    let evaluations = 0;
    const closure = (): number => {
      evaluations++;
      o.zeroGrad();
      backward(ps);
      return value(ps.map((p) => p.value));
    };
    for (let k = 0; k < 3; k++) {
      const r = opt.step(objective, state, values);
      ({ params: values, state } = r);
      expect(o.step(closure)).toBe(r.loss);
      expect(bits(ps.map((p) => p.value))).toEqual(bits(values));
    }
    expect(evaluations).toBe(state.evaluations);
    expect(() => o.step()).toThrow(/LBFGS.step: expected a closure/);
  });

  it("a closure works with first-order optimizers too, and returns the loss before the update", () => {
    const ps = params();
    const o = new SGD(ps, { lr: 0.01 });
    const before = value(ps.map((p) => p.value));
    expect(o.step(() => (backward(ps), before))).toBe(before);
  });

  it("lr override applies to the next steps, as setting param_groups[0].lr does", () => {
    const ps = params(),
      qs = params();
    const a = new Adam(ps, { lr: 0.05 }),
      b = new Adam(qs, { lr: 0.2 });
    a.lr = 0.2;
    for (let k = 0; k < 3; k++) {
      backward(ps);
      backward(qs);
      a.step();
      b.step();
    }
    expect(bits(ps.map((p) => p.value))).toEqual(bits(qs.map((p) => p.value)));
  });
});

describe("stateDict / loadStateDict", () => {
  it("a state saved as JSON continues bit-identically in a new optimizer", () => {
    const ps = params();
    const o = new Adam(ps, { lr: 0.05 });
    for (let k = 0; k < 5; k++) backward(ps), o.step();
    const saved = JSON.stringify({ values: bits(ps.map((p) => p.value)), optimizer: o.stateDict() });
    for (let k = 0; k < 5; k++) backward(ps), o.step();

    const qs = params();
    const copy = new Adam(qs, { lr: 0.05 });
    expect(copy.stateDict()).toEqual({ optimizer: "adam", state: null });
    for (let k = 0; k < 5; k++) backward(qs), copy.step(); // same first five steps
    copy.loadStateDict(JSON.parse(saved).optimizer);
    for (let k = 0; k < 5; k++) backward(qs), copy.step();
    expect(bits(qs.map((p) => p.value))).toEqual(bits(ps.map((p) => p.value)));
  });

  it("rejects a state of another optimizer or for other params", () => {
    const ps = params();
    const a = new Adam(ps);
    backward(ps);
    a.step();
    const sgdOpt = new SGD(params(), { lr: 0.1, momentum: 0.9 });
    expect(() => sgdOpt.loadStateDict(a.stateDict() as never)).toThrow(
      `SGD.loadStateDict: expected dict.optimizer to be "sgd" (a state dict from SGD's stateDict()), got "adam"`,
    );
    const other = new Adam([{ value: tensor([1, 2]), grad: null }]);
    expect(() => other.loadStateDict(a.stateDict())).toThrow(
      "Adam.loadStateDict: expected dict.state.slots.m to be an array of length 1 (one buffer per param leaf), got an array of length 3" +
        " — was the state made for other params or options?",
    );
  });
});

describe("errors", () => {
  it("a parameter without a gradient, an empty list, a duplicate, a non-parameter", () => {
    const ps = params();
    const o = new Adam(ps);
    backward(ps);
    ps[1]!.grad = null;
    expect(() => o.step()).toThrow(/Adam.step: expected every parameter to have a gradient, got none for the parameter at position 1/);
    expect(() => new SGD([], { lr: 1 })).toThrow(/expected at least one parameter, got an empty list/);
    expect(() => new SGD([ps[0]!, ps[0]!], { lr: 1 })).toThrow(/listed twice/);
    expect(() => new Adam([{ grad: null } as never])).toThrow(/expected parameters with a value \(Tensor or number\) and a grad field/);
    expect(() => new Adam(3 as never)).toThrow(/expected an iterable of parameters/);
  });

  it("gradient checks are the functional ones (shape, finiteness)", () => {
    const ps = params();
    const o = new SGD(ps, { lr: 0.1 });
    backward(ps);
    ps[0]!.grad = tensor([1, 2]);
    expect(() => o.step()).toThrow(/expected a gradient of shape \[3\] at grads\[0\], got \[2\]/);
    backward(ps);
    ps[2]!.grad = Number.NaN;
    expect(() => o.step()).toThrow(/expected finite gradients, got NaN at grads\[2\]/);
  });
});
