// What one core issues for 128-bit SIMD arithmetic (not a test): the ceiling the GEMM kernels
// are measured against. The loops (add only, mul only, the GEMM 4×2 tile's mul+add, and its
// relaxed_madd with --fma) live in bench/src/peak.ts, where the main benchmark measures them in
// the same run as the GEMM rows ("What this core issues"); this script prints them alone.
// Run from the repo root: examples/node_modules/.bin/tsx packages/jit/bench/wasm-peak.ts [--fma] [--two]
// (--two: the tile loops also on this thread and a worker at once)
// Compare the GFLOP/s with the kernel's (bench/wasm-gemm.ts) to see how far the kernel is from
// the core, not from a target.
import { setFlagsFromString } from "node:v8";

// --fma: enable relaxed SIMD (behind a flag in Node 20) before anything compiles
if (process.argv.includes("--fma")) setFlagsFromString("--experimental-wasm-relaxed-simd");

const { wasmFeatures } = await import("@chainrule/wasm");
const { measurePeaks } = await import("../../../bench/src/peak.js");
const fma = wasmFeatures().relaxedFma;
console.log("features", JSON.stringify(wasmFeatures()));
const loops = fma ? (["add", "mul", "mul+add", "fma"] as const) : (["add", "mul", "mul+add"] as const);
const two = process.argv.includes("--two") ? await measurePeaks(loops.slice(2), { threads: 2 }) : [];
for (const p of [...(await measurePeaks(loops)), ...two]) {
  const loop = p.loop === "mul+add" || p.loop === "fma" ? `gemm 4×2 ${p.loop}` : `${p.loop} only`;
  const label = `${loop}${p.threads > 1 ? `, ${p.threads} threads` : ""}`;
  const result = p.gflops === undefined ? p.error : `${p.gflops.toFixed(1)} GFLOP/s median, ${p.best!.toFixed(1)} fastest call`;
  console.log(`${p.dtype} ${label.padEnd(34)} ${result}`);
}
