import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "@chainrule/cli";
import { linkProblems, REPO_URL, shippedFiles } from "./doc-links.js";
import {
  documentedPages,
  extractCommands,
  extractSnippets,
  publishedPackageDirs,
  repoRoot as root,
  runSnippets,
  shellSplit,
  typecheckPages,
} from "./doc-snippets.js";

const docs = join(root, "docs");

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
      "<!-- typecheck only: a test file -->",
      "```ts",
      "c()",
      "```",
    ].join("\n");
    expect(extractSnippets(md)).toEqual([
      { line: 2, code: "a()", expected: "out", run: true },
      { line: 9, code: "b()", expected: undefined, run: true },
      { line: 17, code: "c()", expected: undefined, run: false },
    ]);
  });
});

describe("runSnippets", () => {
  it("catches a page whose printed output differs from what it says", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chainrule-doc-"));
    const page = join(dir, "page.md");
    writeFileSync(
      page,
      [
        "```ts",
        "console.log(1 + 1);",
        "```",
        "",
        "```text",
        "3",
        "```",
        "<!-- typecheck only: not run -->",
        "```ts",
        'throw new Error("ran");',
        "```",
        "```ts",
        "console.log([6, -4]);",
        "```",
      ].join("\n"),
    );
    try {
      const { snippets, outputs } = await runSnippets(page);
      expect(snippets[0]!.expected).toBe("3");
      expect(outputs).toEqual(["2\n", "", "[ 6, -4 ]\n"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const pages = documentedPages();

describe("every documentation page's snippets", () => {
  it("covers the root README, docs/*.md and every published package's README", () => {
    const labels = pages.map((p) => p.label);
    for (const label of ["README.md", "docs/tutorial.md", "packages/ir/README.md", "packages/optim/README.md", "conformance/README.md"]) {
      expect(labels).toContain(label);
    }
  });

  describe("type-check under the repository's strict settings (tsconfig.base.json)", () => {
    let problems = new Map<string, string[]>();
    beforeAll(() => {
      problems = typecheckPages(pages);
    }, 180_000);
    it.each(pages.map((p) => p.label))("%s", (label) => {
      expect(problems.get(label)).toEqual([]);
    });
  });

  const runnable = pages.filter((page) => extractSnippets(readFileSync(page.file, "utf8")).length > 0);
  it.each(runnable.map((p) => [p.label, p.file]))(
    "%s: runs every snippet and prints what the page says",
    async (label, file) => {
      const { snippets, outputs } = await runSnippets(file);
      expect(
        snippets.some((s) => s.expected !== undefined && s.run),
        `${label} shows the output of at least one snippet`,
      ).toBe(true);
      snippets.forEach((snippet, i) => {
        if (snippet.expected === undefined) return;
        expect(snippet.run, `${label}:${snippet.line} shows an output but is marked typecheck only`).toBe(true);
        expect(outputs[i]!.trimEnd(), `output of the snippet at ${label}:${snippet.line}`).toBe(snippet.expected.trimEnd());
      });
    },
    120_000,
  );
});

describe("typecheckPages", () => {
  it("names the page and line of an implicit any, an undefined variable, a missing import and a ./index.js import", () => {
    const dir = mkdtempSync(join(tmpdir(), "chainrule-doc-"));
    const page = join(dir, "page.md");
    writeFileSync(
      page,
      [
        "# A page with four mistakes",
        "```ts",
        'import { add } from "@chainrule/ir";',
        'import { engine } from "./index.js";',
        "const f = (x, y) => add(x, y);",
        "console.log(engine.name, mul(f(1, 2), w));",
        "```",
        "<!-- typecheck only: still checked -->",
        "```ts",
        "const n: number = add(1, 2);",
        "```",
      ].join("\n"),
    );
    try {
      const problems = typecheckPages([{ label: "page.md", file: page }]).get("page.md")!;
      const codes = problems.map((p) => p.replace(/^(page\.md:\d+: TS\d+) .*$/, "$1"));
      expect(codes).toEqual([
        "page.md:4: TS2307", // Cannot find module './index.js'
        "page.md:5: TS7006", // Parameter 'x' implicitly has an 'any' type
        "page.md:5: TS7006", // … and 'y'
        "page.md:6: TS2304", // Cannot find name 'mul' (not imported)
        "page.md:6: TS2304", // Cannot find name 'w' (never declared)
        "page.md:10: TS2322", // a Tensor is not a number: typecheck-only blocks are checked too
      ]);
      expect(problems[3]).toMatch(/'mul'/);
      expect(problems[4]).toMatch(/'w'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("the root README", () => {
  it("links only to files and headings that exist", () => {
    expect(linkProblems(join(root, "README.md"), { root })).toEqual([]);
  });

  it("says the packages are ESM only and what require() needs", () => {
    const text = readFileSync(join(root, "README.md"), "utf8");
    const section = text.slice(text.indexOf("\n## ESM only\n"));
    expect(section).toMatch(/require\(\)/);
    expect(section).toMatch(/20\.19/);
    expect(section).toMatch(/22\.12/);
  });

  it("states the first published version, the one the pending changesets give", () => {
    const stated = /First published version: (\d+\.\d+\.\d+)/.exec(readFileSync(join(root, "README.md"), "utf8"))?.[1];
    expect(stated).toBeDefined();
    expect(stated).toBe(firstVersion());
  });
});

describe("links in the package READMEs (they ship on npm)", () => {
  it("a relative link that leaves the package folder is reported, with the URL to use", () => {
    const dir = mkdtempSync(join(tmpdir(), "chainrule-pkg-"));
    try {
      mkdirSync(join(dir, "pkg", "dist"), { recursive: true });
      mkdirSync(join(dir, "docs"));
      writeFileSync(join(dir, "docs", "a.md"), "# A\n");
      writeFileSync(join(dir, "pkg", "dist", "x.js"), "");
      writeFileSync(join(dir, "pkg", "notes.md"), "");
      writeFileSync(
        join(dir, "pkg", "README.md"),
        [
          "# P",
          "[a](../docs/a.md) [b](dist/x.js) [c](notes.md) `[d](../nowhere)` [e](https://example.com/x)",
          `[f](${REPO_URL}/blob/main/docs/a.md#a) [g](${REPO_URL}/blob/main/docs/a.md#b) [h](#p) [i](#q)`,
        ].join("\n"),
      );
      expect(
        linkProblems(join(dir, "pkg", "README.md"), { root: dir, shipped: { dir: join(dir, "pkg"), files: ["dist", "README.md"] } }),
      ).toEqual([
        `../docs/a.md: leaves the package folder, so it breaks on npm; link ${REPO_URL}/blob/main/docs/a.md instead`,
        `notes.md: notes.md is not in the package's tarball (package.json "files")`,
        `${REPO_URL}/blob/main/docs/a.md#b: no heading with the anchor #b`,
        "#q: no heading with the anchor #q",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(publishedPackageDirs().map((dir) => [relative(root, dir), dir]))(
    "%s/README.md: absolute URLs or files that ship, and a line saying ESM only",
    (_, dir) => {
      const readme = join(dir, "README.md");
      expect(linkProblems(readme, { root, shipped: { dir, files: shippedFiles(dir) } })).toEqual([]);
      expect(readFileSync(readme, "utf8")).toContain(`(${REPO_URL}/blob/main/README.md#esm-only)`);
    },
  );
});

/**
 * The version the first release gets: while the packages sit at 0.0.0, the largest bump among
 * the pending changesets of @chainrule/ir (the seven packages move together); after it, the
 * oldest version in ir's CHANGELOG.md.
 */
function firstVersion(): string {
  const ir = join(root, "packages", "ir");
  const version = (JSON.parse(readFileSync(join(ir, "package.json"), "utf8")) as { version: string }).version;
  if (version !== "0.0.0") {
    const released = [...readFileSync(join(ir, "CHANGELOG.md"), "utf8").matchAll(/^## (\d+\.\d+\.\d+)/gm)].map((m) => m[1]!);
    return released[released.length - 1]!;
  }
  const changesets = join(root, ".changeset");
  const bumps = readdirSync(changesets)
    .filter((f) => f.endsWith(".md") && f !== "README.md")
    .flatMap((f) =>
      [...readFileSync(join(changesets, f), "utf8").matchAll(/^"@chainrule\/ir":\s*(major|minor|patch)\s*$/gm)].map((m) => m[1]!),
    );
  return bumps.includes("major") ? "1.0.0" : bumps.includes("minor") ? "0.1.0" : "0.0.1";
}

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
  it.each(readdirSync(docs).filter((f) => f.endsWith(".md")))("%s links only to files and headings that exist", (page) => {
    expect(linkProblems(join(docs, page), { root })).toEqual([]);
  });

  it("the tutorial's graph image is well-formed SVG", () => {
    const svg = readFileSync(join(docs, "images", "seed-graph.svg"), "utf8");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toMatch(/<svg[\s>]/);
  });

  it("the API reference has a page for every published package (regenerate: pnpm --filter @chainrule/examples run docs:api)", () => {
    const published = publishedPackageDirs()
      .filter((dir) => existsSync(join(dir, "src", "index.ts")))
      .map((dir) => (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string }).name);
    expect(published).toContain("@chainrule/ir");
    for (const name of published) {
      expect(existsSync(join(docs, "api", `${name}.md`)), `docs/api/${name}.md`).toBe(true);
    }
  });
});
