/**
 * Where the code generator keeps values: rank-0 values in number expressions (`Num`), arrays in
 * typed arrays (`Arr`, backed by a pooled or per-call `Buf` for values computed here), and lazy
 * views (`View`: slice, pad, transpose, broadcastTo and reshape as index maps over a base array
 * or a scalar, read by their consumers' loops without a copy).
 */
import { shapesEqual, type DType } from "@chainrule/ir";
import type { PNode } from "./optimize.js";

/** An intermediate or output array; its name is given after liveness analysis. */
export interface Buf {
  readonly index: number;
  readonly dtype: DType;
  readonly size: number;
  /** Returned to the caller: allocated per call, never pooled. */
  readonly output: boolean;
  /** For an output: its position among the returned values (a donated buffer `into[j]` may replace the allocation). */
  into?: number;
  /** Every element is stored by the step that defines it (a fused loop): a donated buffer needs no zeroing. */
  written?: boolean;
  name: string;
  def: number;
  lastUse: number;
  /** Loads that read the buffer (loads inlined by recomputation do not count). */
  reads: number;
  /** Written only by fused-loop stores, which are dropped when nothing reads the buffer. */
  droppable: boolean;
}

export interface Num {
  kind: "num";
  expr: string;
}
export interface Arr {
  kind: "arr";
  name: string;
  shape: number[];
  dtype: DType;
  /** null for inputs and constants (not ours to reuse). */
  buf: Buf | null;
  constant: boolean;
}
/** Index of base dim m = (from ≥ 0 ? d[from] : 0) + offset, in the view's own dims d. */
export interface DimMap {
  from: number;
  offset: number;
}
/** Elements with lo ≤ d[dim] < hi are read; others are zero (padding). */
export interface Cond {
  dim: number;
  lo: number;
  hi: number;
}
export interface View {
  kind: "view";
  shape: number[];
  dtype: DType;
  base: Arr | null;
  scalar: string;
  dims: DimMap[];
  conds: Cond[];
}
export type Loc = Num | Arr | View;

/** A fused loop's stored value that readers may recompute instead of loading. */
export interface Producer {
  shape: number[];
  members: PNode[];
  memberIds: Set<number>;
  operands: Map<number, View>;
  member: number;
}

export function asView(loc: Loc, shape: number[], dtype: DType): View {
  if (loc.kind === "view") return loc;
  if (loc.kind === "num") return { kind: "view", shape, dtype, base: null, scalar: loc.expr, dims: [], conds: [] };
  return {
    kind: "view",
    shape: loc.shape,
    dtype,
    base: loc,
    scalar: "",
    dims: loc.shape.map((_, i) => ({ from: i, offset: 0 })),
    conds: [],
  };
}

/**
 * Composes a view with a transform to `shape`: `map[j]` says where the inner view's dim j comes
 * from in the new dims; `conds` are new padding conditions on the new dims.
 */
export function compose(inner: View, shape: number[], map: DimMap[], conds: Cond[]): View {
  const dims = inner.dims.map((d) => {
    if (d.from < 0) return d;
    const m = map[d.from]!;
    return { from: m.from, offset: d.offset + m.offset };
  });
  const out: Cond[] = [...conds];
  let zero = false;
  for (const c of inner.conds) {
    const m = map[c.dim]!;
    if (m.from < 0) {
      if (!(c.lo <= m.offset && m.offset < c.hi)) zero = true;
    } else out.push({ dim: m.from, lo: c.lo - m.offset, hi: c.hi - m.offset });
  }
  if (zero) return { kind: "view", shape, dtype: inner.dtype, base: null, scalar: "0", dims: [], conds: [] };
  return { kind: "view", shape, dtype: inner.dtype, base: inner.base, scalar: inner.scalar, dims, conds: out };
}

export function broadcastMap(from: readonly number[], to: readonly number[]): DimMap[] {
  const lead = to.length - from.length;
  return from.map((d, j) => (d === 1 && to[lead + j] !== 1 ? { from: -1, offset: 0 } : { from: lead + j, offset: 0 }));
}

export function viewTo(loc: Loc, from: number[], dtype: DType, to: number[]): View {
  const v = asView(loc, from, dtype);
  return shapesEqual(from, to) ? v : compose(v, to, broadcastMap(from, to), []);
}

/** Is the view just its base array, laid out contiguously in the view's shape? */
export function isContiguous(v: View): Arr | undefined {
  if (v.base === null || v.conds.length > 0) return undefined;
  if (!shapesEqual(v.base.shape, v.shape)) return undefined;
  return v.dims.every((d, i) => d.from === i && d.offset === 0) ? v.base : undefined;
}
