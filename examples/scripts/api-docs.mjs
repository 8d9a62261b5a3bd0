#!/usr/bin/env node
// Generates the API reference (docs/api/*.md) from the sources of every published package with
// TypeDoc (+ typedoc-plugin-markdown): one page per package, from its src/index.ts — the public
// surface each package chose. Usage: `pnpm --filter @chainrule/examples run docs:api [-- OUT_DIR]`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const out = resolve(process.argv[2] ?? join(root, "docs", "api"));

/** Every non-private workspace package with a src/index.ts, in packages/ and conformance/. */
export function publishedPackages() {
  const dirs = [...readdirSync(join(root, "packages")).map((d) => join(root, "packages", d)), join(root, "conformance")];
  return dirs
    .filter((dir) => existsSync(join(dir, "package.json")) && existsSync(join(dir, "src", "index.ts")))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
    .filter(({ pkg }) => !pkg.private)
    .sort((a, b) => a.pkg.name.localeCompare(b.pkg.name));
}

const packages = publishedPackages();
const work = mkdtempSync(join(tmpdir(), "chainrule-typedoc-"));
const config = {
  plugin: ["typedoc-plugin-markdown"],
  entryPointStrategy: "packages",
  entryPoints: packages.map(({ dir }) => dir),
  packageOptions: {
    entryPoints: ["src/index.ts"],
    skipErrorChecking: true,
    excludePrivate: true,
    excludeInternal: true,
    excludeExternals: true,
  },
  out,
  readme: "none",
  disableSources: true,
  outputFileStrategy: "modules",
  name: "chainrule API reference",
  skipErrorChecking: true,
  hidePageHeader: true,
  hideBreadcrumbs: true,
  logLevel: "Error",
};
writeFileSync(join(work, "typedoc.json"), JSON.stringify(config, null, 2));
rmSync(out, { recursive: true, force: true });
const typedoc = join(here, "..", "node_modules", ".bin", "typedoc");
const result = spawnSync(typedoc, ["--options", join(work, "typedoc.json")], { stdio: "inherit", cwd: root });
rmSync(work, { recursive: true, force: true });
if (result.status !== 0) process.exit(result.status ?? 1);
console.log(`API reference for ${packages.map(({ pkg }) => pkg.name).join(", ")} written to ${relative(process.cwd(), out) || "."}`);
