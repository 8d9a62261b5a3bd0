/**
 * The four arithmetic primitives on JS numbers, written out: the value and both partials in one
 * monomorphic call. The scalar fast paths of forward and reverse mode (functions of a few JS
 * numbers, the W1 benchmark) use it instead of calling each definition's loop and partials through
 * a shared call site, which costs more than the arithmetic. It is checked against the definitions
 * (their loops and partials, bit for bit, special values included) by scalar-arith.test.ts; every
 * other primitive goes through its definition.
 */
import type { Primitive } from "../primitives.js";

export type ScalarArith = "add" | "sub" | "mul" | "neg";

export function isScalarArith(prim: Primitive): prim is ScalarArith {
  return prim === "add" || prim === "sub" || prim === "mul" || prim === "neg";
}

/** Writes [y, ∂y/∂a, ∂y/∂b] of `prim` at (a, b) into `out` (b and ∂y/∂b unused for neg). */
export function scalarArith(prim: ScalarArith, a: number, b: number, out: Float64Array): void {
  switch (prim) {
    case "add": // ∂(a + b) = (1, 1)
      out[0] = a + b;
      out[1] = 1;
      out[2] = 1;
      return;
    case "sub": // ∂(a − b) = (1, −1)
      out[0] = a - b;
      out[1] = 1;
      out[2] = -1;
      return;
    case "mul": // ∂(a·b) = (b, a)
      out[0] = a * b;
      out[1] = b;
      out[2] = a;
      return;
    case "neg": // d(−a) = −1
      out[0] = -a;
      out[1] = -1;
      out[2] = 0;
      return;
  }
}
