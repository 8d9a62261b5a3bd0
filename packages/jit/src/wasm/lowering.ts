/**
 * How the WebAssembly backend (program.ts) runs each primitive — one entry per primitive, so a
 * primitive added to ir without one fails the typecheck here:
 *
 * - "simd": in fused SIMD kernels (elementwise.ts), float32 and float64 (IEEE-exact ops);
 * - "simd f32": in fused SIMD kernels in float32 (math32.ts polynomials); in float64, a
 *   JavaScript loop (full accuracy);
 * - "js": a JavaScript loop over views of the kernel memory, with the JavaScript backend's
 *   expression (lowering.ts);
 * - "kernel": a dedicated kernel (GEMM, conv, reductions; pooling as loops over tabulated windows),
 *   the reference kernel when it does not apply;
 * - "alias": no step (reshape, stopGradient share their operand's memory);
 * - "lazy": folded into consumers (a transpose into GEMM, a broadcast into operand strides);
 * - "interpreted": ir's eager kernel on views of the memory (correct for every op; allocates).
 */
import type { Primitive } from "@chainrule/ir";

export type WasmLowering = "simd" | "simd f32" | "js" | "kernel" | "alias" | "lazy" | "interpreted";

export const WASM_LOWERING: { readonly [P in Primitive]: WasmLowering } = {
  neg: "simd",
  exp: "simd f32",
  log: "simd f32",
  log1p: "js",
  expm1: "js",
  sin: "js",
  cos: "js",
  tanh: "simd f32",
  sqrt: "simd",
  abs: "simd",
  sign: "js",
  add: "simd",
  sub: "simd",
  mul: "simd",
  div: "simd",
  pow: "js",
  maximum: "simd",
  minimum: "simd",
  atan2: "js",
  mulNoNan: "simd",
  greater: "js",
  greaterEqual: "js",
  less: "js",
  lessEqual: "js",
  equal: "js",
  notEqual: "js",
  where: "js",
  cast: "js",
  stopGradient: "alias",
  reduceSum: "kernel",
  reduceMax: "kernel",
  argmax: "interpreted",
  reshape: "alias",
  transpose: "lazy",
  broadcastTo: "lazy",
  slice: "interpreted",
  pad: "interpreted",
  concat: "interpreted",
  gather: "interpreted",
  scatterAdd: "interpreted",
  matmul: "kernel",
  checkIndices: "interpreted",
  // family: reductions, scans and sorting (issue 17)
  linearScan: "interpreted",
  argcummax: "interpreted",
  argsort: "interpreted",
  // family: indexing (issue 17, ops-index)
  scatterMul: "interpreted",
  scatterMin: "interpreted",
  scatterMax: "interpreted",
  // family: convolution and pooling (issue 18): conv on the conv kernels (conv.ts); pooling as
  // JavaScript loops over windows tabulated at compile time (pool.ts)
  conv: "kernel",
  reduceWindowSum: "kernel",
  reduceWindowSumTranspose: "kernel",
  reduceWindowMax: "kernel",
  selectAndGatherAdd: "kernel",
  selectAndScatterAdd: "kernel",
  // the math family: JavaScript loops (special functions through ir's scalar functions)
  asin: "js",
  acos: "js",
  atan: "js",
  sinh: "js",
  cosh: "js",
  asinh: "js",
  acosh: "js",
  atanh: "js",
  erf: "js",
  erfc: "js",
  erfinv: "js",
  lgamma: "js",
  polygamma: "js",
  log2: "js",
  log10: "js",
  exp2: "js",
  cbrt: "js",
  floor: "js",
  ceil: "js",
  round: "js",
  trunc: "js",
  fmod: "js",
  remainder: "js",
  hypot: "js",
  floorDivide: "js",
  // family: random bits (issue 18, nn): integer bits, ir's kernel
  threefry2x32: "interpreted",
  // family: structured control flow (issue 19, ctrl): never reached, a program holding control flow compiles to JavaScript
  // (kernelProgramFor); its loop bodies and branches are programs of their own, on kernels when worth it
  control: "interpreted",
};

const withLowering = (...kinds: WasmLowering[]) =>
  new Set<string>((Object.keys(WASM_LOWERING) as Primitive[]).filter((p) => kinds.includes(WASM_LOWERING[p])));

/** Primitives the SIMD kernels compute in both float dtypes. */
export const SIMD_EXACT = withLowering("simd");
/** Primitives the SIMD kernels compute in float32 only. */
export const SIMD_F32 = withLowering("simd f32");
/** Elementwise primitives that can run as JavaScript loops (every SIMD one can too, e.g. on int32). */
export const JS_LOOP = withLowering("simd", "simd f32", "js");
