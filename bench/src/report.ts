/** Tables (Markdown, also what is printed) and the machine description. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { Row } from "./run.js";
import { formatRatio, formatSpread, formatTime, significant } from "./stats.js";
import type { Variant } from "./workloads.js";

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escape = (cell: string) => cell.replaceAll("|", "\\|").replaceAll("\n", " ");
  const lines = [`| ${header.map(escape).join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${row.map(escape).join(" | ")} |`);
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
  if (variant.workload === "W3") return `${significant(1000 / ms)} steps/s`;
  if (variant.workload === "W4") return `${significant(variant.flops / (ms * 1e6))} GFLOP/s`;
  return "";
}

/** One variant: every implementation's median, spread, ratio to hand-written, or why not. */
export function variantTable(rows: readonly Row[]): string {
  const variant = rows[0]?.variant;
  if (variant === undefined) return "";
  const baseline = baselineOf(rows);
  const withRate = variant.workload === "W3" || variant.workload === "W4";
  const header = ["implementation", "median", "min–max", "× hand-written", ...(withRate ? ["rate"] : []), "samples", "check"];
  const body = rows.map((r) => {
    if (r.status === "ok" && r.summary !== undefined) {
      return [
        r.impl.label,
        formatTime(r.summary.median),
        formatSpread(r.summary),
        formatRatio(ratioTo(r, baseline)),
        ...(withRate ? [throughput(variant, r.summary.median)] : []),
        `${r.summary.count}×${r.reps ?? 1}`,
        `ok (${r.note})`,
      ];
    }
    return [r.impl.label, r.status, "", "", ...(withRate ? [""] : []), "", r.note];
  });
  return `### ${variant.title}\n\n${markdownTable(header, body)}`;
}

/** `grad/primal` or `jvp/primal` per implementation; each implementation's primal is its own, or eager ir for engines without one. */
export function derivativeRatioTable(all: ReadonlyMap<string, readonly Row[]>, kind: "grad" | "jvp", columns: readonly { n: string; dtype: string }[]): string {
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
  const ids = [...labels.keys()].filter((id) => columns.some((c) => all.get(`W2 ${kind} n=${c.n} ${c.dtype}`)?.some((r) => r.impl.id === id)));
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
      const primal = primals.find((r) => r.impl.id === id && r.status === "ok") ?? (grad.impl.group === "chainrule" ? primals.find((r) => r.impl.id === "eager" && r.status === "ok") : undefined);
      const q = ratioTo(grad, primal);
      if (Number.isFinite(q)) return `${significant(q, 2)}${dtype === "f32" ? " (f32)" : ""}`;
    }
    return show(find(`W2 grad n=${n} f64`, id), () => "—");
  };
  const rateOf = (r: Row) => (r.variant.workload === "W4" ? significant(r.variant.flops / (r.summary!.median * 1e6)) : formatTime(r.summary!.median));
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
    const dirty = execFileSync("git", ["status", "--porcelain", "--", ":/packages", ":/bench"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
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
