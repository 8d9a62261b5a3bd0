// GEMM speed (not a test): medians of many reps after warm-up.
// Run from the repo root: examples/node_modules/.bin/tsx packages/jit/bench/wasm-gemm.ts [filter]
import { ArenaPlan } from "@chainrule/wasm";
import { wasmFeatures } from "@chainrule/wasm";
import { gemmFunction, gemmKey, gemmScratchBytes, type GemmSpec } from "@chainrule/wasm";
import { instantiate, kernelModule } from "@chainrule/wasm";
import { setFlagsFromString } from "node:v8";

// --fma: enable relaxed SIMD (behind a flag in Node 20) before any kernel compiles
if (process.argv.includes("--fma")) setFlagsFromString("--experimental-wasm-relaxed-simd");

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** GFLOP/s at the median time and at the 10th-percentile time (the machine is shared and noisy). */
export function gemmGflops(spec: GemmSpec, reps = 101): { median: number; best10: number } {
  const { m, n, k, dtype } = spec;
  const size = dtype === "float32" ? 4 : 8;
  const plan = new ArenaPlan();
  const a = plan.reserve(m * k * size),
    b = plan.reserve(k * n * size),
    c = plan.reserve(m * n * size);
  const scratch = plan.reserve(gemmScratchBytes(spec));
  const arena = plan.create(false);
  const gemm = instantiate(
    kernelModule(gemmKey(spec), false, () => [gemmFunction(spec)]),
    arena.memory,
  )["gemm"]!;
  const A = dtype === "float32" ? arena.f32(a, m * k) : arena.f64(a, m * k);
  const B = dtype === "float32" ? arena.f32(b, k * n) : arena.f64(b, k * n);
  for (let i = 0; i < A.length; i++) A[i] = Math.sin(i);
  for (let i = 0; i < B.length; i++) B[i] = Math.cos(i);
  for (let w = 0; w < 30; w++) gemm(a, b, c, scratch);
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    gemm(a, b, c, scratch);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return { median: (2 * m * n * k) / (median(times) * 1e6), best10: (2 * m * n * k) / (times[Math.floor(times.length / 10)]! * 1e6) };
}

const positional = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const shape = process.argv
  .find((a) => a.startsWith("--shape="))
  ?.slice(8)
  .split("x")
  .map(Number);
const filter = positional[0] ?? "";
console.log("features", JSON.stringify(wasmFeatures()));
for (const dtype of ["float32", "float64"] as const) {
  for (const [label, extra] of [
    ["AB", {}],
    ["AB packA", { packA: true }],
    ["AtB", { transA: true }],
    ["AtB nopack", { transA: true, packA: false }],
    ["ABt", { transB: true }],
  ] as const) {
    for (const tile of (positional[1] ?? "4x2").split(",")) {
      const [rows, vecs] = tile.split("x").map(Number) as [number, number];
      const name = `${dtype} ${label} tile=${rows}x${vecs}`;
      if (!name.includes(filter)) continue;
      const [m, n, k] = shape ?? [256, 256, 256];
      const r = gemmGflops({ dtype, m: m!, n: n!, k: k!, rows, vecs, fma: wasmFeatures().relaxedFma, ...extra });
      console.log(name, `${m}×${n}×${k}`, r.median.toFixed(1), "GFLOP/s median,", r.best10.toFixed(1), "at p10");
    }
  }
}
