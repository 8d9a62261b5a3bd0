// Writes every docs page's ```ts snippets to examples/.tmp/docs/PAGE.ts (one module per page, in
// order) so that `tsc` type-checks the documentation's code with the examples (npm run typecheck).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { extractSnippets } from "../src/doc-snippets.js";

const examples = join(dirname(fileURLToPath(import.meta.url)), "..");
const docs = join(examples, "..", "docs");
const out = join(examples, ".tmp", "docs");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const page of readdirSync(docs).filter((f) => f.endsWith(".md"))) {
  const snippets = extractSnippets(readFileSync(join(docs, page), "utf8"));
  if (snippets.length === 0) continue;
  const source = snippets.map((s) => `// docs/${page}:${s.line}\n${s.code}\n`).join("\n");
  writeFileSync(
    join(out, page.replace(/\.md$/, ".ts")),
    `// Generated from docs/${page} by scripts/write-doc-snippets.ts: do not edit.\n${source}`,
  );
}
