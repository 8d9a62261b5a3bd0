/**
 * Executable documentation: every ```ts block of a Markdown page runs, in order, as one module;
 * a ```text block right after a ```ts block is the output that block must print.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format, promisify } from "node:util";

export interface Snippet {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  /** The expected output, if a ```text block follows. */
  readonly expected: string | undefined;
}

const FENCE = /^```(\w*)\s*$/;

/** The ```ts blocks of a Markdown text, each with the ```text block that follows it (if any). */
export function extractSnippets(markdown: string): Snippet[] {
  const lines = markdown.split("\n");
  const blocks: { lang: string; line: number; body: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`extractSnippets: the code block opened at line ${start + 1} is never closed`);
    blocks.push({ lang: open[1]!, line: start + 1, body: body.join("\n") });
  }
  const snippets: Snippet[] = [];
  blocks.forEach((block, k) => {
    if (block.lang !== "ts") return;
    const next = blocks[k + 1];
    const between = next
      ? lines
          .slice(block.line + block.body.split("\n").length + 1, next.line - 1)
          .join("")
          .trim()
      : "x";
    snippets.push({ line: block.line, code: block.body, expected: next?.lang === "text" && between === "" ? next.body : undefined });
  });
  return snippets;
}

/** A `chainrule` command shown in a ```sh block, with the ```text block after it (its expected stdout). */
export interface CommandSnippet {
  readonly line: number;
  /** The arguments after `chainrule`. */
  readonly argv: string[];
  readonly expected: string | undefined;
}

const CLI_PREFIX = /^(?:pnpm --filter @chainrule\/examples run chainrule|npx chainrule|chainrule) (.*)$/;

/** Splits a shell command line on spaces, honoring double and single quotes (no escapes). */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (const m of text.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

/** The one-line ```sh blocks that run `chainrule`, each with the ```text block right after it (if any). */
export function extractCommands(markdown: string): CommandSnippet[] {
  const lines = markdown.split("\n");
  const out: CommandSnippet[] = [];
  for (let i = 0; i + 2 < lines.length; i++) {
    if (lines[i] !== "```sh" || lines[i + 2] !== "```") continue;
    const match = CLI_PREFIX.exec(lines[i + 1]!);
    if (!match) continue;
    let j = i + 3;
    while (j < lines.length && lines[j]!.trim() === "") j++;
    let expected: string | undefined;
    if (lines[j] === "```text") {
      const end = lines.indexOf("```", j + 1);
      expected = lines.slice(j + 1, end).join("\n");
    }
    out.push({ line: i + 1, argv: shellSplit(match[1]!), expected });
  }
  return out;
}

const MARKER = "@@chainrule-doc-snippet@@";

function moduleSource(markdownFile: string, snippets: readonly Snippet[]): string {
  return snippets
    .map((s, i) => `// ${basename(markdownFile)}:${s.line}\nconsole.log(${JSON.stringify(`${MARKER}${i}`)});\n${s.code}\n`)
    .join("\n");
}

function splitOutputs(stdout: string, count: number): string[] {
  const outputs: string[] = new Array<string>(count).fill("");
  stdout
    .split(MARKER)
    .slice(1)
    .forEach((part, i) => (outputs[i] = part.slice(part.indexOf("\n") + 1)));
  return outputs;
}

const examplesDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Runs the snippets of `markdownFile` as one module and returns each block's output. By default
 * the module is imported in this process (the caller's loader must handle TypeScript, as Vitest's
 * and tsx's do) with `console.log` captured; `{ childProcess: true }` runs it with tsx instead.
 */
export async function runSnippets(
  markdownFile: string,
  options: { childProcess?: boolean } = {},
): Promise<{ snippets: Snippet[]; outputs: string[] }> {
  const snippets = extractSnippets(readFileSync(markdownFile, "utf8"));
  const dir = join(examplesDir, ".tmp");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${basename(markdownFile, ".md")}-${process.pid}-${Date.now()}.ts`);
  writeFileSync(file, moduleSource(markdownFile, snippets));
  try {
    if (options.childProcess) {
      const tsx = join(examplesDir, "node_modules", ".bin", "tsx");
      const { stdout } = await promisify(execFile)(tsx, ["--conditions=@chainrule/source", file], {
        cwd: examplesDir,
        env: { ...process.env, NO_COLOR: "1" },
      });
      return { snippets, outputs: splitOutputs(stdout, snippets.length) };
    }
    let stdout = "";
    const log = console.log;
    console.log = (...args: unknown[]) => {
      stdout += `${format(...args)}\n`;
    };
    try {
      await import(pathToFileURL(file).href);
    } finally {
      console.log = log;
    }
    return { snippets, outputs: splitOutputs(stdout, snippets.length) };
  } finally {
    rmSync(file, { force: true });
  }
}
