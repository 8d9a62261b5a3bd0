/**
 * The page under test: bundled by Vite (from the TypeScript sources of @chainrule/ir and
 * @chainrule/jit) and loaded by headless Chromium; the test calls `globalThis.chainrule.*` with
 * Playwright's `evaluate` and asserts on what they return. Every comparison is computed here and
 * returned as numbers (worst errors, whether two runs were bit-identical), so the test fails on them.
 */
import {
  add,
  backendStatus,
  crossEntropy,
  exp,
  fuse,
  fusedSum,
  fusionStatus,
  matmul,
  mul,
  setBackend,
  sub,
  sum,
  tensor,
  tanh,
  withBackend,
  type Tensor,
} from "@chainrule/ir";
import { useWasmBackend, wasmBackendInfo } from "@chainrule/wasm";
import { interpreter, jit, kernelInfo, startThreads, valueAndGrad, type KernelInfo } from "@chainrule/jit";

type Dtype = "float32" | "float64";

function seeded(shape: number[], dtype: Dtype, seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37 + seed) * 0.5;
  return tensor(data, { shape });
}

/** Both arrays hold exactly the same bytes (bit-identical, NaN payloads and signed zeros included). */
function sameBits(x: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }, y: typeof x): boolean {
  if (x.byteLength !== y.byteLength) return false;
  const a = new Uint8Array(x.buffer, x.byteOffset, x.byteLength),
    b = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Largest |x − y| / (1 + |y|). */
function worst(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) return Infinity;
  let w = 0;
  for (let i = 0; i < x.length; i++) {
    const e = Math.abs(x[i]! - y[i]!) / (1 + Math.abs(y[i]!));
    if (!(e <= w)) w = e; // NaN counts as worst
  }
  return w;
}

/** A plain JavaScript n×n matrix product in float64 (the reference). */
function referenceMatmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      for (let j = 0; j < n; j++) c[i * n + j] = c[i * n + j]! + aik * b[k * n + j]!;
    }
  }
  return c;
}

type Stats = KernelInfo["threadStats"];
const delta = (after: Stats, before: Stats) => ({
  posted: after.posted - before.posted,
  withdrawn: after.withdrawn - before.withdrawn,
  workerBlocks: after.workerBlocks - before.workerBlocks,
});

export interface RunReport {
  /** `.source` of the two-thread function (its first line says how many threads). */
  source: string;
  /** Rounds run (each with fresh inputs, one thread vs two). */
  rounds: number;
  /** Every round: the two-thread result had exactly the bytes of the one-thread result. */
  bitIdentical: boolean;
  /** Worst relative error of the two-thread result against the reference (first round). */
  errorVsReference: number;
  /** Thread statistics over the two-thread calls. */
  stats: { posted: number; withdrawn: number; workerBlocks: number };
}

/**
 * `rounds` rounds (at most; fewer once the worker ran blocks, at least `minRounds`): a jitted n×n×n
 * matmul with `threads` threads against the same with one thread, on fresh inputs each round; the
 * first round also against a plain JavaScript float64 product.
 */
function matmulRun(n: number, dtype: Dtype, threads: number, maxRounds: number, minRounds: number): RunReport {
  const a = seeded([n, n], dtype, 1),
    b = seeded([n, n], dtype, 2);
  const one = jit((x: Tensor, y: Tensor) => matmul(x, y), { threads: 1 });
  const two = jit((x: Tensor, y: Tensor) => matmul(x, y), { threads });
  const before = kernelInfo().threadStats;
  let bitIdentical = true;
  let errorVsReference = NaN;
  let rounds = 0;
  while (rounds < maxRounds) {
    a.data[(rounds * 7919) % a.data.length] = rounds * 0.01; // fresh inputs: stale data on either thread would show
    const want = one(a, b) as Tensor,
      got = two(a, b) as Tensor;
    bitIdentical &&= sameBits(want.data as Float32Array, got.data as Float32Array);
    if (rounds === 0)
      errorVsReference = worst(got.data as Float32Array, referenceMatmul(a.data as Float32Array, b.data as Float32Array, n));
    rounds++;
    if (rounds >= minRounds && kernelInfo().threadStats.workerBlocks > before.workerBlocks) break;
  }
  return { source: two.source ?? "", rounds, bitIdentical, errorVsReference, stats: delta(kernelInfo().threadStats, before) };
}

const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, labels: Tensor) =>
  crossEntropy(add(matmul(tanh(add(matmul(x, w1), b1)), w2), b2), labels);

/** One SGD step of a 784-128-10 MLP (batch 64, float32): loss and updated parameters. */
function sgdStep(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, labels: Tensor): Tensor[] {
  const [l, g] = valueAndGrad(loss, [0, 1, 2, 3])(w1, b1, w2, b2, x, labels) as [Tensor, Tensor[]];
  return [l, ...[w1, b1, w2, b2].map((p, i) => sub(p, mul(0.01, g[i]!)))];
}

/** The same step by the JIT's interpreter (eager ir kernels, no generated code): the reference. */
function referenceStep(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, labels: Tensor): Tensor[] {
  const [l, g] = interpreter.valueAndGrad(loss, [0, 1, 2, 3])(w1, b1, w2, b2, x, labels) as [Tensor, Tensor[]];
  return [l, ...[w1, b1, w2, b2].map((p, i) => sub(p, mul(0.01, g[i]!)))];
}

function mlpArgs() {
  const labels = tensor(
    Int32Array.from({ length: 64 }, (_, i) => (i * 3) % 10),
    { shape: [64] },
  );
  return [
    seeded([784, 128], "float32", 1),
    seeded([128], "float32", 2),
    seeded([128, 10], "float32", 3),
    seeded([10], "float32", 4),
    seeded([64, 784], "float32", 5),
    labels,
  ] as const;
}

/** A jitted training step (grad + SGD update in one jit): `threads` threads vs one, bit for bit; vs the interpreter. */
function mlpRun(threads: number, maxRounds: number, minRounds: number): RunReport {
  const args = mlpArgs();
  const one = jit(sgdStep, { threads: 1 });
  const two = jit(sgdStep, { threads });
  const before = kernelInfo().threadStats;
  let bitIdentical = true;
  let errorVsReference = NaN;
  let rounds = 0;
  const x = args[4];
  while (rounds < maxRounds) {
    x.data[(rounds * 7919) % x.data.length] = rounds * 0.01;
    const want = one(...args) as Tensor[],
      got = two(...args) as Tensor[];
    bitIdentical &&= want.length === got.length && want.every((t, i) => sameBits(t.data as Float32Array, got[i]!.data as Float32Array));
    if (rounds === 0) {
      const ref = referenceStep(...args);
      errorVsReference = Math.max(...got.map((t, i) => worst(t.data as Float32Array, ref[i]!.data as Float32Array)));
    }
    rounds++;
    if (rounds >= minRounds && kernelInfo().threadStats.workerBlocks > before.workerBlocks) break;
  }
  return { source: two.source ?? "", rounds, bitIdentical, errorVsReference, stats: delta(kernelInfo().threadStats, before) };
}

/** The training step where the JIT cannot generate code (a CSP without 'unsafe-eval'): what jit throws, and the interpreter's result. */
function mlpWithoutEval(): { jitError: string; interpreterError: number } {
  const args = mlpArgs();
  let jitError = "";
  try {
    jit(sgdStep)(...args);
  } catch (e) {
    jitError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  // the interpreter runs eager kernels: compare its loss with a plain JavaScript forward pass
  const [l] = referenceStep(...args);
  return { jitError, interpreterError: Math.abs(l!.item() - plainLoss(...args)) / Math.abs(plainLoss(...args)) };
}

/** The MLP's loss in plain JavaScript (float64): mean cross-entropy of softmax(tanh(x·w1 + b1)·w2 + b2). */
function plainLoss(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, labels: Tensor): number {
  const [batch, inputs] = x.shape as [number, number],
    hidden = b1.shape[0]!,
    classes = b2.shape[0]!;
  let total = 0;
  for (let r = 0; r < batch; r++) {
    const h = new Float64Array(hidden);
    for (let j = 0; j < hidden; j++) {
      let s = b1.data[j]!;
      for (let k = 0; k < inputs; k++) s += x.data[r * inputs + k]! * w1.data[k * hidden + j]!;
      h[j] = Math.tanh(s);
    }
    const z = new Float64Array(classes);
    for (let c = 0; c < classes; c++) {
      let s = b2.data[c]!;
      for (let j = 0; j < hidden; j++) s += h[j]! * w2.data[j * classes + c]!;
      z[c] = s;
    }
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((acc, v) => acc + Math.exp(v - m), 0));
    total += lse - z[labels.data[r]!]!;
  }
  return total / batch;
}

/** The step on whatever path the JIT picks here, against kernels: false and the interpreter. */
function mlpDefaultPath(): { source: string; errorVsJs: number; errorVsReference: number } {
  const args = mlpArgs();
  const f = jit(sgdStep, { threads: 2 });
  const got = f(...args) as Tensor[];
  const js = jit(sgdStep, { kernels: false })(...args) as Tensor[];
  const ref = referenceStep(...args);
  return {
    source: f.source ?? "",
    errorVsJs: Math.max(...got.map((t, i) => worst(t.data as Float32Array, js[i]!.data as Float32Array))),
    errorVsReference: Math.max(...got.map((t, i) => worst(t.data as Float32Array, ref[i]!.data as Float32Array))),
  };
}

/**
 * Before the page yielded once (so before the worker can have started): a two-thread program runs
 * all its blocks on the main thread, with one-thread results, and never waits for the worker.
 */
function coldStart(): { readyBefore: boolean; bitIdentical: boolean; source: string; posted: number } {
  const readyBefore = kernelInfo().threadsReady;
  const r = matmulRun(256, "float32", 2, 3, 3);
  return { readyBefore, bitIdentical: r.bitIdentical, source: r.source, posted: r.stats.posted };
}

/**
 * Many two-thread programs compiled (registrations while the worker serves) and dropped: after
 * enough are collected the worker is replaced (it never collects garbage itself), the new one
 * starts only after the page yields, and a live program keeps one-thread results throughout and
 * uses the new worker once it runs. Needs Chromium started with --js-flags=--expose-gc.
 */
async function churn(): Promise<{ bitIdentical: boolean; restarts: number; restartedReady: boolean; workerBlocks: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("churn: expected gc() (--js-flags=--expose-gc)");
  const mm = (x: Tensor, y: Tensor) => matmul(x, y);
  const a = seeded([96, 96], "float32", 3),
    b = seeded([96, 96], "float32", 4);
  const live = jit(mm, { threads: 2 });
  const want = jit(mm, { threads: 1 })(a, b) as Tensor;
  const same = () => sameBits((live(a, b) as Tensor).data as Float32Array, want.data as Float32Array);
  const before = kernelInfo().threadStats;
  let bitIdentical = same();
  for (let round = 0; round < 4 && kernelInfo().threadStats.restarts === before.restarts; round++) {
    for (let i = 0; i < 20; i++) {
      const n = 80 + (i % 3);
      const f = jit(mm, { threads: 2 });
      const x = seeded([n, n], "float32", i);
      bitIdentical &&= sameBits((f(x, x) as Tensor).data as Float32Array, (jit(mm, { threads: 1 })(x, x) as Tensor).data as Float32Array);
    }
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50)); // finalizers run: the worker drops their kernels
    jit(mm, { threads: 2 })(a, b); // a new program: the worker may be replaced now
    bitIdentical &&= same();
  }
  const restarts = kernelInfo().threadStats.restarts - before.restarts;
  const restartedReady = await startThreads(20_000);
  const blocks = kernelInfo().threadStats.workerBlocks;
  for (let r = 0; r < 200 && kernelInfo().threadStats.workerBlocks === blocks; r++) bitIdentical &&= same();
  bitIdentical &&= same();
  return { bitIdentical, restarts, restartedReady, workerBlocks: kernelInfo().threadStats.workerBlocks - blocks };
}

export interface EagerReport {
  /** What useWasmBackend returned, and the active backend afterwards. */
  active: boolean;
  backend: string;
  unavailable: string | undefined;
  threadsUnavailable: string | undefined;
  /** Rounds of the eager 256³ float32 matmul with `threads`, each bit-identical to one thread. */
  rounds: number;
  bitIdentical: boolean;
  errorVsReference: number;
  /** float64 200×150·150×100 on this backend has exactly the bytes of ir's JavaScript backend. */
  float64SameAsJs: boolean;
  /** Matmuls the WebAssembly backend ran (and of them on two threads) during this call. */
  matmuls: number;
  parallel: number;
}

/**
 * Eager ops on @chainrule/wasm's backend (no jit): `useWasmBackend({ threads })`, then an eager
 * 256³ float32 matmul against the one-thread result (rounds until the worker ran one, at least
 * `minRounds`), a plain JavaScript reference, and a float64 product against ir's JavaScript
 * backend. Leaves ir's JavaScript backend active.
 */
function eagerRun(threads: number, maxRounds: number, minRounds: number): EagerReport {
  const before = wasmBackendInfo().ran;
  try {
    const active = useWasmBackend({ threads: 1 });
    const a = seeded([256, 256], "float32", 1),
      b = seeded([256, 256], "float32", 2);
    const one = matmul(a, b).data as Float32Array;
    useWasmBackend({ threads });
    let bitIdentical = true;
    let rounds = 0;
    while (rounds < maxRounds && (rounds < minRounds || wasmBackendInfo().ran.parallelMatmul === before.parallelMatmul)) {
      bitIdentical &&= sameBits(matmul(a, b).data as Float32Array, one);
      rounds++;
    }
    const x = seeded([200, 150], "float64", 3),
      y = seeded([150, 100], "float64", 4);
    const float64SameAsJs = sameBits(matmul(x, y).data as Float64Array, withBackend("js", () => matmul(x, y)).data as Float64Array);
    const after = wasmBackendInfo();
    return {
      active,
      backend: backendStatus().name,
      unavailable: after.unavailable,
      threadsUnavailable: after.threadsUnavailable,
      rounds,
      bitIdentical,
      errorVsReference: worst(one, referenceMatmul(a.data, b.data, 256)),
      float64SameAsJs,
      matmuls: after.ran.matmul - before.matmul,
      parallel: after.ran.parallelMatmul - before.parallelMatmul,
    };
  } finally {
    setBackend("js");
  }
}

export interface FusionReport {
  enabled: boolean;
  reason: string;
  /** Whether `fuse` made a lazy value, and the lazy expression and its sum equal ir's kernels bit for bit. */
  lazy: boolean;
  sameAsKernels: boolean;
  sumSameAsKernels: boolean;
  compiled: number;
}

/**
 * ir's eager elementwise fusion on this page: exp(x·x − x) over n float64s as a lazy value (one
 * generated loop where the page allows `new Function`), against ir's kernels one primitive at a time.
 */
function fusionRun(n: number): FusionReport {
  const x = seeded([n], "float64", 5);
  const square = fuse("mul", [x, x]);
  const lazy = square === undefined ? undefined : fuse("sub", [square, x]);
  const fused = lazy === undefined ? undefined : fuse("exp", [lazy]);
  const eager = exp(sub(mul(x, x), x));
  const sameAsKernels = fused !== undefined && sameBits(fused.data as Float64Array, eager.data as Float64Array);
  const again = fused === undefined ? undefined : fuse("exp", [fuse("sub", [fuse("mul", [x, x])!, x])!])!;
  const sumSameAsKernels = again !== undefined && Object.is(fusedSum(again), sum(eager).item());
  const status = fusionStatus();
  return {
    enabled: status.enabled,
    reason: status.reason,
    lazy: fused !== undefined,
    sameAsKernels,
    sumSameAsKernels,
    compiled: status.compiled,
  };
}

const api = {
  fusion: fusionRun,
  churn,
  eager: eagerRun,
  coldStart,
  /** kernelInfo() plus what the page itself reports. */
  info: () => ({ ...kernelInfo(), crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated ?? false }),
  startThreads: (timeoutMs: number) => startThreads(timeoutMs),
  matmul: matmulRun,
  mlp: mlpRun,
  mlpWithoutEval,
  mlpDefaultPath,
};
export type PageApi = typeof api;

(globalThis as { chainrule?: PageApi }).chainrule = api;
