// Consumer smoke test, run by .ci/run inside a fresh npm project OUTSIDE the workspace where the
// tarballs made by `pnpm pack` were installed. Usage: node smoke.mjs @chainrule/ir @chainrule/...
// (the names of every publishable package). For each: it imports from the installed dist (never
// src). With @chainrule/ir: eager mul(add(3, 2), sub(3, 2)) is 5. With each engine present among
// forward/reverse/jit: grad((x, y) => mul(add(x, y), sub(x, y)), [0, 1])(3, 2) is [6, -4].
// With @chainrule/conformance: the project has no vitest, and the library runs without it —
// checkGrads and runConformance (two groups) on reverse, compareEngines on the engines present;
// its ./vitest subpath resolves to dist.
// Ends with "smoke: N passed, N failed"; exits 1 if any check failed.
const names = process.argv.slice(2);
const ENGINES = ["@chainrule/forward", "@chainrule/reverse", "@chainrule/jit"];

let passed = 0;
let failed = 0;

async function check(label, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok   ${label}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${label}\n     ${String(error?.stack ?? error).replaceAll("\n", "\n     ")}`);
  }
}

/** A JS number, or a Tensor/array-like of numbers, as plain JS numbers (nested arrays kept). */
function plain(value) {
  if (typeof value === "number") return value;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    if (typeof value.toArray === "function") return plain(value.toArray());
    if (typeof value.item === "function") return value.item();
  }
  throw new Error(`expected a number, a Tensor or an array of them, got ${describe(value)}`);
}

function describe(value) {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function close(actual, expected) {
  if (typeof expected === "number") {
    return typeof actual === "number" && Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
  }
  return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => close(actual[i], e));
}

function expectClose(what, actual, expected) {
  const got = plain(actual);
  if (!close(got, expected)) throw new Error(`${what}: expected ${describe(expected)}, got ${describe(got)}`);
}

const modules = new Map();
for (const name of names) {
  await check(`import ${name} (from its published dist)`, async () => {
    const resolved = import.meta.resolve(name);
    if (!resolved.includes("/node_modules/") || resolved.includes("/src/")) {
      throw new Error(`${name} resolved to ${resolved}, expected a file under node_modules/${name}/dist`);
    }
    modules.set(name, await import(name));
  });
}

const ir = modules.get("@chainrule/ir");
if (ir) {
  await check("@chainrule/ir: mul(add(3, 2), sub(3, 2)) = 5", () => {
    const { add, sub, mul } = ir;
    expectClose("mul(add(3, 2), sub(3, 2))", mul(add(3, 2), sub(3, 2)), 5);
  });
}

for (const engineName of ENGINES) {
  const engine = modules.get(engineName);
  if (!engine) continue;
  await check(`${engineName}: grad((x, y) => mul(add(x, y), sub(x, y)), [0, 1])(3, 2) = [6, -4]`, async () => {
    const { add, sub, mul } = ir ?? (await import("@chainrule/ir"));
    if (typeof engine.grad !== "function") throw new Error(`${engineName} exports no function "grad"`);
    const f = (x, y) => mul(add(x, y), sub(x, y));
    expectClose("grad(f, [0, 1])(3, 2)", engine.grad(f, [0, 1])(3, 2), [6, -4]);
  });
}

const conformance = modules.get("@chainrule/conformance");
const reverse = modules.get("@chainrule/reverse");
if (conformance) {
  await check("no vitest in this project: @chainrule/conformance must work without a test runner", async () => {
    const found = await import("vitest").then(
      () => true,
      (error) => (error?.code === "ERR_MODULE_NOT_FOUND" ? false : Promise.reject(error)),
    );
    if (found) throw new Error("vitest is installed here, so this smoke test cannot show that conformance works without it");
  });
  await check("@chainrule/conformance/vitest resolves to its published dist", () => {
    const resolved = import.meta.resolve("@chainrule/conformance/vitest");
    if (!resolved.endsWith("/node_modules/@chainrule/conformance/dist/vitest.js")) throw new Error(`resolved to ${resolved}`);
  });
}
if (conformance && reverse && ir) {
  const { mul, sum, tanh, tensor } = ir;
  await check("@chainrule/conformance: checkGrads(reverse, x => sum(tanh(x·x)), order 2) passes", () => {
    conformance.checkGrads(reverse.engine, (x) => sum(tanh(mul(x, x))), [tensor([0.5, -1, 2])], { order: 2 });
  });
  for (const group of ["seed", "nesting"]) {
    await check(`@chainrule/conformance: runConformance(reverse, { groups: ["${group}"] }) passes`, () => {
      const results = conformance.runConformance(reverse.engine, { groups: [group] });
      const bad = results.filter((r) => r.status !== "pass");
      if (results.length === 0) throw new Error(`no cases in group "${group}"`);
      if (bad.length > 0) throw new Error(bad.map((r) => `${r.name}: ${r.status} ${r.reason ?? r.error}`).join("\n"));
    });
  }
}
const engines = ENGINES.map((name) => modules.get(name)?.engine).filter((engine) => engine !== undefined);
if (conformance && engines.length > 0) {
  const names = engines.map((engine) => engine.name).join(", ");
  await check(`@chainrule/conformance: compareEngines([${names}]) finds no disagreement with each other or eager`, () => {
    const report = conformance.compareEngines(engines, { graphs: 2 });
    if (report.cases < 100) throw new Error(`expected the per-op cases and 2 graphs, got ${report.cases} cases`);
    if (report.first) throw new Error(conformance.formatDisagreement(report.first));
  });
}

console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
