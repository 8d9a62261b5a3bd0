// W2 (the Rosenbrock gradient, bench/src/impls/chainrule.ts) with reverse's sweep pool on and off
// and a hand-written loop, interleaved in one process: N (default 1e5) float64s, ROUNDS rounds of
// one call each. Then the peak memory of one gradient each way: after two full GCs, the kernel's
// peak-RSS mark is reset (clear_refs) and VmHWM − VmRSS read around one call (bench/src/child.ts's
// method), and the bytes the free list holds between calls (resident, so not in that peak).
// Prints one JSON line. Run: node --expose-gc --conditions=@chainrule/source --import tsx.
import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { add, mul, slice, sub, sum, tensor, type Tensor } from "@chainrule/ir";
import { freeListBytes, setPooling } from "../src/arith.js";
import { grad } from "../src/index.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
const N = Number(process.env.N ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 60);

function rosenbrock(x: Tensor): Tensor {
  const n = x.shape[0]!;
  const head = slice(x, [0], [n - 1]);
  const tail = slice(x, [1]);
  const t = sub(tail, mul(head, head));
  const u = sub(1, head);
  return sum(add(mul(100, mul(t, t)), mul(u, u)));
}

function hand(x: Float64Array): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length - 1; i++) {
    const xi = x[i]!;
    const t = x[i + 1]! - xi * xi;
    g[i] = g[i]! - 400 * xi * t - 2 * (1 - xi);
    g[i + 1] = 200 * t;
  }
  return g;
}

const data = Float64Array.from({ length: N }, (_, i) => 1 + 0.5 * Math.sin(i));
const x = tensor(data);
const g = grad(rosenbrock);
const cases: Record<string, () => unknown> = {
  pool: () => {
    setPooling(true);
    return g(x);
  },
  nopool: () => {
    setPooling(false);
    return g(x);
  },
  hand: () => hand(data),
};
const times: Record<string, number[]> = { pool: [], nopool: [], hand: [] };
for (let r = 0; r < ROUNDS + 5; r++) {
  for (const [name, run] of Object.entries(cases)) {
    const t0 = performance.now();
    run();
    const dt = performance.now() - t0;
    if (r >= 5) times[name]!.push(dt);
  }
}

function kib(field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync("/proc/self/status", "utf8"));
  return Number(m![1]);
}
function peak(run: () => unknown): number {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    gc!();
    gc!();
    writeFileSync("/proc/self/clear_refs", "5");
    const before = kib("VmRSS");
    run();
    samples.push((kib("VmHWM") - before) * 1024);
  }
  return stats(samples).median;
}
function stats(v: number[]): { min: number; median: number } {
  const s = [...v].sort((a, b) => a - b);
  return { min: s[0]!, median: s[s.length >> 1]! };
}
const out = {
  n: N,
  inputBytes: N * 8,
  ms: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)])),
  peakBytes: { pool: peak(cases.pool!), nopool: peak(cases.nopool!), hand: peak(cases.hand!) },
  freeListBytesAfterPool: 0,
};
cases.pool!();
out.freeListBytesAfterPool = freeListBytes();
setPooling(true);
console.log(JSON.stringify(out));
