// Consumer smoke test, run by .ci/run inside a fresh npm project OUTSIDE the workspace where the
// tarballs made by `pnpm pack` were installed. Usage: node smoke.mjs @chainrule/ir @chainrule/...
// (the names of every publishable package). For each: it imports from the installed dist (never
// src). With @chainrule/ir: eager mul(add(3, 2), sub(3, 2)) is 5. With each engine present among
// forward/reverse/jit: grad((x, y) => mul(add(x, y), sub(x, y)), [0, 1])(3, 2) is [6, -4].
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

console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
