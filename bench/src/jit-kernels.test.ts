// The jit's WebAssembly kernel rows: they build, their answers pass the same check as every row
// on tiny variants (large enough for the kernels: m·n·k ≥ 4096), they say which settings ran,
// the FMA child reports its flag state, and the ceiling and target tables read rows right.
// No timing assertions.
import { describe, expect, it } from "vitest";
import { mul, type Tensor } from "@chainrule/ir";
import * as jitPackage from "@chainrule/jit";
import { childImplementation, fromChildRow, runChild, type ChildRow } from "./children.js";
import { handWritten } from "./impls/hand.js";
import { engineImplementation, type EnginePackage } from "./impls/chainrule.js";
import { fmaInEffect, jitKernelImplementations, wholeStepTrainer } from "./impls/jit-kernels.js";
import { FMA_FLAG, kernelRowSettings, kernelSettings, programFact } from "./impls/jit-program.js";
import { measurePeaks, type Peak } from "./peak.js";
import { ceilingShareTable, kernelSummaryTable, shareOfCeiling } from "./report.js";
import { runVariant, type Row } from "./run.js";
import type { TimingOptions } from "./timing.js";
import {
  cnnVariant,
  convVariant,
  matmulVariant,
  mlpVariant,
  rosenbrockVariants,
  seedVariant,
  specOf,
  type Implementation,
  type MlpVariant,
  type Variant,
} from "./workloads.js";
import { cnnInput, convInput, mlpInput } from "./data.js";

const fast: TimingOptions = { warmupMs: 1, warmupCalls: 1, sampleMs: 0.5, rounds: 2, caseBudgetMs: 5, minRounds: 2 };
const jit: EnginePackage & { engine: typeof jitPackage.engine } = {
  id: "jit",
  packageName: "@chainrule/jit",
  module: jitPackage as unknown as Record<string, unknown>,
  engine: jitPackage.engine,
};
/** 16·64·32 and 24³ are above the kernels' threshold (m·n·k ≥ 4096). */
const tinyMlp = () => mlpVariant(mlpInput(16, 64, 32, 5));

describe("jit kernel rows", () => {
  const impls = jitKernelImplementations(jit);
  // Node 20 without the flag: no relaxed SIMD, so the rows here are jit-1t and jit-2t
  const fma = fmaInEffect(jitPackage);
  const kernels = (threads: number) => `kernels: ${threads} thread${threads > 1 ? "s" : ""}, ${fma ? "FMA" : "no FMA"}`;
  const ids = fma ? ["jit-fma-1t", "jit-fma-2t"] : ["jit-1t", "jit-2t"];

  it("are jit-1t and jit-2t where relaxed SIMD is off (jit-fma-… where FMA is in effect)", () => {
    expect(fma).toBe(jitPackage.kernelInfo().relaxedFma);
    const labels = fma
      ? ["chainrule jit, FMA flag, 1 thread", "chainrule jit, FMA flag, 2 threads"]
      : ["chainrule jit, 1 thread", "chainrule jit, 2 threads"];
    expect(impls.map((i) => [i.id, i.label])).toEqual([
      [ids[0], labels[0]],
      [ids[1], labels[1]],
    ]);
  });

  it("compile the whole W3 step and pass the check with the gradient it applied, on 1 and 2 threads", async () => {
    const rows = await runVariant(tinyMlp(), [handWritten, ...impls], fast);
    expect(rows.map((r) => `${r.impl.id} ${r.status}`)).toEqual(["hand ok", `${ids[0]} ok`, `${ids[1]} ok`]);
    expect(rows[1]!.label).toBe(`chainrule jit, whole step jitted, params donated, ${fma ? "FMA flag, " : ""}1 thread`);
    expect(rows[1]!.note).toMatch(/^max rel\. error [^;]*; kernels: 1 thread/);
    expect(rows[1]!.note.endsWith(kernels(1))).toBe(true);
    expect(rows[2]!.label).toBe(`chainrule jit, whole step jitted, params donated, ${fma ? "FMA flag, " : ""}2 threads`);
    expect(rows[2]!.note.endsWith(kernels(2))).toBe(true);
  });

  it("W3: a step that applies a wrong gradient is FAILED by the same check", async () => {
    // an engine whose gradients are twice the true ones, compiled into the whole step like the real one
    const doubled = {
      ...jitPackage.engine,
      valueAndGrad: ((f: never, argnums: never) => {
        const vg = jitPackage.engine.valueAndGrad(f, argnums);
        return (...args: unknown[]) => {
          const [loss, g] = (vg as unknown as (...a: unknown[]) => [Tensor, Record<string, Tensor>])(...args);
          return [loss, Object.fromEntries(Object.entries(g).map(([k, v]) => [k, mul(2, v)]))];
        };
      }) as typeof jitPackage.engine.valueAndGrad,
    };
    const wrong: Implementation = {
      id: "doubled",
      label: "doubled",
      group: "chainrule",
      build: (v) => wholeStepTrainer(doubled, jitPackage, v as MlpVariant, 1, false, "doubled"),
    };
    const rows = await runVariant(tinyMlp(), [wrong], fast);
    expect(rows[0]!.status).toBe("FAILED");
    expect(rows[0]!.note).toMatch(/wrong answer: output 1\[/);
  });

  it("compile W5's whole CNN step (conv kernels) and W6's conv, pass the check, on 1 and 2 threads", async () => {
    // batch 4, 8×8 images, 4 and 6 channels: the second conv's 4·6·64·36 multiply-adds are above the threshold
    for (const variant of [cnnVariant(cnnInput(4, 8, 4, 6, 5)), convVariant(convInput(2, 8, 10))]) {
      const rows = await runVariant(variant, [handWritten, ...impls], fast);
      expect(rows.map((r) => `${r.impl.id} ${r.status}`)).toEqual(["hand ok", `${ids[0]} ok`, `${ids[1]} ok`]);
      expect(rows.map((r) => r.note.replace(/^.*; /, ""))).toEqual([expect.any(String), kernels(1), kernels(2)]);
    }
  });

  it("run W4 on kernels in f32 and f64, and skip W1/W2 quietly", async () => {
    for (const dtype of ["float32", "float64"] as const) {
      const rows = await runVariant(matmulVariant(24, dtype), [handWritten, ...impls], fast);
      expect(rows.map((r) => `${r.impl.id} ${r.status}`)).toEqual(["hand ok", `${ids[0]} ok`, `${ids[1]} ok`]);
      expect(rows.map((r) => r.note.replace(/^.*; /, ""))).toEqual([expect.any(String), kernels(1), kernels(2)]);
    }
    for (const variant of [seedVariant(), ...rosenbrockVariants(10, "float64", ["grad"])] as Variant[]) {
      const rows = await runVariant(variant, [handWritten, ...impls], fast);
      expect(rows.map((r) => r.impl.id)).toEqual(["hand"]);
    }
  });

  it("the jit row's W3 keeps the eager update and says so; its W4 says which kernels ran", async () => {
    const row = engineImplementation(jit);
    const [w3] = await runVariant(tinyMlp(), [row], fast);
    expect(w3!.status).toBe("ok");
    expect(w3!.label).toBe("chainrule jit, valueAndGrad jitted, SGD update in eager ir");
    const [w4] = await runVariant(matmulVariant(24, "float32"), [row], fast);
    expect(w4!.note).toMatch(/; kernels: \d threads?, (no )?FMA$/);
  });
});

describe("what a compiled program ran", () => {
  it("reads the kernel header of .source", () => {
    const one = "// WebAssembly kernels: 21 kernel steps, 7 JavaScript loops, 0 reference steps, 1280 KiB, 1 thread\n// v6 = gemm";
    const two =
      "x\n// WebAssembly kernels: 3 kernel steps, 0 JavaScript loops, 0 reference steps, 1152 KiB shared, 2 threads, relaxed-SIMD FMA\n";
    expect(kernelSettings(one)).toEqual({ threads: 1, fma: false });
    expect(kernelSettings(two)).toEqual({ threads: 2, fma: true });
    expect(programFact(two)).toBe("kernels: 2 threads, FMA");
    expect(programFact("return function compiled(x0) {}")).toBe("generated JavaScript, no kernels");
    expect(kernelRowSettings("jit-fma-2t")).toEqual({ threads: 2, fma: true });
    expect(kernelRowSettings("jit")).toBeUndefined();
  });
});

describe("the FMA child", () => {
  const spec = JSON.stringify(specOf(matmulVariant(24, "float32")));
  const ids = "jit-fma-1t,jit-fma-2t";

  it(`started with ${FMA_FLAG}, reports the flag, relaxed SIMD detected, and FMA rows that pass the check`, () => {
    const r = runChild(["kernels", spec, JSON.stringify(fast), ids], 120_000, {}, [FMA_FLAG]);
    expect(r.error).toBeUndefined();
    const v = r.value!;
    expect(v["flag"]).toBe(true);
    expect(v["relaxedFma"]).toBe(true);
    const rows = (v["rows"] as ChildRow[]).map((row) => fromChildRow(row, matmulVariant(24, "float32")));
    expect(rows.map((row) => `${row.impl.id} ${row.impl.label} ${row.status}`)).toEqual([
      "jit-fma-1t chainrule jit, FMA flag, 1 thread ok",
      "jit-fma-2t chainrule jit, FMA flag, 2 threads ok",
    ]);
    expect(rows.map((row) => row.note.replace(/^.*; /, ""))).toEqual(["kernels: 1 thread, FMA", "kernels: 2 threads, FMA"]);
  });

  it("without the flag, reports it and says why there are no FMA rows when relaxed SIMD is off", () => {
    const r = runChild(["kernels", spec, JSON.stringify(fast), ids], 120_000);
    const v = r.value!;
    expect(v["flag"]).toBe(false);
    expect(typeof v["relaxedFma"]).toBe("boolean");
    // Node 20 has relaxed SIMD only behind the flag: no FMA rows, and the reason
    expect(v["rows"] !== undefined).toBe(v["relaxedFma"]);
    if (v["rows"] === undefined)
      expect(String(v["unsupported"])).toMatch(/kernelInfo\(\)\.relaxedFma is false .* without --experimental-wasm-relaxed-simd/);
  });

  it("measures the FMA ceiling loop on one and two threads", () => {
    const r = runChild(["peak", "fma", JSON.stringify({ iterations: 20_000, reps: 3 })], 120_000, {}, [FMA_FLAG]);
    const peaks = r.value?.["peaks"] as Peak[];
    expect(peaks.map((p) => `${p.dtype} ${p.loop} ${p.threads} ${p.gflops! > 0}`)).toEqual([
      "f32x4 fma 1 true",
      "f64x2 fma 1 true",
      "f32x4 fma 2 true",
      "f64x2 fma 2 true",
    ]);
  });
});

describe("the SIMD ceiling and the kernel summary", () => {
  it("measures the loops here; fma only with relaxed SIMD (else it says why)", async () => {
    const relaxed = jitPackage.kernelInfo().relaxedFma;
    const peaks = await measurePeaks(["add", "mul+add", "fma"], { iterations: 20_000, reps: 3 });
    expect(peaks.map((p) => `${p.dtype} ${p.loop} ${p.gflops !== undefined && p.gflops > 0}`)).toEqual([
      "f32x4 add true",
      "f32x4 mul+add true",
      `f32x4 fma ${relaxed}`,
      "f64x2 add true",
      "f64x2 mul+add true",
      `f64x2 fma ${relaxed}`,
    ]);
    if (!relaxed) expect(peaks.find((p) => p.loop === "fma")!.error).toMatch(/does not compile here/);
    const two = await measurePeaks(["mul+add"], { iterations: 20_000, reps: 3, threads: 2 });
    expect(two.every((p) => p.threads === 2 && p.gflops! > 0)).toBe(true);
  });

  // rows with chosen medians: W4 flops 2·256³ = 33.6 MFLOP, so 1 ms ↔ 33.6 GFLOP/s
  const peaks: Peak[] = [
    { dtype: "f32x4", loop: "mul+add", threads: 1, gflops: 38, best: 40 },
    { dtype: "f32x4", loop: "fma", threads: 1, gflops: 47, best: 50 },
    { dtype: "f64x2", loop: "mul+add", threads: 1, gflops: 19, best: 20 },
  ];
  const w4 = matmulVariant(8, "float32");
  const v4 = { ...w4, key: "W4 matmul f32", flops: 2 * 256 ** 3 };
  const w3 = tinyMlp();
  const row = (variant: Variant, id: string, label: string, median: number): Row => ({
    variant,
    impl: childImplementation(id, label),
    status: "ok",
    note: "",
    summary: { median, min: median, max: median, count: 3 },
  });
  const all = new Map<string, Row[]>([
    [
      "W4 matmul f32",
      [
        row(v4, "jit-1t", "chainrule jit, 1 thread", 1),
        row(v4, "jit-2t", "chainrule jit, 2 threads", 0.5),
        row(v4, "jit-fma-1t", "chainrule jit, FMA flag, 1 thread", 0.8),
        row(v4, "jit", "chainrule jit", 1),
      ],
    ],
    [
      "W3 step f32",
      [
        row(w3, "jit-1t", "chainrule jit, 1 thread", 0.7),
        row(w3, "jit-2t", "chainrule jit, 2 threads", 0.6),
        row(w3, "jax-jit", "jax-js jit", 1.6),
      ],
    ],
  ]);

  it("reads a GEMM row as a share of threads × the one-core tile loop, FMA rows against the FMA loop", () => {
    const share = (id: string) =>
      shareOfCeiling(
        all.get("W4 matmul f32")!.find((r) => r.impl.id === id),
        peaks,
      );
    expect(share("jit-1t")).toBeCloseTo(33.554432 / 40, 6);
    expect(share("jit-2t")).toBeCloseTo(67.108864 / 80, 6);
    expect(share("jit-fma-1t")).toBeCloseTo(41.94304 / 50, 6);
    expect(share("jit")).toBeUndefined(); // default settings: not read against a ceiling
    const table = ceilingShareTable(all, peaks, ["jit-1t", "jit-2t", "jit-fma-1t"]);
    expect(table).toContain("| chainrule jit, 2 threads | 2 | 67.1 | 84% of 80.0 | — | — |");
  });

  it("marks the issue's targets met or missed per thread count", () => {
    const table = kernelSummaryTable(all, peaks, [
      { id: "jit-1t", label: "jit, 1 thread" },
      { id: "jit-2t", label: "jit, 2 threads" },
      { id: "jax-jit", label: "jax-js jit" },
    ]);
    const line = (start: string) => table.split("\n").find((l) => l.startsWith(`| ${start}`))!;
    expect(line("W3 step")).toContain("| 700 µs ✓ | 600 µs ✗ | 1.60 ms |");
    expect(line("W3: jax-js")).toContain("| 2.29× ✓ | 2.67× | — |");
    expect(line("W4 f32 GFLOP/s")).toContain("| 33.6 ✗ | 67.1 ✓ | — |");
  });
});
