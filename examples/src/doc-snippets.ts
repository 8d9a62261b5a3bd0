/**
 * Executable documentation: every ```ts block of a Markdown page runs, in order, as one module;
 * a ```text block right after a ```ts block is the output that block must print.
 */
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

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
    const between = next ? lines.slice(block.line + block.body.split("\n").length + 1, next.line - 1).join("").trim() : "x";
    snippets.push({ line: block.line, code: block.body, expected: next?.lang === "text" && between === "" ? next.body : undefined });
  });
  return snippets;
}

const MARKER = "@@chainrule-doc-snippet@@";

/** Runs the snippets of `markdownFile` as one module (tsx, against the sources) and returns each block's output. */
export async function runSnippets(markdownFile: string): Promise<{ snippets: Snippet[]; outputs: string[] }> {
  const snippets = extractSnippets(readFileSync(markdownFile, "utf8"));
  const examples = join(dirname(fileURLToPath(import.meta.url)), "..");
  const dir = join(examples, ".tmp");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${basename(markdownFile, ".md")}-${process.pid}.mts`);
  const source = snippets.map((s, i) => `// ${basename(markdownFile)}:${s.line}\nconsole.log(${JSON.stringify(`${MARKER}${i}`)});\n${s.code}\n`).join("\n");
  writeFileSync(file, source);
  try {
    const tsx = join(examples, "node_modules", ".bin", "tsx");
    const { stdout } = await promisify(execFile)(tsx, ["--conditions=@chainrule/source", file], { cwd: examples, env: { ...process.env, NO_COLOR: "1" } });
    const outputs: string[] = snippets.map(() => "");
    for (const [i, part] of stdout.split(MARKER).slice(1).map((p, i) => [i, p] as const)) {
      outputs[i] = part.slice(part.indexOf("\n") + 1);
    }
    return { snippets, outputs };
  } finally {
    rmSync(file, { force: true });
  }
}
