import { describe, expect, it } from "vitest";
import { cli } from "./__tests__/helpers.js";

describe("chainrule codegen", () => {
  it("prints the JIT's JavaScript for the value and for value + gradient, and runs it at --at", async () => {
    const r = await cli("codegen", "(x + y) * (x - y)", "--at", "x=3,y=2");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("// inputs: x0 = x, x1 = y");
    const [value, gradient] = r.stdout.split("// value and gradient");
    expect(value).toMatch(/function compiled\(x0, x1\)/);
    expect(value).toMatch(/\(x0 \+ x1\)/);
    expect(gradient).toMatch(/returns \[f, ∂f\/∂x, ∂f\/∂y\]/);
    expect(gradient).toMatch(/return \[v\d+, v\d+, v\d+\];/);
    expect(r.stdout).toContain("// at x = 3, y = 2: f = 5, ∂f/∂x = 6, ∂f/∂y = -4");
  });

  it("the generated source is JavaScript that computes the same numbers", async () => {
    const r = await cli("codegen", "x * sin(y)", "--part", "grad");
    expect(r.stdout).not.toContain("// value: returns [f]");
    const source = r.stdout.slice(r.stdout.indexOf('"use strict"'));
    const compiled = new Function(source)() as (x: number, y: number) => number[];
    const [f, dx, dy] = compiled(3, 2);
    expect(f).toBeCloseTo(3 * Math.sin(2), 14);
    expect(dx).toBeCloseTo(Math.sin(2), 14);
    expect(dy).toBeCloseTo(3 * Math.cos(2), 14);
  });

  it("rejects a bad --part with exit code 2", async () => {
    const r = await cli("codegen", "x", "--part", "all");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("expected --part to be one of both, value, grad");
  });
}, 60_000); // generous: CI runs every package's tests at once on 2 cores
