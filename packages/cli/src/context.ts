/** What every command receives: parsed options, output sinks and styling. */
import { compileExpression, type CompiledExpression } from "./compile.js";
import { makeStyle, type Style } from "./format.js";
import { ExpressionError } from "./parse.js";

export interface CliIO {
  /** Writes text to standard output (the CLI adds the line breaks it wants). */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Use ANSI colors (default: standard output is a TTY and NO_COLOR is unset). */
  readonly color: boolean;
  readonly writeFile: (path: string, content: string) => void;
}

/** Bad input from the user: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  readonly value?: string;
  readonly description: string;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** `chainrule NAME <args>` line(s). */
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly examples: readonly string[];
  /** Extra paragraphs for --help. */
  readonly details?: string;
  run(context: CommandContext): Promise<void>;
}

export interface CommandContext {
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly io: CliIO;
  readonly style: Style;
  /** Writes a line (adds "\n"). */
  readonly print: (line?: string) => void;
}

export function contextFor(io: CliIO, positionals: readonly string[], values: CommandContext["values"]): CommandContext {
  return { positionals, values, io, style: makeStyle(io.color), print: (line = "") => io.stdout(`${line}\n`) };
}

/** The single expression positional, compiled (a parse error becomes a usage error with a caret). */
export function expressionArgument(context: CommandContext, command: string, variables?: readonly string[]): CompiledExpression {
  const [source, ...extra] = context.positionals;
  if (source === undefined) throw new UsageError(`${command}: expected an expression, e.g. chainrule ${command} "(x + y) * (x - y)"`);
  if (extra.length > 0) {
    if (extra.every((e) => /^[A-Za-z_]\w*=/.test(e))) {
      throw new UsageError(
        `${command}: unexpected ${extra.map((e) => JSON.stringify(e)).join(" ")} after the expression; give all values to one ` +
          "--at, separated by commas: --at x=3,y=2",
      );
    }
    throw new UsageError(
      `${command}: expected one expression (quote it), got ${context.positionals.length} arguments: ` +
        `${context.positionals.map((p) => JSON.stringify(p)).join(" ")}`,
    );
  }
  try {
    return compileExpression(source, variables);
  } catch (error) {
    if (error instanceof ExpressionError) throw new UsageError(`${command}: cannot parse the expression: ${error.message}`);
    throw error;
  }
}

/** A decimal number as written in an expression, with an optional sign: 3, -0.5, .5, 2., 1e-3, +4E2. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * `--at x=3,y=2` (repeatable: `--at x=3 --at y=2`) as a map from name to number, checked against
 * the expression's variables: every variable needs a value and every value a variable.
 */
export function parsePoint(
  command: string,
  raw: readonly string[] | undefined,
  variables: readonly string[],
  required: boolean,
): number[] | undefined {
  if (raw === undefined || raw.length === 0) {
    if (!required) return undefined;
    const example = variables.map((v, i) => `${v}=${i + 1}`).join(",") || "x=1";
    throw new UsageError(
      `${command}: expected --at with a value for each variable (${variables.join(", ") || "none"}), e.g. --at ${example}`,
    );
  }
  const given = new Map<string, number>();
  for (const part of raw.flatMap((r) => r.split(","))) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/.exec(trimmed);
    if (!match) throw new UsageError(`${command}: expected --at entries like name=number, got ${JSON.stringify(trimmed)}`);
    const [, name, text] = match as unknown as [string, string, string];
    // decimal only: Number() would also take 0x10, 0b1, 0o7 and Infinity
    const value = DECIMAL.test(text.trim()) ? Number(text) : Number.NaN;
    if (!Number.isFinite(value)) {
      throw new UsageError(
        `${command}: expected a finite decimal number for ${name} in --at (like 3, -0.5 or 1e-3), got ${JSON.stringify(text)}`,
      );
    }
    if (given.has(name)) throw new UsageError(`${command}: expected each variable once in --at, got ${name} twice`);
    given.set(name, value);
  }
  const unknown = [...given.keys()].filter((name) => !variables.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `${command}: --at names ${unknown.join(", ")}, which the expression does not use (its variables: ${variables.join(", ") || "none"})`,
    );
  }
  const missing = variables.filter((v) => !given.has(v));
  if (missing.length > 0) throw new UsageError(`${command}: expected a value for ${missing.join(", ")} in --at`);
  return variables.map((v) => given.get(v)!);
}

/**
 * Writes `content` to `path` (given with `option`); a path that cannot be written (missing folder,
 * no permission, a directory) is a usage error naming the path and the system's reason, not a stack trace.
 */
export function writeOutput(context: CommandContext, command: string, option: string, path: string, content: string): void {
  try {
    context.io.writeFile(path, content);
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (typeof code !== "string") throw error;
    // "ENOENT: no such file or directory, open '…'" → "no such file or directory (ENOENT)"
    const reason = typeof message === "string" ? message.replace(/^[A-Z0-9_]+: /, "").replace(/, \w+ '.*'$/s, "") : code;
    throw new UsageError(`${command}: cannot write ${option} ${JSON.stringify(path)}: ${reason} (${code})`);
  }
}

/** One of `choices` for option `name`, or a usage error. */
export function choice<T extends string>(command: string, name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${command}: expected --${name} to be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`);
}
