/**
 * The scalar backward sweep: when every entry on a tape is a rank-0 float64 primitive on concrete
 * values (the W1 case: a function of a few JS numbers), the adjoints are plain JS numbers and no
 * tensor is allocated. It runs ir's own partials on numbers (`NUMBER_MATH`) — the same functions
 * the tensor sweep runs through `binary`/`unary` (ir's define.ts), in the same order of
 * operations — so both sweeps give bitwise identical results (scalar.test.ts checks this for every
 * primitive covered).
 */
import { DEFINITIONS, mulNoNanScalar, NUMBER_MATH, PRIMITIVES, type Elementwise, type Primitive, type Tensor } from "@chainrule/ir";
import type { TapeNode } from "./tape.js";

/** The primitives ir defines by their elementwise partials: all smooth float elementwise ones. */
export const SCALAR_PRIMITIVES: ReadonlySet<Primitive> = new Set(PRIMITIVES.filter((p) => DEFINITIONS[p].elementwise !== undefined));

const v = (t: Tensor | null | undefined): number => t!.data[0]!;

function accumulate(adjoints: (number | undefined)[], slot: number, term: number): void {
  if (slot < 0) return;
  const previous = adjoints[slot];
  adjoints[slot] = previous === undefined ? term : previous + term;
}

/** ct · f, with the shortcuts for f = ±1 that the tensor sweep takes (ir's `times`). */
function times(ct: number, f: number): number {
  return f === 1 ? ct : f === -1 ? -ct : mulNoNanScalar(ct, f);
}

const NO_INPUTS: number[] = [];

/** Applies one entry's partials to the numeric adjoints (what ir's `unary`/`binary` VJP computes). */
function step(node: TapeNode, ct: number, adjoints: (number | undefined)[]): void {
  const { partials } = DEFINITIONS[node.op as Primitive].elementwise as Elementwise;
  const ids = node.ids;
  const saved = node.x;
  const x = saved.length === 0 ? NO_INPUTS : saved.length === 1 ? [v(saved[0])] : [v(saved[0]), v(saved[1])];
  const y = node.y === null ? NaN : v(node.y);
  if (partials.length === 1) return accumulate(adjoints, ids[0]!, times(ct, partials[0](NUMBER_MATH, x, y)));
  if (node.same(0, 1)) return accumulate(adjoints, ids[0]!, times(ct, partials[0](NUMBER_MATH, x, y) + partials[1](NUMBER_MATH, x, y)));
  if (node.needs & 1) accumulate(adjoints, ids[0]!, times(ct, partials[0](NUMBER_MATH, x, y)));
  if (node.needs & 2) accumulate(adjoints, ids[1]!, times(ct, partials[1](NUMBER_MATH, x, y)));
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
