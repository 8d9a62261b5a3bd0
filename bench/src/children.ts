/** Runs child.ts in a fresh Node process (same loader flags as this one, plus --expose-gc). */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const childPath = fileURLToPath(new URL("./child.ts", import.meta.url));

export interface ChildResult {
  readonly ok: boolean;
  /** The child's JSON answer when it gave one. */
  readonly value?: Record<string, unknown>;
  /** Why there is no answer (timeout, crash). */
  readonly error?: string;
  readonly ms: number;
}

export function runChild(args: readonly string[], timeoutMs: number, env: Record<string, string> = {}): ChildResult {
  const start = Date.now();
  const result = spawnSync(process.execPath, [...process.execArgv, "--expose-gc", childPath, ...args], {
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
  if (result.signal !== null) return { ok: false, error: `killed by ${result.signal}${result.signal === "SIGTERM" ? ` (timeout ${Math.round(timeoutMs / 1000)} s)` : ""}`, ms };
  const lines = (result.stdout ?? "").trim().split("\n");
  const last = lines[lines.length - 1] ?? "";
  try {
    return { ok: true, value: JSON.parse(last) as Record<string, unknown>, ms };
  } catch {
    const stderr = (result.stderr ?? "").trim().split("\n").slice(-3).join(" | ");
    return { ok: false, error: `exit ${String(result.status)}: ${stderr.slice(0, 300) || "no output"}`, ms };
  }
}
