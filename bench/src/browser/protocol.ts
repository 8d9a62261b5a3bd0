/**
 * What the Node side and the browser page (page.ts) exchange: which row to measure, and what the
 * page reports. Types only (the page bundle and the Node process both import this file).
 */
import type { ChildRow } from "../children.js";
import type { TimingOptions } from "../timing.js";
import type { VariantSpec } from "../workloads.js";

/** One row of the section: the jit on `threads` threads, or the hand-written JavaScript baseline. */
export interface BrowserRowSpec {
  readonly kind: "jit" | "hand";
  readonly threads: 1 | 2;
  /** Tests only: the row's answer is scaled by 1.01 before the check (it must then be FAILED). */
  readonly wrong?: boolean;
}

/** `kernelInfo()` in the page, and what the page itself reports. */
export interface PageInfo {
  readonly crossOriginIsolated: boolean;
  readonly userAgent: string;
  readonly simd: boolean;
  readonly relaxedFma: boolean;
  readonly sharedMemory: boolean;
  readonly threads: boolean;
  readonly threadsReady: boolean;
  readonly threadsUnavailable?: string;
  readonly kernelsUnavailable?: string;
  readonly threadStats: { readonly posted: number; readonly withdrawn: number; readonly workerBlocks: number; readonly restarts: number };
  readonly config: Readonly<Record<string, unknown>>;
}

/** `globalThis.chainruleBench` in the page. */
export interface BenchPageApi {
  info(): PageInfo;
  startThreads(timeoutMs: number): Promise<boolean>;
  /** Builds the row on the variant `spec`, checks its answer, and times it alone (run.ts `runVariant`). */
  row(spec: VariantSpec, row: BrowserRowSpec, timing: TimingOptions): Promise<ChildRow>;
}
