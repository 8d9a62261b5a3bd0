// Conv kernel speed (not a test): GFLOP/s at the median time of one image's call (short samples:
// on a shared machine, long ones are preempted), many reps after warm-up, one thread.
// Run from the repo root: examples/node_modules/.bin/tsx packages/jit/bench/wasm-conv.ts [--fma]
import { setFlagsFromString } from "node:v8";
import { ArenaPlan, instantiate, kernelModule } from "@chainrule/wasm";
import { convFunctions, convGeometry, convKey, convOutShape, convScratchInit, type ConvSpec } from "../src/wasm/conv.js";

if (process.argv.includes("--fma")) setFlagsFromString("--experimental-wasm-relaxed-simd");
const fma = process.argv.includes("--fma");

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Median ms per batch (batch × the median per image) and GFLOP/s (2 · N · O · P · K flops). */
export function convSpeed(spec: ConvSpec, batch: number, reps = 15): { ms: number; gflops: number; best: number } {
  const size = spec.dtype === "float32" ? 4 : 8;
  const out = convOutShape(spec);
  const geo = convGeometry(spec);
  const xCount = batch * spec.inChannels * prod(spec.inShape);
  const wCount = spec.outChannels * geo.K;
  const oCount = batch * spec.outChannels * prod(out);
  const plan = new ArenaPlan();
  const xa = plan.reserve(xCount * size, 16),
    wa = plan.reserve(wCount * size, 16),
    oa = plan.reserve(oCount * size, 16),
    sa = plan.reserve(geo.scratchBytes);
  const arena = plan.create(false);
  const X = arena.f32(xa, xCount);
  for (let i = 0; i < xCount; i++) X[i] = Math.sin(i);
  const Wt = arena.f32(wa, wCount);
  for (let i = 0; i < wCount; i++) Wt[i] = Math.cos(i) / 8;
  convScratchInit(spec, arena.memory.buffer, sa);
  const f = instantiate(
    kernelModule(convKey(spec), false, () => convFunctions(spec, "k")),
    arena.memory,
  )["k"]!;
  const xStep = spec.inChannels * prod(spec.inShape) * size,
    oStep = spec.outChannels * prod(out) * size;
  const all = () => {
    for (let n = 0; n < batch; n++) f(wa, xa + n * xStep, oa + n * oStep, sa);
  };
  for (let w = 0; w < 5; w++) all();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    for (let n = 0; n < batch; n++) {
      const t0 = performance.now();
      f(wa, xa + n * xStep, oa + n * oStep, sa);
      times.push(performance.now() - t0);
    }
  }
  times.sort((a, b) => a - b);
  const ms = times[times.length >> 1]! * batch;
  const flops = 2 * batch * spec.outChannels * prod(out) * geo.K;
  return { ms, gflops: flops / (ms * 1e6), best: flops / (times[0]! * batch * 1e6) };
}

const base = { dtype: "float32" as const, groups: 1, lhsDilation: [1, 1], rhsDilation: [1, 1], strides: [1, 1], fma };
const cases: [string, ConvSpec, number][] = [
  [
    "W6 64→64 3×3 56×56 same, batch 8",
    { ...base, inChannels: 64, outChannels: 64, inShape: [56, 56], kernel: [3, 3], padding: [1, 1, 1, 1] },
    8,
  ],
  [
    "W5 conv1 1→16 3×3 28×28 same, batch 32",
    { ...base, inChannels: 1, outChannels: 16, inShape: [28, 28], kernel: [3, 3], padding: [1, 1, 1, 1] },
    32,
  ],
  [
    "W5 conv2 16→32 3×3 14×14 same, batch 32",
    { ...base, inChannels: 16, outChannels: 32, inShape: [14, 14], kernel: [3, 3], padding: [1, 1, 1, 1] },
    32,
  ],
  ["W5 conv2 data grad 32→16", { ...base, inChannels: 32, outChannels: 16, inShape: [14, 14], kernel: [3, 3], padding: [1, 1, 1, 1] }, 32],
  [
    "W5 conv2 filter grad (x as [C,N,…] ⋆ dy as [O,N,…])",
    { ...base, inChannels: 32, outChannels: 32, inShape: [14, 14], kernel: [14, 14], padding: [1, 1, 1, 1] },
    16,
  ],
  ["W5 conv1 filter grad", { ...base, inChannels: 32, outChannels: 16, inShape: [28, 28], kernel: [28, 28], padding: [1, 1, 1, 1] }, 1],
];
const filter = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "";
for (const [label, spec, batch] of cases) {
  if (!label.includes(filter)) continue;
  const geo = convGeometry(spec);
  const { ms, gflops, best } = convSpeed(spec, batch);
  console.log(
    `${label.padEnd(54)} ${ms.toFixed(3).padStart(8)} ms ${gflops.toFixed(1).padStart(6)} GFLOP/s (best ${best.toFixed(1)}) ` +
      `(${geo.contiguous ? "contiguous" : "gathered"}, K ${geo.K}, Q ${geo.Q}, block ${geo.nb})`,
  );
}
