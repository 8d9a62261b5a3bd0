import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { runCli } from "@chainrule/cli";
import { extractCommands, extractSnippets, runSnippets, shellSplit } from "./doc-snippets.js";

const docs = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");
const root = join(docs, "..");

describe("extractSnippets", () => {
  it("pairs each ts block with the text block right after it", () => {
    const md = [
      "# t",
      "```ts",
      "a()",
      "```",
      "",
      "```text",
      "out",
      "```",
      "```ts",
      "b()",
      "```",
      "prose",
      "```text",
      "not b's",
      "```",
    ].join("\n");
    expect(extractSnippets(md)).toEqual([
      { line: 2, code: "a()", expected: "out" },
      { line: 9, code: "b()", expected: undefined },
    ]);
  });
});

describe("runSnippets", () => {
  it("catches a page whose printed output differs from what it says", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chainrule-doc-"));
    const page = join(dir, "page.md");
    writeFileSync(
      page,
      ["```ts", "console.log(1 + 1);", "```", "", "```text", "3", "```", "```ts", "console.log([6, -4]);", "```"].join("\n"),
    );
    try {
      const { snippets, outputs } = await runSnippets(page);
      expect(snippets[0]!.expected).toBe("3");
      expect(outputs).toEqual(["2\n", "[ 6, -4 ]\n"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(["tutorial.md", "choosing-an-engine.md", "wasm-kernels.md"])("docs/%s", (page) => {
  it("runs every snippet and prints what the page says", async () => {
    const { snippets, outputs } = await runSnippets(join(docs, page));
    expect(snippets.length).toBeGreaterThan(0);
    snippets.forEach((snippet, i) => {
      if (snippet.expected === undefined) return;
      expect(outputs[i]!.trimEnd(), `output of the snippet at ${page}:${snippet.line}`).toBe(snippet.expected.trimEnd());
    });
  }, 120_000);
});

describe("the root README", () => {
  it("runs every snippet and prints what the README says", async () => {
    const { snippets, outputs } = await runSnippets(join(root, "README.md"));
    expect(snippets.filter((s) => s.expected !== undefined).length).toBeGreaterThanOrEqual(4);
    snippets.forEach((snippet, i) => {
      if (snippet.expected === undefined) return;
      expect(outputs[i]!.trimEnd(), `output of the snippet at README.md:${snippet.line}`).toBe(snippet.expected.trimEnd());
    });
  }, 120_000);

  it("links only to files that exist", () => {
    const text = readFileSync(join(root, "README.md"), "utf8");
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^https?:/.test(target!)) continue;
      expect(existsSync(join(root, target!)), `README.md links to ${target}`).toBe(true);
    }
  });
});

describe("chainrule commands shown in the docs", () => {
  it("splits a command line like a shell", () => {
    expect(shellSplit(`explain "(x + y) * (x - y)" --at x=3,y=2 'a b'`)).toEqual([
      "explain",
      "(x + y) * (x - y)",
      "--at",
      "x=3,y=2",
      "a b",
    ]);
  });

  it.each(["tutorial.md", "choosing-an-engine.md"])("%s: every command runs, and prints the output shown under it", async (page) => {
    const commands = extractCommands(readFileSync(join(docs, page), "utf8"));
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      let stdout = "";
      const code = await runCli(command.argv, { stdout: (t) => (stdout += t), stderr: () => {}, color: false, writeFile: () => {} });
      expect(code, `exit code of the command at ${page}:${command.line}`).toBe(0);
      if (command.expected !== undefined)
        expect(stdout.trimEnd(), `output of the command at ${page}:${command.line}`).toBe(command.expected.trimEnd());
    }
  });
});

describe("docs", () => {
  it("links only to files that exist", () => {
    for (const page of ["README.md", "tutorial.md", "choosing-an-engine.md"]) {
      const text = readFileSync(join(docs, page), "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^https?:/.test(target!)) continue;
        expect(existsSync(join(docs, target!)), `${page} links to ${target}`).toBe(true);
      }
    }
  });

  it("the tutorial's graph image is well-formed SVG", () => {
    const svg = readFileSync(join(docs, "images", "seed-graph.svg"), "utf8");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toMatch(/<svg[\s>]/);
  });

  it("the API reference has a page for every published package (regenerate: pnpm --filter @chainrule/examples run docs:api)", () => {
    const published = ["packages", "conformance"]
      .flatMap((dir) => (dir === "conformance" ? [join(root, dir)] : readdirSync(join(root, dir)).map((d) => join(root, dir, d))))
      .filter((dir) => existsSync(join(dir, "package.json")) && existsSync(join(dir, "src", "index.ts")))
      .map((dir) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; private?: boolean })
      .filter((pkg) => !pkg.private)
      .map((pkg) => pkg.name);
    expect(published).toContain("@chainrule/ir");
    for (const name of published) {
      expect(existsSync(join(docs, "api", `${name}.md`)), `docs/api/${name}.md`).toBe(true);
    }
  });
});
