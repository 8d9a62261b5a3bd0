/**
 * The JavaScript expression of each elementwise primitive, on operand expressions (locals or
 * literals), rounded to the output dtype: one entry per elementwise primitive. The JIT's code
 * generator fuses these into loops (its lowering table, jit's lowering.ts, takes them from here) and
 * ir's eager fusion (fusion.ts) builds its fused loops from the same entries, so a primitive's
 * loop body is written once. Special functions call `rt_special` (ir's SPECIAL), which the
 * generated code receives as a parameter.
 */
import type { DType } from "../dtype.js";
import type { Params, Primitive } from "../primitives.js";

/** What an elementwise expression knows besides its operands. */
export interface ExprContext {
  /** The dtype of the (first numeric) operand. */
  readonly inDtype: DType;
  readonly outDtype: DType;
  readonly params: Params;
  /** Round float32 results with Math.fround (false: keep float64 precision in registers). */
  readonly exactFloat32: boolean;
}

/** A primitive's JavaScript expression on operand expressions (locals or literals). */
export type Expr = (args: readonly string[], ctx: ExprContext) => string;

const f32 = (ctx: ExprContext) => ctx.outDtype === "float32" && ctx.exactFloat32;
const i32 = (ctx: ExprContext) => ctx.outDtype === "int32";
/** A float result rounded to float32 when the output is float32. */
const rounded = (e: string, ctx: ExprContext) => (f32(ctx) ? `Math.fround(${e})` : e);

/** Math.fn(a), rounded. */
function math(fn: string): Expr {
  return ([a], ctx) => rounded(`Math.${fn}(${a})`, ctx);
}

/** rt_special.fn(a), rounded: ir's scalar special functions (SPECIAL), the runtime helper `rt_special`. */
function special(fn: "erf" | "erfc" | "erfinv" | "lgamma" | "roundHalfEven"): Expr {
  return ([a], ctx) => rounded(`rt_special.${fn}(${a})`, ctx);
}

/** a op b, wrapped to int32 or rounded to float32. */
function infix(op: "+" | "-"): Expr {
  return ([a, b], ctx) => (i32(ctx) ? `((${a} ${op} ${b}) | 0)` : rounded(`(${a} ${op} ${b})`, ctx));
}

function compare(op: string): Expr {
  return ([a, b]) => `(${a} ${op} ${b} ? 1 : 0)`;
}

const product: Expr = ([a, b], ctx) => (i32(ctx) ? `Math.imul(${a}, ${b})` : rounded(`(${a} * ${b})`, ctx));

export const JS_EXPRESSIONS = {
  neg: ([a], ctx) => (i32(ctx) ? `((-${a}) | 0)` : `(-${a})`),
  exp: math("exp"),
  log: math("log"),
  log1p: math("log1p"),
  expm1: math("expm1"),
  sin: math("sin"),
  cos: math("cos"),
  tanh: math("tanh"),
  sqrt: math("sqrt"),
  abs: ([a], ctx) => (i32(ctx) ? `(Math.abs(${a}) | 0)` : `Math.abs(${a})`),
  sign: ([a]) => `Math.sign(${a})`,
  add: infix("+"),
  sub: infix("-"),
  mul: product,
  div: ([a, b], ctx) => rounded(`(${a} / ${b})`, ctx),
  pow: ([a, b], ctx) => rounded(`Math.pow(${a}, ${b})`, ctx),
  maximum: ([a, b]) => `(${a} !== ${a} || ${b} !== ${b} ? NaN : ${a} > ${b} ? ${a} : ${b})`,
  minimum: ([a, b]) => `(${a} !== ${a} || ${b} !== ${b} ? NaN : ${a} < ${b} ? ${a} : ${b})`,
  atan2: ([a, b], ctx) => rounded(`Math.atan2(${a}, ${b})`, ctx),
  mulNoNan: ([a, b], ctx) => {
    const p = product([a!, b!], ctx);
    return `(${p} === ${p} || (${a} !== 0 && ${b} !== 0) ? ${p} : 0)`;
  },
  greater: compare(">"),
  greaterEqual: compare(">="),
  less: compare("<"),
  lessEqual: compare("<="),
  equal: compare("==="),
  notEqual: compare("!=="),
  where: ([c, a, b]) => `(${c} !== 0 ? ${a} : ${b})`,
  cast: ([a], { inDtype, params }) => {
    const to = (params as { dtype: DType }).dtype;
    if (to === "float64" || to === inDtype) return a!;
    if (to === "float32") return `Math.fround(${a})`;
    if (to === "int32") return `(${a} | 0)`;
    return `(${a} !== 0 ? 1 : 0)`;
  },
  stopGradient: ([a]) => a!,
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
  polygamma: ([a], ctx) => rounded(`rt_special.polygamma(${(ctx.params as { n: number }).n | 0}, ${a})`, ctx),
  log2: math("log2"),
  log10: math("log10"),
  exp2: ([a], ctx) => rounded(`(2 ** (${a}))`, ctx),
  cbrt: math("cbrt"),
  floor: math("floor"),
  ceil: math("ceil"),
  round: special("roundHalfEven"),
  trunc: math("trunc"),
  fmod: ([a, b], ctx) => rounded(`(${a} % ${b})`, ctx),
  remainder: ([a, b], ctx) => rounded(`rt_special.remainder(${a}, ${b})`, ctx),
  hypot: ([a, b], ctx) => rounded(`Math.hypot(${a}, ${b})`, ctx),
  floorDivide: ([a, b], ctx) => rounded(`rt_special.floorDivide(${a}, ${b})`, ctx),
} as const satisfies { readonly [P in Primitive]?: Expr };

/** The primitives with a JavaScript expression (the elementwise ones). */
export type ExpressionPrimitive = keyof typeof JS_EXPRESSIONS;

export function hasExpression(op: Primitive): op is ExpressionPrimitive {
  return Object.hasOwn(JS_EXPRESSIONS, op);
}
