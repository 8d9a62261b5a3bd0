/**
 * Measurements that need a fresh process, run by the harness as children (children.ts):
 *
 *   child.ts memory IMPL N DTYPE   peak memory of one W2 gradient (n = N) of implementation IMPL
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
 * Memory method: the process loads one implementation and builds its inputs; then, for each
 * measured call, it collects garbage twice (`--expose-gc`), resets the kernel's peak-RSS mark
 * (`echo 5 > /proc/self/clear_refs`, Linux ≥ 4.0), reads VmRSS, runs one gradient and reads
 * VmHWM. The peak is VmHWM − VmRSS-before: every page the call touched beyond what was resident
 * (V8 heap, typed-array stores, wasm memory growth), garbage not yet collected included. The
 * first call (which traces/compiles/fills caches) is reported apart from the median of the next
 * three ("steady").
 */
import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { tensor, trace } from "@chainrule/ir";
import { asSegments, compareSegments } from "./check.js";
import { toChildRow } from "./children.js";
import { fmaInEffect, jitKernelApi, jitKernelImplementations } from "./impls/jit-kernels.js";
import { FMA_FLAG } from "./impls/jit-program.js";
import { measurePeaks, type PeakLoop, type PeakOptions } from "./peak.js";
import { runVariant } from "./run.js";
import { rosenbrockInput, type FloatDType } from "./data.js";
import { discoverEngines, generatedChain } from "./impls/chainrule.js";
import { loadImplementations } from "./registry.js";
import { median } from "./stats.js";
import { expectedRosenbrock } from "./reference.js";
import { timeInterleaved, type TimingOptions } from "./timing.js";
import { isUnsupported, seedVariant, TOLERANCE, variantOf, type RosenbrockVariant, type VariantSpec } from "./workloads.js";

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

async function memory(implId: string, n: number, dtype: FloatDType): Promise<object> {
  const loaded = await loadImplementations((id) => id === implId);
  const impl = loaded.implementations.find((i) => i.id === implId);
  if (impl === undefined) return { absent: loaded.absent.find((a) => a.id === implId)?.reason ?? `no implementation ${implId}` };
  // the expected answer is computed after the measurements, so its arrays are not resident slack
  const input = rosenbrockInput(n, dtype);
  const variant: RosenbrockVariant = {
    key: "memory",
    workload: "W2",
    kind: "grad",
    title: "memory",
    tolerance: TOLERANCE[dtype],
    input,
    expected: [],
  };
  const built = await impl.build(variant);
  if (isUnsupported(built)) return { unsupported: built.unsupported };
  await built.case.prepare?.();
  const first = await peakDuring(() => built.case.run());
  const later: number[] = [];
  let last: unknown = first.result;
  for (let i = 0; i < 3; i++) {
    const m = await peakDuring(() => built.case.run());
    if (m.bytes !== undefined) later.push(m.bytes);
    last = m.result;
  }
  const check = compareSegments(asSegments(last), expectedRosenbrock(input).grad, TOLERANCE[dtype]);
  if (!check.ok) return { failed: `wrong answer: ${check.message}` };
  return {
    firstBytes: first.bytes,
    steadyBytes: later.length > 0 ? median(later) : undefined,
    baselineRssBytes: (statusKiB("VmRSS") ?? 0) * 1024,
    method: later.length > 0 ? "VmHWM after clear_refs" : "unavailable (no /proc/self/clear_refs)",
  };
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
    if (mode === "memory") out = await memory(args[0]!, Number(args[1]), args[2] as FloatDType);
    else if (mode === "compile") out = await compile(Number(args[0]));
    else if (mode === "w1") out = await w1Alone(args[0]!, JSON.parse(args[1]!) as TimingOptions);
    else if (mode === "kernels")
      out = await kernels(JSON.parse(args[0]!) as VariantSpec, JSON.parse(args[1]!) as TimingOptions, args[2]!.split(","));
    else if (mode === "peak") out = await peak(args[0]!.split(",") as PeakLoop[], JSON.parse(args[1]!) as PeakOptions);
    else out = { failed: `child: expected mode memory, compile, w1, kernels or peak, got ${String(mode)}` };
  } catch (error) {
    out = { failed: `threw ${errorText(error)}` };
  }
  process.stdout.write(`\n${JSON.stringify(out)}\n`);
  process.exit(0);
}

await main();
