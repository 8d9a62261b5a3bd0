// Each example is runnable by one command (package.json "example:*" scripts run `src/NAME.ts`,
// which calls `main()`): the seed runs here as a real child process, the others' `main()` in
// this process with the console captured (child processes are slow on a loaded CI machine).
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { format, promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { main as curveFit } from "./curve-fit.js";
import { main as jacobianHvp } from "./jacobian-hvp.js";
import { main as linearRegression } from "./linear-regression.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function captured(main: () => void): string {
  let out = "";
  const log = console.log;
  console.log = (...args: unknown[]) => {
    out += `${format(...args)}\n`;
  };
  try {
    main();
  } finally {
    console.log = log;
  }
  return out;
}

describe("example commands", () => {
  it("src/seed.ts (a child process, as `pnpm run example:seed` starts it) prints every engine's numbers", async () => {
    const tsx = join(root, "node_modules", ".bin", "tsx");
    const { stdout } = await promisify(execFile)(tsx, ["--conditions=@chainrule/source", join(root, "src", "seed.ts")], { cwd: root });
    expect(stdout).toContain("forward  f(3, 2) = 5   ∇f = [6, -4]");
    expect(stdout).toContain("reverse  f(3, 2) = 5   ∇f = [6, -4]");
    expect(stdout).toContain("jit      f(3, 2) = 5   ∇f = [6, -4]");
    expect(stdout).toContain("largest disagreement between engines: 0");
  });

  it("jacobian-hvp prints the Jacobian error and three equal HVPs", () => {
    const stdout = captured(jacobianHvp);
    expect(stdout).toMatch(/shape \[100, 2\], max error vs\. exact \d/);
    expect(stdout.split("\n").filter((l) => l.includes("[1410.000, -160.000, -2.000, -100.000]"))).toHaveLength(3);
  });

  it("linear-regression prints the fitted line", () => {
    expect(captured(linearRegression)).toMatch(/^fitted y = 1\.9\d\d·x \+ (0\.9\d\d|1\.0\d\d)/);
  });

  it("curve-fit prints the fitted curve", () => {
    expect(captured(curveFit)).toMatch(/^fitted y = 2\.9\d\d·exp\(−1\.[45]\d\d·x\) \+ 0\.[45]\d\d/);
  });
}, 120_000);
