/**
 * @chainrule/conformance as a plain library: its built main entry imports and runs checkGrads,
 * runConformance and compareEngines in a scratch project where `vitest` cannot be resolved, and
 * only the `./vitest` subpath needs it. Builds ir and this package with tsc into a temp dir
 * (type checking is `typecheck`'s job: --noCheck), so it takes a while on a loaded machine.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const conformanceDir = dirname(here);
const irDir = dirname(require.resolve("@chainrule/ir/package.json"));
const tsc = require.resolve("typescript/bin/tsc");

interface Manifest {
  exports: unknown;
  publishConfig: { exports: unknown };
}

/** package.json as `pnpm pack` publishes it: publishConfig.exports replaces exports (no source condition). */
function writePublishedManifest(from: string, to: string): void {
  const pkg = JSON.parse(readFileSync(join(from, "package.json"), "utf8")) as Manifest;
  writeFileSync(join(to, "package.json"), JSON.stringify({ ...pkg, exports: pkg.publishConfig.exports }, null, 2));
}

/** The bare specifiers (packages) reachable from `entry` through its relative imports, in emitted JS. */
function packagesImportedFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)) {
      const specifier = match[1]!;
      if (specifier.startsWith(".")) visit(join(dirname(file), specifier));
      else packages.add(specifier);
    }
  };
  visit(entry);
  return packages;
}

const SCRIPT = `
import { checkGrads, compareEngines, runConformance } from "@chainrule/conformance";
import { mul, sum, tanh, tensor } from "@chainrule/ir";
import { forwardEngine, reverseEngine } from "./node_modules/@chainrule/conformance/dist/__tests__/reference.js";

const failure = async (load) => load().then(() => "loaded", (error) => String(error.code) + ": " + error.message);
const out = { vitest: await failure(() => import("vitest")), subpath: await failure(() => import("@chainrule/conformance/vitest")) };
checkGrads(reverseEngine(), (x) => sum(tanh(mul(x, x))), [tensor([0.5, -1, 2])], { order: 2 });
out.checkGrads = "passed";
const results = runConformance(reverseEngine(), { groups: ["per-op"], match: /^(sin|tanh) / });
out.conformance = { pass: 0, fail: 0, skip: 0 };
for (const r of results) out.conformance[r.status] += 1;
const report = compareEngines([forwardEngine(), reverseEngine()], { graphs: 2 });
out.compare = { cases: report.cases, disagreements: report.disagreements.length };
console.log(JSON.stringify(out));
`;

describe("the built main entry needs no test runner", () => {
  let project = "";
  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), "chainrule-plain-"));
    const modules = join(project, "node_modules");
    const ir = join(modules, "@chainrule", "ir");
    const conformance = join(modules, "@chainrule", "conformance");
    mkdirSync(ir, { recursive: true });
    mkdirSync(conformance, { recursive: true });
    // this package's build, plus src/__tests__/reference.ts (the reference engines the script runs)
    const config = join(project, "tsconfig.conformance.json");
    const build = join(conformanceDir, "tsconfig.build.json");
    const options = { outDir: join(conformance, "dist"), rootDir: join(conformanceDir, "src"), declaration: false, types: [] };
    const files = { include: [join(conformanceDir, "src")], exclude: [join(conformanceDir, "src", "**", "*.test.ts")] };
    writeFileSync(config, JSON.stringify({ extends: build, compilerOptions: options, ...files }));
    const irBuild = ["-p", join(irDir, "tsconfig.build.json"), "--outDir", join(ir, "dist"), "--declaration", "false"];
    await Promise.all([run(process.execPath, [tsc, ...irBuild, "--noCheck"]), run(process.execPath, [tsc, "-p", config, "--noCheck"])]);
    writePublishedManifest(irDir, ir);
    writePublishedManifest(conformanceDir, conformance);
    symlinkSync(realpathSync(dirname(require.resolve("fast-check/package.json"))), join(modules, "fast-check"), "dir");
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
    writeFileSync(join(project, "run.mjs"), SCRIPT);
  }, 300_000);
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("imports only @chainrule/ir and fast-check from its main entry; vitest only from ./vitest", () => {
    const dist = join(project, "node_modules", "@chainrule", "conformance", "dist");
    expect([...packagesImportedFrom(join(dist, "index.js"))].sort()).toEqual(["@chainrule/ir", "fast-check"]);
    expect(packagesImportedFrom(join(dist, "vitest.js")).has("vitest")).toBe(true);
  });

  it("runs checkGrads, runConformance and compareEngines where vitest cannot be resolved", async () => {
    const { stdout } = await run(process.execPath, ["run.mjs"], { cwd: project });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    // the scratch project really lacks vitest, and the subpath is the one that needs it
    expect(out["vitest"]).toMatch(/^ERR_MODULE_NOT_FOUND: .*'vitest'/);
    expect(out["subpath"]).toMatch(/^ERR_MODULE_NOT_FOUND: Cannot find package 'vitest' imported from .*dist\/vitest\.js/);
    expect(out["checkGrads"]).toBe("passed");
    expect(out["conformance"]).toEqual({ pass: expect.any(Number), fail: 0, skip: 0 });
    expect((out["conformance"] as { pass: number }).pass).toBeGreaterThanOrEqual(8);
    expect(out["compare"]).toEqual({ cases: expect.any(Number), disagreements: 0 });
    expect((out["compare"] as { cases: number }).cases).toBeGreaterThan(100);
  }, 300_000);
});
