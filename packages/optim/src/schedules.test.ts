import { ArgumentError } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { constant, cosineAnnealing, exponential, join, linearWarmup, oneCycle, product, scale, stepDecay } from "./index.js";

const at = (s: (t: number) => number, steps: number[]) => steps.map(s);

describe("schedules (torch.optim.lr_scheduler formulas)", () => {
  it("constant", () => {
    expect(at(constant(0.1), [0, 5, 1000])).toEqual([0.1, 0.1, 0.1]);
  });
  it("stepDecay: init · gamma^⌊t / stepSize⌋", () => {
    expect(at(stepDecay({ init: 1, stepSize: 3, gamma: 0.5 }), [0, 1, 2, 3, 5, 6])).toEqual([1, 1, 1, 0.5, 0.5, 0.25]);
    expect(stepDecay({ init: 1, stepSize: 2 })(2)).toBeCloseTo(0.1, 15); // default gamma 0.1
  });
  it("exponential: init · gammaᵗ", () => {
    expect(at(exponential({ init: 2, gamma: 0.5 }), [0, 1, 3])).toEqual([2, 1, 0.25]);
  });
  it("cosineAnnealing: min + (init − min)(1 + cos(πt/T))/2, then min", () => {
    const s = cosineAnnealing({ init: 1, steps: 4 });
    expect(s(0)).toBe(1);
    expect(s(1)).toBeCloseTo((1 + Math.SQRT1_2) / 2, 15);
    expect(s(2)).toBeCloseTo(0.5, 15);
    expect(s(4)).toBeCloseTo(0, 15);
    expect(s(10)).toBeCloseTo(0, 15);
    expect(cosineAnnealing({ init: 1, steps: 4, min: 0.2 })(2)).toBeCloseTo(0.6, 15);
  });
  it("linearWarmup: from → to over `steps`, then to", () => {
    expect(at(linearWarmup({ to: 1, steps: 4 }), [0, 1, 2, 3, 4, 9])).toEqual([0, 0.25, 0.5, 0.75, 1, 1]);
    expect(linearWarmup({ from: 0.5, to: 1, steps: 2 })(1)).toBe(0.75);
  });
  it("oneCycle: maxLr/25 up to maxLr at step 0.3·N − 1, down to maxLr/25/1e4 at step N − 1 (cosine)", () => {
    const s = oneCycle({ maxLr: 1, totalSteps: 10 });
    // phase 1 ends at step 2: lr = end + (start − end)/2 · (cos(π·pct) + 1)
    expect(s(0)).toBeCloseTo(0.04, 15);
    expect(s(1)).toBeCloseTo(1 + ((0.04 - 1) / 2) * 1, 15); // pct ½
    expect(s(2)).toBeCloseTo(1, 15);
    expect(s(5)).toBeCloseTo(4e-6 + ((1 - 4e-6) / 2) * (Math.cos((Math.PI * 3) / 7) + 1), 15);
    expect(s(9)).toBeCloseTo(4e-6, 15);
    expect(() => s(10)).toThrow(/expected a step < totalSteps = 10, got 10/);
    const custom = oneCycle({ maxLr: 2, totalSteps: 5, pctStart: 0.4, divFactor: 4, finalDivFactor: 10 });
    expect(custom(0)).toBeCloseTo(0.5, 15);
    expect(custom(1)).toBeCloseTo(2, 15);
    expect(custom(4)).toBeCloseTo(0.05, 15);
  });
  it("join runs schedules one after another, each from its own step 0", () => {
    const s = join([linearWarmup({ to: 1, steps: 2 }), cosineAnnealing({ init: 1, steps: 4 })], [2]);
    expect(s(0)).toBe(0);
    expect(s(1)).toBe(0.5);
    expect(s(2)).toBe(1);
    expect(s(4)).toBeCloseTo(0.5, 15);
    expect(s(6)).toBeCloseTo(0, 15);
  });
  it("product and scale multiply", () => {
    expect(product(constant(2), exponential({ init: 1, gamma: 0.5 }))(2)).toBe(0.5);
    expect(scale(linearWarmup({ to: 1, steps: 4 }), 0.1)(2)).toBeCloseTo(0.05, 15);
  });
  it("bad input: clear errors", () => {
    expect(() => constant(-1)).toThrow(ArgumentError);
    expect(() => constant(-1)).toThrow("constant: expected value to be a finite number ≥ 0, got -1");
    expect(() => stepDecay({ init: 1, stepSize: 0 })).toThrow("stepDecay: expected stepSize to be a positive integer, got 0");
    expect(() => exponential({ init: 1, gamma: 0.5 })(1.5)).toThrow("exponential: expected the step to be an integer ≥ 0, got 1.5");
    expect(() => oneCycle({ maxLr: 1, totalSteps: 10, pctStart: 1 })).toThrow("oneCycle: expected pctStart in (0, 1), got 1");
    expect(() => join([constant(1), constant(2)], [])).toThrow("join: expected 1 boundaries for 2 schedules, got 0");
    expect(() => join([constant(1), constant(2), constant(3)], [3, 2])).toThrow(/increasing positive integer boundaries/);
  });
});
