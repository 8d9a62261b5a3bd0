/**
 * @chainrule/wasm: WebAssembly SIMD kernels generated at run time (no toolchain, no shipped
 * binary) — GEMM in three layouts with fused epilogues, fused elementwise chains, reductions,
 * float32 transcendentals, a two-thread pool and an arena — used by `@chainrule/jit`'s kernel
 * programs. The kernel-building API below is for engines; applications use the backend.
 */
export { wasmApi, type WasmApi, type WasmInstance, type WasmMemory, type WasmModule } from "./api.js";
export { Arena, ArenaPlan, bytesOf, type ArenaDtype } from "./arena.js";
export {
  EW_EXACT,
  EW_F32,
  ewFunction,
  ewKey,
  ewNodes,
  ewSupports,
  temporaries,
  type EwBinary,
  type EwOp,
  type EwRef,
  type EwSpec,
  type EwUnary,
  type OperandKind,
  type Temporaries,
} from "./elementwise.js";
export { kernelsUnavailable, wasmFeatures, type WasmFeatures } from "./features.js";
export { BoundedCache } from "./lru.js";
export { defaultTile, gemmFunction, gemmKey, gemmScratchBytes, type GemmEpilogue, type GemmSpec, type KernelDtype } from "./gemm.js";
export {
  clearKernelModules,
  instantiate,
  kernelModule,
  kernelModuleCount,
  kernelModulesCompiled,
  kernelWat,
  MAX_PAGES,
  MODULE_CACHE_LIMIT,
  type KernelFn,
} from "./kernels.js";
export { MATH32, ULP_BOUND, type Math32 } from "./math32.js";
export { encodeModule, printWat, type FuncDef, type Instr, type ModuleDef, type ValType } from "./module.js";
export { reduceFunction, reduceKey, type ReduceSpec } from "./reduce.js";
export {
  LOST_AFTER_MS,
  START_WAIT_MS,
  type Job,
  ThreadPool,
  threadPool,
  threadsAvailable,
  threadsReady,
  threadStats,
  threadsUnavailable,
} from "./threads.js";
export {
  resetWasmBackend,
  useWasmBackend,
  wasmBackend,
  wasmBackendInfo,
  wasmBackendStats,
  type WasmBackendInfo,
  type WasmBackendOptions,
} from "./eager.js";
