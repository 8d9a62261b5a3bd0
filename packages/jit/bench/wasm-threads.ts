// matmul 256³ through kernel programs on one and two threads (not a test).
// Run from the repo root: examples/node_modules/.bin/tsx --conditions=@chainrule/source packages/jit/bench/wasm-threads.ts
import { matmul, tensor, traceWith, type Tensor } from "@chainrule/ir";
import { optimize, toProgram } from "../src/optimize.js";
import { compileKernelProgram } from "../src/wasm/program.js";
import { threadStats } from "@chainrule/wasm";
import { setFlagsFromString } from "node:v8";

// --fma: enable relaxed SIMD (behind a flag in Node 20) before any kernel compiles
if (process.argv.includes("--fma")) setFlagsFromString("--experimental-wasm-relaxed-simd");

for (const dtype of ["float32", "float64"] as const) {
  const n = 256;
  const make = (seed: number) =>
    tensor(
      dtype === "float32"
        ? Float32Array.from({ length: n * n }, (_, i) => Math.sin(i + seed))
        : Float64Array.from({ length: n * n }, (_, i) => Math.sin(i + seed)),
      { shape: [n, n] },
    );
  const a = make(1),
    b = make(2);
  const graph = traceWith({}, ((xs: Tensor[]) => matmul(xs[0]!, xs[1]!)) as never, [a, b]);
  for (const threads of [1, 2]) {
    const k = compileKernelProgram(optimize(toProgram(graph)), { threads, profile: process.argv.includes("--profile") })!;
    for (let i = 0; i < 30; i++) k.run(a.data, b.data);
    const ts: number[] = [];
    for (let r = 0; r < 201; r++) {
      const t0 = performance.now();
      k.run(a.data, b.data);
      ts.push(performance.now() - t0);
    }
    ts.sort((x, y) => x - y);
    const gf = (t: number) => ((2 * n ** 3) / (t * 1e6)).toFixed(1);
    if (process.argv.includes("--profile")) console.log(k.profile());
    if (threads > 1) console.log(`  worker jobs: ${threadStats.posted} posted, ${threadStats.withdrawn} taken back (worker not started)`);
    console.log(
      `${dtype} 256³ (copies in and out included), ${k.threads} thread(s): ${gf(ts[100]!)} GFLOP/s median, ${gf(ts[20]!)} at p10`,
    );
  }
}
