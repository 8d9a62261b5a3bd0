// W3 MLP training step on kernels (not a test): medians of many reps after warm-up.
// Run from the repo root: examples/node_modules/.bin/tsx --conditions=@chainrule/source packages/jit/bench/wasm-mlp.ts
import { add, crossEntropy, matmul, mul, sub, tanh, tensor, traceWith, type Tensor } from "@chainrule/ir";
import { interpreter } from "../src/ad.js";
import { compileGraph } from "../src/compile.js";
import { optimize, toProgram } from "../src/optimize.js";
import { compileKernelProgram } from "../src/wasm/program.js";
import { threadStats } from "@chainrule/wasm";
import { setFlagsFromString } from "node:v8";

// --fma: enable relaxed SIMD (behind a flag in Node 20) before any kernel compiles
if (process.argv.includes("--fma")) setFlagsFromString("--experimental-wasm-relaxed-simd");

const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, labels: Tensor) =>
  crossEntropy(add(matmul(tanh(add(matmul(x, w1), b1)), w2), b2), labels);
const step = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, labels: Tensor) => {
  const [l, g] = interpreter.valueAndGrad(loss, [0, 1, 2, 3])(w1, b1, w2, b2, x, labels) as [Tensor, Tensor[]];
  return [l, ...[w1, b1, w2, b2].map((p, i) => sub(p, mul(0.01, g[i]!)))];
};
const f32 = (shape: number[], seed: number) =>
  tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37 + seed) * 0.05),
    { shape },
  );
const args = [
  f32([784, 128], 1),
  f32([128], 2),
  f32([128, 10], 3),
  f32([10], 4),
  f32([64, 784], 5),
  tensor(
    Int32Array.from({ length: 64 }, (_, i) => i % 10),
    { shape: [64] },
  ),
];
const graph = traceWith({}, ((xs: Tensor[]) => step(...(xs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]))) as never, args);
const raw = args.map((a) => a.data);

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function time(run: () => unknown, reps = 301): { median: number; p10: number } {
  for (let i = 0; i < 50; i++) run();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    run();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { median: median(ts), p10: ts[Math.floor(ts.length / 10)]! };
}
const js = compileGraph(graph, { kernels: false });
const fma = process.argv.includes("--fma");
const k1 = compileKernelProgram(optimize(toProgram(graph)), { fma })!;
const k2 = compileKernelProgram(optimize(toProgram(graph)), { threads: 2, fma })!;
console.log(k1.source);
for (const [name, f] of [
  ["generated JS", () => js.run(...raw)],
  ["kernels, 1 thread", () => k1.run(...raw)],
  [`kernels, ${k2.threads} threads`, () => k2.run(...raw)],
] as const) {
  const t = time(f);
  if (name.includes("threads"))
    console.log(`  worker jobs: ${threadStats.posted} posted, ${threadStats.withdrawn} taken back (worker not started)`);
  console.log(`W3 step ${name}: median ${t.median.toFixed(3)} ms, p10 ${t.p10.toFixed(3)} ms`);
}
if (process.argv.includes("--profile")) {
  const kp = compileKernelProgram(optimize(toProgram(graph)), { profile: true, fma, threads: process.argv.includes("--two") ? 2 : 1 })!;
  for (let i = 0; i < 300; i++) kp.run(...raw);
  kp.profile();
  for (let i = 0; i < 1000; i++) kp.run(...raw);
  console.log(`median per step over 1000 steps:\n${kp.profile()}`);
}
{
  // compile time of the kernel program (kernel modules already cached by the runs above, and not)
  const { clearKernelModules } = await import("@chainrule/wasm");
  const t0 = performance.now();
  compileKernelProgram(optimize(toProgram(graph)), { fma });
  const t1 = performance.now();
  clearKernelModules();
  compileKernelProgram(optimize(toProgram(graph)), { fma });
  const t2 = performance.now();
  console.log(
    `compile (optimize + plan + instantiate): ${(t1 - t0).toFixed(1)} ms with cached modules, ${(t2 - t1).toFixed(1)} ms ` +
      "building every module anew (incl. warm-up)",
  );
}
{
  // the same step through the public API: jit(step) with Tensors in and out (kernels on by default)
  const { jit, configureKernels } = await import("../src/index.js");
  const stepTensors = (...xs: Tensor[]) => step(...(xs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]));
  for (const threads of [1, 2]) {
    configureKernels({ threads });
    const f = jit(stepTensors);
    const t = time(() => f(...args));
    console.log(
      `W3 step via jit(step), ${threads} thread${threads > 1 ? "s" : ""}: median ${t.median.toFixed(3)} ms, p10 ${t.p10.toFixed(3)} ms`,
    );
  }
  configureKernels();
}
