/**
 * Code generation: an optimized `Program` becomes the source of a JavaScript function.
 *
 * - Rank-0 values are plain JS number locals (no typed arrays): a scalar graph compiles to
 *   straight-line arithmetic.
 * - Elementwise nodes of one shape are fused into a single loop (operands broadcast by strides);
 *   a full reduction (sum/max over all axes) of a fused value accumulates inside that loop.
 * - slice, pad, transpose, broadcastTo and reshape are lazy views: a consumer loop reads through
 *   them by index arithmetic, so they never copy unless a kernel needs contiguous data.
 * - Intermediate arrays come from a pool allocated once per compiled function and reused by
 *   liveness; only the returned outputs are allocated per call.
 *
 * Security: the source contains only identifiers generated here (from integer ids), numbers
 * formatted here (`formatNumber`), op comments from the fixed primitive set and fixed helper text.
 */
import {
  INDEX_CHECKS,
  internalError,
  isIndexCheck,
  PRIMITIVES,
  shapesEqual,
  sizeOf,
  stridesOf,
  type DType,
  type Params,
  type Primitive,
  type Tensor,
} from "@chainrule/ir";
import { elementwise, ELEMENTWISE, VIEWS, type KernelPrimitive } from "./lowering.js";
import { uniformValue, type PNode, type Program } from "./optimize.js";

// ── safe formatting ────────────────────────────────────────────────────────────────────────

const NUMERIC = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/;

/** A JS number as source text: every value round-trips; negatives are parenthesized. */
export function formatNumber(v: number): string {
  if (typeof v !== "number") throw internalError("formatNumber expected a number");
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "(-Infinity)";
  if (Object.is(v, -0)) return "(-0)";
  const text = String(v);
  if (!NUMERIC.test(text)) throw internalError(`unexpected number text`);
  return v < 0 ? `(${text})` : text;
}

/** A non-negative integer as source text (sizes, strides, offsets). */
function int(v: number): string {
  if (!Number.isSafeInteger(v)) throw internalError("expected a safe integer");
  return v < 0 ? `(${String(v)})` : String(v);
}

function ident(prefix: string, id: number): string {
  if (!Number.isSafeInteger(id) || id < 0) throw internalError("expected a non-negative integer id");
  return `${prefix}${id}`;
}

const PRIMITIVE_SET = new Set<string>(PRIMITIVES);

/**
 * The arguments after the value of `rt_checkIndex(es)`: the op and what it checks as string
 * literals taken from ir's fixed INDEX_CHECKS table (never text from the graph), the lowest index
 * of the range and the size (−1: integers, no range).
 */
function checkCall({ op, size }: Params<"checkIndices">): string {
  if (!isIndexCheck(op)) throw internalError("unknown index check");
  if (!Number.isSafeInteger(size) || size < -1) throw internalError("expected a size ≥ −1");
  const { what, negative } = INDEX_CHECKS[op];
  const low = negative && size > 0 ? `(${-size})` : "0";
  return `${JSON.stringify(op)}, ${JSON.stringify(what)}, ${low}, ${size < 0 ? "(-1)" : String(size)}`;
}
function opName(op: Primitive): string {
  if (!PRIMITIVE_SET.has(op)) throw internalError("unknown op");
  return op;
}

/** Above this many rank-0 values, they are kept in a register array `R` instead of locals. */
const SPILL_THRESHOLD = 2000;
/** At most this many nodes per fused loop (keeps loop bodies and their locals bounded). */
const MAX_GROUP = 256;

export const ARRAY_CTOR: Record<DType, string> = {
  float64: "Float64Array",
  float32: "Float32Array",
  int32: "Int32Array",
  bool: "Uint8Array",
};

// ── elementwise expressions: lowering.ts ─────────────────────────────────────────────────

export { elementwise } from "./lowering.js";

// ── locations of values ────────────────────────────────────────────────────────────────────

interface Buf {
  readonly index: number;
  readonly dtype: DType;
  readonly size: number;
  /** Returned to the caller: allocated per call, never pooled. */
  readonly output: boolean;
  name: string;
  def: number;
  lastUse: number;
  /** Loads that read the buffer (loads inlined by recomputation do not count). */
  reads: number;
  /** Written only by fused-loop stores, which are dropped when nothing reads the buffer. */
  droppable: boolean;
}

interface Num {
  kind: "num";
  expr: string;
}
interface Arr {
  kind: "arr";
  name: string;
  shape: number[];
  dtype: DType;
  /** null for inputs and constants (not ours to reuse). */
  buf: Buf | null;
  constant: boolean;
}
/** Index of base dim m = (from ≥ 0 ? d[from] : 0) + offset, in the view's own dims d. */
interface DimMap {
  from: number;
  offset: number;
}
/** Elements with lo ≤ d[dim] < hi are read; others are zero (padding). */
interface Cond {
  dim: number;
  lo: number;
  hi: number;
}
interface View {
  kind: "view";
  shape: number[];
  dtype: DType;
  base: Arr | null;
  scalar: string;
  dims: DimMap[];
  conds: Cond[];
}
type Loc = Num | Arr | View;

function asView(loc: Loc, shape: number[], dtype: DType): View {
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
function compose(inner: View, shape: number[], map: DimMap[], conds: Cond[]): View {
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

function broadcastMap(from: readonly number[], to: readonly number[]): DimMap[] {
  const lead = to.length - from.length;
  return from.map((d, j) => (d === 1 && to[lead + j] !== 1 ? { from: -1, offset: 0 } : { from: lead + j, offset: 0 }));
}

function viewTo(loc: Loc, from: number[], dtype: DType, to: number[]): View {
  const v = asView(loc, from, dtype);
  return shapesEqual(from, to) ? v : compose(v, to, broadcastMap(from, to), []);
}

/** Is the view just its base array, laid out contiguously in the view's shape? */
function isContiguous(v: View): Arr | undefined {
  if (v.base === null || v.conds.length > 0) return undefined;
  if (!shapesEqual(v.base.shape, v.shape)) return undefined;
  return v.dims.every((d, i) => d.from === i && d.offset === 0) ? v.base : undefined;
}

// ── schedule ───────────────────────────────────────────────────────────────────────────────

/** A fused loop's stored value that readers may recompute instead of loading. */
interface Producer {
  shape: number[];
  members: PNode[];
  memberIds: Set<number>;
  operands: Map<number, View>;
  member: number;
}

interface Group {
  shape: number[];
  members: PNode[];
  reduce: Set<number>;
  sealed: boolean;
  materialized: Set<number>;
}

export interface GenerateOptions {
  /** Embed constants as literals (standalone module) instead of taking them from `K`. */
  inlineConstants?: boolean;
  /** Builds the return statement's expression from the flat output expressions (default: an array). */
  ret?: (outputs: string[]) => string;
  /** Disable elementwise fusion (each node its own loop): for tests of the fusion pass. */
  fuse?: boolean;
  /** Disable buffer reuse (every intermediate its own buffer): for tests of the liveness pass. */
  reuse?: boolean;
  /**
   * Round every float32 operation to float32 (Math.fround), exactly like the eager kernels.
   * Default false: float32 chains are computed in float64 and rounded when stored or returned
   * (at least as accurate, and several times faster).
   */
  exactFloat32?: boolean;
}

export interface Generated {
  /** Factory body: takes (K, rt_error) and returns the compiled function. */
  source: string;
  /** Constant arrays referenced as K[i] (empty when inlined). */
  constants: Tensor[];
  /** Pooled intermediate buffers and their total bytes (for stats). */
  pooledBytes: number;
  fusedLoops: number;
}

export function generate(p: Program, options: GenerateOptions = {}): Generated {
  const fuse = options.fuse !== false;
  const exact32 = options.exactFloat32 === true;
  const nodes = p.nodes;
  const isOutput = new Set(p.outputs);

  const avals = new Map<number, { shape: number[]; dtype: DType }>();
  for (const i of p.inputs) avals.set(i.id, i);
  for (const [id, c] of p.constants) avals.set(id, { shape: c.shape.slice(), dtype: c.dtype });
  for (const n of nodes) avals.set(n.id, n);

  // Huge graphs: rank-0 values live in a register array instead of JS locals (a function with
  // tens of thousands of locals overflows the stack frame), and fused loops are capped.
  const scalarCount = nodes.reduce((k, n) => k + (n.shape.length === 0 ? 1 : 0), 0);
  const spill = scalarCount > SPILL_THRESHOLD || nodes.length > SPILL_THRESHOLD * 2;
  /** Declares a rank-0 value: returns [declaration keyword + name, the name to read it by]. */
  const scalarSlot = (id: number, mutable = false): [string, string] => {
    if (spill) {
      const r = `R[${int(id)}]`;
      return [r, r];
    }
    const name = ident("v", id);
    return [`${mutable ? "let" : "const"} ${name}`, name];
  };

  // pass 1: fusion groups
  const groupOf = new Map<number, Group>();
  const groups: Group[] = [];
  const order = new Map(nodes.map((n, i) => [n.id, i]));
  const seal = (id: number, consumer: Group | undefined) => {
    const g = groupOf.get(id);
    if (g === undefined || g === consumer) return;
    g.sealed = true;
    if (!g.reduce.has(id)) g.materialized.add(id);
  };
  for (const n of nodes) {
    const rank = n.shape.length;
    const reduceAll = (n.op === "reduceSum" || n.op === "reduceMax") && rank === 0 && (n.params as { axes: number[] }).axes.length > 0;
    if (ELEMENTWISE.has(n.op) && rank > 0) {
      for (const id of n.inputs) {
        const g = groupOf.get(id);
        if (g?.reduce.has(id)) g.sealed = true;
      }
      let join: Group | undefined;
      if (fuse) {
        for (const id of n.inputs) {
          const g = groupOf.get(id);
          if (g === undefined || g.sealed || !shapesEqual(g.shape, n.shape) || g === join) continue;
          if (g.members.length + (join?.members.length ?? 0) >= MAX_GROUP) continue;
          if (join === undefined) join = g;
          else {
            // two open groups of one shape are independent (a dependency would have sealed one):
            // merge the smaller into the larger (members are put back in order when emitted)
            const [big, small] = join.members.length >= g.members.length ? [join, g] : [g, join];
            for (const m of small.members) {
              big.members.push(m);
              groupOf.set(m.id, big);
            }
            for (const r of small.reduce) big.reduce.add(r);
            for (const r of small.materialized) big.materialized.add(r);
            small.members = [];
            join = big;
          }
        }
      }
      for (const id of n.inputs) seal(id, join);
      if (join === undefined) {
        join = { shape: n.shape, members: [], reduce: new Set(), sealed: false, materialized: new Set() };
        groups.push(join);
      }
      join.members.push(n);
      groupOf.set(n.id, join);
    } else if (reduceAll) {
      const id = n.inputs[0]!;
      const g = groupOf.get(id);
      let join: Group | undefined;
      if (fuse && g !== undefined && !g.sealed && !g.reduce.has(id) && g.members.length < MAX_GROUP) join = g;
      seal(id, join);
      if (join === undefined) {
        const shape = avals.get(id)!.shape;
        join = { shape: shape.slice(), members: [], reduce: new Set(), sealed: false, materialized: new Set() };
        groups.push(join);
      }
      join.members.push(n);
      join.reduce.add(n.id);
      groupOf.set(n.id, join);
    } else {
      for (const id of n.inputs) seal(id, undefined);
    }
  }
  for (const id of p.outputs) seal(id, undefined);
  const lastMember = new Map<Group, PNode>();
  for (const g of groups) {
    if (g.members.length === 0) continue;
    g.members.sort((x, y) => order.get(x.id)! - order.get(y.id)!);
    lastMember.set(g, g.members[g.members.length - 1]!);
  }
  if (!fuse) for (const g of groups) for (const m of g.members) if (!g.reduce.has(m.id)) g.materialized.add(m.id);

  // pass 2: steps, with locations
  const steps: (() => string)[] = [];
  const bufs: Buf[] = [];
  const loc = new Map<number, Loc>();
  const constants: Tensor[] = [];
  const preamble: string[] = [];
  let fusedLoops = 0;
  const newBuf = (dtype: DType, size: number, output: boolean): Buf => {
    const b: Buf = {
      index: bufs.length,
      dtype,
      size,
      output,
      name: "",
      def: steps.length,
      lastUse: steps.length,
      reads: 0,
      droppable: false,
    };
    bufs.push(b);
    return b;
  };
  const producers = new Map<Buf, Producer>();
  /** The array's name in source; pooled buffers get theirs after liveness analysis (placeholder until then). */
  const ref = (a: Arr): string => (a.buf === null ? a.name : `\u0000${a.buf.index}\u0001`);
  const use = (l: Loc) => {
    const base = l.kind === "arr" ? l : l.kind === "view" ? l.base : null;
    if (base?.buf) {
      base.buf.lastUse = Math.max(base.buf.lastUse, steps.length);
      base.buf.reads++;
    }
  };
  let hoisted = 0;
  const hoist = (text: string): string => {
    const name = ident("S", hoisted++);
    preamble.push(`const ${name} = ${text};`);
    return name;
  };

  p.inputs.forEach((input, k) => {
    const name = ident("x", k);
    loc.set(
      input.id,
      input.shape.length === 0
        ? { kind: "num", expr: name }
        : { kind: "arr", name, shape: input.shape, dtype: input.dtype, buf: null, constant: false },
    );
  });
  for (const [id, t] of p.constants) {
    const shape = t.shape.slice();
    const u = uniformValue(t);
    if (t.rank === 0) loc.set(id, { kind: "num", expr: formatNumber(t.data[0]!) });
    else if (u !== undefined)
      loc.set(id, { kind: "view", shape, dtype: t.dtype, base: null, scalar: formatNumber(u), dims: [], conds: [] });
    else {
      const name = ident("K", constants.length);
      if (options.inlineConstants)
        preamble.push(`const ${name} = new ${ARRAY_CTOR[t.dtype]}([${Array.from(t.data, formatNumber).join(", ")}]);`);
      else preamble.push(`const ${name} = K[${int(constants.length)}];`);
      constants.push(t);
      loc.set(id, { kind: "arr", name, shape, dtype: t.dtype, buf: null, constant: true });
    }
  }

  /** Emits one loop over `shape` computing `members` (elementwise + full reductions) from their operands. */
  const emitLoop = (
    shape: number[],
    members: PNode[],
    reduce: Set<number>,
    stores: Map<number, Buf>,
    comment: string,
    extraLoads?: Map<number, View>,
  ) => {
    const size = sizeOf(shape);
    const rank = shape.length;
    const memberIds = new Set(members.map((m) => m.id));
    const operands = new Map<number, View>(extraLoads);
    for (const m of members) {
      for (const id of m.inputs) {
        if (memberIds.has(id) || operands.has(id)) continue;
        const l = loc.get(id)!;
        const a = avals.get(id)!;
        operands.set(id, viewTo(l, a.shape, a.dtype, shape));
      }
    }
    // loop mode: flat when every operand is contiguous in this shape
    const strides = stridesOf(shape);
    const analyze = (id: number, v: View) => {
      let constant = 0;
      const coef = new Array<number>(rank).fill(0);
      if (v.base !== null) {
        const bs = stridesOf(v.base.shape);
        v.dims.forEach((d, m) => {
          constant += bs[m]! * d.offset;
          if (d.from >= 0) coef[d.from]! += bs[m]!;
        });
      }
      const flat = v.conds.length === 0 && (v.base === null || coef.every((c, k) => c === strides[k] || shape[k] === 1));
      return { id, v, constant, coef, flat };
    };
    const info = [...operands].map(([id, v]) => analyze(id, v));
    const mode = rank === 1 ? "rank1" : info.every((o) => o.flat) ? "flat" : "nested";
    const dimVar = (k: number) => (mode === "rank1" ? "i" : ident("d", k));
    /** Segment [start, end) of a rank-1 loop in which every padding condition has a known value. */
    type Segment = readonly [number, number];
    // rank-1 loops with padding are split where conditions change, so no element tests a bound
    let segments: Segment[] | null = null;
    if (mode === "rank1" && info.some((o) => o.v.conds.length > 0)) {
      const cuts = new Set<number>([0, size]);
      for (const o of info) for (const c of o.v.conds) for (const b of [c.lo, c.hi]) if (b > 0 && b < size) cuts.add(b);
      const sorted = [...cuts].sort((x, y) => x - y);
      if (sorted.length <= 9) segments = sorted.slice(1).map((e, k) => [sorted[k]!, e] as const);
    }
    // Producer inlining: a rank-1 operand read through a view of another loop's stored value is
    // recomputed here at the shifted index instead of loaded (saves the store, the buffer and,
    // when every reader inlines, the producing loop itself).
    const inlined = new Map<number, Producer>();
    if (mode === "rank1" && segments !== null) {
      for (const o of info) {
        const prod = o.v.base?.buf ? producers.get(o.v.base.buf) : undefined;
        if (prod === undefined || prod.shape.length !== 1) continue;
        const resolved = segments.every((seg) =>
          o.v.conds.every((c) => (seg[0] >= c.lo && seg[1] <= c.hi) || seg[1] <= c.lo || seg[0] >= c.hi),
        );
        if (resolved && o.v.dims.length === 1 && o.v.dims[0]!.from === 0) inlined.set(o.id, prod);
      }
    }
    for (const o of info) {
      const prod = inlined.get(o.id);
      if (prod === undefined) use(o.v);
      else for (const v of prod.operands.values()) use(v);
    }
    const loadOf = (o: { v: View; constant: number; coef: number[]; flat: boolean }, seg: Segment | null): string => {
      let load: string;
      if (o.v.base === null) load = o.v.scalar;
      else if (mode !== "nested" && o.flat)
        load = `${ref(o.v.base)}[${o.constant === 0 ? "i" : o.constant < 0 ? `i - ${int(-o.constant)}` : `i + ${int(o.constant)}`}]`;
      else {
        const terms = o.coef.flatMap((c, k) => (c === 0 || shape[k] === 1 ? [] : [c === 1 ? dimVar(k) : `${int(c)} * ${dimVar(k)}`]));
        if (o.constant !== 0 || terms.length === 0) terms.push(int(o.constant));
        load = `${ref(o.v.base)}[${terms.join(" + ")}]`.replace(/ \+ \((-\d+)\)\]$/, (_, k: string) => ` - ${k.slice(1)}]`);
      }
      const conds: string[] = [];
      for (const c of o.v.conds) {
        if (seg !== null) {
          if (seg[0] >= c.lo && seg[1] <= c.hi) continue;
          if (seg[1] <= c.lo || seg[0] >= c.hi) return "0";
        }
        const d = dimVar(c.dim);
        if (c.lo > 0) conds.push(`${d} >= ${int(c.lo)}`);
        if (c.hi < shape[c.dim]!) conds.push(`${d} < ${int(c.hi)}`);
      }
      return conds.length === 0 ? load : `(${conds.join(" && ")} ? ${load} : 0)`;
    };
    /** Emits the producer's computation of its member at index i + shift; returns the local holding it. */
    const inlineMember = (prod: Producer, shift: number, seg: Segment | null, tag: number, body: string[]): string => {
      const needed = new Set<number>([prod.member]);
      for (let k = prod.members.length - 1; k >= 0; k--) {
        const m = prod.members[k]!;
        if (needed.has(m.id)) for (const id of m.inputs) if (prod.memberIds.has(id)) needed.add(id);
      }
      const names = new Map<number, string>();
      // tags are operand ids, which are negative for synthetic operands: spell the sign as "m"
      if (!Number.isSafeInteger(tag)) throw internalError("expected an integer tag");
      const suffix = tag < 0 ? `_m${-tag}` : `_${tag}`;
      for (const m of prod.members) {
        if (!needed.has(m.id)) continue;
        const args = m.inputs.map((id) => {
          const known = names.get(id);
          if (known !== undefined) return known;
          const ov = prod.operands.get(id)!;
          const shifted = compose(ov, shape, [{ from: 0, offset: shift }], []);
          const load = loadOf(analyze(id, shifted), seg);
          if (shifted.base === null) return load;
          const name = `${ident("a", id)}${suffix}`;
          body.push(`const ${name} = ${load};`);
          names.set(id, name);
          return name;
        });
        const t = `${ident("t", m.id)}${suffix}`;
        const inDtype = avals.get(m.inputs[m.op === "where" ? 1 : 0]!)!.dtype;
        body.push(`const ${t} = ${elementwise(m.op, args, inDtype, m.dtype, m.params, exact32)}; // ${opName(m.op)} (recomputed)`);
        names.set(m.id, t);
      }
      return names.get(prod.member)!;
    };
    const before: string[] = [];
    for (const m of members) {
      if (!reduce.has(m.id)) continue;
      const [declare, acc] = scalarSlot(m.id, true);
      before.push(m.op === "reduceSum" ? `${declare} = 0;` : `${declare} = ${m.dtype === "int32" ? "-2147483648" : "-Infinity"};`);
      loc.set(m.id, { kind: "num", expr: acc });
    }
    const makeBody = (seg: Segment | null): string[] => {
      const body: string[] = [];
      const names = new Map<number, string>();
      for (const o of info) {
        const prod = inlined.get(o.id);
        if (prod !== undefined) {
          const live = o.v.conds.every((c) => seg !== null && seg[0] >= c.lo && seg[1] <= c.hi);
          names.set(o.id, live ? inlineMember(prod, o.v.dims[0]!.offset, seg, o.id, body) : "0");
          continue;
        }
        const l = loadOf(o, seg);
        if (o.v.base === null || l === "0") names.set(o.id, l);
        else {
          const name = o.id < 0 ? "src" : ident("a", o.id);
          body.push(`const ${name} = ${l};`);
          names.set(o.id, name);
        }
      }
      for (const m of members) {
        if (reduce.has(m.id)) {
          const acc = (loc.get(m.id) as Num).expr;
          const x = names.get(m.inputs[0]!)!;
          if (m.op === "reduceSum") {
            body.push(
              m.dtype === "float32" && exact32
                ? `${acc} = Math.fround(${acc} + ${x});`
                : m.dtype === "int32"
                  ? `${acc} = (${acc} + ${x}) | 0;`
                  : `${acc} += ${x};`,
            );
          } else body.push(`if (${x} > ${acc} || ${x} !== ${x}) ${acc} = ${x};`);
          continue;
        }
        const t = m.id < 0 ? "tc" : ident("t", m.id);
        const inDtype = avals.get(m.inputs[m.op === "where" ? 1 : 0]!)!.dtype;
        body.push(
          `const ${t} = ${elementwise(
            m.op,
            m.inputs.map((id) => names.get(id)!),
            inDtype,
            m.dtype,
            m.params,
            exact32,
          )}; // ${opName(m.op)}`,
        );
        names.set(m.id, t);
        const buf = stores.get(m.id);
        if (buf !== undefined) body.push(`\u0000${buf.index}\u0001[i] = ${t};`);
      }
      return body;
    };
    const bodies = segments === null ? [makeBody(null)] : segments.map(makeBody);
    fusedLoops++;
    const memberIds2 = new Set(members.map((m) => m.id));
    for (const [id, buf] of stores) {
      buf.droppable = true;
      if (id >= 0 && !buf.output) producers.set(buf, { shape, members, memberIds: memberIds2, operands, member: id });
    }
    const render = () => {
      // stores nobody reads (every reader recomputed the value) are dropped, and the loop with them
      const dead = (line: string) => {
        if (line.charCodeAt(0) !== 0) return false;
        // biome-ignore lint/suspicious/noControlCharactersInRegex: \u0000…\u0001 delimit buffer placeholders no source text contains
        const m = /^\u0000(\d+)\u0001\[i\] = /.exec(line);
        const b = m === null ? undefined : bufs[Number(m[1])]!;
        return b?.droppable && b.reads === 0 && !b.output;
      };
      for (const b of bodies) for (let k = b.length - 1; k >= 0; k--) if (dead(b[k]!)) b.splice(k, 1);
      if (reduce.size === 0 && [...stores.values()].every((b) => b.droppable && b.reads === 0 && !b.output))
        return `// ${comment}: every value recomputed by its readers`;
      const lines = [`// ${comment}`, before.join("\n")];
      if (mode === "nested") {
        let open = "";
        shape.forEach((d, k) => (open += `for (let ${ident("d", k)} = 0; ${ident("d", k)} < ${int(d)}; ${ident("d", k)}++) `));
        lines.push("{", "let i = 0;", `${open}{`, bodies[0]!.map((l) => `  ${l}`).join("\n"), "  i++;", "}", "}");
      } else if (segments === null) {
        lines.push(`for (let i = 0; i < ${int(size)}; i++) {`, bodies[0]!.map((l) => `  ${l}`).join("\n"), "}");
      } else {
        segments.forEach(([start, end], k) => {
          lines.push(`for (let i = ${int(start)}; i < ${int(end)}; i++) {`, bodies[k]!.map((l) => `  ${l}`).join("\n"), "}");
        });
      }
      return lines.join("\n");
    };
    steps.push(render);
  };

  /** A contiguous array holding `l` (copying views). */
  const materialize = (l: Loc, shape: number[], dtype: DType, output = false): Arr => {
    if (l.kind === "arr" && !output) return l;
    if (l.kind === "view" && !output) {
      const c = isContiguous(l);
      if (c) return c;
    }
    const buf = newBuf(dtype, sizeOf(shape), output);
    const arr: Arr = { kind: "arr", name: "", shape, dtype, buf, constant: false };
    if (l.kind === "num") {
      use(l);
      steps.push(() => `${ref(arr)}[0] = ${l.expr};`);
      return arr;
    }
    use(l);
    const v = asView(l, shape, dtype);
    const copy: PNode = { id: -1, op: "stopGradient", inputs: [-2], params: {}, shape, dtype };
    const fakeId = -2;
    emitLoop(shape, [{ ...copy, id: -3, inputs: [fakeId] }], new Set(), new Map([[-3, buf]]), "copy", new Map([[fakeId, v]]));
    avals.delete(-3);
    return arr;
  };
  avals.set(-2, { shape: [], dtype: "float64" });

  const kernelOut = (n: PNode, output: boolean): { arr: Arr; finish: () => void } => {
    const buf = newBuf(n.dtype, sizeOf(n.shape), output && n.shape.length > 0);
    const arr: Arr = { kind: "arr", name: "", shape: n.shape, dtype: n.dtype, buf, constant: false };
    return {
      arr,
      finish: () => {
        if (n.shape.length === 0) {
          const [declare, name] = scalarSlot(n.id);
          buf.lastUse = steps.length;
          steps.push(() => `${declare} = ${ref(arr)}[0];`);
          loc.set(n.id, { kind: "num", expr: name });
        } else loc.set(n.id, arr);
      },
    };
  };
  const nameOf = (a: Arr) => () => ref(a);

  for (const n of nodes) {
    const g = groupOf.get(n.id);
    if (g !== undefined) {
      if (lastMember.get(g) !== n) continue;
      const stores = new Map<number, Buf>();
      for (const m of g.members) {
        if (!g.materialized.has(m.id)) continue;
        const buf = newBuf(m.dtype, sizeOf(m.shape), isOutput.has(m.id));
        stores.set(m.id, buf);
      }
      emitLoop(g.shape, g.members, g.reduce, stores, `fused: ${g.members.map((m) => `${ident("v", m.id)} = ${opName(m.op)}`).join(", ")}`);
      for (const [id, buf] of stores) loc.set(id, { kind: "arr", name: "", shape: g.shape, dtype: buf.dtype, buf, constant: false });
      continue;
    }
    const ins = n.inputs.map((id) => loc.get(id)!);
    const inAvals = n.inputs.map((id) => avals.get(id)!);
    const comment = `// ${ident("v", n.id)}: ${opName(n.op)}`;
    if (n.shape.length === 0 && ELEMENTWISE.has(n.op)) {
      ins.forEach(use);
      const exprs = ins.map((l) => (l as Num).expr);
      const [declare, name] = scalarSlot(n.id);
      const inDtype = inAvals[n.op === "where" ? 1 : 0]!.dtype;
      const text = `${declare} = ${elementwise(n.op, exprs, inDtype, n.dtype, n.params, exact32)}; ${comment}`;
      steps.push(() => text);
      loc.set(n.id, { kind: "num", expr: name });
      continue;
    }
    if (VIEWS.has(n.op) || ((n.op === "reduceSum" || n.op === "reduceMax") && (n.params as { axes: number[] }).axes.length === 0)) {
      const x = ins[0]!;
      const xa = inAvals[0]!;
      if (n.op === "reduceSum" || n.op === "reduceMax") {
        loc.set(n.id, x);
        continue;
      }
      if (n.shape.length === 0) {
        const arr = materialize(x, xa.shape, xa.dtype);
        use(arr);
        const [declare, name] = scalarSlot(n.id);
        const get = nameOf(arr);
        steps.push(() => `${declare} = ${get()}[0]; ${comment}`);
        loc.set(n.id, { kind: "num", expr: name });
        continue;
      }
      if (n.op === "reshape") {
        if (x.kind === "view" && x.base === null && x.conds.length === 0) loc.set(n.id, { ...x, shape: n.shape });
        else if (x.kind === "num")
          loc.set(n.id, { kind: "view", shape: n.shape, dtype: n.dtype, base: null, scalar: x.expr, dims: [], conds: [] });
        else {
          const arr = materialize(x, xa.shape, xa.dtype);
          loc.set(n.id, { ...arr, shape: n.shape });
        }
        continue;
      }
      const v = asView(x, xa.shape, xa.dtype);
      let out: View;
      if (n.op === "broadcastTo") out = compose(v, n.shape, broadcastMap(xa.shape, n.shape), []);
      else if (n.op === "slice")
        out = compose(
          v,
          n.shape,
          (n.params as { begin: number[] }).begin.map((b, j) => ({ from: j, offset: b })),
          [],
        );
      else if (n.op === "pad") {
        const low = (n.params as { low: number[] }).low;
        const map = low.map((l, j) => ({ from: j, offset: -l }));
        const conds = low.flatMap((l, j) => (l === 0 && xa.shape[j]! + l === n.shape[j] ? [] : [{ dim: j, lo: l, hi: l + xa.shape[j]! }]));
        out = compose(v, n.shape, map, conds);
      } else {
        const perm = (n.params as { perm: number[] }).perm;
        const map = new Array<DimMap>(perm.length);
        perm.forEach((q, k) => (map[q] = { from: k, offset: 0 }));
        out = compose(v, n.shape, map, []);
      }
      loc.set(n.id, out);
      continue;
    }
    if (n.op === "checkIndices") {
      // the op's data check at run time (same messages as the eager kernel); the value passes through
      const call = checkCall(n.params as Params<"checkIndices">);
      const x = ins[0]!;
      if (x.kind === "num") {
        use(x);
        steps.push(() => `rt_checkIndex(${x.expr}, ${call}); ${comment}`);
        loc.set(n.id, x);
      } else {
        const arr = materialize(x, inAvals[0]!.shape, inAvals[0]!.dtype);
        use(arr);
        const get = nameOf(arr);
        steps.push(() => `rt_checkIndices(${get()}, ${call}); ${comment}`);
        loc.set(n.id, arr);
      }
      continue;
    }
    // kernels on contiguous inputs
    const arrs = ins.map((l, i) => materialize(l, inAvals[i]!.shape, inAvals[i]!.dtype));
    arrs.forEach(use);
    const names = arrs.map(nameOf);
    const { arr, finish } = kernelOut(n, isOutput.has(n.id));
    const out = nameOf(arr);
    const xs = inAvals[0]!.shape;
    const around = (shape: readonly number[], axis: number, length = 1) =>
      [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis, axis + length)), sizeOf(shape.slice(axis + length))] as const;
    const op = n.op as KernelPrimitive;
    switch (op) {
      case "reduceSum":
      case "reduceMax": {
        const axes = (n.params as { axes: number[] }).axes;
        const shapeName = hoist(`[${xs.map(int).join(", ")}]`);
        const maskName = hoist(`[${xs.map((_, i) => (axes.includes(i) ? "1" : "0")).join(", ")}]`);
        steps.push(() => `rt_reduce(${names[0]!()}, ${shapeName}, ${maskName}, ${out()}, ${n.op === "reduceMax"}); ${comment}`);
        break;
      }
      case "argmax": {
        const [o, l, inner] = around(xs, (n.params as { axis: number }).axis);
        steps.push(() => `rt_argmax(${names[0]!()}, ${int(o)}, ${int(l)}, ${int(inner)}, ${out()}); ${comment}`);
        break;
      }
      case "concat": {
        const axis = (n.params as { axis: number }).axis;
        const [outer, , inner] = around(n.shape, axis);
        const rowLength = n.shape[axis]! * inner;
        let column = 0;
        const calls: (() => string)[] = [];
        inAvals.forEach((a, i) => {
          const block = a.shape[axis]! * inner;
          const col = column;
          calls.push(() => `rt_concat(${out()}, ${names[i]!()}, ${int(outer)}, ${int(block)}, ${int(rowLength)}, ${int(col)});`);
          column += block;
        });
        steps.push(() => [comment, ...calls.map((c) => c())].join("\n"));
        break;
      }
      case "gather": {
        const [o, l, inner] = around(xs, (n.params as { axis: number }).axis);
        steps.push(() => `rt_gather(${names[0]!()}, ${names[1]!()}, ${int(o)}, ${int(l)}, ${int(inner)}, ${out()}); ${comment}`);
        break;
      }
      case "scatterAdd": {
        const { axis, size } = n.params as { axis: number; size: number };
        const [o, , inner] = around(xs, axis, inAvals[1]!.shape.length);
        steps.push(() => `rt_scatterAdd(${names[0]!()}, ${names[1]!()}, ${int(o)}, ${int(size)}, ${int(inner)}, ${out()}); ${comment}`);
        break;
      }
      // family: indexing (issue 17, ops-index): mode 0 multiplies, 1 keeps the min, 2 the max
      case "scatterMul":
      case "scatterMin":
      case "scatterMax": {
        const [o, size, inner] = around(xs, (n.params as { axis: number }).axis);
        const mode = ["scatterMul", "scatterMin", "scatterMax"].indexOf(op);
        const sizes = `${int(o)}, ${int(size)}, ${int(inner)}`;
        steps.push(() => `rt_scatter(${names[0]!()}, ${names[1]!()}, ${names[2]!()}, ${sizes}, ${out()}, "${op}", ${mode}); ${comment}`);
        break;
      }
      case "matmul": {
        const r = n.shape.length;
        const m = n.shape[r - 2]!;
        const nn = n.shape[r - 1]!;
        const k = xs[xs.length - 1]!;
        const batch = n.shape.slice(0, -2);
        // operands broadcast over the batch axes
        const a = materialize(viewTo(ins[0]!, inAvals[0]!.shape, n.dtype, [...batch, m, k]), [...batch, m, k], n.dtype);
        const b = materialize(viewTo(ins[1]!, inAvals[1]!.shape, n.dtype, [...batch, k, nn]), [...batch, k, nn], n.dtype);
        use(a);
        use(b);
        const an = nameOf(a);
        const bn = nameOf(b);
        steps.push(() => `rt_matmul(${an()}, ${bn()}, ${out()}, ${int(sizeOf(batch))}, ${int(m)}, ${int(k)}, ${int(nn)}); ${comment}`);
        break;
      }
      default: {
        // every kernel primitive has a case above (a missing one is a type error here)
        const missing: never = op;
        throw internalError(`no code generator for ${String(missing)}`);
      }
    }
    finish();
  }

  // outputs
  const lateNames = new Map<number, () => string>();
  const outExprs: string[] = [];
  for (const id of p.outputs) {
    const l = loc.get(id)!;
    const a = avals.get(id)!;
    if (l.kind === "num") {
      outExprs.push(a.dtype === "float32" && !exact32 ? `Math.fround(${l.expr})` : l.expr);
      continue;
    }
    if (l.kind === "arr" && (l.buf === null ? !l.constant : l.buf.output)) {
      const get = nameOf(l);
      outExprs.push(`\u0001${outExprs.length}`);
      lateNames.set(outExprs.length - 1, get);
      continue;
    }
    if (l.kind === "arr" && l.constant) {
      outExprs.push(`${ref(l)}.slice()`);
      continue;
    }
    const arr = materialize(l, a.shape, a.dtype, true);
    const get = nameOf(arr);
    outExprs.push(`\u0001${outExprs.length}`);
    lateNames.set(outExprs.length - 1, get);
  }

  // buffer assignment by liveness
  let pooledBytes = 0;
  const free = new Map<string, string[]>();
  // buffers in use, a min-heap by last use: a gradient program keeps ~n forward values alive, so a
  // linear scan per buffer was quadratic (5 ms of a 2,000-node program's 11 ms of codegen)
  const active: Buf[] = [];
  const activate = (b: Buf) => {
    let i = active.push(b) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (active[parent]!.lastUse <= b.lastUse) break;
      active[i] = active[parent]!;
      i = parent;
    }
    active[i] = b;
  };
  const release = (): Buf => {
    const top = active[0]!;
    const last = active.pop()!;
    if (active.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= active.length) break;
        const c = l + 1 < active.length && active[l + 1]!.lastUse < active[l]!.lastUse ? l + 1 : l;
        if (active[c]!.lastUse >= last.lastUse) break;
        active[i] = active[c]!;
        i = c;
      }
      active[i] = last;
    }
    return top;
  };
  let pooled = 0;
  const reuse = options.reuse !== false;
  const sorted = bufs.map((b, i) => [b, i] as const).sort((x, y) => x[0].def - y[0].def || x[1] - y[1]);
  for (const [b, i] of sorted) {
    if (b.output) {
      b.name = spill ? `O[${int(i)}]` : ident("o", i);
      continue;
    }
    while (active.length > 0 && active[0]!.lastUse < b.def) {
      const a = release();
      const key = `${a.dtype}:${a.size}`;
      if (reuse) (free.get(key) ?? free.set(key, []).get(key)!).push(a.name);
    }
    if (b.reads === 0 && b.droppable) continue; // never read: its stores in a fused loop were dropped
    const key = `${b.dtype}:${b.size}`;
    const reused = free.get(key)?.pop();
    if (reused !== undefined) b.name = reused;
    else {
      b.name = ident("B", pooled++);
      pooledBytes += b.size * (b.dtype === "float64" ? 8 : b.dtype === "bool" ? 1 : 4);
      preamble.push(`const ${b.name} = new ${ARRAY_CTOR[b.dtype]}(${int(b.size)});`);
    }
    activate(b);
  }

  const body: string[] = [];
  const outputsAt = new Map<number, Buf[]>();
  for (const b of bufs) if (b.output) (outputsAt.get(b.def) ?? outputsAt.set(b.def, []).get(b.def)!).push(b);
  steps.forEach((s, k) => {
    // per-call output buffers are declared just before the step that first writes them
    for (const b of outputsAt.get(k) ?? []) body.push(`${spill ? "" : "const "}${b.name} = new ${ARRAY_CTOR[b.dtype]}(${int(b.size)});`);
    body.push(s());
  });
  if (spill) {
    // huge programs: the body is split into functions so no single frame holds too many locals
    // (every value crossing a boundary lives in R, a pooled buffer or O)
    preamble.push("const O = [];");
    const calls: string[] = [];
    let chunk: string[] = [];
    let weight = 0;
    const flush = () => {
      if (chunk.length === 0) return;
      const name = ident("part", calls.length);
      preamble.push(`function ${name}(${p.inputs.map((_, k) => ident("x", k)).join(", ")}) {\n${chunk.join("\n")}\n}`);
      calls.push(`${name}(${p.inputs.map((_, k) => ident("x", k)).join(", ")});`);
      chunk = [];
      weight = 0;
    };
    for (const text of body) {
      chunk.push(text);
      weight += text.split("\n").length;
      if (weight > 2000) flush();
    }
    flush();
    body.length = 0;
    body.push(...calls);
  }
  const finalOut = outExprs.map((e, k) => (e.startsWith("\u0001") ? lateNames.get(k)!() : e));
  const ret = options.ret ? options.ret(finalOut) : `[${finalOut.join(", ")}]`;
  const params = p.inputs.map((_, k) => ident("x", k)).join(", ");
  if (spill) preamble.push(`const R = new Float64Array(${int(nodes.reduce((m, n) => Math.max(m, n.id), 0) + 1)});`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: \u0000…\u0001 delimit buffer placeholders no source text contains
  const resolve = (text: string) => text.replace(/\u0000(\d+)\u0001/g, (_, k: string) => bufs[Number(k)]!.name);
  const source = resolve(
    [
      `"use strict";`,
      ...preamble,
      `return function compiled(${params}) {`,
      body.join("\n").replace(/^/gm, "  "),
      `  return ${ret};`,
      `};`,
    ].join("\n"),
  );
  return { source, constants, pooledBytes, fusedLoops };
}
