import { describe, expect, it } from "vitest";
import { compileExpression, ExpressionError, formatExpression, parseExpression, variablesOf } from "./index.js";

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
