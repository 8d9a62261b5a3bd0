/** `chainrule COMMAND …`: argument parsing, per-command help, errors and exit codes. */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ChainruleError } from "@chainrule/ir";
import { contextFor, UsageError, type CliIO, type Command, type OptionSpec } from "./context.js";
import { COMMANDS } from "./commands/index.js";

export type { CliIO } from "./context.js";

const PROGRAM = "chainrule";

function defaultIO(): CliIO {
  const color = Boolean(process.stdout.isTTY) && process.env["NO_COLOR"] === undefined && process.env["TERM"] !== "dumb";
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    color: process.env["FORCE_COLOR"] !== undefined && process.env["FORCE_COLOR"] !== "0" ? true : color,
    writeFile: (path, content) => writeFileSync(path, content),
  };
}

function optionLine(name: string, spec: OptionSpec): [string, string] {
  const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.value ? ` ${spec.value}` : ""}`;
  return [flag, spec.description];
}

const COMMON_OPTIONS: Record<string, OptionSpec> = {
  color: { type: "boolean", description: "force ANSI colors (default: only on a terminal; NO_COLOR disables)" },
  "no-color": { type: "boolean", description: "never use colors" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

function columns(rows: readonly [string, string][]): string {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`).join("\n");
}

/** The `--help` text of one command. */
export function commandHelp(command: Command): string {
  const options = { ...command.options, ...COMMON_OPTIONS };
  const parts = [
    `${PROGRAM} ${command.name} — ${command.summary}`,
    "",
    `Usage: ${command.usage}`,
    "",
    "Options:",
    columns(Object.entries(options).map(([name, spec]) => optionLine(name, spec))),
    "",
    "Examples:",
    ...command.examples.map((e) => `  ${e}`),
  ];
  if (command.details) parts.push("", command.details);
  parts.push(
    "",
    "Expressions: numbers, named variables, + - * / ^ (right-associative), unary minus, parentheses,",
    "and sin cos tan exp log sqrt tanh abs relu sigmoid max(a, b) min(a, b). Quote the expression;",
    `one that starts with "-" goes after the options and --: ${PROGRAM} ${command.name} --at x=2 -- "-x^2".`,
  );
  return parts.join("\n");
}

/** The top-level `chainrule --help`. */
export function mainHelp(): string {
  return [
    `${PROGRAM} — automatic differentiation, shown step by step`,
    "",
    `Usage: ${PROGRAM} COMMAND EXPR [options]     (${PROGRAM} COMMAND --help for details)`,
    "",
    "Commands:",
    columns(COMMANDS.map((c) => [c.name, c.summary])),
    "",
    "Examples:",
    ...COMMANDS.map((c) => `  ${c.examples[0]}`),
  ].join("\n");
}

/**
 * Runs the CLI on `argv` (without the node and script paths) and returns the exit code:
 * 0 on success, 2 for bad input (unknown command or option, unparsable expression, bad --at, an -o
 * path that cannot be written), 1 for any other failure. Never calls `process.exit`.
 */
export async function runCli(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const sinks: CliIO = { ...defaultIO(), ...io };
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    sinks.stdout(`${topic ? commandHelp(topic) : mainHelp()}\n`);
    if (name === undefined) return 2;
    return 0;
  }
  if (name === "--version" || name === "-v") {
    sinks.stdout(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    sinks.stderr(
      `${PROGRAM}: unknown command ${JSON.stringify(name)}; expected one of ${COMMANDS.map((c) => c.name).join(", ")} ` +
        `(${PROGRAM} --help)\n`,
    );
    return 2;
  }
  const options = { ...command.options, ...COMMON_OPTIONS };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: Object.fromEntries(
        Object.entries(options).map(([key, spec]) => [
          key,
          { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional.*$/s, "") : String(error);
    const hint = rest.some((a) => /^-[^-]/.test(a) && a.length > 2)
      ? ` (an expression starting with "-"? put it last, after --: ${PROGRAM} ${name} --at x=2 -- "-x^2")`
      : "";
    sinks.stderr(`${PROGRAM} ${name}: ${message}${hint}\n${PROGRAM} ${name} --help shows the options\n`);
    return 2;
  }
  if (parsed.values["help"]) {
    sinks.stdout(`${commandHelp(command)}\n`);
    return 0;
  }
  const color = parsed.values["no-color"] ? false : parsed.values["color"] ? true : sinks.color;
  const context = contextFor({ ...sinks, color }, parsed.positionals, parsed.values as never);
  try {
    await command.run(context);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      sinks.stderr(`${PROGRAM} ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof ChainruleError) {
      sinks.stderr(`${PROGRAM} ${name}: ${error.message}\n`);
      return 1;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    sinks.stderr(`${PROGRAM} ${name}: ${message}\n`);
    return 1;
  }
}

/** This package's version, read from its package.json (one level above both src/ and dist/). */
export const VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;
