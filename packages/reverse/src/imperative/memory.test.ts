/**
 * Training in PyTorch style does not grow the heap: each step's graph is garbage once its loss is
 * dropped (the graph belongs to the values, there is no global tape). 10,000 steps in a child
 * `node --expose-gc`, heap + array buffers after full GCs before and after, following a warm-up.
 * A control run that keeps every loss (and so its graph) alive shows the measurement detects growth.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));

function measure(env: Record<string, string>): { steps: number; growth: number; kept: number; loss: number } {
  const run = spawnSync(
    process.execPath,
    ["--expose-gc", "--conditions=@chainrule/source", "--import", "tsx", "test-scripts/imperative-memory.mts"],
    {
      cwd: packageDir,
      encoding: "utf8",
      timeout: 170_000,
      env: { ...process.env, ...env },
    },
  );
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as { steps: number; growth: number; kept: number; loss: number };
}

const LIMIT = 2 * 1024 * 1024;

describe("imperative memory", () => {
  it("10,000 training steps (forward, backward, SGD, zeroGrad) do not grow the heap", () => {
    const result = measure({ STEPS: "10000" });
    expect(result.steps).toBe(10_000);
    expect(result.loss).toBeLessThan(0.9); // it trained (ln 3 ≈ 1.1 at the start)
    expect(result.growth).toBeLessThan(LIMIT);
  }, 180_000);

  it("control: keeping 2,000 losses with their graphs alive is detected", () => {
    const result = measure({ STEPS: "2000", LEAK: "1" });
    expect(result.kept).toBe(2_000);
    expect(result.growth).toBeGreaterThan(LIMIT);
  }, 180_000);
});
