/**
 * The fusion plan shared by both backends: which elementwise nodes of a program run together in
 * one loop (JavaScript, codegen.ts) or one SIMD kernel (WebAssembly, wasm/program.ts), which
 * values of a group are stored for readers outside it, and (WebAssembly) which group runs as the
 * epilogue of a GEMM. What differs between the backends is a `FusionRules` value: the group size
 * limit, which nodes a backend can put in a group, whether full reductions accumulate inside a
 * group and whether two open groups a node reads may be merged.
 *
 * The plan walks the nodes in program order. A node that can fuse joins an open group of its
 * shape that it reads (a new group otherwise); every other group it reads is sealed (closed to new
 * members), since its values must exist before this node's loop runs. A node that cannot fuse
 * seals every group it reads.
 */
import { shapesEqual } from "@chainrule/ir";
import type { PNode, Program } from "./optimize.js";

export interface FusionRules {
  /** Fuse at all (false: every fusible node is a group of its own, for tests of the fusion pass). */
  readonly fuse: boolean;
  /** At most this many nodes per group (keeps loop bodies and kernels bounded). */
  readonly maxGroup: number;
  /** Can `n` be a member of an elementwise group (of its own shape)? */
  readonly elementwise: (n: PNode) => boolean;
  /** Beyond one shape: can `n` join group `g` (e.g. one dtype per SIMD kernel)? Default: yes. */
  readonly joins?: (n: PNode, g: FusionGroup) => boolean;
  /** Merge two open groups a node reads into one (true), or seal all but the first (false). */
  readonly mergeOpenGroups: boolean;
  /** A sum or maximum over all axes (to rank 0) accumulates inside its operand's group. */
  readonly fullReductions: boolean;
  /** GEMM epilogues: a group reading every use of a matmul runs inside the GEMM's stores. */
  readonly epilogue?: EpilogueRules;
}

export interface EpilogueRules {
  /** Can `matmul` run `g` as its epilogue (its dtype, rank, shape, …)? */
  readonly fits: (matmul: PNode, g: FusionGroup) => boolean;
  /** The value operand `id` is read from (through lazy views), or undefined when it needs none (a folded constant). */
  readonly source: (id: number) => number | undefined;
}

export interface FusionGroup {
  /** The iteration shape (every elementwise member's shape; a full reduction's operand's shape). */
  readonly shape: readonly number[];
  /** Members in program order. */
  members: PNode[];
  /** Members that are full reductions (accumulators, never stored). */
  readonly reductions: Set<number>;
  /** Members read outside the group or returned: the values the group stores. */
  readonly stored: Set<number>;
  /** Closed to new members. */
  sealed: boolean;
}

export interface FusionPlan {
  /** Groups in order of their last member (the order in which they run). */
  readonly groups: readonly FusionGroup[];
  /** The group of each member node. */
  readonly groupOf: ReadonlyMap<number, FusionGroup>;
  /** The group whose last member is this node: where the group's loop or kernel is emitted. */
  readonly completes: ReadonlyMap<number, FusionGroup>;
  /** Epilogues: matmul id → the group that runs in its GEMM (that group is not emitted on its own). */
  readonly epilogues: ReadonlyMap<number, FusionGroup>;
}

/** A sum or maximum over every axis of a tensor: a rank-0 result with a non-empty axes list. */
export function isFullReduction(n: PNode): boolean {
  return (n.op === "reduceSum" || n.op === "reduceMax") && n.shape.length === 0 && (n.params as { axes: number[] }).axes.length > 0;
}

/** Plans the groups of `p` under a backend's rules. */
export function planFusion(p: Program, rules: FusionRules): FusionPlan {
  const state: PlanState = { rules, groupOf: new Map(), groups: [], shapeOf: shapeLookup(p) };
  for (const n of p.nodes) {
    if (rules.elementwise(n)) addElementwise(state, n);
    else if (rules.fullReductions && isFullReduction(n)) addFullReduction(state, n);
    else for (const id of n.inputs) seal(state, id);
  }
  const groups = state.groups.filter((g) => g.members.length > 0);
  const order = new Map(p.nodes.map((n, i) => [n.id, i]));
  for (const g of groups) g.members.sort((x, y) => order.get(x.id)! - order.get(y.id)!);
  groups.sort((x, y) => order.get(lastOf(x).id)! - order.get(lastOf(y).id)!);
  markStored(p, state.groupOf);
  const epilogues = rules.epilogue ? planEpilogues(p, state.groupOf, order, rules.epilogue) : new Map<number, FusionGroup>();
  const completes = new Map(groups.map((g) => [lastOf(g).id, g]));
  return { groups, groupOf: state.groupOf, completes, epilogues };
}

interface PlanState {
  readonly rules: FusionRules;
  readonly groupOf: Map<number, FusionGroup>;
  readonly groups: FusionGroup[];
  readonly shapeOf: (id: number) => readonly number[];
}

function lastOf(g: FusionGroup): PNode {
  return g.members[g.members.length - 1]!;
}

function shapeLookup(p: Program): (id: number) => readonly number[] {
  const shapes = new Map<number, readonly number[]>();
  for (const i of p.inputs) shapes.set(i.id, i.shape);
  for (const [id, c] of p.constants) shapes.set(id, c.shape);
  for (const n of p.nodes) shapes.set(n.id, n.shape);
  return (id) => shapes.get(id)!;
}

function newGroup(state: PlanState, shape: readonly number[]): FusionGroup {
  const g: FusionGroup = { shape, members: [], reductions: new Set(), stored: new Set(), sealed: false };
  state.groups.push(g);
  return g;
}

function add(state: PlanState, g: FusionGroup, n: PNode): void {
  g.members.push(n);
  state.groupOf.set(n.id, g);
}

/** Closes the group of value `id` to new members unless it is `consumer`'s own group. */
function seal(state: PlanState, id: number, consumer?: FusionGroup): void {
  const g = state.groupOf.get(id);
  if (g !== undefined && g !== consumer) g.sealed = true;
}

/** An elementwise node joins (and possibly merges) the open groups of its shape it reads. */
function addElementwise(state: PlanState, n: PNode): void {
  const { rules, groupOf } = state;
  // an accumulator is complete only after its loop: a reader of it cannot join that loop
  for (const id of n.inputs) {
    const g = groupOf.get(id);
    if (g?.reductions.has(id)) g.sealed = true;
  }
  let join: FusionGroup | undefined;
  if (rules.fuse) {
    for (const id of n.inputs) {
      const g = groupOf.get(id);
      if (g === undefined || g.sealed || g === join || !shapesEqual(g.shape, n.shape)) continue;
      if (rules.joins !== undefined && !rules.joins(n, g)) continue;
      if (g.members.length + (join?.members.length ?? 0) >= rules.maxGroup) continue;
      if (join === undefined) join = g;
      else if (rules.mergeOpenGroups) join = merge(state, join, g);
    }
  }
  for (const id of n.inputs) seal(state, id, join);
  add(state, join ?? newGroup(state, n.shape), n);
}

/**
 * Two open groups of one shape read by one node are independent (a dependency would have sealed
 * one): the smaller joins the larger (members are put back in program order at the end).
 */
function merge(state: PlanState, a: FusionGroup, b: FusionGroup): FusionGroup {
  const [big, small] = a.members.length >= b.members.length ? [a, b] : [b, a];
  for (const m of small.members) add(state, big, m);
  for (const r of small.reductions) big.reductions.add(r);
  small.members = [];
  return big;
}

/** A full reduction accumulates in its operand's open group, or in a loop of its own. */
function addFullReduction(state: PlanState, n: PNode): void {
  const id = n.inputs[0]!;
  const g = state.groupOf.get(id);
  const fits = state.rules.fuse && g !== undefined && !g.sealed && !g.reductions.has(id) && g.members.length < state.rules.maxGroup;
  const join = fits ? g : undefined;
  seal(state, id, join);
  const target = join ?? newGroup(state, state.shapeOf(id).slice());
  add(state, target, n);
  target.reductions.add(n.id);
}

/** A member is stored when a node outside its group reads it or it is returned (accumulators never are). */
function markStored(p: Program, groupOf: ReadonlyMap<number, FusionGroup>): void {
  const readBy = (id: number, reader: FusionGroup | undefined) => {
    const g = groupOf.get(id);
    if (g !== undefined && g !== reader && !g.reductions.has(id)) g.stored.add(id);
  };
  for (const n of p.nodes) for (const id of n.inputs) readBy(id, groupOf.get(n.id));
  for (const id of p.outputs) readBy(id, undefined);
}

/**
 * GEMM epilogues: a matmul whose every use is in one group (not returned itself) runs that group
 * in its stores, when the group fits and every other operand of the group exists before the GEMM.
 */
function planEpilogues(
  p: Program,
  groupOf: ReadonlyMap<number, FusionGroup>,
  order: ReadonlyMap<number, number>,
  rules: EpilogueRules,
): Map<number, FusionGroup> {
  const consumers = new Map<number, PNode[]>();
  for (const n of p.nodes) for (const id of n.inputs) (consumers.get(id) ?? consumers.set(id, []).get(id)!).push(n);
  const outputs = new Set(p.outputs);
  const epilogues = new Map<number, FusionGroup>();
  const fusedAt = new Map<FusionGroup, number>();
  /** The position in `p.nodes` after which a value exists (−1: inputs and constants). */
  const existsAfter = (id: number): number => {
    const g = groupOf.get(id);
    if (g !== undefined) return fusedAt.get(g) ?? order.get(lastOf(g).id)!;
    return order.get(id) ?? -1;
  };
  for (const n of p.nodes) {
    if (n.op !== "matmul" || outputs.has(n.id)) continue;
    const uses = consumers.get(n.id) ?? [];
    const g = uses.length > 0 ? groupOf.get(uses[0]!.id) : undefined;
    if (g === undefined || fusedAt.has(g) || !uses.every((u) => groupOf.get(u.id) === g) || !rules.fits(n, g)) continue;
    const at = order.get(n.id)!;
    const ready = (id: number) => {
      if (id === n.id || groupOf.get(id) === g) return true;
      const source = rules.source(id);
      return source === undefined || existsAfter(source) < at;
    };
    if (!g.members.every((m) => m.inputs.every(ready))) continue;
    epilogues.set(n.id, g);
    fusedAt.set(g, at);
  }
  return epilogues;
}
