/**
 * The scalar backward sweep: when every entry on a tape is a rank-0 float64 primitive on concrete
 * values (the W1 case: a function of a few JS numbers), the adjoints are plain JS numbers and no
 * tensor is allocated. Each case computes exactly what the tensor rule in rules.ts computes, in the
 * same order of operations, so both sweeps give bitwise identical results (tests check this).
 */
import type { Primitive, Tensor } from "@chainrule/ir";
import type { TapeNode } from "./tape.js";

/** Primitives with a scalar case below. */
export const SCALAR_PRIMITIVES: ReadonlySet<Primitive> = new Set<Primitive>([
  "neg",
  "exp",
  "log",
  "log1p",
  "expm1",
  "sin",
  "cos",
  "tanh",
  "sqrt",
  "abs",
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
]);

const v = (t: Tensor | null | undefined): number => t!.data[0]!;

function accumulate(adjoints: (number | undefined)[], slot: number, term: number): void {
  if (slot < 0) return;
  const previous = adjoints[slot];
  adjoints[slot] = previous === undefined ? term : previous + term;
}

/** Applies one entry's rule to the numeric adjoints (same math as the VJP_RULES entry). */
function step(node: TapeNode, ct: number, adjoints: (number | undefined)[]): void {
  const ids = node.ids;
  const x = node.x;
  const needs = node.needs;
  switch (node.op) {
    case "neg":
      return accumulate(adjoints, ids[0]!, -ct);
    case "exp":
      return accumulate(adjoints, ids[0]!, ct * v(node.y));
    case "log":
      return accumulate(adjoints, ids[0]!, ct / v(x[0]));
    case "log1p":
      return accumulate(adjoints, ids[0]!, ct / (v(x[0]) + 1));
    case "expm1":
      return accumulate(adjoints, ids[0]!, ct * (v(node.y) + 1));
    case "sin":
      return accumulate(adjoints, ids[0]!, ct * Math.cos(v(x[0])));
    case "cos":
      return accumulate(adjoints, ids[0]!, -(ct * Math.sin(v(x[0]))));
    case "tanh": {
      const y = v(node.y);
      return accumulate(adjoints, ids[0]!, ct * (-(y * y) + 1));
    }
    case "sqrt":
      return accumulate(adjoints, ids[0]!, ct / (v(node.y) * 2));
    case "abs":
      return accumulate(adjoints, ids[0]!, ct * Math.sign(v(x[0])));
    case "add":
      if (needs & 1) accumulate(adjoints, ids[0]!, ct);
      if (needs & 2) accumulate(adjoints, ids[1]!, ct);
      return;
    case "sub":
      if (needs & 1) accumulate(adjoints, ids[0]!, ct);
      if (needs & 2) accumulate(adjoints, ids[1]!, -ct);
      return;
    case "mul": {
      if (node.same(0, 1)) return accumulate(adjoints, ids[0]!, ct * v(x[0]) * 2);
      if (needs & 1) accumulate(adjoints, ids[0]!, ct * v(x[1]));
      if (needs & 2) accumulate(adjoints, ids[1]!, ct * v(x[0]));
      return;
    }
    case "div": {
      const b = v(x[1]);
      if (needs & 1) accumulate(adjoints, ids[0]!, ct / b);
      if (needs & 2) accumulate(adjoints, ids[1]!, -((ct * v(node.y)) / b));
      return;
    }
    case "pow": {
      const a = v(x[0]),
        b = v(x[1]);
      if (needs & 1) accumulate(adjoints, ids[0]!, ct * (b === 0 ? 0 : b * a ** (b + -1)));
      if (needs & 2) accumulate(adjoints, ids[1]!, ct * (a === 0 ? 0 : v(node.y) * Math.log(a)));
      return;
    }
    case "maximum":
    case "minimum": {
      const a = v(x[0]),
        b = v(x[1]);
      const wins = node.op === "maximum" ? a > b : a < b;
      const toX = ct * ((wins ? 1 : 0) + (a === b ? 1 : 0) * 0.5);
      if (needs & 1) accumulate(adjoints, ids[0]!, toX);
      if (needs & 2) accumulate(adjoints, ids[1]!, ct - toX);
      return;
    }
    default:
      throw new Error(`internal: no scalar backward rule for ${node.op}`);
  }
}

/**
 * Sweeps a scalar tape from `seedSlot` (adjoint 1) and returns the adjoint of every slot
 * (undefined where nothing reached; the inputs are the first slots).
 */
export function scalarBackward(nodes: readonly TapeNode[], slots: number, seedSlot: number): (number | undefined)[] {
  const adjoints = new Array<number | undefined>(slots);
  if (seedSlot >= 0) adjoints[seedSlot] = 1;
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    const ct = adjoints[node.out];
    if (ct !== undefined) step(node, ct, adjoints);
  }
  return adjoints;
}
