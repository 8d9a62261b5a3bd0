/**
 * Two copies of @chainrule/ir in one app, for real: ir is built twice (as 0.2.0 and as 0.1.0, its
 * version written by its own scripts/write-version.mjs) and reverse once, then installed side by
 * side in a scratch project — ir 0.2.0 at the top level, reverse bringing its own ir 0.1.0 — and
 * run with node. The first use must throw one DuplicateIrError naming both versions and folders
 * and how to dedupe; with one copy (the control) the same app works. Builds with tsc (--noCheck:
 * type checking is `typecheck`'s job), so it takes a while on a loaded machine.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const irDir = dirname(require.resolve("@chainrule/ir/package.json"));
const reverseDir = dirname(require.resolve("@chainrule/reverse/package.json"));
const baseConfig = join(irDir, "..", "..", "tsconfig.base.json");
const typesNode = realpathSync(dirname(require.resolve("@types/node/package.json")));
const tsc = require.resolve("typescript/bin/tsc");

interface Manifest {
  version: string;
  exports: unknown;
  publishConfig: { exports: unknown };
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

/** Copies ir into `tree/packages/ir` at `version`, writes src/version.ts with its own script and builds dist. */
async function buildIr(tree: string, version: string): Promise<string> {
  const dir = join(tree, "packages", "ir");
  for (const part of ["src", "scripts", "tsconfig.build.json"]) cpSync(join(irDir, part), join(dir, part), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ ...readManifest(irDir), version }, null, 2));
  cpSync(baseConfig, join(tree, "tsconfig.base.json"));
  mkdirSync(join(tree, "node_modules", "@types"), { recursive: true });
  symlinkSync(typesNode, join(tree, "node_modules", "@types", "node"), "dir");
  await run(process.execPath, [join(dir, "scripts", "write-version.mjs")]);
  await run(process.execPath, [tsc, "-p", join(dir, "tsconfig.build.json"), "--noCheck", "--declaration", "false"]);
  return dir;
}

/** Installs a built package into `modules` as npm would: its dist and its published manifest. */
function install(modules: string, name: string, built: string, dist = join(built, "dist")): string {
  const target = join(modules, "@chainrule", name);
  mkdirSync(target, { recursive: true });
  cpSync(dist, join(target, "dist"), { recursive: true });
  const pkg = readManifest(built);
  writeFileSync(join(target, "package.json"), JSON.stringify({ ...pkg, exports: pkg.publishConfig.exports }, null, 2));
  return target;
}

// Each use is tried on its own and reported: its error's name and message, or its result. Before
// them, the app's ir registry module is evaluated again (a new module instance: same version and
// folder, as under a test runner's module isolation), which must not count as another copy.
const APP = `
import { add, mul, sub } from "@chainrule/ir";
import { grad, jvp } from "@chainrule/reverse";

const f = (x, y) => mul(add(x, y), sub(x, y));
const plain = (v) => (typeof v === "number" ? v : v.item());
const attempt = (use) => {
  try {
    const value = use();
    return { value: Array.isArray(value) ? value.map(plain) : plain(value) };
  } catch (error) {
    return { error: error.name + ": " + error.message };
  }
};
const registry = new URL("copies.js", import.meta.resolve("@chainrule/ir")).href;
const reloaded = await import(registry + "?evaluated-again");
console.log(JSON.stringify({
  grad: attempt(() => grad(f, [0, 1])(3, 2)),
  add: attempt(() => add(3, 2)),
  jvp: attempt(() => jvp((x) => x, [3], [1])),
  reloaded: attempt(() => (reloaded.checkOneCopy("reloaded"), 0)),
}));
`;

describe("two copies of @chainrule/ir in one app", () => {
  let root = "";
  let app = "";
  let control = "";
  beforeAll(async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), "chainrule-two-irs-")));
    const reverseDist = join(root, "reverse-dist");
    const reverseBuild = ["-p", join(reverseDir, "tsconfig.build.json"), "--outDir", reverseDist, "--noCheck", "--declaration", "false"];
    const [ir2, ir1] = await Promise.all([
      buildIr(join(root, "ir-0.2.0"), "0.2.0"),
      buildIr(join(root, "ir-0.1.0"), "0.1.0"),
      run(process.execPath, [tsc, ...reverseBuild]),
    ]);
    app = join(root, "app");
    control = join(root, "control");
    for (const project of [app, control]) {
      const modules = join(project, "node_modules");
      install(modules, "ir", ir2);
      const reverse = install(modules, "reverse", reverseDir, reverseDist);
      if (project === app) install(join(reverse, "node_modules"), "ir", ir1);
      writeFileSync(join(project, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
      writeFileSync(join(project, "app.mjs"), APP);
    }
  }, 300_000);
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  async function runApp(project: string): Promise<Record<string, { value?: unknown; error?: string }>> {
    const { stdout } = await run(process.execPath, ["app.mjs"], { cwd: project });
    return JSON.parse(stdout) as Record<string, { value?: unknown; error?: string }>;
  }

  it("the first use of either copy throws one error naming both versions, both folders and how to dedupe", async () => {
    const out = await runApp(app);
    const top = `${app}/node_modules/@chainrule/ir/dist`;
    const nested = `${app}/node_modules/@chainrule/reverse/node_modules/@chainrule/ir/dist`;
    const copies = "expected one copy of @chainrule/ir in this process, got two: ";
    // add is the app's ir 0.2.0; jvp reverse's own ir 0.1.0 (through defineEngine); grad's first
    // use of ir is reverse's tape or the add inside f, whichever runs first: either names both
    expect(out["add"]!.error).toContain(`DuplicateIrError: add: ${copies}0.2.0 at ${top} (this error comes from it); 0.1.0 at ${nested}.`);
    expect(out["jvp"]!.error).toContain(`DuplicateIrError: jvp: ${copies}0.2.0 at ${top}; 0.1.0 at ${nested} (this error comes from it).`);
    expect(out["grad"]!.error).toMatch(/^DuplicateIrError: \w+: expected one copy of @chainrule\/ir in this process, got two: 0\.2\.0 at /);
    for (const use of ["grad", "add", "jvp"]) {
      expect(out[use]!.error).toContain(`0.2.0 at ${top}`);
      expect(out[use]!.error).toContain(`0.1.0 at ${nested}`);
      expect(out[use]!.error).toContain("`npm ls @chainrule/ir`");
      expect(out[use]!.error).toContain("`npm dedupe`");
      expect(out[use]!.error).not.toMatch(/expected a number|got (reverse tracer|Tensor)/);
    }
  }, 120_000);

  it("with one copy the same app works, and that copy evaluated again (same version and folder) is tolerated", async () => {
    const out = await runApp(control);
    expect(out).toEqual({ grad: { value: [6, -4] }, add: { value: 5 }, jvp: { value: [3, 1] }, reloaded: { value: 0 } });
  }, 120_000);
});
