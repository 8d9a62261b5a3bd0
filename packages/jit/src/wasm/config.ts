/**
 * Process-wide settings of the WebAssembly kernels; per-function options (`jit(f, { kernels,
 * threads })`) override them. Kernels are on by default where WebAssembly SIMD is available.
 */
import type { Program } from "../optimize.js";
import { wasmFeatures, type WasmFeatures } from "./features.js";
import { compileKernelProgram, kernelStats, type KernelProgram } from "./program.js";
import { threadsAvailable } from "./threads.js";

export interface KernelConfig {
  /** Run matmul-heavy programs on WebAssembly SIMD kernels (false: generated JavaScript only). */
  enabled: boolean;
  /** Threads for large kernels, 1 or 2 (2 needs workers and shared memory; else 1, same results). */
  threads: number;
  /** Use relaxed-SIMD FMA where the host validates it. */
  fma: boolean;
  /** A program goes to the kernels when one float matmul has m·n·k at least this. */
  minMatmulWork: number;
  /** Run every compiled program on the kernel executor, matmul or not (for tests). */
  everyProgram: boolean;
}

const DEFAULTS: KernelConfig = { enabled: true, threads: 1, fma: true, minMatmulWork: 4096, everyProgram: false };
const current: KernelConfig = { ...DEFAULTS };

/** Changes the kernel settings (returns the previous ones); `configureKernels()` restores defaults. */
export function configureKernels(patch?: Partial<KernelConfig>): KernelConfig {
  const before = { ...current };
  Object.assign(current, patch === undefined ? DEFAULTS : patch);
  if (!Number.isInteger(current.threads) || current.threads < 1) {
    Object.assign(current, before);
    throw new RangeError(`configureKernels: expected threads ≥ 1, got ${String(patch?.threads)}`);
  }
  return before;
}

export interface KernelInfo extends WasmFeatures {
  /** Workers and shared memory are available, so `threads: 2` runs two threads. */
  readonly threads: boolean;
  readonly config: Readonly<KernelConfig>;
  /** Programs compiled onto kernels so far in this process. */
  readonly programs: number;
}

/** What the host supports and the current settings. */
export function kernelInfo(): KernelInfo {
  return { ...wasmFeatures(), threads: wasmFeatures().sharedMemory && threadsAvailable(), config: { ...current }, programs: kernelStats.programs };
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
  const min = current.minMatmulWork;
  const avals = new Map<number, readonly number[]>();
  for (const i of p.inputs) avals.set(i.id, i.shape);
  for (const [id, c] of p.constants) avals.set(id, c.shape);
  for (const n of p.nodes) avals.set(n.id, n.shape);
  const worth = p.nodes.some((n) => {
    if (n.op !== "matmul" || (n.dtype !== "float32" && n.dtype !== "float64")) return false;
    const a = avals.get(n.inputs[0]!)!;
    return n.shape.reduce((x, y) => x * y, 1) * a[a.length - 1]! >= min;
  });
  if (!worth && !current.everyProgram) return undefined;
  // detected on the first program that wants kernels (small programs never pay for it)
  if (!wasmFeatures().simd) return undefined;
  return compileKernelProgram(p, { threads: options.threads ?? current.threads, fma: current.fma });
}
