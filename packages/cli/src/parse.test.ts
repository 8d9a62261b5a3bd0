import { ArgumentError } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { cli } from "./__tests__/helpers.js";
import { compileExpression, ExpressionError, formatExpression, MAX_DEPTH, parseExpression, variablesOf } from "./index.js";

const value = (source: string, ...args: number[]) =>
  compileExpression(source)
    .fn(...args)
    .item();

describe("parseExpression", () => {
  it("parses the seed and finds its variables in order", () => {
    const ast = parseExpression("(x + y) * (x - y)");
    expect(variablesOf(ast)).toEqual(["x", "y"]);
    expect(formatExpression(ast)).toBe("(x + y) * (x - y)");
  });

  it("follows the usual precedence: ^ right-associative and above unary minus", () => {
    expect(value("2 ^ 3 ^ 2")).toBe(512);
    expect(value("-2 ^ 2")).toBe(-4);
    expect(value("2 ^ -1")).toBe(0.5);
    expect(value("1 - 2 - 3")).toBe(-4);
    expect(value("8 / 4 / 2")).toBe(1);
    expect(value("1 + 2 * 3")).toBe(7);
    expect(value("--3")).toBe(3);
    expect(value("1.5e1 + .5")).toBe(15.5);
  });

  it("evaluates every function", () => {
    expect(value("sin(x) + cos(x)", 0)).toBeCloseTo(1, 15);
    expect(value("tan(x)", 1)).toBeCloseTo(Math.tan(1), 14);
    expect(value("exp(log(x))", 2)).toBeCloseTo(2, 14);
    expect(value("sqrt(x) * tanh(x)", 4)).toBeCloseTo(2 * Math.tanh(4), 14);
    expect(value("abs(x) + relu(x)", -3)).toBe(3);
    expect(value("sigmoid(x)", 0)).toBe(0.5);
    expect(value("max(x, y) - min(x, y)", 2, 7)).toBe(5);
    expect(value("(x + y) * (x - y)", 3, 2)).toBe(5);
  });

  const errors: [string, string, number][] = [
    ["(x + y", 'expected ")" to close the "(" at column 1', 7],
    ["x + * y", 'expected a number, a variable, a function call or "(", got "*"', 5],
    ["x $ y", 'unexpected character "$"', 3],
    ["foo(x)", "unknown function foo", 1],
    ["max(x)", "max: expected 2 arguments, got 1", 1],
    ["sin x", 'sin is a function: expected "(" after it', 5],
    ["x y", "expected an operator or the end of the expression, got the name y", 3],
    ["x + y)", 'unexpected ")" with no matching "("', 6],
    ["", 'expected a number, a variable, a function call or "(", got the end of the expression', 1],
    ["2x", 'unexpected "x" after the number 2', 2],
    ["x × y", 'unexpected character "×" (use *)', 3],
  ];
  it.each(errors)("rejects %j with a caret under the column", (source, reason, column) => {
    let error: unknown;
    try {
      parseExpression(source);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExpressionError);
    const e = error as ExpressionError;
    expect(e.reason).toContain(reason);
    expect(e.column).toBe(column);
    const lines = e.message.split("\n");
    expect(lines[0]).toBe(`${e.reason} at column ${column}`);
    expect(lines[1]).toBe(`  ${source}`);
    expect(lines[2]).toBe(`  ${" ".repeat(column - 1)}^`);
  });
});

describe("deep nesting is a parse error, not a stack overflow", () => {
  const shapes: [string, (n: number) => string][] = [
    ["parentheses", (n) => `${"(".repeat(n)}x${")".repeat(n)}`],
    ["calls", (n) => `${"sin(".repeat(n)}x${")".repeat(n)}`],
    ["two-argument calls", (n) => `${"max(1, ".repeat(n)}x${")".repeat(n)}`],
    ["signs", (n) => `${"-".repeat(n)}x`],
    ["plus signs", (n) => `${"+".repeat(n)}x`],
    [
      "powers",
      (n) =>
        Array(n + 1)
          .fill("x")
          .join("^"),
    ],
    [
      "a chain of +",
      (n) =>
        Array(n + 1)
          .fill("x")
          .join(" + "),
    ],
    [
      "a chain of *",
      (n) =>
        Array(n + 1)
          .fill("x")
          .join("*"),
    ],
  ];
  it.each(shapes)("%s: MAX_DEPTH levels parse, one more (or 100,000) is an ExpressionError", (_, make) => {
    expect(MAX_DEPTH).toBe(1000);
    expect(() => parseExpression(make(MAX_DEPTH))).not.toThrow();
    for (const n of [MAX_DEPTH + 1, 100_000]) {
      let error: unknown;
      try {
        parseExpression(make(n));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExpressionError);
      expect((error as ExpressionError).reason).toBe(
        'expected at most 1000 levels of nesting (each "(", function call, sign, "^" or operator in a chain adds one), got more',
      );
    }
  });
  it("the caret excerpt of a long expression is a window around the column", () => {
    const source = `${"(".repeat(2000)}x${")".repeat(2000)}`;
    let error = undefined as unknown as ExpressionError;
    try {
      parseExpression(source);
    } catch (e) {
      error = e as ExpressionError;
    }
    expect(error.column).toBe(1001);
    const [, excerpt, caret] = error.message.split("\n");
    expect(excerpt!.length).toBeLessThanOrEqual(2 + 102);
    expect(excerpt).toMatch(/^ {2}…\(+…$/);
    expect(caret).toBe(`${" ".repeat(2 + 51)}^`);
  });
  it("the CLI: exit 2 with a one-line reason and a caret, for an expression nested 2,000 deep", async () => {
    const r = await cli("grad", `${"(".repeat(2000)}x${")".repeat(2000)}`, "--at", "x=1");
    expect(r.code).toBe(2);
    const lines = r.stderr.split("\n");
    expect(lines[0]).toBe(
      "chainrule grad: cannot parse the expression: expected at most 1000 levels of nesting" +
        ' (each "(", function call, sign, "^" or operator in a chain adds one), got more at column 1001',
    );
    expect(lines[2]!.trimEnd().endsWith("^")).toBe(true);
    expect(r.stderr).not.toMatch(/RangeError|at \w+ \(/);
  }, 60_000);
  it("an expression at the limit runs through every command", async () => {
    const chain = Array(MAX_DEPTH + 1)
      .fill("x")
      .join("+");
    for (const command of ["grad", "explain", "codegen", "graph"]) {
      const r = await cli(command, chain, "--at", "x=0.5");
      expect(r.code, `${command}: ${r.stderr.slice(0, 200)}`).toBe(0);
    }
  }, 120_000);
});

describe("line breaks: every JavaScript line terminator (and \\v, \\f) is refused, not taken as a space", () => {
  it.each([
    ["\n", "U+000A"],
    ["\r", "U+000D"],
    ["\u2028", "U+2028"],
    ["\u2029", "U+2029"],
    ["\v", "U+000B"],
    ["\f", "U+000C"],
  ])("%j", (br, code) => {
    let error: unknown;
    try {
      parseExpression(`x +${br} y`);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExpressionError);
    const e = error as ExpressionError;
    expect(e.reason).toBe(`expected the expression on one line, got a line break (${code})`);
    expect(e.column).toBe(4);
    // the excerpt is one line: the break shows as "�" with the caret under it
    expect(e.message.split("\n")).toEqual([`${e.reason} at column 4`, "  x +� y", "     ^"]);
  });
  it("a non-string is an ArgumentError, not a TypeError", () => {
    expect(() => parseExpression(5 as never)).toThrow(ArgumentError);
    expect(() => parseExpression(5 as never)).toThrow("parseExpression: expected a string, got number 5");
  });
});
