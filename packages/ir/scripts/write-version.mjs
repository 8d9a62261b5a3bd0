#!/usr/bin/env node
// Writes src/version.ts from this package's package.json, so the version each copy of
// @chainrule/ir registers at load (src/copies.ts) is the published one. Run by `build` and by the
// root `npm run version-packages` (after `changeset version`); src/version.test.ts checks the two agree.
// Usage: node scripts/write-version.mjs (from any directory).
import { readFileSync, writeFileSync } from "node:fs";

const root = new URL("..", import.meta.url);
const { version } = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const target = new URL("src/version.ts", root);
const text =
  "// Generated from package.json by scripts/write-version.mjs (run by `build` and `npm run version-packages`).\n" +
  `export const VERSION: string = ${JSON.stringify(version)};\n`;
let current = "";
try {
  current = readFileSync(target, "utf8");
} catch {
  // first run: no file yet
}
if (current !== text) writeFileSync(target, text);
