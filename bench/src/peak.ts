/**
 * What one core issues for 128-bit WebAssembly SIMD arithmetic: the ceiling a GEMM kernel is
 * held against (so a GEMM figure reads as a % of what the core can do, and a missed target has a
 * measured cause). Loops of independent accumulators kept in registers, medians after warm-up:
 *
 *   add only   acc_t += b   (12 accumulators; flops counted 1 per lane)
 *   mul only   acc_t *= b
 *   mul+add    the GEMM micro-tile's inner loop: 2 vector loads + 4 splat loads, then 8 × (mul, add)
 *              from L1, no pointer bumps (what a register-blocked 4×8 f32 / 4×4 f64 tile issues)
 *   fma        the same tile with 8 `relaxed_madd` (needs relaxed SIMD: Node 20 behind
 *              `--experimental-wasm-relaxed-simd`)
 *
 * With multiplies and adds on different execution ports, the mul+add loop reaches at most
 * (mul ports + add ports) / 2 multiply-add pairs per cycle. The modules are built with
 * @chainrule/wasm's module encoder (its source, `packages/wasm/src/module.ts`); the jit's
 * dev script `packages/jit/bench/wasm-peak.ts` prints the same loops.
 */
import { performance } from "node:perf_hooks";
import { wasmApi } from "../../packages/wasm/src/api.js";
import { encodeModule, type FuncDef, type Instr, type ValType } from "../../packages/wasm/src/module.js";

export type PeakDType = "f32x4" | "f64x2";
export type PeakLoop = "add" | "mul" | "mul+add" | "fma";

export const PEAK_DTYPES: readonly PeakDType[] = ["f32x4", "f64x2"];

/**
 * The loop `(n, p)`: n iterations over data at byte address p (≥ 80 bytes of ones); stores the
 * accumulators' sum at p + 64 so nothing is dead code.
 */
export function peakLoop(loop: PeakLoop, dtype: PeakDType): { def: FuncDef; flopsPerIter: number } {
  const tile = loop === "mul+add" || loop === "fma";
  const NACC = tile ? 8 : 12;
  const ACC = 2;
  const B0 = ACC + NACC;
  const A0 = B0 + 2;
  const lanes = dtype === "f32x4" ? 4 : 2;
  const size = dtype === "f32x4" ? 4 : 8;
  const splat = dtype === "f32x4" ? "v128.load32_splat" : "v128.load64_splat";
  const locals: ValType[] = Array<ValType>(NACC + 3).fill("v128");
  const body: Instr[] = [];
  const e = (...x: Instr[]) => body.push(...x);
  const loadB = () =>
    e(["local.get", 1], ["v128.load", 16, 4], ["local.set", B0], ["local.get", 1], ["v128.load", 32, 4], ["local.set", B0 + 1]);
  for (let t = 0; t < NACC; t++) e(["local.get", 1], ["v128.load", 0, 4], ["local.set", ACC + t]);
  loadB();
  e(["loop"]);
  if (tile) {
    loadB();
    for (let r = 0; r < 4; r++) {
      e(["local.get", 1], [splat, r * size, size === 4 ? 2 : 3], ["local.set", A0]);
      for (let v = 0; v < 2; v++) {
        const acc = ACC + 2 * r + v;
        if (loop === "fma") e(["local.get", A0], ["local.get", B0 + v], ["local.get", acc], [`${dtype}.relaxed_madd`], ["local.set", acc]);
        else e(["local.get", acc], ["local.get", A0], ["local.get", B0 + v], [`${dtype}.mul`], [`${dtype}.add`], ["local.set", acc]);
      }
    }
  } else {
    for (let t = 0; t < NACC; t++) e(["local.get", ACC + t], ["local.get", B0 + (t % 2)], [`${dtype}.${loop}`], ["local.set", ACC + t]);
  }
  e(["local.get", 0], ["i32.const", 1], ["i32.sub"], ["local.tee", 0], ["br_if", 0], ["end"]);
  const sum: Instr[] = [["local.get", ACC]];
  for (let t = 1; t < NACC; t++) sum.push(["local.get", ACC + t], [`${dtype}.add`]);
  e(["local.get", 1], ...sum, ["v128.store", 64, 4]);
  return { def: { name: "peak", params: ["i32", "i32"], results: [], locals, body }, flopsPerIter: NACC * lanes * (tile ? 2 : 1) };
}

export interface PeakOptions {
  /** Loop iterations per timed call (default 2,000,000: a few ms). */
  readonly iterations?: number;
  /** Timed calls (rounds on two threads), after a warm-up of ≥ 20 calls and ≥ 150 ms (default 41). */
  readonly reps?: number;
}

/** Warm-up: the first calls run on V8's baseline compiler until the function is tiered up. */
const WARMUP_CALLS = 20;
const WARMUP_MS = 150;

export interface Peak {
  readonly dtype: PeakDType;
  readonly loop: PeakLoop;
  /** 1: this thread alone; 2: this thread and a worker running the same loop at once. */
  readonly threads: number;
  /** Median GFLOP/s (both threads together), or undefined with `error` when the loop cannot run here (fma without relaxed SIMD). */
  readonly gflops?: number;
  /** The fastest call's (round's) GFLOP/s: the least disturbed, so the ceiling (noise only slows a loop down). */
  readonly best?: number;
  readonly error?: string;
}

type Run = (n: number, p: number) => void;

/** The loop compiled and instantiated on a fresh memory of ones, or why it cannot run here. */
function compileLoop(loop: PeakLoop, dtype: PeakDType): { run: Run; bytes: Uint8Array; flopsPerIter: number } | { error: string } {
  if (wasmApi === undefined) return { error: "no WebAssembly" };
  const { def, flopsPerIter } = peakLoop(loop, dtype);
  const bytes = encodeModule({ memory: { initial: 1 }, funcs: [def] });
  try {
    const memory = new wasmApi.Memory({ initial: 1 });
    // ones: adds grow linearly, multiplies stay 1 (no overflow, no subnormals)
    if (dtype === "f32x4") new Float32Array(memory.buffer, 0, 32).fill(1);
    else new Float64Array(memory.buffer, 0, 16).fill(1);
    const run = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } }).exports["peak"] as Run;
    return { run, bytes, flopsPerIter };
  } catch (error) {
    return { error: `does not compile here: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]!.slice(0, 160)}` };
  }
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

function warmUp(run: Run, iterations: number): void {
  for (let w = 0, start = performance.now(); w < WARMUP_CALLS || performance.now() - start < WARMUP_MS; w++) run(iterations, 0);
}

/**
 * The worker of the two-thread measurement: the same module on its own memory; per round it
 * waits for the round number in ctl[0], runs one call and stores its start and end (ms since the
 * time origin shared by both threads) before announcing the round in ctl[1].
 */
const WORKER_SOURCE = `
const { workerData: d } = require("node:worker_threads");
const ctl = new Int32Array(d.control), at = new Float64Array(d.times);
const memory = new WebAssembly.Memory({ initial: 1 });
(d.f32 ? new Float32Array(memory.buffer, 0, 32) : new Float64Array(memory.buffer, 0, 16)).fill(1);
const run = new WebAssembly.Instance(new WebAssembly.Module(d.bytes), { env: { memory } }).exports.peak;
for (let w = 0, t0 = performance.now(); w < ${WARMUP_CALLS} || performance.now() - t0 < ${WARMUP_MS}; w++) run(d.iterations, 0);
Atomics.store(ctl, 1, 0); Atomics.notify(ctl, 1);
for (let r = 1; r <= d.rounds; r++) {
  Atomics.wait(ctl, 0, r - 1);
  at[2 * r] = performance.timeOrigin + performance.now();
  run(d.iterations, 0);
  at[2 * r + 1] = performance.timeOrigin + performance.now();
  Atomics.store(ctl, 1, r); Atomics.notify(ctl, 1);
}`;

type WorkerCtor = new (code: string, options: { eval: true; workerData: unknown }) => { terminate(): Promise<number> };

/** Blocks until ctl[1] ≥ value (the worker announced it), or throws after `ms`. */
function waitFor(ctl: Int32Array, value: number, ms: number): void {
  const deadline = performance.now() + ms;
  for (let seen = Atomics.load(ctl, 1); seen < value; seen = Atomics.load(ctl, 1)) {
    if (performance.now() > deadline) throw new Error(`peak: the worker did not answer within ${ms} ms`);
    Atomics.wait(ctl, 1, seen, 50);
  }
}

/** One loop on this thread and a worker at once: per round, both threads' flops over the span from the first start to the last end. */
async function twoThreads(
  compiled: { run: Run; bytes: Uint8Array; flopsPerIter: number },
  dtype: PeakDType,
  iterations: number,
  rounds: number,
): Promise<number[]> {
  const { Worker } = (await import("node:worker_threads")) as unknown as { Worker: WorkerCtor };
  const control = new SharedArrayBuffer(8);
  const times = new SharedArrayBuffer(8 * 2 * (rounds + 1));
  const ctl = new Int32Array(control);
  const at = new Float64Array(times);
  ctl[1] = -1;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { control, times, bytes: compiled.bytes, f32: dtype === "f32x4", iterations, rounds },
  });
  try {
    warmUp(compiled.run, iterations);
    waitFor(ctl, 0, 30_000);
    const rates: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      Atomics.store(ctl, 0, r);
      Atomics.notify(ctl, 0);
      const start = performance.timeOrigin + performance.now();
      compiled.run(iterations, 0);
      const end = performance.timeOrigin + performance.now();
      waitFor(ctl, r, 30_000);
      const span = Math.max(end, at[2 * r + 1]!) - Math.min(start, at[2 * r]!);
      rates.push((2 * iterations * compiled.flopsPerIter) / (span * 1e6));
    }
    return rates;
  } finally {
    await worker.terminate();
  }
}

/**
 * Measures each loop of `loops` for both vector types, one after the other: on this thread alone
 * (threads 1), or on this thread and a worker at once (threads 2: what two cores issue together
 * right now — on a shared machine, another process on the second core shows here).
 */
export async function measurePeaks(loops: readonly PeakLoop[], options: PeakOptions & { threads?: 1 | 2 } = {}): Promise<Peak[]> {
  const iterations = options.iterations ?? 2_000_000;
  const reps = options.reps ?? 41;
  const threads = options.threads ?? 1;
  const out: Peak[] = [];
  for (const dtype of PEAK_DTYPES) {
    for (const loop of loops) {
      const compiled = compileLoop(loop, dtype);
      if ("error" in compiled) {
        out.push({ dtype, loop, threads, error: compiled.error });
        continue;
      }
      let rates: number[];
      if (threads === 2) {
        try {
          rates = await twoThreads(compiled, dtype, iterations, reps);
        } catch (error) {
          out.push({ dtype, loop, threads, error: String(error) });
          continue;
        }
      } else {
        warmUp(compiled.run, iterations);
        rates = [];
        for (let r = 0; r < reps; r++) {
          const start = performance.now();
          compiled.run(iterations, 0);
          rates.push((iterations * compiled.flopsPerIter) / ((performance.now() - start) * 1e6));
        }
      }
      out.push({ dtype, loop, threads, gflops: median(rates), best: Math.max(...rates) });
    }
  }
  return out;
}
