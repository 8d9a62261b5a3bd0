// What one core issues for 128-bit SIMD arithmetic (not a test): the ceiling the GEMM kernels
// are measured against. Loops of independent accumulators in registers, medians after warm-up.
// Run from the repo root: examples/node_modules/.bin/tsx packages/jit/bench/wasm-peak.ts [--fma]
//   add only      acc_t += b              (float adds alone; flops counted 1 per lane)
//   mul only      acc_t *= b              (float multiplies alone)
//   gemm 4×2      the GEMM micro-tile's inner loop: 2 vector loads + 4 splat loads, then
//                 8 × (mul, add) — or 8 relaxed_madd with --fma — from L1, no pointer bumps
// With multiplies and adds on different execution ports, the gemm loop without FMA can reach at
// most (mul ports + add ports) / 2 multiply-add pairs per cycle; compare its GFLOP/s with the
// kernel's (bench/wasm-gemm.ts) to see how far the kernel is from the core, not from a target.
import { ArenaPlan } from "../src/wasm/arena.js";
import { wasmFeatures } from "../src/wasm/features.js";
import { instantiate, kernelModule } from "../src/wasm/kernels.js";
import type { FuncDef, Instr, ValType } from "../src/wasm/module.js";
import { setFlagsFromString } from "node:v8";

if (process.argv.includes("--fma")) setFlagsFromString("--experimental-wasm-relaxed-simd");

type Kind = "add" | "mul" | "gemm";
/** `(n, p)`: n iterations over data at byte address p; returns nothing, stores the sum at p+64. */
function loop(kind: Kind, dtype: "f32x4" | "f64x2", fma: boolean): { def: FuncDef; flopsPerIter: number } {
  const NACC = kind === "gemm" ? 8 : 12;
  const ACC = 2, B0 = ACC + NACC, A0 = B0 + 2;
  const lanes = dtype === "f32x4" ? 4 : 2;
  const splat = dtype === "f32x4" ? "v128.load32_splat" : "v128.load64_splat";
  const size = dtype === "f32x4" ? 4 : 8;
  const locals: ValType[] = Array<ValType>(NACC + 3).fill("v128");
  const body: Instr[] = [];
  const e = (...x: Instr[]) => body.push(...x);
  for (let t = 0; t < NACC; t++) e(["local.get", 1], ["v128.load", 0, 4], ["local.set", ACC + t]);
  e(["local.get", 1], ["v128.load", 16, 4], ["local.set", B0], ["local.get", 1], ["v128.load", 32, 4], ["local.set", B0 + 1]);
  e(["loop"]);
  if (kind === "gemm") {
    e(["local.get", 1], ["v128.load", 16, 4], ["local.set", B0], ["local.get", 1], ["v128.load", 32, 4], ["local.set", B0 + 1]);
    for (let r = 0; r < 4; r++) {
      e(["local.get", 1], [splat, r * size, size === 4 ? 2 : 3], ["local.set", A0]);
      for (let v = 0; v < 2; v++) {
        const acc = ACC + 2 * r + v;
        if (fma) e(["local.get", A0], ["local.get", B0 + v], ["local.get", acc], [`${dtype}.relaxed_madd`], ["local.set", acc]);
        else e(["local.get", acc], ["local.get", A0], ["local.get", B0 + v], [`${dtype}.mul`], [`${dtype}.add`], ["local.set", acc]);
      }
    }
  } else {
    for (let t = 0; t < NACC; t++) e(["local.get", ACC + t], ["local.get", B0 + (t % 2)], [`${dtype}.${kind}`], ["local.set", ACC + t]);
  }
  e(["local.get", 0], ["i32.const", 1], ["i32.sub"], ["local.tee", 0], ["br_if", 0], ["end"]);
  const sum: Instr[] = [["local.get", ACC]];
  for (let t = 1; t < NACC; t++) sum.push(["local.get", ACC + t], [`${dtype}.add`]);
  e(["local.get", 1], ...sum, ["v128.store", 64, 4]);
  const def: FuncDef = { name: "peak", params: ["i32", "i32"], results: [], locals, body };
  return { def, flopsPerIter: NACC * lanes * (kind === "gemm" ? 2 : 1) };
}

const fma = wasmFeatures().relaxedFma;
console.log("features", JSON.stringify(wasmFeatures()));
const plan = new ArenaPlan();
const p = plan.reserve(128);
const arena = plan.create(false);
arena.f32(p, 32).fill(1);
for (const dtype of ["f32x4", "f64x2"] as const) {
  if (dtype === "f64x2") arena.f64(p, 16).fill(1);
  for (const kind of ["add", "mul", "gemm"] as const) {
    const useFma = kind === "gemm" && fma;
    const { def, flopsPerIter } = loop(kind, dtype, useFma);
    const f = instantiate(kernelModule(`peak:${kind}:${dtype}:${useFma}`, false, () => [def]), arena.memory)["peak"]!;
    const N = 2_000_000;
    for (let w = 0; w < 20; w++) f(N, p);
    const ts: number[] = [];
    for (let r = 0; r < 41; r++) {
      const t0 = performance.now();
      f(N, p);
      ts.push(performance.now() - t0);
    }
    ts.sort((a, b) => a - b);
    const label = kind === "gemm" ? `gemm 4×2 ${useFma ? "fma" : "mul+add"}` : `${kind} only`;
    console.log(`${dtype} ${label.padEnd(16)} ${((N * flopsPerIter) / (ts[ts.length >> 1]! * 1e6)).toFixed(1)} GFLOP/s median`);
  }
}
