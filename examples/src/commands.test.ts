// Each example is runnable by one command (package.json "example:*" scripts): run two as child
// processes the way a reader would, the others are covered in-process by examples.test.ts.
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsx = join(root, "node_modules", ".bin", "tsx");
const run = (script: string) => promisify(execFile)(tsx, ["--conditions=@chainrule/source", join(root, script)], { cwd: root });

describe("example commands", () => {
  it("src/seed.ts prints every engine's numbers", async () => {
    const { stdout } = await run("src/seed.ts");
    expect(stdout).toContain("forward  f(3, 2) = 5   ∇f = [6, -4]");
    expect(stdout).toContain("reverse  f(3, 2) = 5   ∇f = [6, -4]");
    expect(stdout).toContain("jit      f(3, 2) = 5   ∇f = [6, -4]");
    expect(stdout).toContain("largest disagreement between engines: 0");
  });

  it("src/jacobian-hvp.ts prints the Jacobian error and both HVPs", async () => {
    const { stdout } = await run("src/jacobian-hvp.ts");
    expect(stdout).toMatch(/shape \[100, 2\], max error vs\. exact \d/);
    expect(stdout.split("\n").filter((l) => l.includes("[1410.000, -160.000, -2.000, -100.000]"))).toHaveLength(3);
  });
}, 120_000);
