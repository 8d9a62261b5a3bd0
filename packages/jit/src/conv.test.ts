/**
 * The convolution family (issue 18) in the JIT: generated JavaScript calls ir's window loops
 * (`rt_window`), so compiled values equal ir's eager values bitwise, derivatives included, and
 * standalone modules carry the loops' source.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ir from "@chainrule/ir";
import { bind, Random, type Params, type Tensor } from "@chainrule/ir";
import { afterEach, describe, expect, it } from "vitest";
import { configureKernels, emitModule, grad, jit } from "./index.js";

const P: Params<"conv"> = { strides: [2, 1], padding: [1, 0, 1, 1], lhsDilation: [1, 1], rhsDilation: [1, 2], groups: 2 };
const convLoss = (x: Tensor, w: Tensor) => ir.sum(ir.sin(bind("conv", [x, w], P)));
const rng = () => new Random(7);

afterEach(() => {
  configureKernels({ everyProgram: false });
});

describe("conv in the JIT", () => {
  it("compiled conv and its gradients equal the eager values bitwise", () => {
    const r = rng();
    const x = r.normal([2, 4, 5, 4]);
    const w = r.normal([6, 2, 3, 2]);
    expect(Array.from(jit((a: Tensor, b: Tensor) => bind("conv", [a, b], P))(x, w).data)).toEqual(Array.from(bind("conv", [x, w], P).data));
    const g = grad(convLoss, [0, 1]);
    const [gx, gw] = jit(g)(x, w) as [Tensor, Tensor];
    const [ex, ew] = g(x, w) as [Tensor, Tensor];
    expect(Array.from(gx.data)).toEqual(Array.from(ex.data));
    expect(Array.from(gw.data)).toEqual(Array.from(ew.data));
  });

  it("the WebAssembly program runs conv (interpreted by ir's kernel) with the same values", () => {
    configureKernels({ everyProgram: true });
    const r = rng();
    const x = r.normal([1, 2, 6, 5]);
    const w = r.normal([4, 1, 3, 3]);
    const f = (a: Tensor, b: Tensor) => ir.relu(bind("conv", [a, b], P));
    expect(Array.from(jit(f)(x, w).data)).toEqual(Array.from(f(x, w).data));
  });

  it("pooling and its derivatives compiled equal the eager values bitwise (both backends)", () => {
    const r = rng();
    const x = r.normal([2, 3, 6, 5]);
    const pool = (a: Tensor) =>
      ir.sum(
        ir.add(
          ir.sin(ir.maxPool(a, 2, { stride: 1, padding: [[0, 1], 1] })),
          ir.mul(ir.avgPool(a, [2, 2], { stride: 1, padding: [[0, 1], 1], countIncludePad: false }), 0.5),
        ),
      );
    const g = grad(pool);
    const want = Array.from((g(x) as Tensor).data);
    expect(Array.from((jit(g)(x) as Tensor).data)).toEqual(want);
    configureKernels({ everyProgram: true });
    expect(Array.from((jit(g)(x) as Tensor).data)).toEqual(want);
  });

  it("a standalone module embeds the window loops", () => {
    const x = rng().normal([1, 2, 5, 4]);
    const w = rng().normal([2, 1, 2, 2]);
    const source = emitModule(convLoss, [x, w], { emit: ["value"] });
    expect(source).toContain("const rt_window = ");
    const dir = mkdtempSync(join(tmpdir(), "chainrule-conv-"));
    const file = join(dir, "conv.mjs");
    writeFileSync(file, source);
    const script = `import { value } from ${JSON.stringify(file)}; console.log(JSON.stringify(value(...${JSON.stringify([
      Array.from(x.data),
      Array.from(w.data),
    ])}.map((a) => new Float64Array(a)))));`;
    const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script]).toString());
    expect(typeof out === "number" ? out : out[0]).toBeCloseTo(convLoss(x, w).item(), 12);
  });
});
