/** Tables (Markdown, also what is printed) and the machine description. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { FloatDType } from "./data.js";
import { kernelRowSettings } from "./impls/jit-program.js";
import type { Peak, PeakDType, PeakLoop } from "./peak.js";
import type { Row } from "./run.js";
import { formatRatio, formatSpread, formatTime, significant } from "./stats.js";
import type { Variant } from "./workloads.js";

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escapeCell = (cell: string) => cell.replaceAll("|", "\\|").replaceAll("\n", " ");
  const lines = [`| ${header.map(escapeCell).join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${row.map(escapeCell).join(" | ")} |`);
  return lines.join("\n");
}

/** The row of the hand-written baseline (`hand`) among a variant's rows, when it was timed. */
export function baselineOf(rows: readonly Row[]): Row | undefined {
  return rows.find((r) => r.impl.id === "hand" && r.status === "ok" && r.summary !== undefined);
}

export function ratioTo(row: Row | undefined, baseline: Row | undefined): number {
  if (row?.summary === undefined || baseline?.summary === undefined) return NaN;
  return row.summary.median / baseline.summary.median;
}

function throughput(variant: Variant, ms: number): string {
  if (variant.workload === "W3" || variant.workload === "W5") return `${significant(1000 / ms)} steps/s`;
  if (variant.workload === "W4" || variant.workload === "W6") return `${significant(variant.flops / (ms * 1e6))} GFLOP/s`;
  return "";
}

/** One variant: every implementation's median, spread, ratio to hand-written, or why not. */
export function variantTable(rows: readonly Row[]): string {
  const variant = rows[0]?.variant;
  if (variant === undefined) return "";
  const baseline = baselineOf(rows);
  const withRate = variant.workload !== "W1" && variant.workload !== "W2";
  const header = ["implementation", "median", "min–max", "× hand-written", ...(withRate ? ["rate"] : []), "samples", "check"];
  const body = rows.map((r) => {
    if (r.status === "ok" && r.summary !== undefined) {
      return [
        r.label ?? r.impl.label,
        formatTime(r.summary.median),
        formatSpread(r.summary),
        formatRatio(ratioTo(r, baseline)),
        ...(withRate ? [throughput(variant, r.summary.median)] : []),
        `${r.summary.count}×${r.reps ?? 1}`,
        `ok (${r.note})`,
      ];
    }
    return [r.label ?? r.impl.label, r.status, "", "", ...(withRate ? [""] : []), "", r.note];
  });
  return `### ${variant.title}\n\n${markdownTable(header, body)}`;
}

/** `grad/primal` or `jvp/primal` per implementation; each implementation's primal is its own, or eager ir for engines without one. */
export function derivativeRatioTable(
  all: ReadonlyMap<string, readonly Row[]>,
  kind: "grad" | "jvp",
  columns: readonly { n: string; dtype: string }[],
): string {
  const labels = new Map<string, string>();
  for (const rows of all.values()) for (const r of rows) labels.set(r.impl.id, r.impl.label);
  const cell = (implId: string, n: string, dtype: string): string => {
    const numerator = all.get(`W2 ${kind} n=${n} ${dtype}`)?.find((r) => r.impl.id === implId);
    const primals = all.get(`W2 primal n=${n} ${dtype}`) ?? [];
    const own = primals.find((r) => r.impl.id === implId && r.status === "ok");
    const isEngine = numerator?.impl.group === "chainrule";
    const primal = own ?? (isEngine ? primals.find((r) => r.impl.id === "eager" && r.status === "ok") : undefined);
    if (numerator === undefined) return "";
    if (numerator.status !== "ok") return numerator.status;
    const ratio = ratioTo(numerator, primal);
    if (!Number.isFinite(ratio)) return "—";
    return `${formatRatio(ratio)}${own === undefined && isEngine ? " (eager primal)" : ""}`;
  };
  const ids = [...labels.keys()].filter((id) =>
    columns.some((c) => all.get(`W2 ${kind} n=${c.n} ${c.dtype}`)?.some((r) => r.impl.id === id)),
  );
  const header = ["implementation", ...columns.map((c) => `n=${c.n} ${c.dtype}`)];
  return markdownTable(
    header,
    ids.map((id) => [labels.get(id)!, ...columns.map((c) => cell(id, c.n, c.dtype))]),
  );
}

/** The short table for the README: one row per headline figure, one column per implementation. */
export function summaryTable(all: ReadonlyMap<string, readonly Row[]>, implIds: readonly { id: string; label: string }[]): string {
  const find = (key: string, id: string) => all.get(key)?.find((r) => r.impl.id === id);
  const base = (key: string) => baselineOf(all.get(key) ?? []);
  const show = (row: Row | undefined, value: (r: Row) => string): string => {
    if (row === undefined) return "—";
    if (row.status === "n/a") return "n/a";
    if (row.status === "FAILED") return "FAILED";
    return row.summary === undefined ? "—" : value(row);
  };
  const time = (key: string) => (id: string) => show(find(key, id), (r) => formatTime(r.summary!.median));
  const ratio = (key: string, fallback?: string) => (id: string) => {
    if (id === "hand") return show(find(key, id), (r) => formatTime(r.summary!.median));
    const row = find(key, id);
    if ((row === undefined || row.status === "n/a") && fallback !== undefined) {
      const alt = find(fallback, id);
      if (alt?.status === "ok") return `${formatRatio(ratioTo(alt, base(fallback)))} (f32)`;
    }
    return show(row, (r) => formatRatio(ratioTo(r, base(key))));
  };
  const perPrimal = (n: string) => (id: string) => {
    for (const dtype of ["f64", "f32"]) {
      const grad = find(`W2 grad n=${n} ${dtype}`, id);
      if (grad?.status !== "ok") continue;
      const primals = all.get(`W2 primal n=${n} ${dtype}`) ?? [];
      const primal =
        primals.find((r) => r.impl.id === id && r.status === "ok") ??
        (grad.impl.group === "chainrule" ? primals.find((r) => r.impl.id === "eager" && r.status === "ok") : undefined);
      const q = ratioTo(grad, primal);
      if (Number.isFinite(q)) return `${significant(q, 2)}${dtype === "f32" ? " (f32)" : ""}`;
    }
    return show(find(`W2 grad n=${n} f64`, id), () => "—");
  };
  const rateOf = (r: Row) =>
    r.variant.workload === "W4" || r.variant.workload === "W6"
      ? significant(r.variant.flops / (r.summary!.median * 1e6))
      : formatTime(r.summary!.median);
  const rate = (key: string) => (id: string) => {
    const row = find(key, id);
    // forward and reverse run a primal through eager ir: show that figure, marked
    if (row === undefined && (id === "forward" || id === "reverse")) {
      const eager = find(key, "eager");
      if (eager?.status === "ok") return `${rateOf(eager)} (eager ir)`;
    }
    return show(row, rateOf);
  };
  const lines: [string, (id: string) => string][] = [
    ["W1 grad (per call)", time("W1 grad")],
    ["W1 grad, engine alone in its process", time("W1 grad alone")],
    ["W2 n=1e3 grad (f64; × hand-written)", ratio("W2 grad n=1e3 f64", "W2 grad n=1e3 f32")],
    ["W2 n=1e5 grad (f64; × hand-written)", ratio("W2 grad n=1e5 f64", "W2 grad n=1e5 f32")],
    ["W2 grad/primal n=1e5", perPrimal("1e5")],
    ["W3 step (f32)", rate("W3 step f32")],
    ["W4 f32 GFLOP/s", rate("W4 matmul f32")],
    ["W4 f64 GFLOP/s", rate("W4 matmul f64")],
    ["W5 CNN step (f32)", rate("W5 step f32")],
    ["W6 conv f32 GFLOP/s", rate("W6 conv f32")],
  ];
  return markdownTable(
    ["workload", ...implIds.map((i) => i.label)],
    lines.map(([name, f]) => [name, ...implIds.map((i) => f(i.id))]),
  );
}

export interface Machine {
  readonly date: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly commit: string;
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (match) cpu = match[1]!.trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", ":/packages", ":/bench", ":(top,exclude)bench/RESULTS.md"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    if (dirty !== "") commit += " (+ uncommitted changes in packages/ or bench/)";
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    cpu,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    commit,
  };
}

export function machineLine(m: Machine): string {
  return `${m.date} · ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB · Node ${m.node} · commit ${m.commit}`;
}

// ── the jit's WebAssembly kernels: the SIMD ceiling and issue 10's targets ──────────────────

/**
 * The ceiling a GEMM with these settings is held against: threads × the one-core GFLOP/s of the
 * GEMM-tile loop (mul + add, or FMA) for `dtype`, its fastest call (noise only slows a loop). (The
 * loop measured on two threads at once says how much of the second core was free at that moment;
 * on a shared machine that moves, so it is shown beside, not used as the denominator.)
 */
export function ceilingOf(peaks: readonly Peak[], dtype: FloatDType, fma: boolean, threads = 1): number | undefined {
  const one = peaks.find(
    (p) => p.dtype === (dtype === "float32" ? "f32x4" : "f64x2") && p.loop === (fma ? "fma" : "mul+add") && p.threads === 1,
  )?.best;
  return one === undefined ? undefined : threads * one;
}

/**
 * Threads and FMA a row ran with: the kernel rows say both in their id; every other row of the
 * table runs one thread without FMA (this process has no relaxed SIMD unless started with the
 * flag, and the peers are single-threaded under Node). `jit` follows the package's default
 * settings, so it has none here (its explicit twin is `jit-1t`).
 */
export function rowSettings(id: string): { threads: number; fma: boolean } | undefined {
  if (id === "jit") return undefined;
  return kernelRowSettings(id) ?? { threads: 1, fma: false };
}

const LOOP_LABELS: Record<PeakLoop, string> = {
  add: "add only (12 accumulators, 1 flop per lane)",
  mul: "mul only (12 accumulators)",
  "mul+add": "GEMM 4×2 tile, mul + add: the ceiling without FMA",
  fma: "GEMM 4×2 tile, relaxed_madd: the ceiling with FMA",
};

/** The ceiling loops: one row per loop and thread count, GFLOP/s per vector type. */
export function peakTable(peaks: readonly Peak[], where: (p: Peak) => string = () => ""): string {
  const kinds = [...new Map(peaks.map((p) => [`${p.threads} ${p.loop}`, p] as const)).values()];
  const cell = (kind: Peak, dtype: PeakDType) => {
    const p = peaks.find((q) => q.loop === kind.loop && q.threads === kind.threads && q.dtype === dtype);
    if (p === undefined) return "—";
    return p.gflops === undefined ? (p.error ?? "—") : `${significant(p.best ?? p.gflops)} (${significant(p.gflops)})`;
  };
  return markdownTable(
    ["loop (registers only)", "threads", "f32x4 GFLOP/s: fastest call (median)", "f64x2 GFLOP/s: fastest call (median)"],
    kinds.map((k) => [
      `${LOOP_LABELS[k.loop]}${where(k)}`,
      k.threads === 1 ? "1" : `${k.threads} at once (this thread + a worker: what both cores gave together then)`,
      cell(k, "f32x4"),
      cell(k, "f64x2"),
    ]),
  );
}

function gflopsOf(row: Row | undefined): number | undefined {
  if (row?.status !== "ok" || row.summary === undefined || (row.variant.workload !== "W4" && row.variant.workload !== "W6"))
    return undefined;
  return row.variant.flops / (row.summary.median * 1e6);
}

/** The share of the ceiling a W4 or W6 row reached: threads × one-core ceiling, with or without FMA. */
export function shareOfCeiling(row: Row | undefined, peaks: readonly Peak[]): number | undefined {
  const gflops = gflopsOf(row);
  const settings = row === undefined ? undefined : rowSettings(row.impl.id);
  if (gflops === undefined || settings === undefined || row === undefined) return undefined;
  const dtype = row.variant.workload === "W4" ? row.variant.input.dtype : "float32";
  const ceiling = ceilingOf(peaks, dtype, settings.fma, settings.threads);
  return ceiling === undefined ? undefined : gflops / ceiling;
}

const percent = (share: number | undefined) => (share === undefined ? "—" : `${Math.round(share * 100)}%`);

/** W4 rows (implementations in `ids`) as GFLOP/s and as a share of the ceiling. */
export function ceilingShareTable(all: ReadonlyMap<string, readonly Row[]>, peaks: readonly Peak[], ids: readonly string[]): string {
  const body: string[][] = [];
  for (const id of ids) {
    const settings = rowSettings(id);
    const rows = ["W4 matmul f32", "W4 matmul f64"].map((key) => all.get(key)?.find((r) => r.impl.id === id));
    const first = rows.find((r) => r !== undefined);
    if (first === undefined || settings === undefined) continue;
    const cells = rows.flatMap((r, k) => {
      const g = gflopsOf(r);
      if (g === undefined) return [r?.status ?? "—", "—"];
      const c = ceilingOf(peaks, k === 0 ? "float32" : "float64", settings.fma, settings.threads);
      return [significant(g), c === undefined ? "—" : `${percent(g / c)} of ${significant(c)}`];
    });
    body.push([first.impl.label, `${settings.threads}${settings.fma ? ", FMA" : ""}`, ...cells]);
  }
  return markdownTable(
    ["implementation", "threads", "f32 GFLOP/s", "share of ceiling (f32)", "f64 GFLOP/s", "share of ceiling (f64)"],
    body,
  );
}

/** Issue 10's targets (bench/, same run), by figure and thread count. */
export const KERNEL_TARGETS = {
  /** W3 step, ms, at most. */
  w3: { 1: 0.8, 2: 0.5 } as Record<number, number>,
  /** jax-js jit's W3 time ÷ the jit's, at least. */
  w3OverJax: { 1: 2 } as Record<number, number>,
  /** W4 256³ f32 GFLOP/s, at least. */
  w4f32: { 1: 38, 2: 65 } as Record<number, number>,
  /** W4 256³ f64 GFLOP/s, at least. */
  w4f64: { 1: 18 } as Record<number, number>,
};

/**
 * The jit's kernel rows beside the peers with issue 10's targets: W3 whole step, W4 GFLOP/s and
 * share of the SIMD ceiling. A kernel cell with a target for its thread count is marked ✓ or ✗.
 */
export function kernelSummaryTable(
  all: ReadonlyMap<string, readonly Row[]>,
  peaks: readonly Peak[],
  columns: readonly { id: string; label: string }[],
): string {
  const find = (key: string, id: string) => all.get(key)?.find((r) => r.impl.id === id);
  const status = (row: Row | undefined) => (row === undefined ? "—" : row.status === "ok" ? undefined : row.status);
  const mark = (id: string, targets: Record<number, number>, value: number, atLeast: boolean) => {
    const settings = kernelRowSettings(id);
    const target = settings === undefined ? undefined : targets[settings.threads];
    if (target === undefined) return "";
    return (atLeast ? value >= target : value <= target) ? " ✓" : " ✗";
  };
  const jax = find("W3 step f32", "jax-jit");
  const w3 = (id: string) => {
    const row = find("W3 step f32", id);
    return status(row) ?? `${formatTime(row!.summary!.median)}${mark(id, KERNEL_TARGETS.w3, row!.summary!.median, false)}`;
  };
  const overJax = (id: string) => {
    const row = find("W3 step f32", id);
    const q = 1 / ratioTo(row, jax?.status === "ok" ? jax : undefined);
    if (id === "jax-jit" || !Number.isFinite(q)) return status(row) ?? "—";
    return `${formatRatio(q)}${mark(id, KERNEL_TARGETS.w3OverJax, q, true)}`;
  };
  const w4 = (key: string, targets: Record<number, number>) => (id: string) => {
    const row = find(key, id);
    const g = gflopsOf(row);
    return g === undefined ? (status(row) ?? "—") : `${significant(g)}${mark(id, targets, g, true)}`;
  };
  const share = (key: string) => (id: string) => {
    const row = find(key, id);
    return status(row) ?? percent(shareOfCeiling(row, peaks));
  };
  const lines: [string, string, (id: string) => string][] = [
    ["W3 step (f32), whole step compiled where the implementation compiles", "≤ 0.8 ms on 1 thread, ≤ 0.5 ms on 2", w3],
    ["W3: jax-js jit's step time ÷ this one", "≥ 2× on 1 thread", overJax],
    ["W4 f32 GFLOP/s", "≥ 38 on 1 thread, ≥ 65 on 2", w4("W4 matmul f32", KERNEL_TARGETS.w4f32)],
    ["W4 f32, share of the SIMD ceiling", "", share("W4 matmul f32")],
    ["W4 f64 GFLOP/s", "≥ 18 on 1 thread", w4("W4 matmul f64", KERNEL_TARGETS.w4f64)],
    ["W4 f64, share of the SIMD ceiling", "", share("W4 matmul f64")],
  ];
  return markdownTable(
    ["figure", "target (issue 10)", ...columns.map((c) => c.label)],
    lines.map(([name, target, f]) => [name, target, ...columns.map((c) => f(c.id))]),
  );
}

/** Issue 18's targets (bench/, same run). */
export const CONV_TARGETS = {
  /** The faster of tfjs-wasm's and jax-js jit's W5 step ÷ the jit's, at least (1 thread; 2 threads: faster than 1). */
  w5OverPeers: 2,
  /** W6 1 thread: share of the one-core SIMD ceiling, at least. */
  w6Share: 0.75,
};

/**
 * Issue 18's targets, each with its figures and ✓/✗: the jit's W5 step on 1 thread ≤ 0.5× the
 * faster of tfjs-wasm and jax-js jit, faster still on 2 threads; W6 on 1 thread ≥ 75% of the
 * ceiling; reverse's W5 step no slower than tfjs-wasm's. FMA rows count where they ran.
 */
export function convTargetsTable(all: ReadonlyMap<string, readonly Row[]>, peaks: readonly Peak[]): string {
  const find = (key: string, id: string) => all.get(key)?.find((r) => r.impl.id === id && r.status === "ok" && r.summary !== undefined);
  const ms = (r: Row | undefined) => r?.summary?.median;
  const peers = ["tfjs-wasm", "jax-jit"].map((id) => find("W5 step f32", id)).filter((r): r is Row => r !== undefined);
  const peer = peers.sort((a, b) => ms(a)! - ms(b)!)[0];
  const body: string[][] = [];
  const verdict = (ok: boolean) => (ok ? "✓" : "✗");
  for (const fma of [false, true]) {
    const one = find("W5 step f32", fma ? "jit-fma-1t" : "jit-1t");
    const two = find("W5 step f32", fma ? "jit-fma-2t" : "jit-2t");
    if (one !== undefined && peer !== undefined) {
      const q = ms(peer)! / ms(one)!;
      body.push([
        `W5: jit${fma ? " (FMA)" : ""} 1 thread ≤ 0.5× the faster of tfjs-wasm and jax-js jit`,
        `${formatTime(ms(one)!)} vs ${peer.impl.label} ${formatTime(ms(peer)!)}: ${formatRatio(q)} faster`,
        verdict(q >= CONV_TARGETS.w5OverPeers),
      ]);
    }
    if (one !== undefined && two !== undefined)
      body.push([
        `W5: jit${fma ? " (FMA)" : ""} 2 threads faster than 1`,
        `${formatTime(ms(two)!)} vs ${formatTime(ms(one)!)}`,
        verdict(ms(two)! < ms(one)!),
      ]);
    const w6 = find("W6 conv f32", fma ? "jit-fma-1t" : "jit-1t");
    const share = shareOfCeiling(w6, peaks);
    if (w6 !== undefined && share !== undefined)
      body.push([
        `W6: jit${fma ? " (FMA)" : ""} 1 thread ≥ 75% of the SIMD ceiling`,
        `${significant(gflopsOf(w6)!)} GFLOP/s = ${percent(share)} of ${significant(ceilingOf(peaks, "float32", fma, 1)!)}`,
        verdict(share >= CONV_TARGETS.w6Share),
      ]);
  }
  const reverse = find("W5 step f32", "reverse");
  const tfWasm = find("W5 step f32", "tfjs-wasm");
  const tfWasmRow = all.get("W5 step f32")?.find((r) => r.impl.id === "tfjs-wasm");
  if (tfWasmRow !== undefined && tfWasmRow.status !== "ok")
    body.push([
      "W5: reverse no slower than tfjs-wasm (and tfjs-wasm as a peer above)",
      `tfjs-wasm ${tfWasmRow.status}: ${tfWasmRow.note}`,
      "—",
    ]);
  if (reverse !== undefined && tfWasm !== undefined)
    body.push([
      "W5: reverse no slower than tfjs-wasm",
      `${formatTime(ms(reverse)!)} vs ${formatTime(ms(tfWasm)!)}`,
      verdict(ms(reverse)! <= ms(tfWasm)!),
    ]);
  return markdownTable(["target (issue 18)", "measured (medians, same run)", "met"], body);
}
