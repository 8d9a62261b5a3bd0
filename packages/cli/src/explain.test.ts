import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { cli } from "./__tests__/helpers.js";

const SEED = "(x + y) * (x - y)";
/** The adjoint of `name`, written with a combining macron (x̄). */
const bar = (name: string) => `${name}\u0304`;

/** The lines of `text` between the line starting with `title` and the next blank line. */
function section(text: string, title: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith(title));
  expect(start, `section ${title}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l.trim() === "");
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

/** Table rows as arrays of cells (split on runs of 2+ spaces), skipping header and rule. */
function cells(rows: string[]): string[][] {
  return rows.slice(2).map((r) => r.trim().split(/ {2,}/));
}

describe("chainrule explain", () => {
  it("reproduces the seed's numbers in the forward table: f = 5, ∂f/∂x = 6, ∂f/∂y = −4", async () => {
    const r = await cli("explain", SEED, "--at", "x=3,y=2");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const forward = cells(section(r.stdout, "Forward mode"));
    expect(forward).toEqual([
      ["x", "input", "3", "1", "0"],
      ["y", "input", "2", "0", "1"],
      ["a", "add", "x, y", "5", "1", "1"],
      ["b", "sub", "x, y", "1", "1", "-1"],
      ["f", "mul", "a, b", "5", "6", "-4"],
    ]);
  });

  it("reproduces them in the reverse table, with the chain-rule terms of each adjoint", async () => {
    const r = await cli("explain", SEED, "--at", "x=3,y=2");
    const reverse = cells(section(r.stdout, "Reverse mode"));
    expect(reverse).toEqual([
      ["f", "mul", "a, b", "5", "1", "seed: ∂f/∂f = 1"],
      ["b", "sub", "x, y", "1", "5", `${bar("f")}·∂f/∂b = 1·5`],
      ["a", "add", "x, y", "5", "1", `${bar("f")}·∂f/∂a = 1·1`],
      ["y", "input", "2", "-4", `${bar("a")}·∂a/∂y + ${bar("b")}·∂b/∂y = 1·1 + 5·(-1)`],
      ["x", "input", "3", "6", `${bar("a")}·∂a/∂x + ${bar("b")}·∂b/∂x = 1·1 + 5·1`],
    ]);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("Gradient (reverse engine): f = 5, ∂f/∂x = 6, ∂f/∂y = -4");
  });

  it("chooses the mode and the engine", async () => {
    const forwardOnly = await cli("explain", SEED, "--at", "x=3,y=2", "--mode", "forward", "--engine", "forward");
    expect(forwardOnly.stdout).toContain("Forward mode");
    expect(forwardOnly.stdout).not.toContain("Reverse mode");
    expect(forwardOnly.stdout).toContain("Gradient (forward engine): f = 5, ∂f/∂x = 6, ∂f/∂y = -4");
    const reverseOnly = await cli("explain", SEED, "--at", "x=3,y=2", "-m", "reverse");
    expect(reverseOnly.stdout).not.toContain("Forward mode");
    expect(reverseOnly.stdout).toContain("Reverse mode");
  });

  it("names intermediates so they never clash with the variables", async () => {
    const r = await cli("explain", "a * b + c", "--at", "a=2,b=3,c=4");
    const reverse = cells(section(r.stdout, "Reverse mode"));
    expect(reverse.map((row) => row[0])).toEqual(["f", "d", "c", "b", "a"]);
    expect(reverse[1]!.slice(0, 3)).toEqual(["d", "mul", "a, b"]);
    const forward = cells(section(r.stdout, "Forward mode"));
    expect(forward.map((row) => row[0])).toEqual(["a", "b", "c", "d", "f"]);
    expect(r.stdout).toContain("∂f/∂a = 3, ∂f/∂b = 2, ∂f/∂c = 1");
  });

  it("skips the comparison inside relu on the tape but keeps both tables consistent", async () => {
    const r = await cli("explain", "relu(x) * y", "--at", "x=2,y=3");
    const forward = cells(section(r.stdout, "Forward mode"));
    expect(forward.at(-1)).toEqual(["f", "mul", "a, y", "6", "3", "2"]);
    expect(forward.find((row) => row[1] === "greater")!.slice(3)).toEqual(["true", "—", "—"]);
    const reverse = cells(section(r.stdout, "Reverse mode"));
    expect(reverse.map((row) => [row[0], row[1]])).toEqual([
      ["f", "mul"],
      ["a", "where"],
      ["y", "input"],
      ["x", "input"],
    ]);
    expect(r.stdout).toContain("∂f/∂x = 3, ∂f/∂y = 2");
  });

  it("explains a constant expression without --at", async () => {
    const r = await cli("explain", "2 * 3");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("f = 6 (a constant: nothing to differentiate)");
  });

  it("colors only when asked (or on a TTY)", async () => {
    expect((await cli("explain", SEED, "--at", "x=3,y=2")).stdout).not.toContain("\u001b[");
    expect((await cli("explain", SEED, "--at", "x=3,y=2", "--color")).stdout).toContain("\u001b[");
  });

  it("rejects missing or bad --at, --mode and --engine with exit code 2", async () => {
    const noPoint = await cli("explain", SEED);
    expect(noPoint.code).toBe(2);
    expect(noPoint.stderr).toContain("expected --at with a value for each variable (x, y), e.g. --at x=1,y=2");
    const badNumber = await cli("explain", SEED, "--at", "x=three,y=2");
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain('expected a finite decimal number for x in --at (like 3, -0.5 or 1e-3), got "three"');
    expect((await cli("explain", SEED, "--at", "x=3,y=2", "--mode", "sideways")).code).toBe(2);
    const spaced = await cli("explain", SEED, "--at", "x=3", "y=2");
    expect(spaced.code).toBe(2);
    expect(spaced.stderr).toContain('unexpected "y=2" after the expression; give all values to one --at, separated by commas');
    const negative = await cli("explain", "-x^2", "--at", "x=2");
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('put it last, after --: chainrule explain --at x=2 -- "-x^2"');
    expect((await cli("explain", "--at", "x=2", "--", "-x^2")).stdout).toContain("∂f/∂x = -4");
    const unquoted = await cli("explain", "x", "+", "y", "--at", "x=1,y=2");
    expect(unquoted.stderr).toContain("expected one expression (quote it), got 3 arguments");
    expect((await cli("explain", SEED, "--at", "x=3,y=2", "--engine", "tensorflow")).stderr).toContain(
      "expected --engine to be one of forward, reverse, jit",
    );
  });
}, 60_000); // generous: CI runs every package's tests at once on 2 cores

describe("chainrule grad", () => {
  it("prints value and gradient from every engine and the largest disagreement", async () => {
    const r = await cli("grad", SEED, "--at", "x=3,y=2");
    expect(r.code).toBe(0);
    const rows = r.stdout.split("\n").filter((l) => /^(forward|reverse|jit) /.test(l));
    expect(rows.map((row) => row.split(" ")[0])).toEqual(["forward", "reverse", "jit"]);
    for (const row of rows) expect(row.trim().split(/ +/).slice(1)).toEqual(["5", "6", "-4"]);
    expect(r.stdout).toContain("largest disagreement between engines: 0 (identical)");
  });

  it("compares a chosen subset and rejects unknown engines", async () => {
    const r = await cli("grad", "sin(x) * y", "--at", "x=0.5,y=2", "--engines", "forward,reverse");
    const rows = r.stdout.split("\n").filter((l) => /^(forward|reverse) /.test(l));
    expect(rows).toHaveLength(2);
    expect(Number(rows[0]!.trim().split(/ +/)[2])).toBeCloseTo(2 * Math.cos(0.5), 15);
    const bad = await cli("grad", SEED, "--at", "x=3,y=2", "--engines", "forward,theano");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('got "theano"');
  });
}, 60_000); // generous: CI runs every package's tests at once on 2 cores

describe("the chainrule executable (child process)", () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const tsx = join(root, "node_modules", ".bin", "tsx");
  const run = (...args: string[]) =>
    promisify(execFile)(tsx, ["--conditions=@chainrule/source", join(root, "src", "bin.ts"), ...args], {
      env: { ...process.env, NO_COLOR: "1" },
    });

  it("explains the seed and exits 0", async () => {
    const { stdout } = await run("explain", SEED, "--at", "x=3,y=2");
    expect(stdout).toContain("Gradient (reverse engine): f = 5, ∂f/∂x = 6, ∂f/∂y = -4");
  });

  it("exits 2 with the caret excerpt on a parse error", async () => {
    const error = (await run("graph", "x + * y").catch((e: unknown) => e)) as { code: number; stderr: string; stdout: string };
    expect(error.code).toBe(2);
    expect(error.stderr).toContain("  x + * y\n      ^");
    expect(error.stdout).toBe("");
  });
}, 120_000);
