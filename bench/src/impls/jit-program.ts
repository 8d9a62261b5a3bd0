/**
 * The jit kernel rows' ids and labels, and what a function compiled by @chainrule/jit runs, read
 * from its `.source` (the kernel program's header line). No imports: the report uses these too.
 */

export const JIT_KERNEL_IDS = ["jit-1t", "jit-2t"] as const;
export const JIT_FMA_IDS = ["jit-fma-1t", "jit-fma-2t"] as const;
/** Every id of a kernel row (in-process and FMA child). */
export const ALL_JIT_KERNEL_IDS: readonly string[] = [...JIT_KERNEL_IDS, ...JIT_FMA_IDS];
/** The Node flag that turns relaxed SIMD on in Node 20. */
export const FMA_FLAG = "--experimental-wasm-relaxed-simd";

/** A kernel row's label: "chainrule jit, FMA flag, 2 threads". */
export function kernelLabel(threads: number, fma: boolean, what = ""): string {
  return `chainrule jit, ${what}${fma ? "FMA flag, " : ""}${threads} thread${threads > 1 ? "s" : ""}`;
}

/** A kernel row's id: jit-1t, jit-fma-2t. */
export function kernelId(threads: number, fma: boolean): string {
  return `jit-${fma ? "fma-" : ""}${threads}t`;
}

/** Threads and FMA of a kernel row from its id (undefined for other ids). */
export function kernelRowSettings(id: string): { threads: number; fma: boolean } | undefined {
  const m = /^jit-(fma-)?(\d+)t$/.exec(id);
  return m === null ? undefined : { threads: Number(m[2]), fma: m[1] !== undefined };
}

/** The kernel settings a compiled function's program reports in its `.source` header. */
export function kernelSettings(source: string | undefined): { threads: number; fma: boolean } | undefined {
  const header = /^\/\/ WebAssembly kernels: .*?, (\d+) threads?(, relaxed-SIMD FMA)?\s*$/m.exec(source ?? "");
  return header === null ? undefined : { threads: Number(header[1]), fma: header[2] !== undefined };
}

/** What a compiled function runs, from its `.source`: "kernels: 2 threads, FMA" or "generated JavaScript". */
export function programFact(source: string | undefined): string {
  const s = kernelSettings(source);
  return s === undefined
    ? "generated JavaScript, no kernels"
    : `kernels: ${s.threads} thread${s.threads > 1 ? "s" : ""}${s.fma ? ", FMA" : ", no FMA"}`;
}
