/**
 * One fused loop of the code generator: elementwise members (and full reductions accumulating
 * in rank-0 slots) over one iteration shape, reading their operands through views.
 *
 * - Loop mode: "rank1" (one index i), "flat" (every operand contiguous: one index i over all
 *   elements) or "nested" (one counter per dim, operands indexed by strides).
 * - Rank-1 loops with padding are split into segments where every padding condition has a known
 *   value, so no element tests a bound.
 * - Producer inlining: a rank-1 operand read through a view of another loop's stored value is
 *   recomputed here at the shifted index instead of loaded (saves the store, the buffer and,
 *   when every reader inlines, the producing loop itself).
 */
import { internalError, sizeOf, stridesOf, type DType } from "@chainrule/ir";
import { elementwise } from "./lowering.js";
import { compose, viewTo, type Arr, type Buf, type Loc, type Num, type Producer, type View } from "./locations.js";
import type { PNode } from "./optimize.js";
import { ident, int, opName } from "./source-text.js";

/** What a loop needs from the code generator. */
export interface LoopContext {
  readonly exact32: boolean;
  readonly loc: Map<number, Loc>;
  readonly avals: ReadonlyMap<number, { shape: number[]; dtype: DType }>;
  readonly producers: Map<Buf, Producer>;
  readonly bufs: readonly Buf[];
  /** The array's name in source (a placeholder for pooled buffers until liveness names them). */
  ref(a: Arr): string;
  /** Records a read of the location's buffer by the step being emitted. */
  use(l: Loc): void;
  /** Declares a rank-0 value: [declaration keyword + name, the name to read it by]. */
  scalarSlot(id: number, mutable?: boolean): [string, string];
  /** Appends a step (rendered after liveness analysis). */
  step(render: () => string): void;
}

export interface LoopSpec {
  readonly shape: number[];
  readonly members: PNode[];
  /** Members that are full reductions (accumulated, not stored). */
  readonly reduce: ReadonlySet<number>;
  /** The buffer each stored member is written to. */
  readonly stores: Map<number, Buf>;
  readonly comment: string;
  /** Operands given as views (for a copy loop's synthetic operand). */
  readonly extraLoads?: Map<number, View>;
}

type Mode = "rank1" | "flat" | "nested";
/** Segment [start, end) of a rank-1 loop in which every padding condition has a known value. */
type Segment = readonly [number, number];

/** An operand read through a view, with its index as constant + Σ coef[k]·d[k]. */
interface Operand {
  readonly id: number;
  readonly v: View;
  readonly constant: number;
  readonly coef: number[];
  /** Readable with the loop's flat index (no padding, strides of the loop's shape). */
  readonly flat: boolean;
}

interface Loop {
  readonly cx: LoopContext;
  readonly spec: LoopSpec;
  readonly shape: number[];
  readonly mode: Mode;
  readonly operands: Operand[];
  readonly inlined: Map<number, Producer>;
}

/** Emits one loop over `spec.shape` computing its members from their operands. */
export function emitLoop(cx: LoopContext, spec: LoopSpec): void {
  const { shape, members, reduce, stores } = spec;
  const views = collectOperands(cx, spec);
  const operands = [...views].map(([id, v]) => analyze(shape, id, v));
  const mode: Mode = shape.length === 1 ? "rank1" : operands.every((o) => o.flat) ? "flat" : "nested";
  const segments = mode === "rank1" ? splitAtPadding(operands, sizeOf(shape)) : null;
  const inlined = mode === "rank1" && segments !== null ? inlinableProducers(cx, operands, segments) : new Map<number, Producer>();
  for (const o of operands) {
    const prod = inlined.get(o.id);
    if (prod === undefined) cx.use(o.v);
    else for (const v of prod.operands.values()) cx.use(v);
  }
  const loop: Loop = { cx, spec, shape, mode, operands, inlined };
  const before = declareAccumulators(cx, members, reduce);
  const bodies = segments === null ? [loopBody(loop, null)] : segments.map((seg) => loopBody(loop, seg));
  const memberIds = new Set(members.map((m) => m.id));
  for (const [id, buf] of stores) {
    buf.droppable = true;
    if (id >= 0 && !buf.output) cx.producers.set(buf, { shape, members, memberIds, operands: views, member: id });
  }
  cx.step(() => renderLoop(loop, before, bodies, segments));
}

/** Every value the members read from outside the loop, as a view in the loop's shape. */
function collectOperands(cx: LoopContext, { shape, members, extraLoads }: LoopSpec): Map<number, View> {
  const memberIds = new Set(members.map((m) => m.id));
  const operands = new Map<number, View>(extraLoads);
  for (const m of members) {
    for (const id of m.inputs) {
      if (memberIds.has(id) || operands.has(id)) continue;
      const a = cx.avals.get(id)!;
      operands.set(id, viewTo(cx.loc.get(id)!, a.shape, a.dtype, shape));
    }
  }
  return operands;
}

/** The operand's index as an affine function of the loop's dims, and whether it is flat. */
function analyze(shape: number[], id: number, v: View): Operand {
  const strides = stridesOf(shape);
  let constant = 0;
  const coef = new Array<number>(shape.length).fill(0);
  if (v.base !== null) {
    const bs = stridesOf(v.base.shape);
    v.dims.forEach((d, m) => {
      constant += bs[m]! * d.offset;
      if (d.from >= 0) coef[d.from]! += bs[m]!;
    });
  }
  const flat = v.conds.length === 0 && (v.base === null || coef.every((c, k) => c === strides[k] || shape[k] === 1));
  return { id, v, constant, coef, flat };
}

/** Segments of a padded rank-1 loop between the padding bounds (null: no padding, or too many cuts). */
function splitAtPadding(operands: Operand[], size: number): Segment[] | null {
  if (!operands.some((o) => o.v.conds.length > 0)) return null;
  const cuts = new Set<number>([0, size]);
  for (const o of operands) for (const c of o.v.conds) for (const b of [c.lo, c.hi]) if (b > 0 && b < size) cuts.add(b);
  const sorted = [...cuts].sort((x, y) => x - y);
  return sorted.length <= 9 ? sorted.slice(1).map((e, k) => [sorted[k]!, e] as const) : null;
}

/** Operands read through a shifted rank-1 view of another loop's stored value, resolved in every segment. */
function inlinableProducers(cx: LoopContext, operands: Operand[], segments: Segment[]): Map<number, Producer> {
  const inlined = new Map<number, Producer>();
  for (const o of operands) {
    const prod = o.v.base?.buf ? cx.producers.get(o.v.base.buf) : undefined;
    if (prod === undefined || prod.shape.length !== 1) continue;
    const resolved = segments.every((seg) =>
      o.v.conds.every((c) => (seg[0] >= c.lo && seg[1] <= c.hi) || seg[1] <= c.lo || seg[0] >= c.hi),
    );
    if (resolved && o.v.dims.length === 1 && o.v.dims[0]!.from === 0) inlined.set(o.id, prod);
  }
  return inlined;
}

/** Initial values of the loop's accumulators (declared before the loop; their locations become the accumulators). */
function declareAccumulators(cx: LoopContext, members: PNode[], reduce: ReadonlySet<number>): string[] {
  const before: string[] = [];
  for (const m of members) {
    if (!reduce.has(m.id)) continue;
    const [declare, acc] = cx.scalarSlot(m.id, true);
    before.push(m.op === "reduceSum" ? `${declare} = 0;` : `${declare} = ${m.dtype === "int32" ? "-2147483648" : "-Infinity"};`);
    cx.loc.set(m.id, { kind: "num", expr: acc });
  }
  return before;
}

function dimVar(loop: Loop, k: number): string {
  return loop.mode === "rank1" ? "i" : ident("d", k);
}

/** The expression reading operand `o` at the loop's index (0 where a segment is all padding). */
function loadOf(loop: Loop, o: Operand, seg: Segment | null): string {
  const { shape, mode } = loop;
  let load: string;
  if (o.v.base === null) load = o.v.scalar;
  else if (mode !== "nested" && o.flat)
    load = `${loop.cx.ref(o.v.base)}[${o.constant === 0 ? "i" : o.constant < 0 ? `i - ${int(-o.constant)}` : `i + ${int(o.constant)}`}]`;
  else {
    const terms = o.coef.flatMap((c, k) =>
      c === 0 || shape[k] === 1 ? [] : [c === 1 ? dimVar(loop, k) : `${int(c)} * ${dimVar(loop, k)}`],
    );
    if (o.constant !== 0 || terms.length === 0) terms.push(int(o.constant));
    load = `${loop.cx.ref(o.v.base)}[${terms.join(" + ")}]`.replace(/ \+ \((-\d+)\)\]$/, (_, k: string) => ` - ${k.slice(1)}]`);
  }
  const conds: string[] = [];
  for (const c of o.v.conds) {
    if (seg !== null) {
      if (seg[0] >= c.lo && seg[1] <= c.hi) continue;
      if (seg[1] <= c.lo || seg[0] >= c.hi) return "0";
    }
    const d = dimVar(loop, c.dim);
    if (c.lo > 0) conds.push(`${d} >= ${int(c.lo)}`);
    if (c.hi < shape[c.dim]!) conds.push(`${d} < ${int(c.hi)}`);
  }
  return conds.length === 0 ? load : `(${conds.join(" && ")} ? ${load} : 0)`;
}

/** One elementwise member as an expression of its operands' names. */
function memberExpr(cx: LoopContext, m: PNode, args: string[]): string {
  const inDtype = cx.avals.get(m.inputs[m.op === "where" ? 1 : 0]!)!.dtype;
  return elementwise(m.op, args, inDtype, m.dtype, m.params, cx.exact32);
}

/** Emits the producer's computation of its member at index i + shift; returns the local holding it. */
function inlineMember(loop: Loop, prod: Producer, shift: number, seg: Segment | null, tag: number, body: string[]): string {
  const needed = new Set<number>([prod.member]);
  for (let k = prod.members.length - 1; k >= 0; k--) {
    const m = prod.members[k]!;
    if (needed.has(m.id)) for (const id of m.inputs) if (prod.memberIds.has(id)) needed.add(id);
  }
  const names = new Map<number, string>();
  // tags are operand ids, which are negative for synthetic operands: spell the sign as "m"
  if (!Number.isSafeInteger(tag)) throw internalError("expected an integer tag");
  const suffix = tag < 0 ? `_m${-tag}` : `_${tag}`;
  const argOf = (id: number): string => {
    const known = names.get(id);
    if (known !== undefined) return known;
    const shifted = compose(prod.operands.get(id)!, loop.shape, [{ from: 0, offset: shift }], []);
    const load = loadOf(loop, analyze(loop.shape, id, shifted), seg);
    if (shifted.base === null) return load;
    const name = `${ident("a", id)}${suffix}`;
    body.push(`const ${name} = ${load};`);
    names.set(id, name);
    return name;
  };
  for (const m of prod.members) {
    if (!needed.has(m.id)) continue;
    const args = m.inputs.map(argOf);
    const t = `${ident("t", m.id)}${suffix}`;
    body.push(`const ${t} = ${memberExpr(loop.cx, m, args)}; // ${opName(m.op)} (recomputed)`);
    names.set(m.id, t);
  }
  return names.get(prod.member)!;
}

/** Loads of the operands into locals (or inlined recomputations); returns each operand's name. */
function loadOperands(loop: Loop, seg: Segment | null, body: string[]): Map<number, string> {
  const names = new Map<number, string>();
  for (const o of loop.operands) {
    const prod = loop.inlined.get(o.id);
    if (prod !== undefined) {
      const live = o.v.conds.every((c) => seg !== null && seg[0] >= c.lo && seg[1] <= c.hi);
      names.set(o.id, live ? inlineMember(loop, prod, o.v.dims[0]!.offset, seg, o.id, body) : "0");
      continue;
    }
    const l = loadOf(loop, o, seg);
    if (o.v.base === null || l === "0") names.set(o.id, l);
    else {
      const name = o.id < 0 ? "src" : ident("a", o.id);
      body.push(`const ${name} = ${l};`);
      names.set(o.id, name);
    }
  }
  return names;
}

/** The statements of one iteration (of one segment): loads, then each member, stored or accumulated. */
function loopBody(loop: Loop, seg: Segment | null): string[] {
  const { cx, spec } = loop;
  const body: string[] = [];
  const names = loadOperands(loop, seg, body);
  for (const m of spec.members) {
    if (spec.reduce.has(m.id)) {
      body.push(accumulate(cx, m, names.get(m.inputs[0]!)!));
      continue;
    }
    const t = m.id < 0 ? "tc" : ident("t", m.id);
    body.push(
      `const ${t} = ${memberExpr(
        cx,
        m,
        m.inputs.map((id) => names.get(id)!),
      )}; // ${opName(m.op)}`,
    );
    names.set(m.id, t);
    const buf = spec.stores.get(m.id);
    if (buf !== undefined) body.push(`\u0000${buf.index}\u0001[i] = ${t};`);
  }
  return body;
}

/** A full reduction's update of its accumulator by element x (NaN propagates through max). */
function accumulate(cx: LoopContext, m: PNode, x: string): string {
  const acc = (cx.loc.get(m.id) as Num).expr;
  if (m.op !== "reduceSum") return `if (${x} > ${acc} || ${x} !== ${x}) ${acc} = ${x};`;
  if (m.dtype === "float32" && cx.exact32) return `${acc} = Math.fround(${acc} + ${x});`;
  return m.dtype === "int32" ? `${acc} = (${acc} + ${x}) | 0;` : `${acc} += ${x};`;
}

/** A store nobody reads (every reader recomputed the value): dropped with its line. */
function deadStore(bufs: readonly Buf[], line: string): boolean {
  if (line.charCodeAt(0) !== 0) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: \u0000…\u0001 delimit buffer placeholders no source text contains
  const m = /^\u0000(\d+)\u0001\[i\] = /.exec(line);
  const b = m === null ? undefined : bufs[Number(m[1])]!;
  return b?.droppable === true && b.reads === 0 && !b.output;
}

/** The loop's source, once liveness is known (stores nobody reads are dropped, and the loop with them). */
function renderLoop(loop: Loop, before: string[], bodies: string[][], segments: Segment[] | null): string {
  const { cx, spec, shape } = loop;
  for (const b of bodies) for (let k = b.length - 1; k >= 0; k--) if (deadStore(cx.bufs, b[k]!)) b.splice(k, 1);
  if (spec.reduce.size === 0 && [...spec.stores.values()].every((b) => b.droppable && b.reads === 0 && !b.output))
    return `// ${spec.comment}: every value recomputed by its readers`;
  const lines = [`// ${spec.comment}`, before.join("\n")];
  const indent = (body: string[]) => body.map((l) => `  ${l}`).join("\n");
  if (loop.mode === "nested") {
    let open = "";
    shape.forEach((d, k) => (open += `for (let ${ident("d", k)} = 0; ${ident("d", k)} < ${int(d)}; ${ident("d", k)}++) `));
    lines.push("{", "let i = 0;", `${open}{`, indent(bodies[0]!), "  i++;", "}", "}");
  } else if (segments === null) {
    lines.push(`for (let i = 0; i < ${int(sizeOf(shape))}; i++) {`, indent(bodies[0]!), "}");
  } else {
    segments.forEach(([start, end], k) => lines.push(`for (let i = ${int(start)}; i < ${int(end)}; i++) {`, indent(bodies[k]!), "}"));
  }
  return lines.join("\n");
}
