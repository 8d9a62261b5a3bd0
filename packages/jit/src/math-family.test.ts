/**
 * The math family (issue 17) in the JIT: generated JavaScript, the WebAssembly executor's
 * JavaScript loops, and standalone modules all call ir's one implementation of the special
 * functions (`rt_special`), and derivatives of special functions are right to high precision.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ir from "@chainrule/ir";
import { tensor, type Tensor } from "@chainrule/ir";
import { afterEach, describe, expect, it } from "vitest";
import { configureKernels, emitModule, grad, jit } from "./index.js";

// every elementwise op of the family, in one program
const everything = (x: Tensor) => {
  const u = ir.mul(ir.tanh(x), 0.8);
  const p = ir.add(ir.mul(x, x), 1.2);
  return ir.stack([
    ir.asin(u),
    ir.acos(u),
    ir.atan(x),
    ir.sinh(x),
    ir.cosh(x),
    ir.asinh(x),
    ir.acosh(p),
    ir.atanh(u),
    ir.erf(x),
    ir.erfc(x),
    ir.erfinv(u),
    ir.lgamma(p),
    ir.digamma(p),
    ir.polygamma(2, p),
    ir.log2(p),
    ir.log10(p),
    ir.exp2(x),
    ir.cbrt(x),
    ir.floor(x),
    ir.ceil(x),
    ir.round(x),
    ir.trunc(x),
    ir.fmod(x, 0.7),
    ir.remainder(x, -0.7),
    ir.hypot(x, p),
    ir.floorDivide(x, 0.7),
    ir.gelu(x),
  ]);
};
const points = () => tensor([-2.5, -1.3, -0.5, 0.25, 0.5, 1.5, 2.5]);

afterEach(() => {
  configureKernels({ everyProgram: false });
});

describe("the math family in the JIT", () => {
  it("generated JavaScript gives bitwise ir's eager values in float64, and float32 values to its precision", () => {
    const x = points();
    expect(Array.from(jit(everything)(x).data)).toEqual(Array.from(everything(x).data));
    // float32 keeps intermediates in float64 registers unless exactFloat32 is set
    const x32 = ir.astype(x, "float32");
    const got = Array.from(jit(everything)(x32).data);
    Array.from(everything(x32).data).forEach((want, i) =>
      expect(Math.abs(got[i]! - want)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want))),
    );
  });

  it("the WebAssembly executor's JavaScript loops give the same values", () => {
    configureKernels({ everyProgram: true });
    const x = points();
    expect(Array.from(jit(everything)(x).data)).toEqual(Array.from(everything(x).data));
  });

  it("compiled derivatives of special functions match mpmath to 1e-12 relative", () => {
    // d lgamma = digamma, d² lgamma = trigamma; erfinv′ = (√π/2)·e^{erfinv²}
    const d1 = grad((x: Tensor) => ir.lgamma(x));
    const d2 = grad(grad((x: Tensor) => ir.lgamma(x)));
    const e1 = grad((x: Tensor) => ir.erfinv(x));
    const rel = (got: unknown, want: number) => Math.abs((got as number) - want) / Math.abs(want);
    expect(rel(d1(2.5), 0.7031566406452432)).toBeLessThan(1e-12);
    expect(rel(d2(2.5), 0.49035775610023485)).toBeLessThan(1e-12);
    expect(rel(d2(-1.3), 14.53687624413708)).toBeLessThan(1e-12);
    expect(rel(e1(0.9), 3.428042811451841)).toBeLessThan(1e-12);
  });

  it("emitModule embeds ir's special functions: a standalone module without eval gives the JIT's values", () => {
    const f = (x: Tensor) => ir.sum(ir.add(ir.erfinv(ir.mul(ir.tanh(x), 0.5)), ir.lgamma(ir.add(ir.mul(x, x), 0.5))));
    const x = tensor([0.3, -1.2, 2]);
    const text = emitModule(f, [x]);
    expect(text).toContain("const rt_special = ");
    const dir = mkdtempSync(join(tmpdir(), "chainrule-jit-math-"));
    writeFileSync(join(dir, "m.mjs"), text);
    writeFileSync(
      join(dir, "main.mjs"),
      `import * as m from "./m.mjs";\nconst x = new Float64Array([0.3, -1.2, 2]);\n` +
        "console.log(JSON.stringify([m.value(x), Array.from(m.grad(x))]));\n",
    );
    const out = JSON.parse(
      execFileSync(process.execPath, ["--disallow-code-generation-from-strings", join(dir, "main.mjs")], { encoding: "utf8" }),
    ) as [number, number[]];
    expect(out[0]).toBe(jit(f)(x).item());
    expect(out[1]).toEqual(Array.from(grad(f)(x).data));
  });
});
