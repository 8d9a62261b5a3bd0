import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { PYTORCH_STYLE_DEFAULTS, trainFunctional, trainPytorchStyle } from "./pytorch-style-mlp.js";

const examplesDir = fileURLToPath(new URL("..", import.meta.url));
const bits = (t: { data: ArrayLike<number> }): number[] => Array.from(t.data);

describe("PyTorch-style MLP", () => {
  it("trains two spirals to ≥ 99% training accuracy with the defaults", () => {
    const { losses, accuracy } = trainPytorchStyle();
    expect(losses).toHaveLength(PYTORCH_STYLE_DEFAULTS.steps);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 100);
    expect(accuracy).toBeGreaterThanOrEqual(0.99);
  }, 120_000);

  it("the PyTorch-style loop and minimize() reach bit-identical parameters from the same seed", () => {
    const options = { steps: 60, pointsPerClass: 30, hidden: 8 };
    const imperative = trainPytorchStyle(options);
    const functional = trainFunctional(options);
    const state = imperative.model.stateDict();
    expect(Object.keys(state)).toEqual(Object.keys(functional.params));
    for (const [name, value] of Object.entries(state)) expect(bits(value), name).toEqual(bits(functional.params[name]!));
    // minimize also reports the loss after the last update
    expect(functional.losses.slice(0, -1)).toEqual(imperative.losses);
  }, 120_000);

  it("runs as a script with one command", () => {
    const run = spawnSync(process.execPath, ["--conditions=@chainrule/source", "--import", "tsx", "src/pytorch-style-mlp.ts"], {
      cwd: examplesDir,
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, STEPS: "20" },
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^PyTorch-style MLP on two spirals: loss [\d.]+ → [\d.]+ in 20 steps, training accuracy [\d.]+%\n$/);
  }, 120_000);

  it("10,000 training steps with modules and a stateful Adam do not grow the heap (child node --expose-gc)", () => {
    const result = memory({ STEPS: "10000" });
    expect(result.steps).toBe(10_000);
    expect(result.loss).toBeLessThan(0.5);
    expect(result.growth).toBeLessThan(2 * 1024 * 1024);
  }, 180_000);

  it("control: keeping 2,000 losses with their graphs alive is detected by the same measurement", () => {
    const result = memory({ STEPS: "2000", LEAK: "1" });
    expect(result.kept).toBe(2_000);
    expect(result.growth).toBeGreaterThan(2 * 1024 * 1024);
  }, 180_000);
});

function memory(env: Record<string, string>): { steps: number; growth: number; kept: number; loss: number } {
  const run = spawnSync(
    process.execPath,
    ["--expose-gc", "--conditions=@chainrule/source", "--import", "tsx", "src/pytorch-style-memory.ts"],
    {
      cwd: examplesDir,
      encoding: "utf8",
      timeout: 170_000,
      env: { ...process.env, ...env },
    },
  );
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as { steps: number; growth: number; kept: number; loss: number };
}
