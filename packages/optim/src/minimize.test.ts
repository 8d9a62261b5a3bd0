/**
 * `minimize` against a hand-written engine: an object with `valueAndGrad` whose gradient is the
 * closed form of the test problem (the real engines are exercised in engines.test.ts).
 */
import { add, log, mul, square, sub, sum, tensor, type Engine, type Tensor } from "@chainrule/ir";
import { describe, expect, it, vi } from "vitest";

vi.setConfig({ testTimeout: 60_000 });
import { adam, lbfgs, minimize, renderProgress, sgd, stepDecay, treeFromJSON, treeToJSON, type ProgressStream } from "./index.js";

type Fn = (p: never) => unknown;

/** An engine whose gradient is `gradient(params)` (the value comes from calling f). */
function handEngine<P>(gradient: (p: P) => unknown): Pick<Engine, "valueAndGrad"> {
  return {
    valueAndGrad: ((f: Fn) => (p: P) => [f(p as never), gradient(p)]) as unknown as Engine["valueAndGrad"],
  };
}

// f(x) = Σ cᵢ (xᵢ − tᵢ)², minimum at t
const C = [1, 4, 0.25];
const T = [1, -2, 3];
const quadratic = (x: Tensor) => sum(mul(tensor(C), square(sub(x, tensor(T)))));
const quadraticEngine = handEngine((x: Tensor) => tensor(Array.from(x.data, (v, i) => 2 * C[i]! * (v - T[i]!))));

// Rosenbrock on [x, y] (number leaves)
const rosenbrock = ([x, y]: [number, number]) => add(square(sub(1, x)), mul(100, square(sub(y, square(x)))));
const rosenbrockEngine = handEngine(([x, y]: [number, number]) => [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]);

const silent = { write: () => true, isTTY: false } satisfies ProgressStream;

describe("minimize", () => {
  it("drives a convex quadratic to its minimum and records the loss history", () => {
    const result = minimize(quadratic, tensor([0, 0, 0]), {
      engine: quadraticEngine,
      optimizer: sgd({ lr: 0.1 }),
      steps: 400,
      progress: silent,
    });
    expect(result.stopReason).toBe("steps");
    expect(result.steps).toBe(400);
    expect(result.losses.length).toBe(401); // initial loss, then after each update
    expect(result.losses[0]).toBeCloseTo(1 + 16 + 2.25, 12);
    for (let k = 1; k < result.losses.length; k++) expect(result.losses[k]!).toBeLessThanOrEqual(result.losses[k - 1]!);
    Array.from(result.params.data).forEach((v, i) => expect(v).toBeCloseTo(T[i]!, 6));
    expect(result.loss).toBe(result.losses[400]);
    expect(result.evaluations).toBe(401);
  });
  it("stops on tolerance (loss change) and on gradTolerance, returning the params of the last loss", () => {
    const byLoss = minimize(quadratic, tensor([0, 0, 0]), {
      engine: quadraticEngine,
      optimizer: sgd({ lr: 0.1 }),
      steps: 10_000,
      tolerance: 1e-12,
      progress: silent,
    });
    expect(byLoss.stopReason).toBe("tolerance");
    expect(byLoss.steps).toBeLessThan(10_000);
    expect(Math.abs(byLoss.losses.at(-1)! - byLoss.losses.at(-2)!)).toBeLessThanOrEqual(1e-12);
    expect(quadratic(byLoss.params).item()).toBe(byLoss.loss);
    const byGrad = minimize(quadratic, tensor([0, 0, 0]), {
      engine: quadraticEngine,
      optimizer: sgd({ lr: 0.1 }),
      steps: 10_000,
      gradTolerance: 1e-6,
      progress: silent,
    });
    expect(byGrad.stopReason).toBe("gradTolerance");
    const g = Array.from(byGrad.params.data, (v, i) => 2 * C[i]! * (v - T[i]!));
    expect(Math.max(...g.map(Math.abs))).toBeLessThanOrEqual(1e-6);
    expect(quadratic(byGrad.params).item()).toBe(byGrad.loss);
  });
  it("a schedule sets the lr of each step; onStep sees it and can stop training", () => {
    const seen: [number, number | undefined][] = [];
    const result = minimize(quadratic, tensor([0, 0, 0]), {
      engine: quadraticEngine,
      optimizer: sgd({ lr: 123 }),
      steps: 50,
      schedule: stepDecay({ init: 0.1, stepSize: 2, gamma: 0.5 }),
      onStep: ({ step, lr }) => {
        seen.push([step, lr]);
        return step < 4;
      },
      progress: silent,
    });
    expect(seen).toEqual([
      [0, 0.1],
      [1, 0.1],
      [2, 0.05],
      [3, 0.05],
      [4, 0.025],
    ]);
    expect(result.stopReason).toBe("callback");
    expect(result.steps).toBe(5);
    expect(result.losses.length).toBe(6);
    expect(quadratic(result.params).item()).toBe(result.loss);
  });
  it("lbfgs works through minimize (closure-style steps): Rosenbrock from (−1.2, 1) to within 1e-8 of (1, 1) in ≤ 100 iterations", () => {
    const optimizer = lbfgs({ lineSearch: "strongWolfe", toleranceGrad: 1e-12, toleranceChange: 0 });
    const result = minimize(rosenbrock, [-1.2, 1] as [number, number], { engine: rosenbrockEngine, optimizer, steps: 5, progress: silent });
    const [x, y] = result.params;
    expect(Math.hypot(x - 1, y - 1)).toBeLessThan(1e-8);
    expect(result.state.iterations).toBeLessThanOrEqual(100);
    expect(["steps", "converged"]).toContain(result.stopReason);
  });
  it("adam reaches Rosenbrock's minimum to 1e-3", () => {
    const result = minimize(rosenbrock, [-1.2, 1] as [number, number], {
      engine: rosenbrockEngine,
      optimizer: adam({ lr: 0.05 }),
      steps: 2500,
      progress: silent,
    });
    const [x, y] = result.params;
    expect(Math.hypot(x - 1, y - 1)).toBeLessThan(1e-3);
  });
  it("a NaN loss stops training with a message naming the step, returning the last good params", () => {
    // f(x) = x² − log(x), f' = 2x − 1/x; lr 0.6 from 0.25: x₁ = 0.25 + 0.6·3.5 = 2.35, x₂ = 2.35 − 0.6·(4.7 − 1/2.35) < 0 → log NaN
    const f = (x: number) => sub(square(x), log(x));
    const engine = handEngine((x: number) => 2 * x - 1 / x);
    const result = minimize(f, 0.25, { engine, optimizer: sgd({ lr: 0.6 }), steps: 10, progress: silent });
    expect(result.stopReason).toBe("nonFinite");
    expect(result.message).toMatch(/^minimize: loss is NaN at step 2; stopped and returned the params of step 1 \(loss /);
    expect(result.params).toBeCloseTo(2.35, 14);
    expect(result.steps).toBe(1);
    expect(result.losses.every(Number.isFinite)).toBe(true);
    expect(result.losses.length).toBe(2);
    expect(result.loss).toBe(result.losses[1]);
    // the state returned matches the params returned: resuming continues from step 1
    expect(result.state.step).toBe(1);
  });
  it("a NaN right after the last update returns the params before it", () => {
    // sgd lr 0.6 on x² − log x from 0.25: x₁ = 2.35 is fine, x₂ < 0 is only evaluated for the final loss
    const engine = handEngine((x: number) => 2 * x - 1 / x);
    const result = minimize((x: number) => sub(square(x), log(x)), 0.25, {
      engine,
      optimizer: sgd({ lr: 0.6 }),
      steps: 2,
      progress: silent,
    });
    expect(result.stopReason).toBe("nonFinite");
    expect(result.message).toMatch(/^minimize: loss is NaN at step 2 \(after the last update\); returned the params of step 1 \(loss /);
    expect(result.params).toBeCloseTo(2.35, 14);
    expect(result.steps).toBe(1);
    expect(result.state.step).toBe(1);
  });
  it("a non-finite gradient at a finite loss stops the same way", () => {
    const engine = handEngine((x: number) => (x > 2 ? Number.POSITIVE_INFINITY : 2 * x - 6));
    const result = minimize((x: number) => square(sub(x, 3)), 0, { engine, optimizer: sgd({ lr: 0.4 }), steps: 10, progress: silent });
    expect(result.stopReason).toBe("nonFinite");
    expect(result.message).toMatch(/got Infinity in the gradient at grads at step 1; stopped and returned the params of step 0/);
    expect(result.params).toBe(0);
  });
  it("NaN at the initial params", () => {
    const engine = handEngine(() => 0);
    const result = minimize(() => Number.NaN, 1, { engine, optimizer: sgd({ lr: 1 }), steps: 3, progress: silent });
    expect(result.stopReason).toBe("nonFinite");
    expect(result.message).toBe("minimize: loss is NaN at step 0 (the initial params); nothing to train from");
    expect(result.params).toBe(1);
    const none = minimize(() => Number.NaN, 1, { engine, optimizer: sgd({ lr: 1 }), steps: 0, progress: silent });
    expect(none.message).toBe("minimize: loss is NaN at step 0 (the initial params); nothing to train from");
    expect(none.steps).toBe(0);
  });
  it("resuming from a saved state and params continues bit-identically", () => {
    const straight = minimize(quadratic, tensor([0, 0, 0]), {
      engine: quadraticEngine,
      optimizer: adam({ lr: 0.05 }),
      steps: 20,
      progress: silent,
    });
    const first = minimize(quadratic, tensor([0, 0, 0]), {
      engine: quadraticEngine,
      optimizer: adam({ lr: 0.05 }),
      steps: 8,
      progress: silent,
    });
    const saved = JSON.parse(JSON.stringify({ params: treeToJSON(first.params), state: first.state }));
    const second = minimize(quadratic, treeFromJSON<Tensor>(saved.params), {
      engine: quadraticEngine,
      optimizer: adam({ lr: 0.05 }),
      steps: 12,
      state: saved.state,
      progress: silent,
    });
    expect(Array.from(second.params.data)).toEqual(Array.from(straight.params.data));
    expect(second.state).toEqual(straight.state);
    expect([...first.losses, ...second.losses.slice(1)]).toEqual(straight.losses);
  });
  it("a schedule continues from the saved state's update count on resume", () => {
    const schedule = stepDecay({ init: 0.1, stepSize: 5, gamma: 0.5 });
    const opts = { engine: quadraticEngine, schedule, progress: silent };
    const straight = minimize(quadratic, tensor([0, 0, 0]), { ...opts, optimizer: sgd({ lr: 1, momentum: 0.5 }), steps: 12 });
    const first = minimize(quadratic, tensor([0, 0, 0]), { ...opts, optimizer: sgd({ lr: 1, momentum: 0.5 }), steps: 7 });
    const seen: (number | undefined)[] = [];
    const second = minimize(quadratic, first.params, {
      ...opts,
      optimizer: sgd({ lr: 1, momentum: 0.5 }),
      steps: 5,
      state: first.state,
      onStep: ({ step, lr }) => void seen.push(step, lr),
    });
    expect(seen).toEqual([7, 0.05, 8, 0.05, 9, 0.05, 10, 0.025, 11, 0.025]);
    expect(Array.from(second.params.data)).toEqual(Array.from(straight.params.data));
  });
  it("bad options", () => {
    const engine = quadraticEngine;
    expect(() => minimize(quadratic, tensor([0]), { engine: {} as never, optimizer: sgd({ lr: 1 }), steps: 1 })).toThrow(
      "minimize: expected options.engine to implement Engine (valueAndGrad), got an object",
    );
    expect(() => minimize(quadratic, tensor([0]), { engine, optimizer: null as never, steps: 1 })).toThrow(
      /minimize: expected options.optimizer to be an optimizer/,
    );
    expect(() => minimize(quadratic, tensor([0]), { engine, optimizer: sgd({ lr: 1 }), steps: -1 })).toThrow(
      "minimize: expected options.steps to be an integer ≥ 0, got number -1",
    );
    expect(() => minimize(quadratic, tensor([0]), { engine, optimizer: sgd({ lr: 1 }), steps: 1, tolerance: -1 })).toThrow(
      "minimize: expected options.tolerance to be a number ≥ 0, got number -1",
    );
  });
});

describe("progress", () => {
  const recorder = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { chunks, stream: { write: (s: string) => chunks.push(s), isTTY } };
  };
  const run = (progress: ProgressStream, quiet?: boolean) =>
    minimize(quadratic, tensor([0, 0, 0]), {
      engine: quadraticEngine,
      optimizer: sgd({ lr: 0.1 }),
      steps: 5,
      progress,
      ...(quiet === undefined ? {} : { quiet }),
    });

  it("renderProgress draws a bar, the step count and the loss", () => {
    expect(renderProgress({ step: 5, steps: 10, loss: 0.012345678, width: 10 })).toBe("[█████░░░░░]  5/10  loss 0.012346");
    expect(renderProgress({ step: 100, steps: 100, loss: 1.5e-9, width: 4 })).toBe("[████] 100/100  loss 1.5000e-9");
    expect(renderProgress({ step: 0, steps: 3, loss: 123456, width: 3 })).toBe("[░░░] 0/3  loss 1.2346e+5");
  });
  it("is silent when the stream is not a TTY", () => {
    const { chunks, stream } = recorder(false);
    run(stream);
    expect(chunks).toEqual([]);
  });
  it("is silent on a TTY when quiet", () => {
    const { chunks, stream } = recorder(true);
    run(stream, true);
    expect(chunks).toEqual([]);
  });
  it("draws on a TTY, ending with the final loss and a newline", () => {
    const { chunks, stream } = recorder(true);
    const result = run(stream);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(chunks[0]!.startsWith("\r[")).toBe(true);
    expect(chunks.at(-2)).toBe(`\r${renderProgress({ step: 5, steps: 5, loss: result.loss })}\x1b[K`);
    expect(chunks.at(-1)).toBe("\n");
  });
  it("prints the stop message under the bar on a TTY", () => {
    const { chunks, stream } = recorder(true);
    const engine = handEngine(() => 0);
    minimize(() => Number.NaN, 1, { engine, optimizer: sgd({ lr: 1 }), steps: 3, progress: stream });
    expect(chunks.join("")).toContain("minimize: loss is NaN at step 0");
  });
});
