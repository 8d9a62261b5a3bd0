/**
 * How the WebAssembly kernels read a program's values, and the fusion rules that follow: an
 * operand of a fused SIMD kernel is a full array, a row or a column broadcast, a scalar, or a
 * uniform constant folded into the kernel; broadcastTo is never materialized (its operand is read
 * with the broadcast kind instead).
 */
import { isFloat, sizeOf, type DType } from "@chainrule/ir";
import type { EpilogueRules, FusionRules } from "../fusion.js";
import type { PNode, Program } from "../optimize.js";
import { ewSupports, type OperandKind, type KernelDtype } from "@chainrule/wasm";

/** At most this many nodes per fused SIMD kernel. */
export const MAX_GROUP = 48;

export class Operands {
  private readonly avals = new Map<number, { shape: readonly number[]; dtype: DType }>();
  private readonly byId: Map<number, PNode>;

  constructor(private readonly p: Program) {
    for (const i of p.inputs) this.avals.set(i.id, i);
    for (const [id, c] of p.constants) this.avals.set(id, { shape: c.shape, dtype: c.dtype });
    for (const n of p.nodes) this.avals.set(n.id, n);
    this.byId = new Map(p.nodes.map((n) => [n.id, n]));
  }

  aval(id: number): { shape: readonly number[]; dtype: DType } {
    return this.avals.get(id)!;
  }

  /** The value `id` is read from: broadcastTo resolved to its operand. */
  sourceOf(id: number): number {
    const n = this.byId.get(id);
    return n !== undefined && n.op === "broadcastTo" ? this.sourceOf(n.inputs[0]!) : id;
  }

  /**
   * The kind of operand `id` (resolving broadcastTo) in iteration `shape`, or undefined. An operand
   * that broadcasts to the iteration's shape but is none of the kinds (a channel bias [1, C, 1, 1]
   * on [N, C, H, W]) is read "full", materialized by a copy kernel first (`needsBroadcast`).
   */
  kindIn(id: number, shape: readonly number[]): OperandKind | undefined {
    return this.sourceKindIn(id, shape) ?? (this.needsBroadcast(id, shape) ? "full" : undefined);
  }

  /** Whether operand `id` is read in iteration `shape` from a broadcast copy of its source. */
  needsBroadcast(id: number, shape: readonly number[]): boolean {
    if (this.sourceKindIn(id, shape) !== undefined) return false;
    const s = this.aval(this.sourceOf(id)).shape;
    const offset = shape.length - s.length;
    return offset >= 0 && s.every((d, i) => d === 1 || d === shape[offset + i]);
  }

  private sourceKindIn(id: number, shape: readonly number[]): OperandKind | undefined {
    const s = this.aval(this.sourceOf(id)).shape;
    const r = shape.length;
    if (s.length > r) return undefined;
    const padded = [...Array<number>(r - s.length).fill(1), ...s];
    if (padded.every((d) => d === 1)) return "scalar";
    if (padded.every((d, i) => d === shape[i])) return "full";
    const lead = padded.slice(0, -1);
    if (padded[r - 1] === shape[r - 1] && lead.every((d) => d === 1)) return "row";
    if (padded[r - 1] === 1 && lead.every((d, i) => d === shape[i])) return "col";
    return undefined;
  }

  /** The value of a constant whose elements are all equal (folded into kernels), or undefined. */
  uniformConstant(id: number): number | undefined {
    const c = this.p.constants.get(this.sourceOf(id));
    if (c === undefined || c.size === 0) return undefined;
    const v = c.data[0]!;
    for (let i = 1; i < c.size; i++) if (!Object.is(c.data[i], v)) return undefined;
    return v;
  }

  /** Can `n` run in a fused SIMD kernel: a non-empty float op the kernels take, every operand readable? */
  simd(n: PNode): n is PNode & { dtype: KernelDtype } {
    return (
      isFloat(n.dtype) &&
      n.shape.length > 0 &&
      sizeOf(n.shape) > 0 &&
      ewSupports(n.op, n.dtype as KernelDtype) &&
      n.inputs.every(
        (id) => this.aval(id).dtype === n.dtype && (this.kindIn(id, n.shape) !== undefined || this.uniformConstant(id) !== undefined),
      )
    );
  }
}

/**
 * The WebAssembly backend's fusion rules: SIMD-capable float ops, one dtype per kernel, at most
 * MAX_GROUP nodes, no merging and no reductions in a group; a rank-2 float matmul takes a group of
 * its shape and dtype as its GEMM's epilogue.
 */
export function wasmFusionRules(operands: Operands): FusionRules {
  const epilogue: EpilogueRules = {
    fits: (m, g) =>
      isFloat(m.dtype) &&
      m.shape.length === 2 &&
      g.members[0]!.dtype === m.dtype &&
      g.shape.length === 2 &&
      g.shape[0] === m.shape[0] &&
      g.shape[1] === m.shape[1],
    source: (id) => (operands.uniformConstant(id) !== undefined ? undefined : operands.sourceOf(id)),
  };
  return {
    fuse: true,
    maxGroup: MAX_GROUP,
    elementwise: (n) => operands.simd(n),
    joins: (n, g) => g.members[0]!.dtype === n.dtype,
    mergeOpenGroups: false,
    fullReductions: false,
    epilogue,
  };
}
