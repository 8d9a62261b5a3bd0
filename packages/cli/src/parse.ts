/**
 * The expression language of the CLI: numbers, named variables, `+ - * / ^`, unary minus,
 * parentheses and the functions in `FUNCTIONS`. A hand-written recursive-descent parser that
 * records the column of every node so errors can point at the offending character.
 *
 *   expr    := term (("+" | "-") term)*
 *   term    := unary (("*" | "/") unary)*
 *   unary   := ("-" | "+") unary | power
 *   power   := atom ("^" unary)?          (right-associative; -x^2 = -(x^2), 2^-1 = 0.5)
 *   atom    := number | name | name "(" expr ("," expr)* ")" | "(" expr ")"
 */

import { ArgumentError, describeValue } from "@chainrule/ir";

/** Functions of one argument and of two (`max`, `min`), by name. */
export const FUNCTIONS = {
  sin: 1,
  cos: 1,
  tan: 1,
  exp: 1,
  log: 1,
  sqrt: 1,
  tanh: 1,
  abs: 1,
  relu: 1,
  sigmoid: 1,
  max: 2,
  min: 2,
} as const;

export type FunctionName = keyof typeof FUNCTIONS;
export type BinaryOperator = "+" | "-" | "*" | "/" | "^";

/** A parsed expression. `column` is 1-based, the position of the node's first character (operators: the operator). */
export type Expr =
  | { readonly kind: "number"; readonly value: number; readonly column: number }
  | { readonly kind: "variable"; readonly name: string; readonly column: number }
  | { readonly kind: "negate"; readonly operand: Expr; readonly column: number }
  | { readonly kind: "binary"; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr; readonly column: number }
  | { readonly kind: "call"; readonly name: FunctionName; readonly args: readonly Expr[]; readonly column: number };

/** A syntax error at a 1-based column; `message` includes the source line and a caret under it. */
export class ExpressionError extends Error {
  readonly code = "EXPRESSION";
  constructor(
    /** What went wrong, without the source excerpt. */
    readonly reason: string,
    readonly source: string,
    readonly column: number,
  ) {
    super(`${reason} at column ${column}\n${caretExcerpt(source, column)}`);
    this.name = "ExpressionError";
  }
}

/** Longest source excerpt shown in an error; a longer source is cut around the column, with "…". */
const EXCERPT = 100;

/**
 * `source` on one line and a caret under `column` (1-based), indented by `indent`. Control
 * characters and line separators show as "�" and a tab as a space (one column each, so the caret
 * stays aligned and the excerpt can move no cursor); a long source is cut to a window around `column`.
 */
export function caretExcerpt(source: string, column: number, indent = "  "): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  let text = source.replace(/\t/g, " ").replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "�");
  let caret = Math.max(0, column - 1);
  if (text.length > EXCERPT) {
    const start = Math.max(0, Math.min(caret - EXCERPT / 2, text.length - EXCERPT));
    const end = start + EXCERPT;
    text = `${start > 0 ? "…" : ""}${text.slice(start, end)}${end < text.length ? "…" : ""}`;
    caret = caret - start + (start > 0 ? 1 : 0);
  }
  return `${indent}${text}\n${indent}${" ".repeat(caret)}^`;
}

/**
 * Deepest nesting accepted: parentheses, function calls, signs, `^` and every operator of a chain
 * like `a + b + c` each add a level. Deeper expressions are parse errors, not stack overflows in the
 * parser or in the engines that evaluate the tree.
 */
export const MAX_DEPTH = 1000;

/** Characters that end a line (a JavaScript `//` comment ends at any of them), plus \v and \f. */
const LINE_BREAK = /[\n\r\v\f\u2028\u2029]/;

type Token =
  | { readonly kind: "number"; readonly value: number; readonly text: string; readonly column: number }
  | { readonly kind: "name"; readonly text: string; readonly column: number }
  | { readonly kind: "punct"; readonly text: "+" | "-" | "*" | "/" | "^" | "(" | ")" | ","; readonly column: number }
  | { readonly kind: "end"; readonly text: ""; readonly column: number };

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = source.slice(i);
    const number = NUMBER.exec(rest);
    if (number) {
      const text = number[0];
      const after = source[i + text.length];
      if (after !== undefined && /[A-Za-z_.]/.test(after)) {
        throw new ExpressionError(`unexpected ${JSON.stringify(after)} after the number ${text}`, source, i + text.length + 1);
      }
      tokens.push({ kind: "number", value: Number(text), text, column: i + 1 });
      i += text.length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      tokens.push({ kind: "name", text: name[0], column: i + 1 });
      i += name[0].length;
      continue;
    }
    if ("+-*/^(),".includes(ch)) {
      tokens.push({ kind: "punct", text: ch as "+", column: i + 1 });
      i++;
      continue;
    }
    const hint = ch === "×" || ch === "·" ? " (use *)" : ch === "−" ? " (use -)" : ch === "÷" ? " (use /)" : "";
    throw new ExpressionError(`unexpected character ${JSON.stringify(ch)}${hint}`, source, i + 1);
  }
  tokens.push({ kind: "end", text: "", column: source.length + 1 });
  return tokens;
}

function describeToken(token: Token): string {
  if (token.kind === "end") return "the end of the expression";
  if (token.kind === "number") return `the number ${token.text}`;
  if (token.kind === "name") return `the name ${token.text}`;
  return JSON.stringify(token.text);
}

function isFunctionName(name: string): name is FunctionName {
  return Object.hasOwn(FUNCTIONS, name);
}

/** Parses an expression; throws `ExpressionError` (with a caret excerpt) on bad input. */
export function parseExpression(source: string): Expr {
  if (typeof source !== "string") throw new ArgumentError(`parseExpression: expected a string, got ${describeValue(source)}`);
  const lineBreak = LINE_BREAK.exec(source);
  if (lineBreak) {
    const code = `U+${lineBreak[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
    throw new ExpressionError(`expected the expression on one line, got a line break (${code})`, source, lineBreak.index + 1);
  }
  const tokens = tokenize(source);
  let position = 0;
  const peek = (): Token => tokens[position]!;
  const next = (): Token => tokens[position++]!;
  const fail = (reason: string, token: Token): never => {
    throw new ExpressionError(reason, source, token.column);
  };
  const isPunct = (token: Token, text: string): boolean => token.kind === "punct" && token.text === text;
  const expectClose = (open: Token): void => {
    const token = peek();
    if (isPunct(token, ")")) {
      next();
      return;
    }
    if (token.kind === "end") fail(`expected ")" to close the "(" at column ${open.column}, got the end of the expression`, token);
    fail(`expected ")" or an operator, got ${describeToken(token)}`, token);
  };

  // Two limits, one number: the parser's own recursion (a "(", a call, a sign or a "^" enter one
  // level deeper, even "((((x))))" that makes no nodes) and the depth of the tree it builds (a chain
  // a + b + c nests to the left without recursion here, but every later walk of the tree recurses).
  const tooDeep = (token: Token): never =>
    fail(
      `expected at most ${MAX_DEPTH} levels of nesting (each "(", function call, sign, "^" or operator in a chain adds one), got more`,
      token,
    );
  let level = 0;
  const enter = (token: Token): void => {
    if (++level > MAX_DEPTH) tooDeep(token);
  };
  const depths = new WeakMap<Expr, number>();
  /** `e` (made at `token`) with its depth recorded: one more than its deepest child's (a leaf: 0). */
  const node = (e: Expr, token: Token, ...children: Expr[]): Expr => {
    const depth = 1 + children.reduce((d, c) => Math.max(d, depths.get(c) ?? 0), 0);
    if (depth > MAX_DEPTH) tooDeep(token);
    depths.set(e, depth);
    return e;
  };

  const expression = (): Expr => {
    let left = term();
    for (let token = peek(); isPunct(token, "+") || isPunct(token, "-"); token = peek()) {
      next();
      const right = term();
      left = node({ kind: "binary", op: token.text as "+" | "-", left, right, column: token.column }, token, left, right);
    }
    return left;
  };
  const term = (): Expr => {
    let left = unary();
    for (let token = peek(); isPunct(token, "*") || isPunct(token, "/"); token = peek()) {
      next();
      const right = unary();
      left = node({ kind: "binary", op: token.text as "*" | "/", left, right, column: token.column }, token, left, right);
    }
    return left;
  };
  const unary = (): Expr => {
    const token = peek();
    if (isPunct(token, "-") || isPunct(token, "+")) {
      next();
      enter(token);
      const operand = unary();
      level--;
      return token.text === "+" ? operand : node({ kind: "negate", operand, column: token.column }, token, operand);
    }
    return power();
  };
  const power = (): Expr => {
    const base = atom();
    const token = peek();
    if (isPunct(token, "^")) {
      next();
      enter(token);
      const exponent = unary();
      level--;
      return node({ kind: "binary", op: "^", left: base, right: exponent, column: token.column }, token, base, exponent);
    }
    return base;
  };
  /** An expression one level deeper: inside "(" or a call's parentheses. */
  const inner = (open: Token): Expr => {
    enter(open);
    const e = expression();
    level--;
    return e;
  };
  const atom = (): Expr => {
    const token = next();
    if (token.kind === "number") return { kind: "number", value: token.value, column: token.column };
    if (token.kind === "name") {
      const open = peek();
      if (isPunct(open, "(")) {
        if (!isFunctionName(token.text)) {
          return fail(`unknown function ${token.text}; known: ${Object.keys(FUNCTIONS).join(", ")}`, token);
        }
        next();
        const args: Expr[] = [];
        if (isPunct(peek(), ")")) fail(`${token.text}: expected ${FUNCTIONS[token.text]} argument(s), got none`, peek());
        args.push(inner(open));
        while (isPunct(peek(), ",")) {
          next();
          args.push(inner(open));
        }
        expectClose(open);
        const arity = FUNCTIONS[token.text];
        if (args.length !== arity) {
          fail(`${token.text}: expected ${arity} argument${arity === 1 ? "" : "s"}, got ${args.length}`, token);
        }
        return node({ kind: "call", name: token.text, args, column: token.column }, token, ...args);
      }
      if (isFunctionName(token.text)) fail(`${token.text} is a function: expected "(" after it, got ${describeToken(open)}`, open);
      return { kind: "variable", name: token.text, column: token.column };
    }
    if (isPunct(token, "(")) {
      if (isPunct(peek(), ")")) fail('expected an expression inside "()", got ")"', peek());
      const e = inner(token);
      expectClose(token);
      return e;
    }
    return fail(`expected a number, a variable, a function call or "(", got ${describeToken(token)}`, token);
  };

  const result = expression();
  const rest = peek();
  if (rest.kind !== "end") {
    if (isPunct(rest, ")")) fail('unexpected ")" with no matching "("', rest);
    fail(`expected an operator or the end of the expression, got ${describeToken(rest)}`, rest);
  }
  return result;
}

/** The variables of an expression, in order of first appearance. */
export function variablesOf(expr: Expr): string[] {
  const seen: string[] = [];
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case "number":
        return;
      case "variable":
        if (!seen.includes(e.name)) seen.push(e.name);
        return;
      case "negate":
        return visit(e.operand);
      case "binary":
        visit(e.left);
        return visit(e.right);
      case "call":
        return e.args.forEach(visit);
    }
  };
  visit(expr);
  return seen;
}

/** The expression back as text, fully parenthesized where precedence needs it. */
export function formatExpression(expr: Expr): string {
  const precedence = (e: Expr): number =>
    e.kind === "binary" ? (e.op === "+" || e.op === "-" ? 1 : e.op === "^" ? 4 : 2) : e.kind === "negate" ? 3 : 5;
  const wrap = (e: Expr, min: number): string => (precedence(e) < min ? `(${formatExpression(e)})` : formatExpression(e));
  switch (expr.kind) {
    case "number":
      return String(expr.value);
    case "variable":
      return expr.name;
    case "negate":
      return `-${wrap(expr.operand, 3)}`;
    case "call":
      return `${expr.name}(${expr.args.map(formatExpression).join(", ")})`;
    case "binary": {
      const p = precedence(expr);
      if (expr.op === "^") return `${wrap(expr.left, 5)} ^ ${wrap(expr.right, 3)}`;
      const rightMin = expr.op === "-" || expr.op === "/" ? p + 1 : p;
      return `${wrap(expr.left, p)} ${expr.op} ${wrap(expr.right, rightMin)}`;
    }
  }
}
