#!/usr/bin/env node
// Checks the metadata of every published (non-private) workspace package, so that what ships is
// legally usable and points back here: MIT licence with the root LICENSE file beside it,
// repository/homepage/bugs/keywords, the root's Node range, CHANGELOG.md in `files`, and
// @chainrule/ir as a peer dependency (one copy of ir per app). Run by `npm test` (root `lint:code`).
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const rootPkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const license = readFileSync(join(root, "LICENSE"), "utf8");
const REPO = "https://github.com/chainrule/chainrule";
const dirs = [
  "packages/ir",
  "packages/forward",
  "packages/reverse",
  "packages/jit",
  "packages/wasm",
  "packages/optim",
  "packages/cli",
  "conformance",
];
const problems = [];
const check = (ok, dir, what) => {
  if (!ok) problems.push(`${dir}: ${what}`);
};

for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
  if (pkg.private) continue;
  check(pkg.license === "MIT", dir, `expected "license": "MIT", got ${JSON.stringify(pkg.license)}`);
  const copy = join(root, dir, "LICENSE");
  check(
    existsSync(copy) && readFileSync(copy, "utf8") === license,
    dir,
    `expected a LICENSE file identical to the root's (cp LICENSE ${dir}/)`,
  );
  check(
    pkg.repository?.url === `git+${REPO}.git` && pkg.repository?.directory === dir,
    dir,
    `expected repository { url: git+${REPO}.git, directory: ${dir} }`,
  );
  check(pkg.homepage === `${REPO}/tree/main/${dir}#readme`, dir, `expected homepage ${REPO}/tree/main/${dir}#readme`);
  check(pkg.bugs?.url === `${REPO}/issues`, dir, `expected bugs.url ${REPO}/issues`);
  check(Array.isArray(pkg.keywords) && pkg.keywords.includes("chainrule"), dir, "expected keywords including chainrule");
  check(
    pkg.engines?.node === rootPkg.engines.node,
    dir,
    `expected engines.node ${rootPkg.engines.node} (the root's), got ${pkg.engines?.node}`,
  );
  check(Array.isArray(pkg.files) && pkg.files.includes("CHANGELOG.md"), dir, "expected CHANGELOG.md in files");
  if (pkg.name !== "@chainrule/ir") {
    check(pkg.peerDependencies?.["@chainrule/ir"] === "workspace:^", dir, 'expected "@chainrule/ir": "workspace:^" in peerDependencies');
    check(pkg.devDependencies?.["@chainrule/ir"] === "workspace:^", dir, 'expected "@chainrule/ir": "workspace:^" in devDependencies');
    check(
      pkg.dependencies?.["@chainrule/ir"] === undefined,
      dir,
      "expected @chainrule/ir not in dependencies (two copies of ir break every engine)",
    );
  }
}
const changesets = JSON.parse(readFileSync(join(root, ".changeset", "config.json"), "utf8"));
const fixed = new Set((changesets.fixed ?? []).flat());
for (const dir of dirs) {
  const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
  if (!pkg.private) check(fixed.has(pkg.name), ".changeset/config.json", `expected ${pkg.name} in the fixed group`);
}
if (problems.length > 0) {
  console.error(`check-packages: ${problems.length} problem(s):\n${problems.join("\n")}`);
  process.exit(1);
}
console.log(`check-packages: ${dirs.length} published packages: licence, links, engines, files and peers are right`);
