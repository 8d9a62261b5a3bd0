#!/usr/bin/env node
// Fails when a hand-written source line is longer than 140 characters (Biome's formatter wraps
// code at 140 but leaves long strings and comments alone). Run by `npm test` (root `lint:lines`).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const LIMIT = 140;
const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "*.ts", "*.mts", "*.mjs", "*.js"], { encoding: "utf8" })
  .split("\n")
  .filter((f) => f !== "" && !f.includes("/dist/") && !f.startsWith("docs/api/"));
const long = [];
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    continue; // listed by git but deleted in the work tree
  }
  text.split("\n").forEach((line, i) => {
    const length = [...line].length;
    if (length > LIMIT) long.push(`${file}:${i + 1}: ${length} characters`);
  });
}
if (long.length > 0) {
  console.error(`check-line-length: ${long.length} line(s) over ${LIMIT} characters:\n${long.join("\n")}`);
  process.exit(1);
}
console.log(`check-line-length: ${files.length} files, no line over ${LIMIT} characters`);
