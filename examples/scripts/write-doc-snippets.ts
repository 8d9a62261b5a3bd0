// Writes the ```ts snippets of every documented page (the root README, docs/*.md, every published
// package's README) to examples/.tmp/docs/PAGE.ts, one module per page in order, so that `tsc`
// type-checks the documentation's code with the examples (npm run typecheck). The tests check the
// same modules (src/docs.test.ts, with the page and line of each error) and run them.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { documentedPages, extractSnippets, snippetModule } from "../src/doc-snippets.js";

const examples = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(examples, ".tmp", "docs");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const page of documentedPages()) {
  if (extractSnippets(readFileSync(page.file, "utf8")).length === 0) continue;
  const name = page.label.replace(/\.md$/, "").replace(/[/\\]/g, "-");
  writeFileSync(
    join(out, `${name}.ts`),
    `// Generated from ${page.label} by scripts/write-doc-snippets.ts: do not edit.\n${snippetModule(page)}`,
  );
}
