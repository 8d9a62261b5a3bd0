/**
 * Executable documentation: every ```ts block of a Markdown page runs, in order, as one module;
 * a ```text block right after a ```ts block is the output that block must print. The same module
 * is type-checked with the repository's strict compiler options (`tsconfig.base.json`).
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format, promisify } from "node:util";
import ts from "typescript";

export interface Snippet {
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  /** The expected output, if a ```text block follows. */
  readonly expected: string | undefined;
  /**
   * False for a block whose fence comes right after a `<!-- typecheck only: REASON -->` line (a
   * test file meant for a test runner, say): it is type-checked with the page, but not run.
   */
  readonly run: boolean;
}

const FENCE = /^```(\w*)\s*$/;
const TYPECHECK_ONLY = /^<!--\s*typecheck only:.*-->\s*$/;

/** The ```ts blocks of a Markdown text, each with the ```text block that follows it (if any). */
export function extractSnippets(markdown: string): Snippet[] {
  const lines = markdown.split("\n");
  const blocks: { lang: string; line: number; body: string; run: boolean }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`extractSnippets: the code block opened at line ${start + 1} is never closed`);
    const run = !(start > 0 && TYPECHECK_ONLY.test(lines[start - 1]!));
    blocks.push({ lang: open[1]!, line: start + 1, body: body.join("\n"), run });
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
    const expected = next?.lang === "text" && between === "" ? next.body : undefined;
    snippets.push({ line: block.line, code: block.body, expected, run: block.run });
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

/** A page's snippets joined into one module, with the Markdown line of each line of the module. */
interface PageModule {
  readonly text: string;
  /** `origins[k]`: the 1-based Markdown line of the module's 0-based line k (undefined: generated). */
  readonly origins: readonly (number | undefined)[];
}

/**
 * One module of the snippets of a page, in order. `markers` puts a `console.log` of a marker
 * before each snippet (to split the output per snippet); `runnableOnly` leaves out the blocks
 * marked typecheck-only.
 */
function pageModule(label: string, snippets: readonly Snippet[], options: { markers: boolean; runnableOnly: boolean }): PageModule {
  const lines: string[] = [];
  const origins: (number | undefined)[] = [];
  const push = (text: string, origin?: number) => {
    lines.push(text);
    origins.push(origin);
  };
  snippets.forEach((s, i) => {
    if (options.runnableOnly && !s.run) return;
    push(`// ${label}:${s.line}`);
    if (options.markers) push(`console.log(${JSON.stringify(`${MARKER}${i}`)});`);
    s.code.split("\n").forEach((text, k) => push(text, s.line + 1 + k));
    push("");
  });
  return { text: lines.join("\n"), origins };
}

/** The output printed after each marker, by snippet index ("" for snippets that did not run). */
function splitOutputs(stdout: string, count: number): string[] {
  const outputs: string[] = new Array<string>(count).fill("");
  for (const part of stdout.split(MARKER).slice(1)) {
    const newline = part.indexOf("\n");
    outputs[Number(part.slice(0, newline))] = part.slice(newline + 1);
  }
  return outputs;
}

const examplesDir = join(dirname(fileURLToPath(import.meta.url)), "..");
let moduleCount = 0;
/** The repository's root folder. */
export const repoRoot = join(examplesDir, "..");

/**
 * Runs the snippets of `markdownFile` as one module and returns each block's output. By default
 * the module is imported in this process (the caller's loader must handle TypeScript, as Vitest's
 * and tsx's do) with `console.log` captured; `{ childProcess: true }` runs it with tsx instead.
 * Blocks marked typecheck-only are left out (their output is "").
 */
export async function runSnippets(
  markdownFile: string,
  options: { childProcess?: boolean } = {},
): Promise<{ snippets: Snippet[]; outputs: string[] }> {
  const snippets = extractSnippets(readFileSync(markdownFile, "utf8"));
  const dir = join(examplesDir, ".tmp");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${basename(markdownFile, ".md")}-${process.pid}-${Date.now()}-${++moduleCount}.ts`);
  writeFileSync(file, pageModule(basename(markdownFile), snippets, { markers: true, runnableOnly: true }).text);
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

/** A Markdown page whose ```ts blocks are executable documentation. */
export interface DocPage {
  /** The page's path from the repository root, e.g. `packages/ir/README.md`. */
  readonly label: string;
  readonly file: string;
}

/** The folders of the published (non-private) packages: packages/* and conformance. */
export function publishedPackageDirs(): string[] {
  const packages = join(repoRoot, "packages");
  return [...readdirSync(packages).map((d) => join(packages, d)), join(repoRoot, "conformance")].filter((dir) => {
    const manifest = join(dir, "package.json");
    return existsSync(manifest) && !(JSON.parse(readFileSync(manifest, "utf8")) as { private?: boolean }).private;
  });
}

/** The root README, docs/*.md (not the generated docs/api) and the README of every published package. */
export function documentedPages(): DocPage[] {
  const docs = join(repoRoot, "docs");
  const files = [
    join(repoRoot, "README.md"),
    ...readdirSync(docs)
      .filter((f) => f.endsWith(".md"))
      .map((f) => join(docs, f)),
    ...publishedPackageDirs().map((dir) => join(dir, "README.md")),
  ];
  return files.filter((file) => existsSync(file)).map((file) => ({ label: relative(repoRoot, file), file }));
}

/** A page's snippets as the one module `typecheckPages` checks (typecheck-only blocks included). */
export function snippetModule(page: DocPage): string {
  return pageModule(page.label, extractSnippets(readFileSync(page.file, "utf8")), { markers: false, runnableOnly: false }).text;
}

/** The compiler options of `tsconfig.base.json` (strict, NodeNext, the `@chainrule/source` condition), without emit. */
function snippetCompilerOptions(): ts.CompilerOptions {
  const file = join(repoRoot, "tsconfig.base.json");
  const read = ts.readConfigFile(file, ts.sys.readFile);
  if (read.error) throw new Error(`tsconfig.base.json: ${ts.flattenDiagnosticMessageText(read.error.messageText, " ")}`);
  const { options, errors } = ts.convertCompilerOptionsFromJson(
    (read.config as { compilerOptions: unknown }).compilerOptions,
    repoRoot,
    file,
  );
  if (errors.length > 0) throw new Error(`tsconfig.base.json: ${ts.flattenDiagnosticMessageText(errors[0]!.messageText, " ")}`);
  return { ...options, noEmit: true };
}

/**
 * Type-checks each page's snippets (all of them, typecheck-only blocks included) as one module per
 * page, in one TypeScript program with the repository's strict options. The modules are written
 * to a temporary folder inside the examples package, so `@chainrule/*` resolve to the workspace
 * sources and a relative import such as `./index.js` resolves to nothing. Returns, per page label,
 * the errors as `PAGE:LINE: TSCODE message` (LINE is the page's line).
 */
export function typecheckPages(pages: readonly DocPage[]): Map<string, string[]> {
  mkdirSync(join(examplesDir, ".tmp"), { recursive: true });
  const dir = mkdtempSync(join(examplesDir, ".tmp", "typecheck-"));
  try {
    const modules = pages.map((page, i) => {
      const module = pageModule(page.label, extractSnippets(readFileSync(page.file, "utf8")), { markers: false, runnableOnly: false });
      const file = join(dir, `page${i}.ts`);
      writeFileSync(file, module.text);
      return { page, file, origins: module.origins };
    });
    const program = ts.createProgram(
      modules.map((m) => m.file),
      snippetCompilerOptions(),
    );
    const setup = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
    if (setup.length > 0) throw new Error(`typecheckPages: ${ts.flattenDiagnosticMessageText(setup[0]!.messageText, " ")}`);
    const problems = new Map<string, string[]>();
    for (const { page, file, origins } of modules) {
      const source = program.getSourceFile(file)!;
      const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
      problems.set(
        page.label,
        diagnostics.map((d) => {
          const line = d.start === undefined ? undefined : origins[source.getLineAndCharacterOfPosition(d.start).line];
          return `${page.label}:${line ?? "?"}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
        }),
      );
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
