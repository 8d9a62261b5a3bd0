/**
 * The scalar backward sweep: when every entry on a tape is a rank-0 float64 primitive on concrete
 * values (the W1 case: a function of a few JS numbers), the adjoints are plain JS numbers and no
 * tensor is allocated. It runs ir's own partials on numbers (`NUMBER_MATH`) — the same functions
 * the tensor sweep runs through `binary`/`unary` (ir's define.ts), in the same order of
 * operations — so both sweeps give bitwise identical results (scalar.test.ts checks this for every
 * primitive covered).
 */
import {
  DEFINITIONS,
  isScalarArith,
  mulNoNanScalar,
  NUMBER_MATH,
  PRIMITIVES,
  scalarArith,
  type Elementwise,
  type Primitive,
  type ScalarArith,
  type Tensor,
} from "@chainrule/ir";
import type { TapeNode } from "./tape.js";

/** The partials of each primitive ir defines by them (all smooth float elementwise ones). */
const PARTIALS = new Map<string, Elementwise["partials"]>(
  PRIMITIVES.flatMap((p) => {
    const info = DEFINITIONS[p].elementwise;
    return info === undefined ? [] : [[p, info.partials] as const];
  }),
);

/** The primitives the scalar sweep covers. */
export const SCALAR_PRIMITIVES: ReadonlySet<Primitive> = new Set(PARTIALS.keys() as Iterable<Primitive>);

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

/** The scalar operands handed to the partials (reused: partials never keep their arguments). */
const NO_INPUTS: number[] = [];
const ONE_INPUT = [0];
const TWO_INPUTS = [0, 0];

function operands(saved: readonly Tensor[]): number[] {
  if (saved.length === 0) return NO_INPUTS;
  if (saved.length === 1) {
    ONE_INPUT[0] = v(saved[0]);
    return ONE_INPUT;
  }
  TWO_INPUTS[0] = v(saved[0]);
  TWO_INPUTS[1] = v(saved[1]);
  return TWO_INPUTS;
}

/** Applies one entry's partials to the numeric adjoints (what ir's `unary`/`binary` VJP computes). */
function step(node: TapeNode, ct: number, adjoints: (number | undefined)[]): void {
  const ids = node.ids;
  const op = node.op as Primitive;
  if (isScalarArith(op)) return arithStep(op, node, ct, adjoints);
  const partials = PARTIALS.get(node.op)!;
  const x = operands(node.x);
  const y = node.y === null ? NaN : v(node.y);
  if (partials.length === 1) return accumulate(adjoints, ids[0]!, times(ct, partials[0](NUMBER_MATH, x, y)));
  if (node.same(0, 1)) return accumulate(adjoints, ids[0]!, times(ct, partials[0](NUMBER_MATH, x, y) + partials[1](NUMBER_MATH, x, y)));
  if (node.needs & 1) accumulate(adjoints, ids[0]!, times(ct, partials[0](NUMBER_MATH, x, y)));
  if (node.needs & 2) accumulate(adjoints, ids[1]!, times(ct, partials[1](NUMBER_MATH, x, y)));
}

const ARITH = new Float64Array(3);

/** add, sub, mul, neg: ir's written-out `scalarArith` (its partials; mul's operands are saved). */
function arithStep(op: ScalarArith, node: TapeNode, ct: number, adjoints: (number | undefined)[]): void {
  const ids = node.ids;
  const saved = node.x;
  scalarArith(op, saved.length > 0 ? v(saved[0]) : Number.NaN, saved.length > 1 ? v(saved[1]) : Number.NaN, ARITH);
  if (op === "neg") return accumulate(adjoints, ids[0]!, times(ct, ARITH[1]!));
  if (node.same(0, 1)) return accumulate(adjoints, ids[0]!, times(ct, ARITH[1]! + ARITH[2]!));
  if (node.needs & 1) accumulate(adjoints, ids[0]!, times(ct, ARITH[1]!));
  if (node.needs & 2) accumulate(adjoints, ids[1]!, times(ct, ARITH[2]!));
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
