/**
 * How the JavaScript backend lowers each primitive — one entry per primitive, so a primitive
 * added to ir without a lowering fails the typecheck here:
 *
 * - "elementwise": an expression on operand expressions (locals or literals), rounded to the
 *   output dtype — ir's JS_EXPRESSIONS, which ir's eager fusion shares; the code generator fuses
 *   these into loops (and the WebAssembly backend reuses them for the elementwise steps its SIMD
 *   kernels do not take);
 * - "view": a lazy index map (slice, pad, transpose, broadcastTo, reshape), never a copy unless a
 *   kernel needs contiguous data;
 * - "kernel": a call of a runtime kernel (runtime.ts), emitted by `generate` for exactly these;
 * - "check": a runtime data check (runtime.ts) that passes its operand through (checkIndices).
 *
 * Backends lower primitives; they never differentiate them (derivatives come from ir's
 * definitions, as graphs of primitives).
 */
import { internalError, JS_EXPRESSIONS, type DType, type Expr, type ExpressionPrimitive, type Params, type Primitive } from "@chainrule/ir";

export type { ExprContext } from "@chainrule/ir";

export type JsLowering =
  | { readonly kind: "elementwise"; readonly expr: Expr }
  | { readonly kind: "view" }
  | { readonly kind: "kernel" }
  | { readonly kind: "check" };

/** ir's expression of every elementwise primitive (JS_EXPRESSIONS), as lowerings. */
const ELEMENTWISE_LOWERING = Object.fromEntries(
  Object.entries(JS_EXPRESSIONS).map(([op, expr]) => [op, { kind: "elementwise", expr }]),
) as { readonly [P in ExpressionPrimitive]: { readonly kind: "elementwise"; readonly expr: Expr } };

const VIEW = { kind: "view" } as const;
const KERNEL = { kind: "kernel" } as const;

export const JS_LOWERING = {
  ...ELEMENTWISE_LOWERING,
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
  // family: random bits (issue 18, nn): the runtime's rt_threefry (ir's threefry2x32Block, its source text)
  threefry2x32: KERNEL,
  // family: structured control flow (issue 19, ctrl): a call of rt_control (control.ts), which runs compiled sub-graphs
  control: KERNEL,
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
