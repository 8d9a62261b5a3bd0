/**
 * Where the host refuses `new Function` (a CSP without 'unsafe-eval'; here node's
 * --disallow-code-generation-from-strings), the JIT throws a CodeGenerationError naming the cause
 * and the ways out, and the interpreter still computes the same transformations.
 */
import { CodeGenerationError, ChainruleError } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { runNode } from "./__tests__/node.js";
import { codeGenerationRefused } from "./build.js";

const SCRIPT = `
import { add, matmul, mul, sub, sum, tanh, tensor, CodeGenerationError } from "@chainrule/ir";
import { grad, jit, interpreter, emitModule } from "@chainrule/jit";
const out = {};
const seed = (x, y) => mul(add(x, y), sub(x, y));
const attempts = {
  grad: () => grad(seed, [0, 1])(3, 2),
  jit: () => jit((x) => tanh(x))(tensor([1, 2])),
  // on the WebAssembly kernels, with a step that runs as a generated JavaScript loop (f64 tanh)
  kernels: () => jit((a, b) => tanh(matmul(a, b)))(square, square),
};
const square = tensor(new Float64Array(64 * 64), { shape: [64, 64] });
for (const [name, f] of Object.entries(attempts)) {
  try {
    f();
    out[name] = "no error";
  } catch (e) {
    out[name] = { name: e.name, code: e.code, isClass: e instanceof CodeGenerationError, message: e.message };
  }
}
// a program of kernels only needs no generated JavaScript: it runs
out.gemmOnly = jit((a, b) => matmul(a, b))(square, square).shape;
out.interpreter = interpreter.grad(seed, [0, 1])(3, 2);
out.emitModule = emitModule(seed, [3, 2]).length > 0;
console.log(JSON.stringify(out));
`;

describe("code generation refused (CSP without 'unsafe-eval')", () => {
  it("jit throws a CodeGenerationError with the cause and the ways out; the interpreter and emitModule still work", () => {
    const run = runNode(SCRIPT, { flags: ["--disallow-code-generation-from-strings"] });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as Record<string, { name: string; code: string; isClass: boolean; message: string }>;
    for (const name of ["grad", "jit", "kernels"]) {
      const e = out[name]!;
      expect(e.name).toBe("CodeGenerationError");
      expect(e.code).toBe("CODE_GENERATION");
      expect(e.isClass).toBe(true);
      expect(e.message).toMatch(
        /^jit: expected to build the generated code with new Function, got a refusal from this environment \(EvalError: /,
      );
      expect(e.message).toMatch(/'unsafe-eval'/);
      expect(e.message).toMatch(/emitModule\(f, exampleArgs\)/);
      expect(e.message).toMatch(/@chainrule\/forward or @chainrule\/reverse/);
      expect(e.message).toMatch(/interpreter exported by @chainrule\/jit/);
    }
    expect(out.interpreter).toEqual([6, -4]);
    expect(out.gemmOnly).toEqual([64, 64]);
    expect(out.emitModule).toBe(true);
  }, 60_000);

  it("is a named ir error class with a stable code", () => {
    const e = new CodeGenerationError(codeGenerationRefused(new EvalError("Code generation from strings disallowed for this context")));
    expect(e).toBeInstanceOf(ChainruleError);
    expect(e.name).toBe("CodeGenerationError");
    expect(e.code).toBe("CODE_GENERATION");
    expect(e.message).toContain("(EvalError: Code generation from strings disallowed for this context)");
  });

  it("puts a multi-line browser message on one line (Chromium's CSP EvalError ends with a newline)", () => {
    const chromium = new EvalError("Evaluating a string as JavaScript violates ... directive: script-src 'self'\".\n");
    const message = codeGenerationRefused(chromium);
    expect(message).not.toContain("\n");
    expect(message).toContain(`(EvalError: Evaluating a string as JavaScript violates ... directive: script-src 'self'".): `);
  });
});
