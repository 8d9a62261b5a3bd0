/**
 * Compiling and instantiating generated kernels. Modules are cached by the key of what they
 * compute (and whether their memory is shared): the same kernel compiles once per process and is
 * instantiated per memory. A module that fails to validate is an internal error, never a silent
 * fallback to JavaScript.
 */
import { internalError } from "@chainrule/ir";
import { wasmApi, type WasmMemory, type WasmModule } from "./api.js";
import { BoundedCache } from "./lru.js";
import { encodeModule, printWat, type FuncDef, type ModuleDef } from "./module.js";

/** Pages of 64 KiB a memory may grow to (imports declare this maximum, so any memory fits). */
export const MAX_PAGES = 16384;

/**
 * Compiled modules kept for reuse by later programs (kernels are specialized to shapes, so a
 * process seeing many shapes compiles many): the least recently used beyond this are dropped.
 * Dropping never breaks a program: its instances keep their module alive.
 */
export const MODULE_CACHE_LIMIT = 512;
const modules = new BoundedCache<string, WasmModule>(MODULE_CACHE_LIMIT);
/** Modules compiled in this process (cache misses). */
let compiled = 0;

function moduleDef(funcs: readonly FuncDef[], shared: boolean): ModuleDef {
  return { memory: shared ? { initial: 1, maximum: MAX_PAGES, shared: true } : { initial: 1 }, funcs };
}

/** The compiled module for `key` (built by `build` on a cache miss). */
export function kernelModule(key: string, shared: boolean, build: () => readonly FuncDef[]): WasmModule {
  const full = `${shared ? "S" : "U"}|${key}`;
  let module = modules.get(full);
  if (module === undefined) {
    if (wasmApi === undefined) throw internalError("WebAssembly kernels requested but WebAssembly is unavailable");
    const def = moduleDef(build(), shared);
    const bytes = encodeModule(def);
    if (!wasmApi.validate(bytes)) {
      throw internalError(`generated WebAssembly kernel ${key} does not validate:\n${printWat(def).slice(0, 4000)}`);
    }
    module = new wasmApi.Module(bytes);
    modules.set(full, module);
    compiled++;
  }
  return module;
}

/** The WAT text of a kernel (for debugging and documentation). */
export function kernelWat(funcs: readonly FuncDef[], shared = false): string {
  return printWat(moduleDef(funcs, shared));
}

export type KernelFn = (...args: number[]) => void;

/** Instantiates `module` on `memory` and returns its exported functions. */
export function instantiate(module: WasmModule, memory: WasmMemory): Record<string, KernelFn> {
  const instance = new wasmApi!.Instance(module, { env: { memory } });
  return instance.exports as Record<string, KernelFn>;
}

/** Kernel modules in the cache now (at most MODULE_CACHE_LIMIT). */
export function kernelModuleCount(): number {
  return modules.size;
}

/** Kernel modules compiled in this process so far (cache misses; grows when a kernel is new). */
export function kernelModulesCompiled(): number {
  return compiled;
}

/** Drops compiled modules (tests). */
export function clearKernelModules(): void {
  modules.clear();
}
