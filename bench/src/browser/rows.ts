/**
 * Which rows the headless-Chromium section measures, in order, and their ids and labels: per
 * variant the jit on 1 then 2 threads, and for W4 f32 the hand-written JavaScript i-k-j loop first
 * (the baseline of the ratio column). No imports: the page and the Node side both use it.
 */
import type { BrowserRowSpec } from "./protocol.js";
import type { VariantSpec } from "../workloads.js";

export function browserRowSpecs(spec: VariantSpec): BrowserRowSpec[] {
  const hand: BrowserRowSpec[] = spec.workload === "W4" && spec.dtype === "float32" ? [{ kind: "hand", threads: 1 }] : [];
  return [...hand, { kind: "jit", threads: 1 }, { kind: "jit", threads: 2 }];
}

/** `hand` (so the report's ratio column finds it), `chromium-jit-1t`, `chromium-jit-2t`. */
export function browserRowId(row: Pick<BrowserRowSpec, "kind" | "threads">): string {
  return row.kind === "hand" ? "hand" : `chromium-jit-${row.threads}t`;
}

/** "chainrule jit in Chromium, FMA, 2 threads"; "hand-written JS in Chromium". */
export function browserRowLabel(row: Pick<BrowserRowSpec, "kind" | "threads">, fma: boolean, what = ""): string {
  if (row.kind === "hand") return "hand-written JS in Chromium";
  return `chainrule jit in Chromium, ${what}${fma ? "FMA" : "no FMA"}, ${row.threads} thread${row.threads > 1 ? "s" : ""}`;
}
