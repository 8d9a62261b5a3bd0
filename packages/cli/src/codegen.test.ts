import { describe, expect, it } from "vitest";
import { cli } from "./__tests__/helpers.js";
import { commentText } from "./commands/codegen.js";

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

  it("an expression with \\r, U+2028 or U+2029 is refused (exit 2), so its text cannot leave the // comment", async () => {
    for (const br of ["\r", "\u2028", "\u2029", "\n"]) {
      const r = await cli("codegen", `x${br}+ globalThis.pwned = 1`, "--part", "value");
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/codegen: cannot parse the expression: expected the expression on one line, got a line break \(U\+/);
    }
  });

  it("the printed module parses, and each comment is one line", async () => {
    for (const part of ["value", "grad", "both"]) {
      const r = await cli("codegen", "x * sin(y) + max(x, 2)", "--part", part, "--at", "x=3,y=2");
      expect(r.code).toBe(0);
      const compiled = new Function(r.stdout)() as (x: number, y: number) => number[];
      expect(compiled(3, 2)[0]).toBeCloseTo(3 * Math.sin(2) + 3, 14);
      const lines = r.stdout.split(/\r\n|[\n\r\u2028\u2029]/);
      expect(lines.length).toBe(r.stdout.split("\n").length); // no other line terminator anywhere
      const comments = lines.filter((l) => l.startsWith("//"));
      expect(comments[0]).toBe("// f(x, y) = x * sin(y) + max(x, 2)");
      expect(comments.at(-1)).toMatch(/^\/\/ at x = 3, y = 2: f = /);
    }
  });

  it("commentText escapes every character that would end a // comment, and other controls", () => {
    expect(commentText("a\u2028b\u2029c\rd\ne\u0085f\u001bg")).toBe("a\\u2028b\\u2029c\\u000dd\\u000ae\\u0085f\\u001bg");
    const text = `// ${commentText("x\u2028throw new Error('escaped')")}`;
    expect(() => new Function(text)()).not.toThrow();
    expect(text.split(/[\n\r\u2028\u2029]/)).toHaveLength(1);
  });

  it("rejects a bad --part with exit code 2", async () => {
    const r = await cli("codegen", "x", "--part", "all");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("expected --part to be one of both, value, grad");
  });
}, 60_000); // generous: CI runs every package's tests at once on 2 cores
