/**
 * The engine never needs eval or new Function (eager fusion is off where they are refused): a
 * script exercising every transformation, and the engine's own test files, run under
 * `node --disallow-code-generation-from-strings`.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const FLAG = "--disallow-code-generation-from-strings";

describe("no eval", () => {
  it("every transformation runs with code generation from strings disallowed", () => {
    const run = spawnSync(process.execPath, [FLAG, "--conditions=@chainrule/source", "--import", "tsx", "test-scripts/no-eval.mts"], {
      cwd: packageDir,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result).toEqual({
      evalBlocked: true,
      grad: [6, -4],
      valueAndGrad: [5, 6],
      third: 6,
      jvp: [5, 6],
      vjp: [6, -4],
      jacobian: [
        [0.2, 0, 0],
        [0, 0.4, 0],
        [0, 0, 0.6],
      ],
      hessian: [
        [2, 0],
        [0, -2],
      ],
      hvp: [2, -2],
      vector: [3],
      customJvp: 0.5,
      customVjp: 1,
      tape: 6,
      // eager fusion needs new Function: off, and a gradient on 5,000 elements is still right
      fusion: { enabled: false, available: false, refused: true },
      bigGradient: true,
    });
  }, 60_000);

  it("the engine's tests and the conformance suite pass with code generation from strings disallowed", () => {
    const vitest = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");
    const run = spawnSync(process.execPath, [vitest, "run", "src/engine.test.ts", "src/rules.test.ts", "src/conformance.test.ts"], {
      cwd: packageDir,
      encoding: "utf8",
      // the conformance suite alone takes over a minute, and CI runs it beside every other package's tests
      timeout: 420_000,
      env: {
        ...process.env,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${FLAG}`.trim(),
        CHAINRULE_EXPECT_NO_EVAL: "1",
        NO_COLOR: "1",
        FORCE_COLOR: "0",
      },
    });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the ANSI colour codes this removes
    const output = (run.stdout + run.stderr).replace(/\u001b\[[0-9;]*m/g, "");
    expect(output).toMatch(/Test Files\s+3 passed/);
    expect(output).toMatch(/Tests\s+\d+ passed \(\d+\)/);
    // nothing skipped or failed: the probe in engine.test.ts saw eval blocked in the workers
    expect(output).not.toMatch(/skipped|failed/);
    expect(run.status).toBe(0);
  }, 420_000);
});
