import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { add, mul, slice, sub, sum, tensor, tanh, matmul, max, type Tensor } from "@chainrule/ir";
import { emitModule, grad, jit, jvp, valueAndGrad } from "./index.js";

/** Imports the module text in a child node that forbids eval/new Function, runs `script` and returns its JSON output. */
function runIsolated(moduleText: string, script: string): unknown {
  const dir = mkdtempSync(join(tmpdir(), "chainrule-jit-"));
  writeFileSync(join(dir, "derivatives.mjs"), moduleText);
  writeFileSync(join(dir, "main.mjs"), `import * as m from "./derivatives.mjs";\n${script}\n`);
  const out = execFileSync(process.execPath, ["--disallow-code-generation-from-strings", join(dir, "main.mjs")], { encoding: "utf8" });
  return JSON.parse(out);
}

const seed = (x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y));
const rosen = (x: Tensor) => {
  const a = slice(x, [0], [-1]);
  const d = sub(slice(x, [1]), mul(a, a));
  return sum(add(mul(100, mul(d, d)), mul(sub(1, a), sub(1, a))));
};

describe("emitModule", () => {
  it("the seed function: value, gradient and jvp as a module with no imports, run without eval", () => {
    const text = emitModule(seed, [3, 2], { emit: ["value", "grad", "valueAndGrad", "jvp"], argnums: [0, 1] });
    expect(text).not.toMatch(/\bimport\b/);
    expect(text).not.toMatch(/new Function|eval\(/);
    const out = runIsolated(
      text,
      `console.log(JSON.stringify([m.value(3, 2), m.grad(3, 2), m.grad(10, 4), m.valueAndGrad(3, 2), m.jvp(3, 2, 1, 0)]));
try { new Function("return 1"); console.log("eval allowed"); } catch { }`,
    );
    expect(out).toEqual([5, [6, -4], [20, -8], [5, [6, -4]], [5, 6]]);
    expect(jvp(seed, [3, 2], [1, 0])).toEqual([5, 6]);
  });

  it("Rosenbrock gradient and an MLP-like function agree with the in-process JIT (f64 and f32)", () => {
    for (const dtype of ["float64", "float32"] as const) {
      const x = tensor([0.5, 1.5, -0.3, 2, 0.1], { dtype });
      const text = emitModule(rosen, [x]);
      const out = runIsolated(
        text,
        `const x = new ${dtype === "float64" ? "Float64Array" : "Float32Array"}([0.5, 1.5, -0.3, 2, 0.1]);
console.log(JSON.stringify([m.value(x), Array.from(m.grad(x))]));`,
      ) as [number, number[]];
      expect(out[0]).toBeCloseTo(jit(rosen)(x).item(), dtype === "float64" ? 10 : 3);
      expect(out[1]).toEqual(Array.from(grad(rosen)(x).data));
    }
    const w = tensor([
      [0.1, -0.2],
      [0.3, 0.4],
      [-0.5, 0.6],
    ]);
    const mlp = (w: Tensor, x: Tensor) => max(tanh(matmul(x, w)));
    const xs = tensor([[1, 2, 3]]);
    const text = emitModule(mlp, [w, xs], { emit: ["valueAndGrad"] });
    const out = runIsolated(
      text,
      `const r = m.valueAndGrad(new Float64Array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]), new Float64Array([1, 2, 3]));
console.log(JSON.stringify([r[0], Array.from(r[1])]));`,
    ) as [number, number[]];
    const [v, g] = valueAndGrad(mlp)(w, xs);
    expect(out[0]).toBeCloseTo(v.item(), 14);
    expect(out[1]).toEqual(Array.from(g.data));
  });

  it("grad and valueAndGrad take every argument, the non-differentiated ones too (none is baked in from the example)", () => {
    const argnumsList = [0, 1, [0, 1]] as const;
    const points = [
      [3, 5],
      [3, 2],
      [-1.5, 0.25],
      [7, -4],
    ];
    const texts = argnumsList.map((argnums) => emitModule(seed, [3, 2], { emit: ["value", "grad", "valueAndGrad"], argnums }));
    const dir = mkdtempSync(join(tmpdir(), "chainrule-jit-"));
    texts.forEach((t, i) => writeFileSync(join(dir, `m${i}.mjs`), t));
    writeFileSync(
      join(dir, "main.mjs"),
      `const points = ${JSON.stringify(points)};
const out = [];
for (let i = 0; i < ${texts.length}; i++) {
  const m = await import("./m" + i + ".mjs");
  out.push(points.map(([x, y]) => [m.value(x, y), m.grad(x, y), m.valueAndGrad(x, y)]));
}
console.log(JSON.stringify(out));`,
    );
    const out = JSON.parse(execFileSync(process.execPath, [join(dir, "main.mjs")], { encoding: "utf8" })) as unknown[][][];
    // the example: emitted with [3, 2], called at (3, 5)
    expect(out[0]![0]).toEqual([-16, 6, [-16, 6]]);
    argnumsList.forEach((argnums, i) => {
      points.forEach(([x, y], k) => {
        const [value, gradient] = valueAndGrad(seed, argnums)(x!, y!) as [number, unknown];
        expect(out[i]![k]).toEqual([value, grad(seed, argnums)(x!, y!), [value, gradient]]);
      });
    });
  });
});
