/**
 * Runs child.ts in a fresh Node process: the same loader flags as this one (or tsx's loader when
 * this process has none, e.g. under a test runner), plus --expose-gc and any `nodeFlags`.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Row, RowStatus } from "./run.js";
import type { Summary } from "./stats.js";
import type { Implementation, Variant } from "./workloads.js";

const childPath = fileURLToPath(new URL("./child.ts", import.meta.url));

/** Flags that let Node run child.ts from TypeScript with @chainrule/* from their sources. */
function loaderFlags(): string[] {
  // tsx's CLI starts Node with `--import …/tsx/dist/loader.mjs` (and its preflight)
  if (process.execArgv.some((a) => /[/\\]tsx[/\\]dist[/\\]loader\.mjs$/.test(a) || a === "tsx")) return process.execArgv;
  const loader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return ["--import", loader, "--conditions=@chainrule/source"];
}

export interface ChildResult {
  readonly ok: boolean;
  /** The child's JSON answer when it gave one. */
  readonly value?: Record<string, unknown>;
  /** Why there is no answer (timeout, crash). */
  readonly error?: string;
  readonly ms: number;
}

export function runChild(
  args: readonly string[],
  timeoutMs: number,
  env: Record<string, string> = {},
  nodeFlags: readonly string[] = [],
): ChildResult {
  const start = Date.now();
  const result = spawnSync(process.execPath, [...loaderFlags(), "--expose-gc", ...nodeFlags, childPath, ...args], {
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const ms = Date.now() - start;
  if (result.error !== undefined && (result.error as { code?: string }).code === "ETIMEDOUT") {
    return { ok: false, error: `timed out after ${Math.round(timeoutMs / 1000)} s`, ms };
  }
  if (result.signal !== null)
    return {
      ok: false,
      error: `killed by ${result.signal}${result.signal === "SIGTERM" ? ` (timeout ${Math.round(timeoutMs / 1000)} s)` : ""}`,
      ms,
    };
  const lines = (result.stdout ?? "").trim().split("\n");
  const last = lines[lines.length - 1] ?? "";
  try {
    return { ok: true, value: JSON.parse(last) as Record<string, unknown>, ms };
  } catch {
    const stderr = (result.stderr ?? "").trim().split("\n").slice(-3).join(" | ");
    return { ok: false, error: `exit ${String(result.status)}: ${stderr.slice(0, 300) || "no output"}`, ms };
  }
}

/** A table row as a child sends it (its implementation by id and label). */
export interface ChildRow {
  readonly id: string;
  readonly label: string;
  readonly rowLabel?: string;
  readonly status: RowStatus;
  readonly summary?: Summary;
  readonly reps?: number;
  readonly note: string;
}

export function toChildRow(row: Row): ChildRow {
  return {
    id: row.impl.id,
    label: row.impl.label,
    status: row.status,
    note: row.note,
    ...(row.label === undefined ? {} : { rowLabel: row.label }),
    ...(row.summary === undefined ? {} : { summary: row.summary }),
    ...(row.reps === undefined ? {} : { reps: row.reps }),
  };
}

/** The stand-in for an implementation that ran in a child process (never built here). */
export function childImplementation(id: string, label: string): Implementation {
  return { id, label, group: "chainrule", build: () => ({ unsupported: "measured in a child process" }) };
}

/** A child's row as a row of this process's table for `variant`. */
export function fromChildRow(row: ChildRow, variant: Variant): Row {
  return {
    variant,
    impl: childImplementation(row.id, row.label),
    status: row.status,
    note: row.note,
    ...(row.rowLabel === undefined ? {} : { label: row.rowLabel }),
    ...(row.summary === undefined ? {} : { summary: row.summary }),
    ...(row.reps === undefined ? {} : { reps: row.reps }),
  };
}
