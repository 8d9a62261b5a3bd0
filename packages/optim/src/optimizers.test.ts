/**
 * Each optimizer against values worked out by hand from the torch.optim formulas: p₀ = 1, the
 * gradient sequence 1, 2, 3 (independent of the params), three updates. The expected values are
 * written as the arithmetic of each formula so that every step can be checked on paper.
 */
import { scalar, tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { adagrad, adam, adamw, lbfgs, rmsprop, sgd, type Optimizer, type OptimizerState } from "./index.js";

const GRADS = [1, 2, 3];

/** Three updates of a number param from 1 with gradients 1, 2, 3. */
function run<S extends OptimizerState>(optimizer: Optimizer<S>, grads = GRADS, p0 = 1): number[] {
  let p = p0;
  let state = optimizer.init(p);
  const out: number[] = [];
  for (const g of grads) {
    ({ params: p, state } = optimizer.update(g, state, p));
    out.push(p);
  }
  return out;
}

function expectClose(actual: number[], expected: number[], digits = 13): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(a, `step ${i + 1}`).toBeCloseTo(expected[i]!, digits));
}

describe("sgd (torch.optim.SGD)", () => {
  it("plain: θ ← θ − γg", () => {
    expectClose(run(sgd({ lr: 0.1 })), [1 - 0.1, 0.9 - 0.2, 0.7 - 0.3]);
  });
  it("weight decay: g ← g + λθ", () => {
    // λ = 0.5: d₁ = 1 + 0.5, d₂ = 2 + 0.5·0.85, d₃ = 3 + 0.5·0.6075
    expectClose(run(sgd({ lr: 0.1, weightDecay: 0.5 })), [1 - 0.15, 0.85 - 0.2425, 0.6075 - 0.330375]);
  });
  it("momentum: b₁ = g, bₜ = μbₜ₋₁ + g", () => {
    // b = 1, 2.9, 5.61
    expectClose(run(sgd({ lr: 0.1, momentum: 0.9 })), [1 - 0.1, 0.9 - 0.29, 0.61 - 0.561]);
  });
  it("dampening: bₜ = μbₜ₋₁ + (1 − τ)g, but b₁ = g", () => {
    // τ = 0.1: b = 1, 0.9 + 0.9·2 = 2.7, 0.9·2.7 + 0.9·3 = 5.13
    expectClose(run(sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1 })), [1 - 0.1, 0.9 - 0.27, 0.63 - 0.513]);
  });
  it("nesterov: g ← g + μbₜ", () => {
    // b = 1, 2.9, 5.61; steps 1 + 0.9, 2 + 2.61, 3 + 5.049
    expectClose(run(sgd({ lr: 0.1, momentum: 0.9, nesterov: true })), [1 - 0.19, 0.81 - 0.461, 0.349 - 0.8049]);
  });
  it("momentum with weight decay uses the decayed gradient in the buffer", () => {
    // λ = 1: d₁ = 1 + 1 = 2, b₁ = 2, p₁ = 1 − 0.2 = 0.8; d₂ = 2 + 0.8 = 2.8, b₂ = 0.5·2 + 2.8 = 3.8, p₂ = 0.8 − 0.38
    expectClose(run(sgd({ lr: 0.1, momentum: 0.5, weightDecay: 1 }), [1, 2]), [0.8, 0.8 - 0.38]);
  });
});

/** Adam by its formula, one scalar at a time (the test's own derivation, with explicit steps). */
describe("adam (torch.optim.Adam)", () => {
  const eps = 1e-8;
  it("defaults betas (0.9, 0.999): m̂ / (√v̂ + ε)", () => {
    // t = 1: m = 0.1, v = 0.001 → m̂ = 1, v̂ = 1
    const p1 = 1 - (0.1 * 1) / (1 + eps);
    // t = 2: m = 0.09 + 0.2 = 0.29, v = 0.000999 + 0.004 = 0.004999
    const p2 = p1 - (0.1 * (0.29 / (1 - 0.81))) / (Math.sqrt(0.004999 / (1 - 0.998001)) + eps);
    // t = 3: m = 0.261 + 0.3 = 0.561, v = 0.004994001 + 0.009 = 0.013994001
    const p3 = p2 - (0.1 * (0.561 / (1 - 0.729))) / (Math.sqrt(0.013994001 / (1 - 0.997002999)) + eps);
    expectClose(run(adam({ lr: 0.1 })), [p1, p2, p3], 12);
  });
  it("first step moves every element by ≈ lr whatever the gradient's scale", () => {
    const [p1] = run(adam({ lr: 0.01 }), [1e-3]);
    expect(p1).toBeCloseTo(1 - 0.01 * (1e-3 / (1e-3 + eps)), 14);
  });
  it("weight decay (L2): g ← g + λθ before the moments", () => {
    // λ = 0.5, betas (0.5, 0.5): d₁ = 1 + 0.5 = 1.5, m = 0.75, v = 1.125, m̂ = 1.5, v̂ = 2.25
    const p1 = 1 - (0.1 * 1.5) / (1.5 + eps);
    // d₂ = 2 + 0.5·p₁, m = 0.375 + 0.5 d₂, v = 0.5625 + 0.5 d₂²; bias corrections 0.75
    const d2 = 2 + 0.5 * p1;
    const m2 = 0.375 + 0.5 * d2;
    const v2 = 0.5625 + 0.5 * d2 * d2;
    const p2 = p1 - (0.1 * (m2 / 0.75)) / (Math.sqrt(v2 / 0.75) + eps);
    expectClose(run(adam({ lr: 0.1, betas: [0.5, 0.5], weightDecay: 0.5 }), [1, 2]), [p1, p2], 12);
  });
  it("amsgrad: the running max of v replaces v", () => {
    // betas (0.9, 0.5), grads 3, 0.1: v₁ = 4.5, v₂ = 2.25 + 0.005 = 2.255 < 4.5 → vMax = 4.5
    const p1 = 1 - (0.1 * 3) / (Math.sqrt(4.5 / 0.5) + eps);
    const m2 = 0.27 + 0.01; // 0.9·0.3 + 0.1·0.1
    const p2 = p1 - (0.1 * (m2 / (1 - 0.81))) / (Math.sqrt(4.5 / 0.75) + eps);
    const plain = p1 - (0.1 * (m2 / (1 - 0.81))) / (Math.sqrt(2.255 / 0.75) + eps);
    expectClose(run(adam({ lr: 0.1, betas: [0.9, 0.5], amsgrad: true }), [3, 0.1]), [p1, p2], 12);
    expectClose(run(adam({ lr: 0.1, betas: [0.9, 0.5] }), [3, 0.1]), [p1, plain], 12);
  });
});

describe("adamw (torch.optim.AdamW)", () => {
  const eps = 1e-8;
  it("decoupled decay θ ← θ(1 − γλ), default λ = 1e-2", () => {
    // λ = 0.01, γ = 0.1: θ ← 0.999 θ, then Adam's step on the raw gradient (m̂ = 1, v̂ = 1 at t = 1)
    const p1 = 0.999 - (0.1 * 1) / (1 + eps);
    const p2 = p1 * 0.999 - (0.1 * (0.29 / 0.19)) / (Math.sqrt(0.004999 / 0.001999) + eps);
    expectClose(run(adamw({ lr: 0.1 }), [1, 2]), [p1, p2], 12);
  });
  it("differs from adam's L2 decay", () => {
    const [a] = run(adam({ lr: 0.1, weightDecay: 0.5 }), [1]);
    const [w] = run(adamw({ lr: 0.1, weightDecay: 0.5 }), [1]);
    // adam: m̂/√v̂ = 1 whatever the decayed gradient → 0.9; adamw: 0.95 − 0.1
    expect(a).toBeCloseTo(0.9, 7);
    expect(w).toBeCloseTo(0.95 - 0.1, 7);
  });
});

describe("rmsprop (torch.optim.RMSprop)", () => {
  const eps = 1e-8;
  it("plain: v ← αv + (1 − α)g², θ ← θ − γ g / (√v + ε)", () => {
    // α = 0.9: v = 0.1, 0.09 + 0.4 = 0.49, 0.441 + 0.9 = 1.341
    const p1 = 1 - 0.01 / (Math.sqrt(0.1) + eps);
    const p2 = p1 - 0.02 / (0.7 + eps);
    const p3 = p2 - 0.03 / (Math.sqrt(1.341) + eps);
    expectClose(run(rmsprop({ lr: 0.01, alpha: 0.9 })), [p1, p2, p3]);
  });
  it("centered: ṽ = v − ḡ², ḡ ← αḡ + (1 − α)g", () => {
    // ḡ = 0.1, 0.29, 0.561 → ṽ = 0.1 − 0.01 = 0.09, 0.49 − 0.0841 = 0.4059, 1.341 − 0.314721 = 1.026279
    const p1 = 1 - 0.01 / (0.3 + eps);
    const p2 = p1 - 0.02 / (Math.sqrt(0.4059) + eps);
    const p3 = p2 - 0.03 / (Math.sqrt(1.026279) + eps);
    expectClose(run(rmsprop({ lr: 0.01, alpha: 0.9, centered: true })), [p1, p2, p3], 12);
  });
  it("momentum: b ← μb + g / (√ṽ + ε), θ ← θ − γb", () => {
    const b1 = 1 / (Math.sqrt(0.1) + eps);
    const b2 = 0.5 * b1 + 2 / (0.7 + eps);
    const b3 = 0.5 * b2 + 3 / (Math.sqrt(1.341) + eps);
    expectClose(
      run(rmsprop({ lr: 0.01, alpha: 0.9, momentum: 0.5 })),
      [1 - 0.01 * b1, 1 - 0.01 * (b1 + b2), 1 - 0.01 * (b1 + b2 + b3)],
      12,
    );
  });
  it("weight decay: g ← g + λθ", () => {
    // λ = 1: d₁ = 2, v = 0.4, p₁ = 1 − 0.01·2/√0.4
    const p1 = 1 - 0.02 / (Math.sqrt(0.4) + eps);
    const d2 = 2 + p1;
    const p2 = p1 - (0.01 * d2) / (Math.sqrt(0.36 + 0.1 * d2 * d2) + eps);
    expectClose(run(rmsprop({ lr: 0.01, alpha: 0.9, weightDecay: 1 }), [1, 2]), [p1, p2], 12);
  });
  it("default alpha 0.99 and lr 0.01", () => {
    expectClose(run(rmsprop(), [1]), [1 - 0.01 / (0.1 + eps)]);
  });
});

describe("adagrad (torch.optim.Adagrad)", () => {
  const eps = 1e-10;
  it("plain: s ← s + g², θ ← θ − γ g / (√s + ε)", () => {
    // s = 1, 5, 14
    const p1 = 1 - 0.1 / (1 + eps);
    const p2 = p1 - 0.2 / (Math.sqrt(5) + eps);
    const p3 = p2 - 0.3 / (Math.sqrt(14) + eps);
    expectClose(run(adagrad({ lr: 0.1 })), [p1, p2, p3]);
  });
  it("lr decay: γ̃ = γ / (1 + (t − 1)η)", () => {
    // η = 0.5: γ̃ = 0.1, 0.1/1.5, 0.1/2
    const p1 = 1 - 0.1 / (1 + eps);
    const p2 = p1 - ((0.1 / 1.5) * 2) / (Math.sqrt(5) + eps);
    const p3 = p2 - ((0.1 / 2) * 3) / (Math.sqrt(14) + eps);
    expectClose(run(adagrad({ lr: 0.1, lrDecay: 0.5 })), [p1, p2, p3]);
  });
  it("initial accumulator value: s₀ = τ", () => {
    // τ = 0.5: s = 1.5, 5.5, 14.5
    const p1 = 1 - 0.1 / (Math.sqrt(1.5) + eps);
    const p2 = p1 - 0.2 / (Math.sqrt(5.5) + eps);
    const p3 = p2 - 0.3 / (Math.sqrt(14.5) + eps);
    expectClose(run(adagrad({ lr: 0.1, initialAccumulatorValue: 0.5 })), [p1, p2, p3]);
  });
  it("weight decay: g ← g + λθ", () => {
    // λ = 1: d₁ = 2, s = 4, p₁ = 1 − 0.1·2/2 ≈ 0.9; d₂ = 2 + p₁ ≈ 2.9, s = 4 + d₂²
    const p1 = 1 - 0.2 / (2 + eps);
    const d2 = 2 + p1;
    expectClose(run(adagrad({ lr: 0.1, weightDecay: 1 }), [1, 2]), [p1, p1 - (0.1 * d2) / (Math.sqrt(4 + d2 * d2) + eps)]);
  });
});

describe("lbfgs (torch.optim.LBFGS) by hand", () => {
  it("two fixed-step iterations: steepest descent scaled by min(1, 1/‖g‖₁), then the two-loop recursion", () => {
    const opt = lbfgs();
    let params: Tensor = tensor([0, 0]);
    let state = opt.init(params);
    // g₁ = (1, 2): d = −g, t = min(1, 1/3) → x₁ = (−1/3, −2/3)
    ({ params, state } = opt.update(tensor([1, 2]), state, params));
    expect(Array.from(params.data)).toEqual([-1 / 3, -2 / 3]);
    // g₂ = (½, ½): y = (−½, −3/2), s = (−1/3, −2/3), yᵀs = 7/6, ρ = 6/7, H₀ = yᵀs / yᵀy = 7/15
    // q = −g₂, α = ρ sᵀq = 3/7, q ← q − αy = (−2/7, 1/7), r = H₀q = (−2/15, 1/15)
    // β = ρ yᵀr = −1/35, r ← r + (α − β)s = r + (16/35)s = (−2/7, −5/21); t = lr = 1
    ({ params, state } = opt.update(tensor([0.5, 0.5]), state, params));
    const [a, b] = Array.from(params.data);
    expect(a).toBeCloseTo(-1 / 3 - 2 / 7, 14);
    expect(b).toBeCloseTo(-2 / 3 - 5 / 21, 14);
    expect(state.oldDirs.length).toBe(1);
    expect(state.ro[0]).toBeCloseTo(6 / 7, 14);
    expect(state.hDiag).toBeCloseTo(7 / 15, 14);
  });
  describe("strong-Wolfe line search on f(x) = (x − 3)² from 0 (g = −6, d = 6, gᵀd = −36, first t = min(1, 1/6)·lr)", () => {
    const objective = (x: number) => ({ loss: (x - 3) ** 2, grads: 2 * (x - 3) });
    const oneStep = (lr: number) => {
      const opt = lbfgs({ lineSearch: "strongWolfe", lr, maxIter: 1 });
      return opt.step(objective, opt.init(0), 0);
    };
    it("accept: t = 1/6 gives x = 1, f = 4, gᵀd = −24 and |−24| ≤ 0.9·36", () => {
      const r = oneStep(1);
      expect(r.params).toBeCloseTo(1, 15);
      expect(r.evaluations).toBe(2);
      expect(r.state.stepLength).toBeCloseTo(1 / 6, 15);
    });
    it("bracket and zoom: t = 10/6 overshoots (f = 49 > 9), the cubic through (0, 9, −36), (5/3, 49, 84) has its minimum at t = ½", () => {
      // d₁ = −36 + 84 − 3(9 − 49)/(0 − 5/3) = −24, d₂ = √(576 + 3024) = 60, t = 5/3 − 5/3·(84 + 60 + 24)/(84 + 36 + 120) = ½
      const r = oneStep(10);
      expect(r.params).toBeCloseTo(3, 14);
      expect(r.evaluations).toBe(3);
      expect(r.state.stepLength).toBeCloseTo(0.5, 14);
    });
    it("extrapolate: t = 1/60 is too short (|gᵀd| = 34.8 > 32.4, still descending): the next trial is clamped to 10t = 1/6", () => {
      const r = oneStep(0.1);
      expect(r.params).toBeCloseTo(1, 14);
      expect(r.evaluations).toBe(3);
      expect(r.state.stepLength).toBeCloseTo(1 / 6, 14);
    });
    it("second iteration: y = 2, s = 1, H₀ = ½, d = 2 reaches x = 3 exactly", () => {
      const opt = lbfgs({ lineSearch: "strongWolfe" });
      const r = opt.step(objective, opt.init(0), 0);
      expect(r.params).toBe(3);
      expect(r.state.iterations).toBe(2);
      expect(r.evaluations).toBe(3);
      expect(r.state.hDiag).toBe(0.5);
    });
  });
  it("history size bounds the curvature pairs kept", () => {
    const opt = lbfgs({ historySize: 2 });
    let p = 3;
    let state = opt.init(p);
    for (let i = 0; i < 6; i++) ({ params: p, state } = opt.update(2 * p, state, p)); // f = p²
    expect(state.oldDirs.length).toBeLessThanOrEqual(2);
  });
});

describe("pytrees, dtypes and purity", () => {
  it("every element of a tensor and every leaf follows the scalar rule", () => {
    const opt = adam({ lr: 0.1 });
    const params = { w: tensor([1, 1, 1]), b: 1, nested: [scalar(1)] };
    let p = params;
    let state = opt.init(p);
    for (const g of GRADS) ({ params: p, state } = opt.update({ w: tensor([g, g, g]), b: g, nested: [scalar(g)] }, state, p));
    const expected = run(adam({ lr: 0.1 }))[2]!;
    expect(Array.from(p.w.data)).toEqual([expected, expected, expected]);
    expect(p.b).toBe(expected);
    expect(p.nested[0]!.item()).toBe(expected);
    expect(Array.from(params.w.data)).toEqual([1, 1, 1]); // inputs untouched
  });
  it("float32 params stay float32 (and their buffers are float32 values)", () => {
    const opt = sgd({ lr: 0.1, momentum: 0.9 });
    let p = tensor([1, 2], { dtype: "float32" });
    let state = opt.init(p);
    ({ params: p, state } = opt.update(tensor([0.1, 0.3], { dtype: "float32" }), state, p));
    expect(p.dtype).toBe("float32");
    expect(p.data).toBeInstanceOf(Float32Array);
    const b = state.slots["momentum"]![0]!;
    expect(b.every((v) => Math.fround(v) === v)).toBe(true);
    expect(p.data[0]).toBe(Math.fround(1 - 0.1 * Math.fround(0.1)));
  });
  it("a schedule as lr is read at the update count; options.lr overrides it", () => {
    const opt = sgd({ lr: (step) => 0.1 * (step + 1) });
    expectClose(run(opt), [1 - 0.1, 0.9 - 0.4, 0.5 - 0.9]);
    const state = opt.init(1);
    expect(opt.update(1, state, 1, { lr: 0.5 }).params).toBe(0.5);
  });
});
