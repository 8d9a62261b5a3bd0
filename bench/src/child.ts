/**
 * Measurements that need a fresh process, run by the harness as children (children.ts):
 *
 *   child.ts memory IMPL N DTYPE [KIND]
 *                                  peak live bytes of one W2 gradient (KIND jvp: one jvp) of
 *                                  implementation IMPL, n = N (needs the live-bytes hooks: below)
 *   child.ts memory-control N      the live-bytes method's control (live-bytes.test.ts checks it)
 *   child.ts compile NODES         JIT compile time of a generated function of NODES primitives:
 *                                  @chainrule/jit's compileGraph on the traced primal graph, and
 *                                  the first grad call (its onCompile event, and first − later call)
 *   child.ts w1 IMPL TIMING        W1 of implementation IMPL with nothing else loaded or run in the
 *                                  process (TIMING: the parent's TimingOptions as JSON): the same
 *                                  check and timing as the in-process W1 row
 *   child.ts kernels SPEC TIMING IDS
 *                                  the jit kernel rows of this process (impls/jit-kernels.ts) among
 *                                  IDS (comma-separated) on the W3/W4 variant SPEC (JSON VariantSpec),
 *                                  checked and timed like in-process rows; started with
 *                                  --experimental-wasm-relaxed-simd these are the FMA rows. Reports
 *                                  the flag and kernelInfo().relaxedFma either way.
 *   child.ts peak LOOPS OPTIONS    the SIMD ceiling loops LOOPS (comma-separated: add, mul, mul+add,
 *                                  fma) of peak.ts on one thread and on two at once, with OPTIONS
 *                                  (JSON PeakOptions)
 *
 * Each prints one JSON line on stdout.
 *
 * Memory method (live bytes, src/live-bytes.ts): the child is started with `--expose-gc`,
 * `--import src/live-bytes.ts` and CHAINRULE_LIVE_BYTES=1, so the global ArrayBuffer and typed-array
 * constructors are hooked before any implementation is imported. It builds the case and the input,
 * collects garbage and reads the baseline; then the first call is measured (a gc and a reading of
 * live ArrayBuffer bytes after every allocation; the peak − baseline), three warm-ups run unhooked
 * (their VmHWM − VmRSS after `clear_refs`, the old method, is kept for comparison), and a fifth call
 * is measured against the same baseline and against the level just before it. The answer is
 * checked after the measurements.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { tensor, trace, type Tensor } from "@chainrule/ir";
import { asSegments, compareSegments } from "./check.js";
import { toChildRow } from "./children.js";
import { fmaInEffect, jitKernelApi, jitKernelImplementations } from "./impls/jit-kernels.js";
import { FMA_FLAG } from "./impls/jit-program.js";
import { measurePeaks, type PeakLoop, type PeakOptions } from "./peak.js";
import { runVariant } from "./run.js";
import { rosenbrockInput, type FloatDType } from "./data.js";
import { discoverEngines, generatedChain, onWasmBackend, rosenbrockIr, type EnginePackage } from "./impls/chainrule.js";
import { LIVE_BYTES_HOW, liveBytesMeter, type LiveBytesMeter, type Reading } from "./live-bytes.js";
import { loadImplementations } from "./registry.js";
import { median } from "./stats.js";
import { expectedRosenbrock } from "./reference.js";
import { timeInterleaved, type TimingOptions } from "./timing.js";
import {
  isUnsupported,
  seedVariant,
  TOLERANCE,
  variantOf,
  type Built,
  type Implementation,
  type RosenbrockVariant,
  type VariantSpec,
} from "./workloads.js";

function statusKiB(field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function resetPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("child: run with --expose-gc");
  gc();
  gc();
}

/** Bytes of peak growth over the resident set during `f` (undefined where /proc is missing). */
async function peakDuring(f: () => unknown): Promise<{ bytes?: number; result: unknown }> {
  collect();
  const canReset = resetPeak();
  const before = statusKiB("VmRSS");
  const result = await f();
  const peak = statusKiB("VmHWM");
  if (!canReset || before === undefined || peak === undefined) return { result };
  return { bytes: Math.max(0, peak - before) * 1024, result };
}

/** One memory row's gradient (or jvp) case; `imperative` is W2 through reverse's `parameter` and `backward()`. */
async function memoryCase(implId: string, variant: RosenbrockVariant): Promise<Built | { problem: object }> {
  const baseId = implId.replace(/-wasm$/, "");
  const loaded = await loadImplementations((id) => id === (baseId === "imperative" ? "reverse" : implId));
  let impl = loaded.implementations.find((i) => i.id === implId);
  if (baseId === "imperative") {
    const imperative = imperativeRosenbrock(loaded.engines.find((e) => e.id === "reverse"));
    impl = imperative === undefined || implId === baseId ? imperative : onWasmBackend(imperative);
  }
  if (impl === undefined)
    return { problem: { absent: loaded.absent.find((a) => a.id === implId)?.reason ?? `no implementation ${implId}` } };
  const built = await impl.build(variant);
  if (isUnsupported(built)) return { problem: { unsupported: built.unsupported } };
  await built.case.prepare?.();
  return built;
}

/** W2's gradient with reverse's imperative API: `f(parameter(x)).backward()`, then `.grad`. */
function imperativeRosenbrock(reverse: EnginePackage | undefined): Implementation | undefined {
  const parameter = reverse?.module?.["parameter"] as ((t: Tensor) => Tensor & { grad: Tensor | null }) | undefined;
  if (parameter === undefined) return undefined;
  return {
    id: "imperative",
    label: "chainrule reverse, imperative API (loss.backward())",
    group: "chainrule",
    build: (variant) => {
      if (variant.workload !== "W2" || variant.kind !== "grad") return { unsupported: "W2 gradient only" };
      const x = tensor(variant.input.x);
      const run = () => {
        const p = parameter(x);
        (rosenbrockIr(p) as Tensor & { backward(): void }).backward();
        return p.grad!.data;
      };
      return { case: { run }, result: run };
    },
  };
}

/** A measured call as numbers only, so no result outlives it in this frame (bytes relative to `baseline`). */
async function liveCall(meter: LiveBytesMeter, run: () => unknown, baseline: Reading): Promise<LiveCall> {
  const w = await meter.measure(run);
  return {
    peakBytes: w.peak.arrayBuffers - baseline.arrayBuffers,
    peakOverBeforeBytes: w.peak.arrayBuffers - w.before.arrayBuffers,
    keptBeforeBytes: w.before.arrayBuffers - baseline.arrayBuffers,
    heapBytes: w.peak.heapUsed - baseline.heapUsed,
    wasmBytes: w.peak.wasmMemory,
    wasmGrowthBytes: w.peak.wasmMemory - baseline.wasmMemory,
    readings: w.readings,
  };
}

/** Calls `run` unmeasured (the warm-ups), dropping the result; the VmHWM figure of the old method alongside. */
async function warmUp(run: () => unknown): Promise<number | undefined> {
  const m = await peakDuring(run);
  return m.bytes;
}

/**
 * Peak live bytes of one W2 gradient (forward: one jvp) of `implId`: the first call, and a fifth
 * call after three unmeasured warm-ups, both against the baseline taken before the first call.
 */
async function memory(implId: string, n: number, dtype: FloatDType, kind: "grad" | "jvp"): Promise<object> {
  const meter = liveBytesMeter();
  if (meter === undefined) return { failed: `child: memory mode needs the live-bytes hooks (${LIVE_BYTES_HOW})` };
  const input = rosenbrockInput(n, dtype);
  const variant: RosenbrockVariant = {
    key: "memory",
    workload: "W2",
    kind,
    title: "memory",
    tolerance: TOLERANCE[dtype],
    input,
    expected: [],
  };
  const built = await memoryCase(implId, variant);
  if ("problem" in built) return built.problem;
  const run = built.case.run;
  const baseline = meter.read();
  const first = await liveCall(meter, run, baseline);
  const vmHwm: number[] = [];
  for (let i = 0; i < 3; i++) {
    const bytes = await warmUp(run);
    if (bytes !== undefined) vmHwm.push(bytes);
  }
  const steady = await liveCall(meter, run, baseline);
  // checked after the measurements (the expected answer's arrays are made now)
  const expected = expectedRosenbrock(input)[kind];
  const check = compareSegments(asSegments(await built.result()), expected, TOLERANCE[dtype]);
  if (!check.ok) return { failed: `wrong answer: ${check.message}` };
  return {
    kind,
    inputBytes: input.x.byteLength,
    baseline,
    first,
    steady,
    ...(vmHwm.length > 0 ? { vmHwmSteadyBytes: median(vmHwm) } : {}),
  };
}

interface LiveCall {
  /** Peak live array bytes − the baseline before the first call. */
  readonly peakBytes: number;
  /** Peak live array bytes − the level just before this call. */
  readonly peakOverBeforeBytes: number;
  /** The level just before this call − the baseline (what the process kept from earlier calls). */
  readonly keptBeforeBytes: number;
  /** Peak V8 heap at the readings − the baseline's. */
  readonly heapBytes: number;
  /** WebAssembly memories' size at the peak, and its growth over the baseline. */
  readonly wasmBytes: number;
  readonly wasmGrowthBytes: number;
  /** Hooked allocations read during the call. */
  readonly readings: number;
}

/**
 * The method's control, in the same kind of process as a memory row: `k` arrays of `n` floats kept
 * alive must read k·n·8 bytes, the same arrays allocated and dropped one by one n·8, a species copy
 * (`slice`) of a kept array n·8, and a WebAssembly memory grown by 2 pages its size apart.
 */
async function memoryControl(n: number): Promise<object> {
  const meter = liveBytesMeter();
  if (meter === undefined) return { failed: `child: memory-control needs the live-bytes hooks (${LIVE_BYTES_HOW})` };
  const k = 5;
  const use = (i: number): number => {
    const a = new Float64Array(n);
    a[0] = i;
    return a[0];
  };
  const source = new Float64Array(n);
  const baseline = meter.read();
  const kept = await liveCall(meter, () => Array.from({ length: k }, () => new Float64Array(n)), baseline);
  const dropped = await liveCall(meter, () => Array.from({ length: k }, (_, i) => use(i)).reduce((a, b) => a + b, 0), baseline);
  const sliced = await liveCall(meter, () => source.slice(), baseline);
  const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { grow(p: number): number } } })
    .WebAssembly;
  const grown = await liveCall(meter, () => new wasm.Memory({ initial: 1 }).grow(2), baseline);
  return { k, n, kept, dropped, sliced, grown };
}

/**
 * W1 with only `implId` loaded: engines share @chainrule/ir's classes and call sites, so what the
 * other engines did in the same process can change this one's speed (V8 inline caches).
 */
async function w1Alone(implId: string, timing: TimingOptions): Promise<object> {
  const loaded = await loadImplementations((id) => id === implId);
  const impl = loaded.implementations.find((i) => i.id === implId);
  if (impl === undefined) return { absent: loaded.absent.find((a) => a.id === implId)?.reason ?? `no implementation ${implId}` };
  const variant = seedVariant();
  const built = await impl.build(variant);
  if (isUnsupported(built)) return { unsupported: built.unsupported };
  await built.case.prepare?.();
  const check = compareSegments(asSegments(await built.result()), variant.expected, variant.tolerance);
  if (!check.ok) return { failed: `wrong answer: ${check.message}` };
  const [timed] = await timeInterleaved([built.case], timing);
  if (timed === undefined || timed.error !== undefined) return { failed: `threw while timed: ${timed?.error ?? "no timing"}` };
  return { summary: timed.summary, reps: timed.reps, note: `max rel. error ${check.relativeError.toExponential(1)}` };
}

/**
 * The jit kernel rows this process has (with FMA when it is in effect here) among `ids`, on one
 * W3/W4 variant. The answer says whether the FMA flag was given and what the jit detected.
 */
async function kernels(spec: VariantSpec, timing: TimingOptions, ids: readonly string[]): Promise<object> {
  const jit = (await discoverEngines()).find((e) => e.id === "jit");
  const flag = process.execArgv.includes(FMA_FLAG);
  if (jit?.engine === undefined) return { flag, absent: jit?.absent ?? "no jit package" };
  const api = jitKernelApi(jit);
  if (api === undefined) return { flag, absent: "@chainrule/jit exports no jit and kernelInfo" };
  const info = api.kernelInfo();
  const state = { flag, relaxedFma: info.relaxedFma, fmaSetting: info.config.fma, node: process.version };
  const impls = jitKernelImplementations({ ...jit, engine: jit.engine }).filter((i) => ids.includes(i.id));
  if (impls.length === 0) {
    const why = !fmaInEffect(api)
      ? `kernelInfo().relaxedFma is ${String(info.relaxedFma)} and the kernels' fma setting is ${String(info.config.fma)} in a ` +
        `child ${flag ? `started with ${FMA_FLAG}` : `without ${FMA_FLAG}`} (Node ${process.version})`
      : `none of ${ids.join(", ")} is a kernel row of this process`;
    return { ...state, unsupported: why };
  }
  const rows = await runVariant(variantOf(spec), impls, timing);
  return { ...state, rows: rows.map(toChildRow) };
}

/** The ceiling loops on one thread, then on two at once. */
async function peak(loops: readonly PeakLoop[], options: PeakOptions): Promise<object> {
  const peaks = [...(await measurePeaks(loops, options)), ...(await measurePeaks(loops, { ...options, threads: 2 }))];
  return { flag: process.execArgv.includes(FMA_FLAG), peaks };
}

interface CompileEventLike {
  readonly nodes?: number;
  readonly optimizedNodes?: number;
  readonly milliseconds?: number;
}

async function compile(nodes: number): Promise<object> {
  const jit = (await discoverEngines()).find((e) => e.id === "jit");
  if (jit?.engine === undefined) return { absent: jit?.absent ?? "no jit package" };
  const module = jit.module ?? {};
  const f = generatedChain(nodes);
  const x = tensor(Float64Array.from({ length: 8 }, (_, i) => 0.1 * (i + 1)));
  const graph = trace(f, x);
  const out: Record<string, unknown> = { graphNodes: graph.nodes.length };
  // 1. the package's graph compiler on the primal graph, when it exports one
  const compileGraph = module["compileGraph"];
  if (typeof compileGraph === "function") {
    try {
      const start = performance.now();
      const compiled = (compileGraph as (g: typeof graph) => { optimizedNodeCount?: number })(graph);
      out["compileGraphMs"] = performance.now() - start;
      out["compileGraphOptimizedNodes"] = compiled.optimizedNodeCount;
    } catch (error) {
      out["compileGraphError"] = errorText(error);
    }
  }
  // 2. grad(f): trace + differentiate + optimize + generate, on the first call
  const events: CompileEventLike[] = [];
  const onCompile = module["onCompile"];
  const unsubscribe =
    typeof onCompile === "function" ? (onCompile as (l: (e: CompileEventLike) => void) => () => void)((e) => events.push(e)) : undefined;
  try {
    const g = jit.engine.grad(f);
    const start = performance.now();
    g(x);
    const firstMs = performance.now() - start;
    const later: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      g(x);
      later.push(performance.now() - t);
    }
    const steadyMs = median(later);
    Object.assign(out, { firstMs, steadyMs, gradFirstCallMinusLaterMs: firstMs - steadyMs });
  } catch (error) {
    out["gradError"] = errorText(error);
  } finally {
    unsubscribe?.();
  }
  const event = events[0];
  if (event !== undefined)
    Object.assign(out, { gradNodes: event.nodes, gradOptimizedNodes: event.optimizedNodes, gradCompileMs: event.milliseconds });
  return out;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const where =
    error instanceof Error ? /\n\s+at (?:\S+ )?\(?([^()\s]+\/(?:packages|bench)\/[^()\s]+)\)?/.exec(error.stack ?? "")?.[1] : undefined;
  return `${text.split("\n")[0]!.slice(0, 200)}${where === undefined ? "" : ` (at ${where.replace(/^.*\/(packages|bench)\//, "$1/")})`}`;
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  let out: object;
  try {
    if (mode === "memory") out = await memory(args[0]!, Number(args[1]), args[2] as FloatDType, args[3] === "jvp" ? "jvp" : "grad");
    else if (mode === "memory-control") out = await memoryControl(Number(args[0]));
    else if (mode === "compile") out = await compile(Number(args[0]));
    else if (mode === "w1") out = await w1Alone(args[0]!, JSON.parse(args[1]!) as TimingOptions);
    else if (mode === "kernels")
      out = await kernels(JSON.parse(args[0]!) as VariantSpec, JSON.parse(args[1]!) as TimingOptions, args[2]!.split(","));
    else if (mode === "peak") out = await peak(args[0]!.split(",") as PeakLoop[], JSON.parse(args[1]!) as PeakOptions);
    else out = { failed: `child: expected mode memory, memory-control, compile, w1, kernels or peak, got ${String(mode)}` };
  } catch (error) {
    out = { failed: `threw ${errorText(error)}` };
  }
  process.stdout.write(`\n${JSON.stringify(out)}\n`);
  process.exit(0);
}

await main();
