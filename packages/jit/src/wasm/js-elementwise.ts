/**
 * Elementwise steps the SIMD kernels do not take (comparisons, where, casts, integer ops, f64
 * transcendentals) as small JavaScript loops over views of the kernel memory, built with the code
 * generator's own expressions (`elementwise` in ../codegen.ts, so the semantics are the JIT's)
 * and operands broadcast as rows, columns or scalars. Source text holds only identifiers and
 * integers formatted here and the generator's expressions.
 */
import { internalError, SPECIAL, type DType, type Params, type Primitive } from "@chainrule/ir";
import { buildFunction } from "../build.js";
import { elementwise } from "../lowering.js";
import { BoundedCache } from "@chainrule/wasm";
import type { OperandKind } from "@chainrule/wasm";
import { JS_LOOP } from "./lowering.js";

export const JS_ELEMENTWISE: ReadonlySet<string> = JS_LOOP;

type Loop = (out: ArrayLike<number> & { [i: number]: number }, ...operands: ArrayLike<number>[]) => void;
/** The generated loop: sizes are arguments, so one function serves every shape. */
type SizedLoop = (outer: number, inner: number, out: ArrayLike<number> & { [i: number]: number }, ...operands: ArrayLike<number>[]) => void;

/**
 * Generated loops by source text, which depends on the op, its params, the dtypes and the operand
 * kinds but not on the shape: a few hundred at most in practice; the least recently used beyond
 * `JS_LOOP_CACHE_LIMIT` are dropped (and rebuilt if needed again).
 */
export const JS_LOOP_CACHE_LIMIT = 256;
const cache = new BoundedCache<string, SizedLoop>(JS_LOOP_CACHE_LIMIT);

/** Loops cached now (for tests of the bound). */
export function jsLoopCacheSize(): number {
  return cache.size;
}

/** A loop computing `op` over (outer × inner) from operands of the given kinds. */
export function jsElementwiseLoop(
  op: Primitive,
  kinds: readonly OperandKind[],
  inDtype: DType,
  outDtype: DType,
  params: Params,
  outer: number,
  inner: number,
): Loop {
  if (!JS_ELEMENTWISE.has(op)) throw internalError(`${op} is not elementwise`);
  if (!Number.isSafeInteger(outer) || outer < 0 || !Number.isSafeInteger(inner) || inner < 0)
    throw internalError("expected non-negative integer sizes");
  const names = kinds.map((_, j) => `x${j}`);
  const loads = kinds.map((k, j) => `const ${names[j]} = a${j}[${k === "full" ? "k" : k === "row" ? "i" : k === "col" ? "o" : "0"}];`);
  const expr = elementwise(op, names, inDtype, outDtype, params, true);
  const source = `"use strict"; return function loop(outer, inner, out, ${kinds.map((_, j) => `a${j}`).join(", ")}) {
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++, k++) {
      ${loads.join(" ")}
      out[k] = ${expr};
    }
  }
};`;
  let loop = cache.get(source);
  if (loop === undefined) {
    // rt_special: ir's scalar special functions (erf, lgamma, …), as in the JavaScript backend
    loop = buildFunction(["rt_special"], source)(SPECIAL) as SizedLoop;
    cache.set(source, loop);
  }
  const sized = loop;
  return (out, ...operands) => sized(outer, inner, out, ...operands);
}
