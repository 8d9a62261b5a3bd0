/**
 * The benchmark harness. `npm run bench` (root) runs everything and writes bench/RESULTS.md;
 * `npm run bench -- --quick` is a < 1 minute smoke run that writes nothing. The run exits 1 when
 * any implementation gave a wrong answer or crashed (its row says FAILED), after printing everything.
 *
 * Options: --quick, --no-write, --only=W1,W3 (workloads; `memory`: only the peak-memory table, which
 * also runs with W2), --impl=hand,reverse,… (implementation ids), --skip-extras (no chunk curve,
 * compile times, memory or headless Chromium), --only-browser (only the headless-Chromium section,
 * for the workloads of --only; writes nothing).
 *
 * The jit's WebAssembly kernel rows (W3 whole step jitted, W4): `jit-1t`, `jit-2t` in a child
 * process that loads only the jit, `jit-fma-1t`, `jit-fma-2t` in a child started with
 * --experimental-wasm-relaxed-simd (impls/jit-kernels.ts), and the SIMD ceiling they are read
 * against (peak.ts). The headless-Chromium section (src/browser/) runs the W3/W4 kernel rows in a
 * cross-origin isolated page (Web Worker second thread, relaxed-SIMD FMA on by default).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { getPriority, loadavg } from "node:os";
import type { Engine } from "@chainrule/ir";
import { fileURLToPath } from "node:url";
import { fromChildRow, runChild, type ChildRow } from "./children.js";
import { LIVE_BYTES_ENV, LIVE_BYTES_NODE_FLAGS } from "./live-bytes.js";
import { engineImplementation } from "./impls/chainrule.js";
import { ALL_JIT_KERNEL_IDS, FMA_FLAG, JIT_FMA_IDS, JIT_KERNEL_IDS, kernelLabel, kernelRowSettings } from "./impls/jit-program.js";
import { measurePeaks, type Peak, type PeakOptions } from "./peak.js";
import { loadImplementations } from "./registry.js";
import {
  ceilingShareTable,
  convTargetsTable,
  derivativeRatioTable,
  kernelSummaryTable,
  machine,
  machineLine,
  markdownTable,
  peakTable,
  summaryTable,
  variantTable,
} from "./report.js";
import { runVariant, type Row } from "./run.js";
import { formatBytes, formatTime, type Summary } from "./stats.js";
import type { TimingOptions } from "./timing.js";
import {
  cnnVariant,
  convVariant,
  isKernelVariant,
  matmulVariant,
  mlpVariant,
  rosenbrockVariants,
  seedVariant,
  specOf,
  type Variant,
} from "./workloads.js";
import { handWritten } from "./impls/hand.js";
import { BROWSER_TITLE, browserSection } from "./browser/section.js";
import { PER_EXAMPLE_BEGIN, PER_EXAMPLE_END } from "./per-example-markers.js";
import { measureInBrowser } from "./browser/session.js";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const onlyBrowser = argv.includes("--only-browser");
const write = !quick && !onlyBrowser && !argv.includes("--no-write");
const skipExtras = argv.includes("--skip-extras");
/** The chunk curve, compile times and memory (the headless-Chromium section has its own condition). */
const extras = !skipExtras && !onlyBrowser;
const listArg = (name: string): string[] | undefined =>
  argv
    .find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3)
    .split(",");
const onlyWorkloads = listArg("only");
const onlyImpls = listArg("impl");
/** `--only=memory`: only the peak-memory table (it also runs with W2). */
const onlyMemory = onlyWorkloads !== undefined && onlyWorkloads.every((w) => w === "memory");
const known = new Set(["--quick", "--no-write", "--skip-extras", "--only-browser"]);
for (const a of argv) {
  if (!known.has(a) && !a.startsWith("--only=") && !a.startsWith("--impl=")) {
    console.error(
      `bench: unknown option ${a}; options: --quick --no-write --skip-extras --only-browser --only=W1,W2,W3,W4,W5,W6,memory ` +
        "--impl=hand,hand-reuse,eager,forward,reverse,imperative,jit,jit-donate,eager-wasm,forward-wasm,reverse-wasm,imperative-wasm," +
        "forward-unfused,reverse-unfused,imperative-unfused," +
        `${ALL_JIT_KERNEL_IDS.join(",")},tfjs-cpu,tfjs-wasm,jax,jax-jit,chromium ` +
        "(the headless-Chromium section)",
    );
    process.exit(2);
  }
}

const timing: TimingOptions = quick
  ? { warmupMs: 10, warmupCalls: 1, sampleMs: 3, rounds: 3, caseBudgetMs: 20, minRounds: 2 }
  : { warmupMs: 150, warmupCalls: 2, sampleMs: 25, rounds: 21, caseBudgetMs: 700, minRounds: 5 };

const started = Date.now();
const log = (text: string) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${text}`);
const out: string[] = [];
const emit = (text: string) => {
  console.log(`${text}\n`);
  out.push(text);
};

const m = machine();
log(`${quick ? "quick" : "full"} run · ${machineLine(m)}`);
const loaded = await loadImplementations(
  onlyBrowser ? (id) => id === "hand" : onlyImpls === undefined ? undefined : (id) => onlyImpls.includes(id) || id === "hand",
);
const { absent, engines, versions } = loaded;
/**
 * Implementations run in this process: every one but the jit's kernel rows, which run in child
 * processes of their own (below): a second thread shares its core with whatever else a process
 * does (V8's background GC and compiler threads, busy with the garbage of tfjs and the others
 * here), and a worker preempted in the middle of a block stalls the whole step.
 */
const impls = loaded.implementations.filter((i) => kernelRowSettings(i.id) === undefined);

/** The jit package's WebAssembly kernel settings, when it reports them (threads matter for the comparison). */
function jitKernelLine(): string[] {
  const info = engines.find((e) => e.id === "jit")?.module?.["kernelInfo"];
  if (typeof info !== "function") return [];
  try {
    const value = (info as () => { simd?: boolean; threads?: boolean; config?: Record<string, unknown> })();
    return [
      `- @chainrule/jit kernels: ${JSON.stringify(value.config ?? value)} (SIMD ${String(value.simd)}, threads available ` +
        `${String(value.threads)})`,
    ];
  } catch (error) {
    return [`- @chainrule/jit kernelInfo() threw: ${String(error)}`];
  }
}

emit(`# chainrule benchmarks${quick ? " (quick mode: few rounds, indicative only)" : ""}`);
emit(
  [
    `- date: ${m.date}`,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, one process`,
    `- commit: ${m.commit}`,
    `- load average at start (1/5/15 min): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        " / ",
      )} on ${m.cores} cores (the machine is shared: other processes compete for the CPU); this process ran at nice ${getPriority()}`,
    `- packages: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    `- implementations: ${impls.map((i) => i.label).join("; ")}`,
    ...absent.map((a) => `- **absent: ${a.label}** — ${a.reason}`),
    ...jitKernelLine(),
    "- timing: per workload, every implementation is checked against the hand-written answer, " +
      `warmed up (≥ ${timing.warmupMs} ms), then sampled in ${timing.rounds} interleaved rounds ` +
      `(rotated order; fewer, ≥ ${timing.minRounds}, for slow cases) of ≈ ${timing.sampleMs} ms each; ` +
      "medians and min–max over rounds; ratios are median / hand-written median (× > 1 is slower)",
  ].join("\n"),
);

// ── W1–W4 ────────────────────────────────────────────────────────────────────────────────────

const wanted = (w: string) => onlyWorkloads === undefined || onlyWorkloads.includes(w);
const variants: (() => Variant[])[] = [];
// --only-browser: no in-process or child rows
if (!onlyBrowser) {
  if (wanted("W1")) variants.push(() => [seedVariant()]);
  // quick mode: every workload and code path, fewer variants (no n = 1e5 float32)
  if (wanted("W2")) {
    for (const n of [1000, 100_000]) {
      for (const dtype of ["float64", "float32"] as const)
        if (!(quick && n > 1000 && dtype === "float32")) variants.push(() => rosenbrockVariants(n, dtype));
    }
  }
  if (wanted("W3")) variants.push(() => [mlpVariant()]);
  if (wanted("W4")) for (const dtype of ["float32", "float64"] as const) variants.push(() => [matmulVariant(256, dtype)]);
  if (wanted("W5")) variants.push(() => [cnnVariant()]);
  if (wanted("W6")) variants.push(() => [convVariant()]);
}

// ── the jit's kernel rows: a child loading only the jit, and one started with the FMA flag ──

const kernelIds = JIT_KERNEL_IDS.filter((id) => onlyImpls === undefined || onlyImpls.includes(id));
const fmaIds = JIT_FMA_IDS.filter((id) => onlyImpls === undefined || onlyImpls.includes(id));
const jitLoaded = engines.some((e) => e.id === "jit" && e.engine !== undefined);
const KERNEL_CHILD_NOTE =
  "Rows “chainrule jit, N thread(s)”: each measured alone in a child process that loads only " +
  `@chainrule/jit (“FMA flag”: started with \`${FMA_FLAG}\`, relaxed SIMD is behind that flag in Node 20), right after the rows ` +
  "above, with the same check and timing but a 2 s warm-up (a fresh process first compiles the kernels' optimized tier on " +
  "background threads, which takes the second core from the worker): samples back to back, as in a training loop. Interleaved " +
  "with other rows, a second thread's worker falls asleep between samples and shares its core with whatever else the process " +
  "does (V8's GC threads), so the first step after a pause costs ≈ 0.2–0.3 ms more and a preempted worker stalls a step. × " +
  "hand-written is against this table's hand-written median.";

/**
 * A fresh process's first second or so includes V8 compiling the kernels' optimized tier on
 * background threads, which takes the second core from the worker (steps with multi-millisecond
 * stalls): the kernel children warm up 2 s, as a training loop is past that after a few thousand
 * steps.
 */
const kernelTiming = quick ? timing : { ...timing, warmupMs: Math.max(timing.warmupMs, 2000) };

/** The kernel rows `ids` of `variant` from a child (with `flags`); n/a or FAILED rows with the reason when it has none. */
function kernelChildRows(variant: Variant, ids: readonly string[], flags: readonly string[]): Row[] {
  if (ids.length === 0 || !jitLoaded || !isKernelVariant(variant)) return [];
  const fma = flags.includes(FMA_FLAG);
  log(`${variant.key}: jit kernels (child process${fma ? `, ${FMA_FLAG}` : ""})`);
  const r = runChild(
    ["kernels", JSON.stringify(specOf(variant)), JSON.stringify(kernelTiming), ids.join(",")],
    quick ? 60_000 : 180_000,
    {},
    flags,
  );
  const v = r.value ?? {};
  const rows = v["rows"] as ChildRow[] | undefined;
  if (rows !== undefined) return rows.map((row) => fromChildRow(row, variant));
  const problem = r.error ?? v["failed"] ?? v["absent"];
  return ids.map((id) => {
    const settings = kernelRowSettings(id)!;
    const impl = {
      id,
      label: kernelLabel(settings.threads, settings.fma),
      group: "chainrule" as const,
      build: () => ({ unsupported: "child process" }),
    };
    if (problem === undefined && v["unsupported"] !== undefined)
      return { variant, impl, status: "n/a" as const, note: String(v["unsupported"]) };
    return { variant, impl, status: "FAILED" as const, note: `kernel child: ${String(problem ?? "no rows")}` };
  });
}

const all = new Map<string, Row[]>();
/** Wrong answers and crashes: the run exits 1 when there are any (a CI smoke test catches them). */
const failures: string[] = [];
for (const make of variants) {
  for (const variant of make()) {
    log(variant.title);
    const inProcess = await runVariant(variant, impls, timing);
    // each kernel row alone in its child: a second thread's worker sleeps while other rows run
    const fromChild = [
      ...kernelIds.flatMap((id) => kernelChildRows(variant, [id], [])),
      ...fmaIds.flatMap((id) => kernelChildRows(variant, [id], [FMA_FLAG])),
    ];
    const rows = [...inProcess, ...fromChild];
    failures.push(...rows.filter((r) => r.status === "FAILED").map((r) => `${variant.key}: ${r.label ?? r.impl.label}: ${r.note}`));
    all.set(variant.key, rows);
    emit(`${variantTable(rows)}${fromChild.length > 0 ? `\n\n${KERNEL_CHILD_NOTE}` : ""}`);
  }
}

// ── W1 with each engine alone in a fresh process ─────────────────────────────────────────────
// In the rows above every engine shares one process (and @chainrule/ir's classes and call sites)
// with the others; here each runs with nothing else loaded, so both figures are visible.

if (wanted("W1")) {
  const inProcess = all.get("W1 grad") ?? [];
  const rows: Row[] = [];
  for (const impl of impls) {
    if (impl.id !== "hand" && impl.group !== "chainrule") continue;
    const base = inProcess.find((r) => r.impl.id === impl.id);
    if (base === undefined) continue;
    log(`W1 grad, ${impl.id} alone (child process)`);
    const r = runChild(["w1", impl.id, JSON.stringify(timing)], quick ? 60_000 : 120_000);
    const v = r.value ?? {};
    const problem = r.error ?? v["failed"] ?? v["absent"];
    if (v["unsupported"] !== undefined) rows.push({ variant: base.variant, impl, status: "n/a", note: String(v["unsupported"]) });
    else if (problem !== undefined || v["summary"] === undefined)
      rows.push({ variant: base.variant, impl, status: "FAILED", note: String(problem ?? "no timing") });
    else
      rows.push({
        variant: base.variant,
        impl,
        status: "ok",
        summary: v["summary"] as Summary,
        reps: Number(v["reps"]),
        note: String(v["note"]),
      });
  }
  if (rows.length > 0) {
    failures.push(...rows.filter((r) => r.status === "FAILED").map((r) => `W1 alone: ${r.impl.label}: ${r.note}`));
    all.set("W1 grad alone", rows);
    const table = variantTable(rows).split("\n").slice(2).join("\n");
    emit(
      "### W1 grad, each implementation alone in a fresh child process\n\n" +
        "Same check and timing as above, but the process loads and runs only that implementation " +
        `(the rows above share one process with every other implementation of the run).\n\n${table}`,
    );
  }
}

if (wanted("W2") && !onlyBrowser) {
  const columns = [
    { n: "1e3", dtype: "f64" },
    { n: "1e3", dtype: "f32" },
    { n: "1e5", dtype: "f64" },
    { n: "1e5", dtype: "f32" },
  ];
  emit(
    "### W2 grad/primal (each implementation's gradient over its own primal; engines without a compiled primal over eager ir)" +
      `\n\n${derivativeRatioTable(all, "grad", columns)}`,
  );
  emit(`### W2 jvp/primal\n\n${derivativeRatioTable(all, "jvp", columns)}`);
}

// ── what this core issues: the SIMD ceiling the GEMM rows are read against ───────────────────

let peaks: Peak[] = [];
const kernelColumnsWanted =
  onlyImpls === undefined ||
  onlyImpls.some((id) => id === "jit" || ALL_JIT_KERNEL_IDS.includes(id) || id === "tfjs-wasm" || id.startsWith("jax"));
if ((wanted("W3") || wanted("W4") || wanted("W6")) && kernelColumnsWanted && !onlyBrowser) {
  const peakOptions: PeakOptions = quick ? { iterations: 300_000, reps: 9 } : { iterations: 2_000_000, reps: 41 };
  log("SIMD ceiling: add, mul, mul+add loops on 1 and 2 threads (this process); FMA loop (child process)");
  peaks = [
    ...(await measurePeaks(["add", "mul", "mul+add"], peakOptions)),
    ...(await measurePeaks(["mul+add"], { ...peakOptions, threads: 2 })),
  ];
  const r = runChild(["peak", "fma", JSON.stringify(peakOptions)], quick ? 30_000 : 120_000, {}, [FMA_FLAG]);
  const childPeaks = r.value?.["peaks"] as Peak[] | undefined;
  if (childPeaks !== undefined) peaks.push(...childPeaks);
  else
    peaks.push(
      ...(["f32x4", "f64x2"] as const).map((dtype) => ({
        dtype,
        loop: "fma" as const,
        threads: 1,
        error: `child: ${String(r.error ?? r.value?.["failed"] ?? "no answer")}`,
      })),
    );
  const w4Ids = [...impls.map((i) => i.id), ...kernelIds, ...fmaIds].filter(
    (id) => id.startsWith("jit-") || id === "tfjs-wasm" || id === "jax" || id === "jax-jit",
  );
  emit(
    "### What this core issues (same run)\n\n" +
      "The 128-bit WebAssembly SIMD ceiling, measured in this run: loops of independent accumulators kept in registers (no " +
      "memory traffic but L1 loads of the tile's operands), after a warm-up of ≥ 150 ms (`src/peak.ts`); the fastest call is " +
      "the ceiling (other processes only slow a loop down), the median beside it. The GEMM 4×2 tile loop issues exactly what a " +
      "register-blocked GEMM's inner loop issues (2 vector loads, 4 splat loads, 8 multiply-adds per iteration): what the GEMM " +
      "kernels can reach at best, without FMA or with it. On 2 threads the same loop runs on this thread and a worker at once " +
      "(per round, both threads' flops over the span from the first start to the last end): on a shared machine it shows how " +
      "much of the second core was free. The FMA loops run in a child started with `" +
      FMA_FLAG +
      "`.\n\n" +
      `${peakTable(peaks, (p) => (p.loop === "fma" ? " (child with the flag)" : ""))}\n\n` +
      "W4 rows (256³, medians) as a share of that ceiling: threads × the one-core tile loop's fastest call, with FMA for the FMA " +
      "rows and mul + add for every other row (this process has no relaxed SIMD; the peers run one thread under Node). The " +
      "`jit` row follows the package's default settings and is left out (its explicit twin is `jit-1t`).\n\n" +
      ceilingShareTable(all, peaks, w4Ids),
  );
}

// ── the jit in headless Chromium: a Web Worker as the second thread, relaxed-SIMD FMA by default ──

if ((wanted("W3") || wanted("W4")) && (onlyBrowser || (!skipExtras && (onlyImpls === undefined || onlyImpls.includes("chromium"))))) {
  const browserVariants = [
    ...(wanted("W3") ? [mlpVariant()] : []),
    ...(wanted("W4") ? [matmulVariant(256, "float32"), matmulVariant(256, "float64")] : []),
  ];
  // each row alone, warmed up 2 s like the kernel children (V8 tiers the kernels up in the background)
  const result = await measureInBrowser(browserVariants, { timing: kernelTiming, rowTimeoutMs: quick ? 60_000 : 180_000, log });
  if (result.status === "FAILED") {
    const rows = result.rows.flatMap((v) =>
      v.rows.filter((r) => r.status === "FAILED").map((r) => `headless Chromium: ${v.variant.key}: ${r.label ?? r.impl.label}: ${r.note}`),
    );
    failures.push(...(rows.length > 0 ? rows : [`headless Chromium: ${result.reason ?? result.pageErrors.join("; ")}`]));
  } else if (result.status === "n/a") {
    log(`${BROWSER_TITLE.replace(/^#+ /, "")}: n/a (${result.reason ?? ""})`);
  }
  emit(browserSection(result, kernelTiming));
}

// ── forward engine: chunk-size curve ─────────────────────────────────────────────────────────

const forward = engines.find((e) => e.id === "forward");
if (extras && wanted("W2") && (onlyImpls === undefined || onlyImpls.includes("forward"))) {
  const createEngine = forward?.module?.["createEngine"];
  if (forward?.engine === undefined) {
    emit(`### forward chunk-size curve\n\nnot measured: ${forward?.absent ?? "no forward package"}`);
  } else if (typeof createEngine !== "function") {
    emit("### forward chunk-size curve\n\nnot measured: @chainrule/forward exports no createEngine({ chunkSize })");
  } else {
    const n = 1000;
    const sizes = quick ? [16, 64] : [1, 2, 4, 8, 16, 32, 64, 128, 256, 1000];
    log(`forward chunk-size curve, W2 grad n=${n}: ${sizes.join(", ")}`);
    const variant = rosenbrockVariants(n, "float64", ["grad"])[0]!;
    const make = createEngine as (options: { chunkSize: number }) => Engine;
    const pkg = { ...forward, engine: forward.engine };
    const curveImpls = sizes.map((chunkSize) =>
      engineImplementation(pkg, { engine: make({ chunkSize }), label: `forward, chunkSize ${chunkSize}`, idSuffix: `-chunk${chunkSize}` }),
    );
    const rows = await runVariant(variant, [handWritten, ...curveImpls], timing);
    failures.push(...rows.filter((r) => r.status === "FAILED").map((r) => `chunk curve: ${r.impl.label}: ${r.note}`));
    emit(
      `### forward chunk-size curve: W2 grad, n = ${n}, float64 (passes = ⌈${n} / chunkSize⌉)\n\n` +
        `${variantTable(rows).split("\n").slice(2).join("\n")}`,
    );
  }
}

// ── jit: compile time ────────────────────────────────────────────────────────────────────────

const jit = engines.find((e) => e.id === "jit");
if (extras && !onlyMemory && (onlyImpls === undefined || onlyImpls.includes("jit"))) {
  const title = "### JIT compile time (a generated chain of N primitives: sin, ·c, +c in turn, then sum, on an 8-vector)";
  if (jit?.engine === undefined) {
    emit(`${title}\n\nnot measured: ${jit?.absent ?? "no jit package"}`);
  } else {
    const sizes = quick ? [1000] : [1000, 10_000, 100_000];
    const body: string[][] = [];
    const num = (v: unknown) => (typeof v === "number" ? v : undefined);
    const ms = (v: unknown) => (num(v) === undefined ? "—" : formatTime(num(v)!));
    for (const nodes of sizes) {
      log(`jit compile time, ${nodes} nodes (child process)`);
      const r = runChild(["compile", String(nodes)], quick ? 30_000 : 150_000);
      const v = r.value ?? {};
      const problem = r.error ?? v["failed"] ?? v["absent"];
      if (!r.ok || problem !== undefined) {
        body.push([String(nodes), "", "", "", "", "", String(problem)]);
        continue;
      }
      const gradError = v["gradError"] === undefined ? undefined : `FAILED: ${String(v["gradError"])}`;
      body.push([
        String(nodes),
        `${String(v["graphNodes"])} → ${String(v["compileGraphOptimizedNodes"] ?? "?")}`,
        v["compileGraphError"] === undefined ? ms(v["compileGraphMs"]) : `FAILED: ${String(v["compileGraphError"])}`,
        v["gradNodes"] === undefined ? "—" : `${String(v["gradNodes"])} → ${String(v["gradOptimizedNodes"])}`,
        gradError ?? ms(v["gradCompileMs"]),
        gradError === undefined ? ms(v["gradFirstCallMinusLaterMs"]) : "",
        gradError === undefined ? ms(v["steadyMs"]) : "",
      ]);
    }
    emit(
      `${title}\n\nEach N in a fresh child process. ` +
        "compileGraph: @chainrule/jit's graph compiler (optimize, generate, `new Function`) on the traced primal graph. " +
        "grad: the first call of `grad(f)` traces, differentiates and compiles " +
        "(time from the package's onCompile event; also first call − later call).\n\n" +
        markdownTable(
          [
            "N",
            "primal nodes (traced → optimized)",
            "compileGraph(primal)",
            "grad graph nodes (traced → optimized)",
            "grad compile (onCompile)",
            "grad first − later call",
            "grad later call",
          ],
          body,
        ),
    );
  }
}

// ── peak memory of the W2 n = 1e5 gradient ───────────────────────────────────────────────────

/** glibc: large blocks by mmap and returned on free, so the resident set follows live buffers (the old VmHWM figure). */
const MEMORY_CHILD_ENV = { MALLOC_MMAP_THRESHOLD_: "65536", MALLOC_TRIM_THRESHOLD_: "0", ...LIVE_BYTES_ENV };

const MEMORY_TITLE = "### Peak memory of one W2 gradient";

/** The implementations of the memory table: forward (and forward-wasm) measure one jvp, the rest one gradient. */
const MEMORY_IDS = [
  "hand",
  "hand-reuse",
  "reverse",
  "reverse-wasm",
  "imperative",
  "imperative-wasm",
  "forward",
  "forward-wasm",
  "jit",
  "jit-donate",
  "tfjs-cpu",
  "tfjs-wasm",
  "jax",
  "jax-jit",
];

interface LiveCallValue {
  peakBytes: number;
  peakOverBeforeBytes: number;
  keptBeforeBytes: number;
  heapBytes: number;
  wasmBytes: number;
  wasmGrowthBytes: number;
  readings: number;
}

/** One row of the memory table from a memory child's answer. */
function memoryRow(label: string, dtype: string, v: Record<string, unknown>): string[] {
  const input = v["inputBytes"] as number;
  const first = v["first"] as LiveCallValue;
  const steady = v["steady"] as LiveCallValue;
  const times = (bytes: number) => `${formatBytes(bytes)} (${(bytes / input).toFixed(1)}×)`;
  const base = (v["baseline"] as { wasmMemory: number }).wasmMemory;
  const wasm = [base, first.wasmBytes, steady.wasmBytes].map(formatBytes).join(" → ");
  const vmHwm = typeof v["vmHwmSteadyBytes"] === "number" ? formatBytes(v["vmHwmSteadyBytes"]) : "n/a";
  return [
    label,
    `${String(v["kind"])} ${dtype}`,
    times(first.peakBytes),
    times(steady.peakBytes),
    times(steady.peakOverBeforeBytes),
    formatBytes(steady.keptBeforeBytes),
    `${formatBytes(first.heapBytes)} / ${formatBytes(steady.heapBytes)}`,
    wasm,
    `${first.readings} / ${steady.readings}`,
    vmHwm,
  ];
}

const memoryWanted = onlyWorkloads === undefined || onlyWorkloads.includes("W2") || onlyWorkloads.includes("memory");
if (extras && memoryWanted) {
  const n = 100_000;
  const ids = quick ? ["hand", "reverse"] : MEMORY_IDS;
  const labels = new Map([...impls.map((i) => [i.id, i.label] as const), ...absent.map((a) => [a.id, a.label] as const)]);
  labels.set("imperative", "chainrule reverse, imperative API (loss.backward())");
  labels.set("imperative-wasm", "chainrule reverse, imperative API, WebAssembly backend");
  const body: string[][] = [];
  for (const id of ids) {
    if (onlyImpls !== undefined && !onlyImpls.includes(id) && id !== "hand") continue;
    const label = labels.get(id) ?? id;
    const reason = absent.find((a) => a.id === id)?.reason;
    if (reason !== undefined) {
      body.push([label, "", "", "", "", "", "", "", "", `absent: ${reason}`]);
      continue;
    }
    const dtype = id.startsWith("tfjs") ? "float32" : "float64";
    const kind = id.startsWith("forward") ? "jvp" : "grad";
    log(`peak live bytes of W2 ${kind} n=${n} ${dtype}: ${id} (child process)`);
    const r = runChild(["memory", id, String(n), dtype, kind], quick ? 60_000 : 180_000, MEMORY_CHILD_ENV, LIVE_BYTES_NODE_FLAGS);
    const v = r.value ?? {};
    const problem = r.error ?? v["failed"] ?? v["unsupported"] ?? v["absent"];
    if (problem !== undefined) {
      if (r.error !== undefined || v["failed"] !== undefined) failures.push(`peak memory: ${label}: ${String(problem)}`);
      body.push([label, `${kind} ${dtype}`, "", "", "", "", "", "", "", String(problem)]);
      continue;
    }
    body.push(memoryRow(label, dtype, v));
  }
  emit(
    `${MEMORY_TITLE}, n = ${n.toLocaleString("en-US")} (input ${formatBytes(n * 8)} in f64)\n\n` +
      `${machineLine(m)}\n\n` +
      "Peak **live** array bytes, each implementation in a fresh child process (`src/child.ts memory`, `src/live-bytes.ts`): " +
      "before anything is imported, the global `ArrayBuffer` and typed-array constructors are replaced by Proxies whose " +
      "construct trap runs a full garbage collection (`--expose-gc`) and reads `process.memoryUsage().arrayBuffers` after every " +
      "allocation of a measured call; the maximum of these readings is the peak of live array bytes (garbage never counts; " +
      "buffers a library keeps for reuse always do). Baseline: after imports, building the case and the input, and a gc, before " +
      "the first call. **First call**: its peak − baseline. **Steady**: the fifth call (three unmeasured warm-ups between): its " +
      "peak − the same baseline (what the library kept between calls, such as reverse's free list of buffers, counts), and − " +
      "the level just before that call; **kept** is that level − baseline. × is over the row's input (n · 8 bytes in f64, " +
      "n · 4 in f32); every figure includes the call's output. The forward rows measure one jvp (a gradient over 10⁵ inputs " +
      "is 10⁵/chunk forward passes). **V8 heap**: `heapUsed` − baseline at the same readings (live heap at allocation points, " +
      "not its true peak). **wasm memory**: WebAssembly memories are not ArrayBuffer allocations and are not in the live " +
      "bytes: the summed size of the memories the process made or was exported (grown, used or not; one its owner drops " +
      "leaves the sum) at the baseline → the first call's peak → the steady call's peak. Intermediates that live in a wasm " +
      "heap (tfjs wasm, jax-js) are only in that column: their live bytes are the JS-side arrays (inputs copied in, the " +
      "output copied out); @chainrule/wasm's eager kernels copy operands in and results out to JS arrays, which are counted. " +
      "**readings**: hooked allocations during the first / steady call. Allocations that bypass the constructors (Node " +
      "Buffers, `structuredClone`, memory growth inside wasm code) are counted at the next reading only. **VmHWM** is the old " +
      "method (VmHWM − VmRSS after `clear_refs`, median of the three unhooked warm-ups, glibc `MALLOC_MMAP_THRESHOLD_=65536`): " +
      "pages already resident (a free list, V8's pages, freed pages reused) never raise the mark while uncollected garbage " +
      "does, so the same reverse gradient read 0.2–18 MiB in earlier runs; kept for comparison " +
      `only. Reproduce this table alone: \`npm run bench -- --only=memory\` (rewrites only this section of RESULTS.md).\n\n` +
      markdownTable(
        [
          "implementation",
          "call",
          "first call, − baseline",
          "steady, − baseline",
          "steady, − level before",
          "kept",
          "V8 heap, first / steady",
          "wasm memory",
          "readings",
          "VmHWM (old)",
        ],
        body,
      ),
  );
}

// ── summary ──────────────────────────────────────────────────────────────────────────────────

const columns = [
  ...impls
    .filter((i) => i.id !== "eager" && i.id !== "hand-unrolled" && !ALL_JIT_KERNEL_IDS.includes(i.id))
    .map((i) => ({ id: i.id, label: i.id === "hand" ? "hand-written" : i.label.replace("chainrule ", "") })),
];
// the jit's kernel rows (in-process and FMA child) beside the peers they are held against
const kernelColumns = [...ALL_JIT_KERNEL_IDS, "tfjs-wasm", "jax-jit"]
  .map((id) => ({
    id,
    label: [...all.values()]
      .flat()
      .find((r) => r.impl.id === id)
      ?.impl.label.replace("chainrule ", ""),
  }))
  .filter((c): c is { id: string; label: string } => c.label !== undefined);
const kernelSummary = kernelColumns.some((c) => ALL_JIT_KERNEL_IDS.includes(c.id))
  ? "\n\n### @chainrule/jit on WebAssembly kernels, against issue 10's targets\n\n" +
    `${kernelSummaryTable(all, peaks, kernelColumns)}\n\n` +
    "W3 here: the jit rows compile the whole step (valueAndGrad + SGD update) in one `jit`, like jax-js jit; tfjs wasm runs eagerly. " +
    "Share of the SIMD ceiling: the GEMM's median GFLOP/s over threads × what one core issues " +
    "(the GEMM-tile loop's fastest call, section “What this core issues”), with FMA for the FMA columns: " +
    "where a target is missed, this says whether the kernel or the core falls short " +
    "(and the two-thread loop there, whether the second core was free). " +
    "✓/✗: the issue's target for that thread count met or not. " +
    `FMA columns: a child process started with \`${FMA_FLAG}\`.`
  : "";
const convTargets =
  all.has("W5 step f32") || all.has("W6 conv f32")
    ? "\n\n### Convolutions (W5, W6) against issue 18's targets\n\n" +
      `${convTargetsTable(all, peaks)}\n\n` +
      "W5 jit rows compile the whole step (valueAndGrad + SGD update) in one `jit`, params donated; tfjs wasm runs eagerly (its " +
      "own NHWC layout), jax-js jit compiles the step. W6 share: median GFLOP/s over the one-core GEMM-tile ceiling of this run."
    : "";
const summary =
  onlyBrowser || onlyMemory
    ? ""
    : `## Summary\n\n${machineLine(m)} · load average ${loadavg()[1]!.toFixed(1)} (5 min, at the end)\n\n` +
      `${summaryTable(all, columns)}\n\n` +
      "W1 and W3 are times per call/step; W2 rows are ratios to hand-written (f32 where the implementation has no f64); W4 is GFLOP/s." +
      `${
        columns.some((c) => c.id === "jit")
          ? " W3 jit: valueAndGrad jitted, the SGD update in eager ir (as for reverse); the whole step jitted is in the next table."
          : ""
      }${absent.length > 0 ? ` Absent: ${absent.map((a) => `${a.label} (${a.reason})`).join("; ")}.` : ""}${kernelSummary}${convTargets}`;
if (summary !== "") emit(summary);

if (write && onlyMemory) {
  // --only=memory: the peak-memory table replaces its own section of RESULTS.md, the rest is kept
  const path = fileURLToPath(new URL("../RESULTS.md", import.meta.url));
  const section = out.find((s) => s.startsWith(MEMORY_TITLE));
  if (section !== undefined) {
    writeFileSync(path, replaceMemorySection(readFileSync(path, "utf8"), section));
    log(`wrote the peak-memory section of ${path}`);
  }
} else if (write) {
  const path = fileURLToPath(new URL("../RESULTS.md", import.meta.url));
  const [title, ...rest] = out;
  // the per-example-gradient section (npm run bench:per-example) is measured by its own script: kept as it is
  const kept = keptSection(path);
  writeFileSync(path, `${[title, summary, ...rest.filter((s) => s !== summary), ...kept].join("\n\n")}\n`);
  log(`wrote ${path}`);
}
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (failures.length > 0) {
  console.error(`bench: ${failures.length} FAILED (wrong answer or crash):\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
process.exit(0);

/**
 * `text` with its peak-memory section (from its title to the next heading or marker comment)
 * replaced by `section`, or with `section` appended.
 */
function replaceMemorySection(text: string, section: string): string {
  const start = text.indexOf(MEMORY_TITLE);
  if (start < 0) return `${text.trimEnd()}\n\n${section}\n`;
  const next = /^(#{1,3} |<!--)/m.exec(text.slice(start + MEMORY_TITLE.length));
  const end = next === null ? text.length : start + MEMORY_TITLE.length + next.index;
  return `${text.slice(0, start)}${section}\n${end < text.length ? "\n" : ""}${text.slice(end)}`;
}

/** The per-example-gradient section of the current RESULTS.md, with its markers (none if absent). */
function keptSection(path: string): string[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const start = text.indexOf(PER_EXAMPLE_BEGIN);
  const end = text.indexOf(PER_EXAMPLE_END);
  return start >= 0 && end > start ? [text.slice(start, end + PER_EXAMPLE_END.length)] : [];
}
