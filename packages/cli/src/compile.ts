/**
 * Turns a parsed expression into a JS function over `@chainrule/ir` ops, built from closures over
 * the syntax tree (no `eval`, no `new Function`), so any engine can differentiate it.
 */
import { abs, add, cos, div, exp, log, maximum, minimum, mul, neg, pow, relu, sigmoid, sin, sqrt, sub, tan, tanh } from "@chainrule/ir";
import type { Tensor, TensorLike } from "@chainrule/ir";
import { parseExpression, variablesOf, type Expr, type FunctionName } from "./parse.js";

/** A scalar function of the expression's variables, in the order of `variables`. */
export type ExpressionFunction = (...args: TensorLike[]) => Tensor;

export interface CompiledExpression {
  readonly source: string;
  readonly ast: Expr;
  /** Variable names, in argument order. */
  readonly variables: readonly string[];
  readonly fn: ExpressionFunction;
}

const CALLS: { [F in FunctionName]: (...args: TensorLike[]) => Tensor } = {
  sin: (x) => sin(x!),
  cos: (x) => cos(x!),
  tan: (x) => tan(x!),
  exp: (x) => exp(x!),
  log: (x) => log(x!),
  sqrt: (x) => sqrt(x!),
  tanh: (x) => tanh(x!),
  abs: (x) => abs(x!),
  relu: (x) => relu(x!),
  sigmoid: (x) => sigmoid(x!),
  max: (x, y) => maximum(x!, y!),
  min: (x, y) => minimum(x!, y!),
};

const BINARY = { "+": add, "-": sub, "*": mul, "/": div, "^": pow } as const;

type Node = (env: readonly TensorLike[]) => TensorLike;

function build(expr: Expr, index: ReadonlyMap<string, number>): Node {
  switch (expr.kind) {
    case "number": {
      const value = expr.value;
      return () => value;
    }
    case "variable": {
      const i = index.get(expr.name)!;
      return (env) => env[i]!;
    }
    case "negate": {
      const operand = build(expr.operand, index);
      return (env) => neg(operand(env));
    }
    case "binary": {
      const op = BINARY[expr.op];
      const left = build(expr.left, index);
      const right = build(expr.right, index);
      return (env) => op(left(env), right(env));
    }
    case "call": {
      const fn = CALLS[expr.name];
      const args = expr.args.map((a) => build(a, index));
      return (env) => fn(...args.map((a) => a(env)));
    }
  }
}

/**
 * Parses `source` and returns a function of its variables (first appearance order, unless
 * `variables` gives the order; it must name every variable the expression uses).
 */
export function compileExpression(source: string, variables?: readonly string[]): CompiledExpression {
  const ast = parseExpression(source);
  const used = variablesOf(ast);
  const order = variables ? [...variables] : used;
  const missing = used.filter((v) => !order.includes(v));
  if (missing.length > 0) {
    throw new Error(`compileExpression: expected the variable list to include ${missing.join(", ")}, got [${order.join(", ")}]`);
  }
  const index = new Map(order.map((name, i) => [name, i]));
  const node = build(ast, index);
  const fn: ExpressionFunction = (...args) => {
    if (args.length !== order.length) {
      throw new Error(`expression: expected ${order.length} argument(s) (${order.join(", ")}), got ${args.length}`);
    }
    const out = node(args);
    // A constant expression (no variables) still yields a tensor.
    return typeof out === "number" ? add(out, 0) : (out as Tensor);
  };
  return { source, ast, variables: order, fn };
}
