/**
 * Process-wide settings of the WebAssembly kernels; per-function options (`jit(f, { kernels,
 * threads })`) override them. Kernels are on by default where WebAssembly SIMD is available.
 */
import { ArgumentError, describeValue } from "@chainrule/ir";
import type { Program } from "../optimize.js";
import {
  kernelsUnavailable,
  wasmFeatures,
  type WasmFeatures,
  threadPool,
  threadsReady,
  threadStats,
  threadsUnavailable,
} from "@chainrule/wasm";
import { compileKernelProgram, kernelStats, type KernelProgram } from "./program.js";

export interface KernelConfig {
  /** Run matmul-heavy programs on WebAssembly SIMD kernels (false: generated JavaScript only). */
  enabled: boolean;
  /** Threads for large kernels: 1, or 2 or more for two (2 needs workers and shared memory; else 1, same results). */
  threads: number;
  /** Use relaxed-SIMD FMA where the host validates it. */
  fma: boolean;
  /**
   * A program goes to the kernels when one float matmul has m·n·k (or one float conv its output
   * size · C/groups · kernel size) at least this.
   */
  minMatmulWork: number;
  /** Run every compiled program on the kernel executor, matmul or not (for tests). */
  everyProgram: boolean;
}

const DEFAULTS: KernelConfig = { enabled: true, threads: 1, fma: true, minMatmulWork: 4096, everyProgram: false };
const current: KernelConfig = { ...DEFAULTS };

/** What each kernel setting accepts (the error message names it). */
const SETTING_CHECKS: { readonly [K in keyof KernelConfig]: readonly [accepts: (v: unknown) => boolean, expected: string] } = {
  enabled: [(v) => typeof v === "boolean", "a boolean"],
  threads: [(v) => Number.isInteger(v) && (v as number) >= 1, "an integer ≥ 1 (two are used at most)"],
  fma: [(v) => typeof v === "boolean", "a boolean"],
  minMatmulWork: [(v) => Number.isInteger(v) && (v as number) >= 0, "an integer ≥ 0"],
  everyProgram: [(v) => typeof v === "boolean", "a boolean"],
};

/** Throws an ArgumentError naming `op` and the setting when `settings` holds a value it does not accept. */
export function checkKernelSettings(op: string, settings: Record<string, unknown>, keys: readonly (keyof KernelConfig)[]): void {
  for (const key of Object.keys(settings)) {
    const value = settings[key];
    if (value === undefined) continue;
    if (!(keys as readonly string[]).includes(key)) {
      if (op === "configureKernels")
        throw new ArgumentError(`configureKernels: expected settings among ${keys.join(", ")}, got ${JSON.stringify(key)}`);
      continue;
    }
    const [accepts, expected] = SETTING_CHECKS[key as keyof KernelConfig];
    if (!accepts(value)) throw new ArgumentError(`${op}: expected ${key} to be ${expected}, got ${describeValue(value)}`);
  }
}

/** Changes the kernel settings (returns the previous ones); `configureKernels()` restores defaults. */
export function configureKernels(patch?: Partial<KernelConfig>): KernelConfig {
  if (patch !== undefined && (patch === null || typeof patch !== "object" || Array.isArray(patch)))
    throw new ArgumentError(`configureKernels: expected an object of settings, got ${describeValue(patch)}`);
  if (patch !== undefined)
    checkKernelSettings("configureKernels", patch as Record<string, unknown>, Object.keys(DEFAULTS) as (keyof KernelConfig)[]);
  const before = { ...current };
  Object.assign(current, patch === undefined ? DEFAULTS : patch);
  return before;
}

export interface KernelInfo extends WasmFeatures {
  /** Why the kernels are off here (no WebAssembly, compilation refused by a CSP, no SIMD); absent when they are on. */
  readonly kernelsUnavailable?: string;
  /** Workers and shared memory are available, so `threads: 2` runs two threads. */
  readonly threads: boolean;
  /** Why `threads: 2` runs one thread here (e.g. a page that is not cross-origin isolated); absent when two are possible. */
  readonly threadsUnavailable?: string;
  /** The second thread runs now (after `await startThreads()`, or once a two-thread program's worker started). */
  readonly threadsReady: boolean;
  /** Jobs posted to the worker, withdrawn before it began them, blocks it ran, and worker restarts. */
  readonly threadStats: { readonly posted: number; readonly withdrawn: number; readonly workerBlocks: number; readonly restarts: number };
  readonly config: Readonly<KernelConfig>;
  /** Programs compiled onto kernels so far in this process. */
  readonly programs: number;
}

/** Why `threads: 2` cannot run two threads here, or undefined. */
function twoThreadsUnavailable(): string | undefined {
  const kernels = kernelsUnavailable();
  if (kernels !== undefined) return `the WebAssembly kernels are unavailable (${kernels})`;
  const platform = threadsUnavailable();
  if (platform !== undefined) return platform;
  if (!wasmFeatures().sharedMemory) return "this WebAssembly cannot create a shared memory";
  return undefined;
}

/** What the host supports, why something is unavailable, and the current settings. */
export function kernelInfo(): KernelInfo {
  const kernels = kernelsUnavailable();
  const threads = twoThreadsUnavailable();
  return {
    ...wasmFeatures(),
    ...(kernels !== undefined ? { kernelsUnavailable: kernels } : {}),
    threads: threads === undefined,
    ...(threads !== undefined ? { threadsUnavailable: threads } : {}),
    threadsReady: threads === undefined && threadsReady(),
    threadStats: { ...threadStats },
    config: { ...current },
    programs: kernelStats.programs,
  };
}

/**
 * Starts the second thread for `threads: 2` now and resolves true once it runs; false where two
 * threads are unavailable (`kernelInfo().threadsUnavailable` says why) or when it did not start
 * within `timeoutMs`. In a browser the worker cannot start before the page's main thread yields:
 * until then (and until it holds a program's kernels) two-thread programs run on one thread, so
 * `await startThreads()` before a synchronous loop. It does not change the `threads` setting.
 */
export function startThreads(timeoutMs = 10_000): Promise<boolean> {
  if (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || timeoutMs > 2 ** 31 - 1)
    throw new ArgumentError(`startThreads: expected a timeout in milliseconds in [0, 2^31 − 1], got ${describeValue(timeoutMs)}`);
  if (twoThreadsUnavailable() !== undefined) return Promise.resolve(false);
  const pool = threadPool();
  return pool === undefined ? Promise.resolve(false) : pool.whenReady(timeoutMs);
}

export interface KernelOptions {
  /** Per function: run on WebAssembly kernels when worthwhile (true, the default) or never (false). */
  kernels?: boolean;
  /** Per function: threads for large kernels (default: the process setting). */
  threads?: number;
}

/** The kernel program for `p`, or undefined when the generated JavaScript should run it. */
export function kernelProgramFor(p: Program, options: KernelOptions): KernelProgram | undefined {
  if (options.kernels === false || (options.kernels === undefined && !current.enabled)) return undefined;
  // control flow (issue 19): the program runs its loops in JavaScript; each body compiles (and may use kernels) on its own
  if (p.nodes.some((n) => n.op === "control")) return undefined;
  const min = current.minMatmulWork;
  const avals = new Map<number, readonly number[]>();
  for (const i of p.inputs) avals.set(i.id, i.shape);
  for (const [id, c] of p.constants) avals.set(id, c.shape);
  for (const n of p.nodes) avals.set(n.id, n.shape);
  const size = (shape: readonly number[]) => shape.reduce((x, y) => x * y, 1);
  const worth = p.nodes.some((n) => {
    if (n.dtype !== "float32" && n.dtype !== "float64") return false;
    if (n.op === "matmul") {
      const a = avals.get(n.inputs[0]!)!;
      return size(n.shape) * a[a.length - 1]! >= min;
    }
    // a conv's multiply-adds: every output element sums C/groups · kernel-size products
    if (n.op === "conv") return size(n.shape) * size(avals.get(n.inputs[1]!)!.slice(1)) >= min;
    return false;
  });
  if (!worth && !current.everyProgram) return undefined;
  // detected on the first program that wants kernels (small programs never pay for it)
  if (!wasmFeatures().simd) return undefined;
  return compileKernelProgram(p, { threads: options.threads ?? current.threads, fma: current.fma });
}
