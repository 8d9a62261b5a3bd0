/**
 * Elementwise steps the SIMD kernels do not take (comparisons, where, casts, integer ops, f64
 * transcendentals) as small JavaScript loops over views of the kernel memory, built with the code
 * generator's own expressions (`elementwise` in ../codegen.ts, so the semantics are the JIT's)
 * and operands broadcast as rows, columns or scalars. Source text holds only identifiers and
 * integers formatted here and the generator's expressions.
 */
import { BINARY_PRIMITIVES, COMPARISON_PRIMITIVES, UNARY_PRIMITIVES, type DType, type Params, type Primitive } from "@chainrule/ir";
import { buildFunction } from "../build.js";
import { elementwise } from "../codegen.js";
import type { OperandKind } from "./elementwise.js";

export const JS_ELEMENTWISE = new Set<Primitive>([...UNARY_PRIMITIVES, ...BINARY_PRIMITIVES, ...COMPARISON_PRIMITIVES, "where", "cast"]);

type Loop = (out: ArrayLike<number> & { [i: number]: number }, ...operands: ArrayLike<number>[]) => void;

const cache = new Map<string, Loop>();

function int(v: number): string {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error("internal: expected a non-negative integer");
  return String(v);
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
  if (!JS_ELEMENTWISE.has(op)) throw new Error(`internal: ${op} is not elementwise`);
  const names = kinds.map((_, j) => `x${j}`);
  const loads = kinds.map((k, j) => `const ${names[j]} = a${j}[${k === "full" ? "k" : k === "row" ? "i" : k === "col" ? "o" : "0"}];`);
  const expr = elementwise(op, names, inDtype, outDtype, params, true);
  const source = `"use strict"; return function loop(out, ${kinds.map((_, j) => `a${j}`).join(", ")}) {
  let k = 0;
  for (let o = 0; o < ${int(outer)}; o++) {
    for (let i = 0; i < ${int(inner)}; i++, k++) {
      ${loads.join(" ")}
      out[k] = ${expr};
    }
  }
};`;
  let loop = cache.get(source);
  if (loop === undefined) {
    loop = buildFunction([], source)() as Loop;
    cache.set(source, loop);
  }
  return loop;
}
