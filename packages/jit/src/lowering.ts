/**
 * How the JavaScript backend lowers each primitive — one entry per primitive, so a primitive
 * added to ir without a lowering fails the typecheck here:
 *
 * - "elementwise": an expression on operand expressions (locals or literals), rounded to the
 *   output dtype; the code generator fuses these into loops (and the WebAssembly backend reuses
 *   them for the elementwise steps its SIMD kernels do not take);
 * - "view": a lazy index map (slice, pad, transpose, broadcastTo, reshape), never a copy unless a
 *   kernel needs contiguous data;
 * - "kernel": a call of a runtime kernel (runtime.ts), emitted by `generate` for exactly these;
 * - "check": a runtime data check (runtime.ts) that passes its operand through (checkIndices).
 *
 * Backends lower primitives; they never differentiate them (derivatives come from ir's
 * definitions, as graphs of primitives).
 */
import { internalError, type DType, type Params, type Primitive } from "@chainrule/ir";

/** What an elementwise expression knows besides its operands. */
export interface ExprContext {
  /** The dtype of the (first numeric) operand. */
  readonly inDtype: DType;
  readonly outDtype: DType;
  readonly params: Params;
  /** Round float32 results with Math.fround (false: keep float64 precision in registers). */
  readonly exactFloat32: boolean;
}

type Expr = (args: readonly string[], ctx: ExprContext) => string;

export type JsLowering =
  | { readonly kind: "elementwise"; readonly expr: Expr }
  | { readonly kind: "view" }
  | { readonly kind: "kernel" }
  | { readonly kind: "check" };

const f32 = (ctx: ExprContext) => ctx.outDtype === "float32" && ctx.exactFloat32;
const i32 = (ctx: ExprContext) => ctx.outDtype === "int32";
/** A float result rounded to float32 when the output is float32. */
const rounded = (e: string, ctx: ExprContext) => (f32(ctx) ? `Math.fround(${e})` : e);

/** Math.fn(a), rounded. */
function math(fn: string): JsLowering {
  return { kind: "elementwise", expr: ([a], ctx) => rounded(`Math.${fn}(${a})`, ctx) };
}

/** rt_special.fn(a), rounded: ir's scalar special functions (SPECIAL), the runtime helper `rt_special`. */
function special(fn: "erf" | "erfc" | "erfinv" | "lgamma" | "roundHalfEven"): JsLowering {
  return { kind: "elementwise", expr: ([a], ctx) => rounded(`rt_special.${fn}(${a})`, ctx) };
}

/** a op b, wrapped to int32 or rounded to float32. */
function infix(op: "+" | "-"): JsLowering {
  return { kind: "elementwise", expr: ([a, b], ctx) => (i32(ctx) ? `((${a} ${op} ${b}) | 0)` : rounded(`(${a} ${op} ${b})`, ctx)) };
}

function compare(op: string): JsLowering {
  return { kind: "elementwise", expr: ([a, b]) => `(${a} ${op} ${b} ? 1 : 0)` };
}

const product: Expr = ([a, b], ctx) => (i32(ctx) ? `Math.imul(${a}, ${b})` : rounded(`(${a} * ${b})`, ctx));

const VIEW = { kind: "view" } as const;
const KERNEL = { kind: "kernel" } as const;

export const JS_LOWERING = {
  neg: { kind: "elementwise", expr: ([a], ctx) => (i32(ctx) ? `((-${a}) | 0)` : `(-${a})`) },
  exp: math("exp"),
  log: math("log"),
  log1p: math("log1p"),
  expm1: math("expm1"),
  sin: math("sin"),
  cos: math("cos"),
  tanh: math("tanh"),
  sqrt: math("sqrt"),
  abs: { kind: "elementwise", expr: ([a], ctx) => (i32(ctx) ? `(Math.abs(${a}) | 0)` : `Math.abs(${a})`) },
  sign: { kind: "elementwise", expr: ([a]) => `Math.sign(${a})` },
  add: infix("+"),
  sub: infix("-"),
  mul: { kind: "elementwise", expr: product },
  div: { kind: "elementwise", expr: ([a, b], ctx) => rounded(`(${a} / ${b})`, ctx) },
  pow: { kind: "elementwise", expr: ([a, b], ctx) => rounded(`Math.pow(${a}, ${b})`, ctx) },
  maximum: { kind: "elementwise", expr: ([a, b]) => `(${a} !== ${a} || ${b} !== ${b} ? NaN : ${a} > ${b} ? ${a} : ${b})` },
  minimum: { kind: "elementwise", expr: ([a, b]) => `(${a} !== ${a} || ${b} !== ${b} ? NaN : ${a} < ${b} ? ${a} : ${b})` },
  atan2: { kind: "elementwise", expr: ([a, b], ctx) => rounded(`Math.atan2(${a}, ${b})`, ctx) },
  mulNoNan: {
    kind: "elementwise",
    expr: ([a, b], ctx) => {
      const p = product([a!, b!], ctx);
      return `(${p} === ${p} || (${a} !== 0 && ${b} !== 0) ? ${p} : 0)`;
    },
  },
  greater: compare(">"),
  greaterEqual: compare(">="),
  less: compare("<"),
  lessEqual: compare("<="),
  equal: compare("==="),
  notEqual: compare("!=="),
  where: { kind: "elementwise", expr: ([c, a, b]) => `(${c} !== 0 ? ${a} : ${b})` },
  cast: {
    kind: "elementwise",
    expr: ([a], { inDtype, params }) => {
      const to = (params as { dtype: DType }).dtype;
      if (to === "float64" || to === inDtype) return a!;
      if (to === "float32") return `Math.fround(${a})`;
      if (to === "int32") return `(${a} | 0)`;
      return `(${a} !== 0 ? 1 : 0)`;
    },
  },
  stopGradient: { kind: "elementwise", expr: ([a]) => a! },
  reduceSum: KERNEL,
  reduceMax: KERNEL,
  argmax: KERNEL,
  reshape: VIEW,
  transpose: VIEW,
  broadcastTo: VIEW,
  slice: VIEW,
  pad: VIEW,
  concat: KERNEL,
  gather: KERNEL,
  scatterAdd: KERNEL,
  matmul: KERNEL,
  checkIndices: { kind: "check" },
  // family: reductions, scans and sorting (issue 17)
  linearScan: KERNEL,
  argcummax: KERNEL,
  argsort: KERNEL,
  // family: indexing (issue 17, ops-index)
  scatterMul: KERNEL,
  scatterMin: KERNEL,
  scatterMax: KERNEL,
  // family: convolution and pooling (issue 18): ir's window loops (rt_window)
  conv: KERNEL,
  reduceWindowSum: KERNEL,
  reduceWindowSumTranspose: KERNEL,
  reduceWindowMax: KERNEL,
  selectAndGatherAdd: KERNEL,
  selectAndScatterAdd: KERNEL,
  // the math family: special functions call ir's scalar functions, passed to generated code as rt_special
  asin: math("asin"),
  acos: math("acos"),
  atan: math("atan"),
  sinh: math("sinh"),
  cosh: math("cosh"),
  asinh: math("asinh"),
  acosh: math("acosh"),
  atanh: math("atanh"),
  erf: special("erf"),
  erfc: special("erfc"),
  erfinv: special("erfinv"),
  lgamma: special("lgamma"),
  polygamma: {
    kind: "elementwise",
    expr: ([a], ctx) => rounded(`rt_special.polygamma(${(ctx.params as { n: number }).n | 0}, ${a})`, ctx),
  },
  log2: math("log2"),
  log10: math("log10"),
  exp2: { kind: "elementwise", expr: ([a], ctx) => rounded(`(2 ** (${a}))`, ctx) },
  cbrt: math("cbrt"),
  floor: math("floor"),
  ceil: math("ceil"),
  round: special("roundHalfEven"),
  trunc: math("trunc"),
  fmod: { kind: "elementwise", expr: ([a, b], ctx) => rounded(`(${a} % ${b})`, ctx) },
  remainder: { kind: "elementwise", expr: ([a, b], ctx) => rounded(`rt_special.remainder(${a}, ${b})`, ctx) },
  hypot: { kind: "elementwise", expr: ([a, b], ctx) => rounded(`Math.hypot(${a}, ${b})`, ctx) },
  floorDivide: { kind: "elementwise", expr: ([a, b], ctx) => rounded(`rt_special.floorDivide(${a}, ${b})`, ctx) },
} as const satisfies { readonly [P in Primitive]: JsLowering };

type KindOf<K extends JsLowering["kind"]> = { [P in Primitive]: (typeof JS_LOWERING)[P]["kind"] extends K ? P : never }[Primitive];
export type ElementwisePrimitive = KindOf<"elementwise">;
export type ViewPrimitive = KindOf<"view">;
/** The primitives `generate` emits a runtime kernel call for (its switch over them is checked exhaustive). */
export type KernelPrimitive = KindOf<"kernel">;

const primitivesOf = (kind: JsLowering["kind"]) => (Object.keys(JS_LOWERING) as Primitive[]).filter((p) => JS_LOWERING[p].kind === kind);
export const ELEMENTWISE = new Set<Primitive>(primitivesOf("elementwise"));
export const VIEWS = new Set<Primitive>(primitivesOf("view"));

/** One elementwise op on operand expressions (locals or literals), rounded to the output dtype. */
export function elementwise(
  op: Primitive,
  args: readonly string[],
  inDtype: DType,
  outDtype: DType,
  params: Params,
  exactFloat32 = true,
): string {
  const lowering: JsLowering = JS_LOWERING[op];
  if (lowering.kind !== "elementwise") throw internalError(`${op} is not elementwise`);
  return lowering.expr(args, { inDtype, outDtype, params, exactFloat32 });
}
