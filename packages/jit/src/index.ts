/**
 * @chainrule/jit — traces functions to graphs, differentiates them as graphs, optimizes them and
 * compiles them to JavaScript with `new Function`; `emitModule` exports the code as a module.
 */
export {
  engine,
  grad,
  valueAndGrad,
  jvp,
  vjp,
  jacobian,
  hessian,
  hvp,
  jit,
  jacfwd,
  jacrev,
  linearize,
  checkpoint,
  type JitTransformOptions,
  type CompiledFunction,
  type Inspectable,
  type JitTransform,
  type JitOptions,
} from "./engine.js";
// vmap (issue 19): ir's batching trace; jit(vmap(f)) compiles one program whatever the batch size
export { vmap, vmapFallbacks, type VmapOptions, type AxisSpec } from "@chainrule/ir";
export { compileStats, resetCompileStats, onCompile, type CompileStats, type CompileEvent } from "./cache.js";
export { compileGraph, type CompiledGraph, type CompileOptions, type CompileGraphOptions } from "./compile.js";
export { interpreter } from "./ad.js";
export { emitModule, type EmitOptions, type EmitKind } from "./emit.js";
export { configureKernels, kernelInfo, startThreads, type KernelConfig, type KernelInfo, type KernelOptions } from "./wasm/config.js";
