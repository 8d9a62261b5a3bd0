// Every example, run with small sizes so the whole file stays within a few seconds.
import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { fitCurve, TRUE_CURVE } from "./curve-fit.js";
import { twoSpirals } from "./data.js";
import { rosenbrockHvp, waveJacobian } from "./jacobian-hvp.js";
import { linearRegression } from "./linear-regression.js";
import { lossCurveSvg, MLP_DEFAULTS, trainMlp } from "./mlp.js";
import { largestDisagreement, seedThroughEngines } from "./seed.js";

describe("examples", () => {
  it("seed: every engine gives f = 5 and ∇f = (6, −4), and they agree exactly", () => {
    const rows = seedThroughEngines(3, 2);
    expect(rows.map((r) => r.engine)).toEqual(["forward", "reverse", "jit"]);
    for (const row of rows) {
      expect(row.value).toBe(5);
      expect(row.gradient).toEqual([6, -4]);
    }
    expect(largestDisagreement(rows)).toBe(0);
  });

  it("linear regression with SGD recovers y = 2x + 1", () => {
    const { w, b, losses } = linearRegression({ steps: 150 });
    expect(w).toBeCloseTo(2, 1);
    expect(b).toBeCloseTo(1, 1);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 10);
  });

  it("the MLP reaches its stated accuracy on two spirals with Adam (≥ 95% on fresh points) and draws its loss curve", () => {
    const result = trainMlp(); // the defaults the README states: 400 full-batch steps on 200 points
    expect(result.losses).toHaveLength(MLP_DEFAULTS.steps);
    expect(result.losses.at(-1)!).toBeLessThan(result.losses[0]! / 100);
    expect(result.accuracy).toBeGreaterThanOrEqual(0.99);
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0.95);
    const svg = lossCurveSvg(result.losses);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.startsWith("<svg")).toBe(true);
  });

  it("two spirals: balanced classes, seeded", () => {
    const a = twoSpirals(10, { seed: 3 });
    expect(a.x.shape).toEqual([20, 2]);
    expect(Array.from(a.labels.data).filter((l) => l === 1)).toHaveLength(10);
    expect(Array.from(twoSpirals(10, { seed: 3 }).x.data)).toEqual(Array.from(a.x.data));
  });

  it("curve fitting with L-BFGS finds a, b, c", () => {
    const fit = fitCurve({ points: 40 });
    expect(fit.a).toBeCloseTo(TRUE_CURVE.a, 1);
    expect(fit.b).toBeCloseTo(TRUE_CURVE.b, 1);
    expect(fit.c).toBeCloseTo(TRUE_CURVE.c, 1);
    expect(fit.loss).toBeLessThan(1e-3);
  });

  it("forward-mode Jacobian of a 2 → n function matches the exact one", () => {
    const { jacobian, exact } = waveJacobian(30);
    expect(jacobian).toHaveLength(30);
    jacobian.forEach((row, i) => row.forEach((v, k) => expect(v).toBeCloseTo(exact[i]![k]!, 12)));
  });

  it("Hessian-vector product equals the full Hessian times v", () => {
    const { hvp, forwardHvp, viaHessian } = rosenbrockHvp([1.2, 0.8, -0.5, 1], [1, 0, -1, 0.5]);
    expect(hvp).toEqual(viaHessian.map((v) => expect.closeTo(v, 9)));
    expect(forwardHvp).toEqual(viaHessian.map((v) => expect.closeTo(v, 9)));
    // by hand: (H v)₀ = (1200x₀² − 400x₁ + 2)·v₀ − 400x₀·v₁ = (1728 − 320 + 2)·1 − 0 = 1410
    expect(hvp[0]).toBeCloseTo(1410, 9);
  });
}, 60_000); // generous: CI runs every package's tests at once on 2 cores
