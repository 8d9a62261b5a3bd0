/**
 * The tape is garbage once the pullback is unreachable: 100,000 repeated `grad` calls do not grow
 * the heap. Measured in a child `node --expose-gc` (heap + array buffers after full GCs, before
 * and after the calls, following a warm-up). A control run that keeps its gradients alive shows
 * the measurement does detect growth.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

function measure(env: Record<string, string>): { calls: number; growth: number; kept: number } {
  const run = spawnSync(process.execPath, ["--expose-gc", "--conditions=@chainrule/source", "--import", "tsx", "test-scripts/memory.mts"], {
    cwd: packageDir,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as { calls: number; growth: number; kept: number };
}

const LIMIT = 2 * 1024 * 1024;

describe("memory", () => {
  it("100,000 grad calls do not grow the heap", () => {
    const result = measure({ CALLS: "100000" });
    expect(result.calls).toBe(100_000);
    expect(result.growth).toBeLessThan(LIMIT);
  }, 120_000);

  it("control: keeping 10,000 calls' results alive is detected", () => {
    const result = measure({ CALLS: "10000", LEAK: "1" });
    expect(result.kept).toBe(30_000);
    expect(result.growth).toBeGreaterThan(LIMIT);
  }, 120_000);
});
