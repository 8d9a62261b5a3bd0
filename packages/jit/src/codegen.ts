/**
 * Code generation: an optimized `Program` becomes the source of a JavaScript function.
 *
 * - Rank-0 values are plain JS number locals (no typed arrays): a scalar graph compiles to
 *   straight-line arithmetic.
 * - Elementwise nodes of one shape are fused into a single loop (operands broadcast by strides);
 *   a full reduction (sum/max over all axes) of a fused value accumulates inside that loop. The
 *   groups come from the fusion plan both backends share (fusion.ts); loops are emitted by loop.ts.
 * - slice, pad, transpose, broadcastTo and reshape are lazy views (locations.ts): a consumer loop
 *   reads through them by index arithmetic, so they never copy unless a kernel needs contiguous data.
 * - Intermediate arrays come from a pool allocated once per compiled function and reused by
 *   liveness (liveness.ts); only the returned outputs are allocated per call.
 *
 * Generation runs in steps: plan the groups, place inputs and constants, emit each node (a fused
 * loop, a scalar expression, a view, a data check or a runtime kernel call) as a step rendered
 * later, place the outputs, assign buffers by liveness, assemble the source.
 *
 * Security: the source contains only identifiers generated here (from integer ids), numbers
 * formatted here (`formatNumber`), op comments from the fixed primitive set and fixed helper text.
 */
import { INDEX_CHECKS, internalError, isIndexCheck, sizeOf, type DType, type Params, type Tensor } from "@chainrule/ir";
import { planFusion, type FusionGroup, type FusionPlan, type FusionRules } from "./fusion.js";
import { assignBuffers } from "./liveness.js";
import {
  asView,
  broadcastMap,
  compose,
  isContiguous,
  viewTo,
  type Arr,
  type Buf,
  type DimMap,
  type Loc,
  type Producer,
  type View,
} from "./locations.js";
import { emitLoop, type LoopContext } from "./loop.js";
import { elementwise, ELEMENTWISE, VIEWS, type KernelPrimitive } from "./lowering.js";
import { uniformValue, type PNode, type Program } from "./optimize.js";
import { ARRAY_CTOR, formatNumber, ident, int, opName } from "./source-text.js";

/** The window primitives (issue 18) → the mode of ir's `WINDOW.reduceWindow` loop. */
const WINDOW_MODES = {
  reduceWindowSum: "sum",
  reduceWindowSumTranspose: "sumTranspose",
  reduceWindowMax: "max",
  selectAndGatherAdd: "maxGather",
  selectAndScatterAdd: "maxScatter",
} as const;

export { ARRAY_CTOR, formatNumber } from "./source-text.js";
// elementwise expressions: lowering.ts
export { elementwise } from "./lowering.js";

/** Above this many rank-0 values, they are kept in a register array `R` instead of locals. */
const SPILL_THRESHOLD = 2000;
/** At most this many nodes per fused loop (keeps loop bodies and their locals bounded). */
export const MAX_GROUP = 256;

/** The JavaScript backend's fusion rules: any elementwise op of rank > 0, full reductions, open groups merged. */
export function jsFusionRules(fuse = true): FusionRules {
  return {
    fuse,
    maxGroup: MAX_GROUP,
    elementwise: (n) => ELEMENTWISE.has(n.op) && n.shape.length > 0,
    mergeOpenGroups: true,
    fullReductions: true,
  };
}

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

/** The factory source of a JavaScript function computing `p`, in the steps listed at the top. */
export function generate(p: Program, options: GenerateOptions = {}): Generated {
  const g = new Generator(p, options);
  g.placeInputs();
  g.placeConstants();
  for (const n of p.nodes) g.emitNode(n);
  return g.assemble(g.placeOutputs());
}

type Aval = { shape: number[]; dtype: DType };

/** The state of one generation: where each value is, the steps so far, the buffers and the preamble. */
class Generator implements LoopContext {
  readonly exact32: boolean;
  readonly loc = new Map<number, Loc>();
  readonly avals = new Map<number, Aval>();
  readonly producers = new Map<Buf, Producer>();
  readonly bufs: Buf[] = [];
  /** Steps of the function body, rendered after liveness analysis names the buffers. */
  private readonly steps: (() => string)[] = [];
  private readonly constants: Tensor[] = [];
  private readonly preamble: string[] = [];
  private readonly isOutput: Set<number>;
  /** Huge graphs: rank-0 values live in a register array R and the body is split into functions. */
  private readonly spill: boolean;
  private readonly fuse: boolean;
  private readonly plan: FusionPlan;
  private fusedLoops = 0;
  private hoisted = 0;

  constructor(
    private readonly p: Program,
    private readonly options: GenerateOptions,
  ) {
    this.fuse = options.fuse !== false;
    this.exact32 = options.exactFloat32 === true;
    this.isOutput = new Set(p.outputs);
    for (const i of p.inputs) this.avals.set(i.id, i);
    for (const [id, c] of p.constants) this.avals.set(id, { shape: c.shape.slice(), dtype: c.dtype });
    for (const n of p.nodes) this.avals.set(n.id, n);
    // the synthetic operand of copy loops (materialize)
    this.avals.set(-2, { shape: [], dtype: "float64" });
    // a function with tens of thousands of locals overflows the stack frame
    const scalarCount = p.nodes.reduce((k, n) => k + (n.shape.length === 0 ? 1 : 0), 0);
    this.spill = scalarCount > SPILL_THRESHOLD || p.nodes.length > SPILL_THRESHOLD * 2;
    this.plan = planFusion(p, jsFusionRules(this.fuse));
  }

  // ── LoopContext ────────────────────────────────────────────────────────────────────────────

  scalarSlot(id: number, mutable = false): [string, string] {
    if (this.spill) {
      const r = `R[${int(id)}]`;
      return [r, r];
    }
    const name = ident("v", id);
    return [`${mutable ? "let" : "const"} ${name}`, name];
  }

  ref(a: Arr): string {
    return a.buf === null ? a.name : `\u0000${a.buf.index}\u0001`;
  }

  use(l: Loc): void {
    const base = l.kind === "arr" ? l : l.kind === "view" ? l.base : null;
    if (base?.buf) {
      base.buf.lastUse = Math.max(base.buf.lastUse, this.steps.length);
      base.buf.reads++;
    }
  }

  step(render: () => string): void {
    this.steps.push(render);
  }

  // ── buffers and helpers ────────────────────────────────────────────────────────────────────

  private newBuf(dtype: DType, size: number, output: boolean): Buf {
    const def = this.steps.length;
    const b: Buf = { index: this.bufs.length, dtype, size, output, name: "", def, lastUse: def, reads: 0, droppable: false };
    this.bufs.push(b);
    return b;
  }

  /** A constant expression declared once in the preamble. */
  private hoist(text: string): string {
    const name = ident("S", this.hoisted++);
    this.preamble.push(`const ${name} = ${text};`);
    return name;
  }

  /** The array's name, read when the step renders (after liveness). */
  private nameOf(a: Arr): () => string {
    return () => this.ref(a);
  }

  /** Emits one fused loop (loop.ts), counted in `fusedLoops`. */
  private loop(
    shape: number[],
    members: PNode[],
    reduce: ReadonlySet<number>,
    stores: Map<number, Buf>,
    comment: string,
    extra?: Map<number, View>,
  ) {
    this.fusedLoops++;
    emitLoop(this, { shape, members, reduce, stores, comment, ...(extra ? { extraLoads: extra } : {}) });
  }

  /** A contiguous array holding `l` (copying views); `output`: always a new per-call array. */
  private materialize(l: Loc, shape: number[], dtype: DType, output = false): Arr {
    if (l.kind === "arr" && !output) return l;
    if (l.kind === "view" && !output) {
      const c = isContiguous(l);
      if (c) return c;
    }
    const buf = this.newBuf(dtype, sizeOf(shape), output);
    const arr: Arr = { kind: "arr", name: "", shape, dtype, buf, constant: false };
    this.use(l);
    if (l.kind === "num") {
      this.steps.push(() => `${this.ref(arr)}[0] = ${l.expr};`);
      return arr;
    }
    // a copy loop: member −3 (stopGradient, the identity) of synthetic operand −2
    const copy: PNode = { id: -3, op: "stopGradient", inputs: [-2], params: {}, shape, dtype };
    this.loop(shape, [copy], new Set(), new Map([[-3, buf]]), "copy", new Map([[-2, asView(l, shape, dtype)]]));
    return arr;
  }

  // ── inputs and constants ───────────────────────────────────────────────────────────────────

  /** Inputs are the parameters x0, x1, …: numbers for rank 0, typed arrays otherwise. */
  placeInputs(): void {
    this.p.inputs.forEach((input, k) => {
      const name = ident("x", k);
      this.loc.set(
        input.id,
        input.shape.length === 0
          ? { kind: "num", expr: name }
          : { kind: "arr", name, shape: input.shape, dtype: input.dtype, buf: null, constant: false },
      );
    });
  }

  /** Constants: literals for rank 0 and uniform arrays, otherwise arrays K<i> (from `K`, or inlined). */
  placeConstants(): void {
    for (const [id, t] of this.p.constants) {
      const shape = t.shape.slice();
      const u = uniformValue(t);
      if (t.rank === 0) this.loc.set(id, { kind: "num", expr: formatNumber(t.data[0]!) });
      else if (u !== undefined)
        this.loc.set(id, { kind: "view", shape, dtype: t.dtype, base: null, scalar: formatNumber(u), dims: [], conds: [] });
      else {
        const name = ident("K", this.constants.length);
        if (this.options.inlineConstants)
          this.preamble.push(`const ${name} = new ${ARRAY_CTOR[t.dtype]}([${Array.from(t.data, formatNumber).join(", ")}]);`);
        else this.preamble.push(`const ${name} = K[${int(this.constants.length)}];`);
        this.constants.push(t);
        this.loc.set(id, { kind: "arr", name, shape, dtype: t.dtype, buf: null, constant: true });
      }
    }
  }

  // ── nodes ──────────────────────────────────────────────────────────────────────────────────

  /** Emits node `n` by its kind (a fused group's members emit together at the group's last member). */
  emitNode(n: PNode): void {
    const g = this.plan.groupOf.get(n.id);
    if (g !== undefined) {
      if (this.plan.completes.get(n.id) === g) this.emitGroup(g);
      return;
    }
    const ins = n.inputs.map((id) => this.loc.get(id)!);
    const inAvals = n.inputs.map((id) => this.avals.get(id)!);
    const comment = `// ${ident("v", n.id)}: ${opName(n.op)}`;
    if (n.shape.length === 0 && ELEMENTWISE.has(n.op)) this.emitScalar(n, ins, inAvals, comment);
    else if (VIEWS.has(n.op) || ((n.op === "reduceSum" || n.op === "reduceMax") && (n.params as { axes: number[] }).axes.length === 0))
      this.emitView(n, ins[0]!, inAvals[0]!, comment);
    else if (n.op === "checkIndices") this.emitCheck(n, ins[0]!, inAvals[0]!, comment);
    else this.emitKernel(n, ins, inAvals, comment);
  }

  /** A fused group: one loop, storing the members read outside it (every member without fusion). */
  private emitGroup(g: FusionGroup): void {
    const stores = new Map<number, Buf>();
    for (const m of g.members) {
      const stored = this.fuse ? g.stored.has(m.id) : !g.reductions.has(m.id);
      if (stored) stores.set(m.id, this.newBuf(m.dtype, sizeOf(m.shape), this.isOutput.has(m.id)));
    }
    const shape = g.shape as number[];
    this.loop(shape, g.members, g.reductions, stores, `fused: ${g.members.map((m) => `${ident("v", m.id)} = ${opName(m.op)}`).join(", ")}`);
    for (const [id, buf] of stores) this.loc.set(id, { kind: "arr", name: "", shape, dtype: buf.dtype, buf, constant: false });
  }

  /** A rank-0 elementwise op: one statement on number expressions. */
  private emitScalar(n: PNode, ins: Loc[], inAvals: Aval[], comment: string): void {
    for (const l of ins) this.use(l);
    const exprs = ins.map((l) => (l as { expr: string }).expr);
    const [declare, name] = this.scalarSlot(n.id);
    const inDtype = inAvals[n.op === "where" ? 1 : 0]!.dtype;
    const text = `${declare} = ${elementwise(n.op, exprs, inDtype, n.dtype, n.params, this.exact32)}; ${comment}`;
    this.steps.push(() => text);
    this.loc.set(n.id, { kind: "num", expr: name });
  }

  /** A view (or a reduction over no axes): a new location, no step unless a rank-0 value is read out. */
  private emitView(n: PNode, x: Loc, xa: Aval, comment: string): void {
    if (n.op === "reduceSum" || n.op === "reduceMax") {
      this.loc.set(n.id, x);
    } else if (n.shape.length === 0) {
      const arr = this.materialize(x, xa.shape, xa.dtype);
      this.use(arr);
      const [declare, name] = this.scalarSlot(n.id);
      const get = this.nameOf(arr);
      this.steps.push(() => `${declare} = ${get()}[0]; ${comment}`);
      this.loc.set(n.id, { kind: "num", expr: name });
    } else if (n.op === "reshape") {
      this.loc.set(n.id, this.reshaped(n, x, xa));
    } else this.loc.set(n.id, viewOf(n, asView(x, xa.shape, xa.dtype), xa));
  }

  /** reshape: free for scalars-as-views and contiguous arrays (a copy first otherwise). */
  private reshaped(n: PNode, x: Loc, xa: Aval): Loc {
    if (x.kind === "view" && x.base === null && x.conds.length === 0) return { ...x, shape: n.shape };
    if (x.kind === "num") return { kind: "view", shape: n.shape, dtype: n.dtype, base: null, scalar: x.expr, dims: [], conds: [] };
    return { ...this.materialize(x, xa.shape, xa.dtype), shape: n.shape };
  }

  /** The op's data check at run time (same messages as the eager kernel); the value passes through. */
  private emitCheck(n: PNode, x: Loc, xa: Aval, comment: string): void {
    const call = checkCall(n.params as Params<"checkIndices">);
    if (x.kind === "num") {
      this.use(x);
      this.steps.push(() => `rt_checkIndex(${x.expr}, ${call}); ${comment}`);
      this.loc.set(n.id, x);
    } else {
      const arr = this.materialize(x, xa.shape, xa.dtype);
      this.use(arr);
      const get = this.nameOf(arr);
      this.steps.push(() => `rt_checkIndices(${get()}, ${call}); ${comment}`);
      this.loc.set(n.id, arr);
    }
  }

  // ── runtime kernels ────────────────────────────────────────────────────────────────────────

  /** A runtime kernel call on contiguous inputs, writing a new buffer. */
  private emitKernel(n: PNode, ins: Loc[], inAvals: Aval[], comment: string): void {
    const arrs = ins.map((l, i) => this.materialize(l, inAvals[i]!.shape, inAvals[i]!.dtype));
    for (const a of arrs) this.use(a);
    const names = arrs.map((a) => this.nameOf(a));
    const { arr, finish } = this.kernelOut(n, this.isOutput.has(n.id));
    const out = this.nameOf(arr);
    const xs = inAvals[0]!.shape;
    const op = n.op as KernelPrimitive;
    switch (op) {
      case "reduceSum":
      case "reduceMax": {
        const axes = (n.params as { axes: number[] }).axes;
        const shapeName = this.hoist(`[${xs.map(int).join(", ")}]`);
        const maskName = this.hoist(`[${xs.map((_, i) => (axes.includes(i) ? "1" : "0")).join(", ")}]`);
        this.steps.push(() => `rt_reduce(${names[0]!()}, ${shapeName}, ${maskName}, ${out()}, ${n.op === "reduceMax"}); ${comment}`);
        break;
      }
      case "argmax": {
        const [o, l, inner] = around(xs, (n.params as { axis: number }).axis);
        this.steps.push(() => `rt_argmax(${names[0]!()}, ${int(o)}, ${int(l)}, ${int(inner)}, ${out()}); ${comment}`);
        break;
      }
      case "concat":
        this.emitConcat(n, inAvals, names, out, comment);
        break;
      case "gather": {
        const [o, l, inner] = around(xs, (n.params as { axis: number }).axis);
        this.steps.push(() => `rt_gather(${names[0]!()}, ${names[1]!()}, ${int(o)}, ${int(l)}, ${int(inner)}, ${out()}); ${comment}`);
        break;
      }
      case "scatterAdd": {
        const { axis, size } = n.params as { axis: number; size: number };
        const [o, , inner] = around(xs, axis, inAvals[1]!.shape.length);
        this.steps.push(
          () => `rt_scatterAdd(${names[0]!()}, ${names[1]!()}, ${int(o)}, ${int(size)}, ${int(inner)}, ${out()}); ${comment}`,
        );
        break;
      }
      case "matmul":
        this.emitMatmul(n, ins, inAvals, out, comment);
        break;
      // family: reductions, scans and sorting (issue 17)
      case "linearScan":
      case "argcummax":
      case "argsort":
        this.emitScan(n, ins, inAvals, names, out, comment);
        break;
      // family: indexing (issue 17, ops-index): mode 0 multiplies, 1 keeps the min, 2 the max
      case "scatterMul":
      case "scatterMin":
      case "scatterMax": {
        const [o, size, inner] = around(xs, (n.params as { axis: number }).axis);
        const mode = ["scatterMul", "scatterMin", "scatterMax"].indexOf(op);
        const sizes = `${int(o)}, ${int(size)}, ${int(inner)}`;
        this.steps.push(
          () => `rt_scatter(${names[0]!()}, ${names[1]!()}, ${names[2]!()}, ${sizes}, ${out()}, "${op}", ${mode}); ${comment}`,
        );
        break;
      }
      // family: convolution and pooling (issue 18): ir's window loops
      case "conv":
      case "reduceWindowSum":
      case "reduceWindowSumTranspose":
      case "reduceWindowMax":
      case "selectAndGatherAdd":
      case "selectAndScatterAdd":
        this.emitWindow(n, inAvals, names, out, comment);
        break;
      default: {
        // every kernel primitive has a case above (a missing one is a type error here)
        const missing: never = op;
        throw internalError(`no code generator for ${String(missing)}`);
      }
    }
    finish();
  }

  /** The scan family's kernels along one axis: linearScan (its coefficients broadcast to the output), argcummax, argsort. */
  private emitScan(n: PNode, ins: Loc[], inAvals: Aval[], names: (() => string)[], out: () => string, comment: string): void {
    const xs = inAvals[0]!.shape;
    if (n.op === "linearScan") {
      const { axis, reverse } = n.params as Params<"linearScan">;
      const [o, l, inner] = around(n.shape, axis);
      const a = this.materialize(viewTo(ins[0]!, xs, n.dtype, n.shape), n.shape, n.dtype);
      this.use(a);
      const an = this.nameOf(a);
      const args = `${int(o)}, ${int(l)}, ${int(inner)}, ${reverse === 1}`;
      this.steps.push(() => `rt_linearScan(${an()}, ${names[1]!()}, ${args}, ${out()}); ${comment}`);
    } else if (n.op === "argcummax") {
      const [o, l, inner] = around(xs, (n.params as Params<"argcummax">).axis);
      this.steps.push(() => `rt_argcummax(${names[0]!()}, ${int(o)}, ${int(l)}, ${int(inner)}, ${out()}); ${comment}`);
    } else {
      const { axis, descending } = n.params as Params<"argsort">;
      const [o, l, inner] = around(xs, axis);
      const args = `${int(o)}, ${int(l)}, ${int(inner)}, ${descending === 1}`;
      this.steps.push(() => `rt_argsort(${names[0]!()}, ${args}, ${out()}); ${comment}`);
    }
  }

  /** The convolution family's kernels (issue 18): calls of ir's window loops with the shapes and params as literals. */
  private emitWindow(n: PNode, inAvals: Aval[], names: (() => string)[], out: () => string, comment: string): void {
    const list = (values: readonly number[]) => this.hoist(`[${values.map(int).join(", ")}]`);
    if (n.op === "conv") {
      const p = n.params as Params<"conv">;
      const shapes = [inAvals[0]!.shape, inAvals[1]!.shape, n.shape].map(list).join(", ");
      const params = [p.strides, p.padding, p.lhsDilation, p.rhsDilation].map(list).join(", ");
      this.steps.push(() => `rt_window.conv(${names[0]!()}, ${names[1]!()}, ${out()}, ${shapes}, ${params}, ${int(p.groups)}); ${comment}`);
      return;
    }
    const p = n.params as Params<"reduceWindowSum">;
    const mode = WINDOW_MODES[n.op as keyof typeof WINDOW_MODES];
    // the windowed operand's shape (x, or the output for the transpose) and the windows' shape
    const xShape = n.op === "reduceWindowSumTranspose" ? n.shape : inAvals[inAvals.length - 1]!.shape;
    const windows = n.op === "reduceWindowSumTranspose" || n.op === "selectAndScatterAdd" ? inAvals[0]!.shape : n.shape;
    const x = inAvals.length > 1 ? names[1]! : () => "null";
    const rest = [xShape, windows, p.window, p.strides, p.padding].map(list).join(", ");
    this.steps.push(() => `rt_window.reduceWindow("${mode}", ${names[0]!()}, ${x()}, ${out()}, ${rest}); ${comment}`);
  }

  /** concat: one block copy per operand into its columns of each row. */
  private emitConcat(n: PNode, inAvals: Aval[], names: (() => string)[], out: () => string, comment: string): void {
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
    this.steps.push(() => [comment, ...calls.map((c) => c())].join("\n"));
  }

  /** matmul: operands broadcast over the batch axes (copied when they are views), then rt_matmul. */
  private emitMatmul(n: PNode, ins: Loc[], inAvals: Aval[], out: () => string, comment: string): void {
    const r = n.shape.length;
    const m = n.shape[r - 2]!;
    const nn = n.shape[r - 1]!;
    const xs = inAvals[0]!.shape;
    const k = xs[xs.length - 1]!;
    const batch = n.shape.slice(0, -2);
    const a = this.materialize(viewTo(ins[0]!, inAvals[0]!.shape, n.dtype, [...batch, m, k]), [...batch, m, k], n.dtype);
    const b = this.materialize(viewTo(ins[1]!, inAvals[1]!.shape, n.dtype, [...batch, k, nn]), [...batch, k, nn], n.dtype);
    this.use(a);
    this.use(b);
    const an = this.nameOf(a);
    const bn = this.nameOf(b);
    this.steps.push(() => `rt_matmul(${an()}, ${bn()}, ${out()}, ${int(sizeOf(batch))}, ${int(m)}, ${int(k)}, ${int(nn)}); ${comment}`);
  }

  /** A kernel's output buffer; `finish` reads a rank-0 result out into a number after the call. */
  private kernelOut(n: PNode, output: boolean): { arr: Arr; finish: () => void } {
    const buf = this.newBuf(n.dtype, sizeOf(n.shape), output && n.shape.length > 0);
    const arr: Arr = { kind: "arr", name: "", shape: n.shape, dtype: n.dtype, buf, constant: false };
    const finish = () => {
      if (n.shape.length === 0) {
        const [declare, name] = this.scalarSlot(n.id);
        buf.lastUse = this.steps.length;
        this.steps.push(() => `${declare} = ${this.ref(arr)}[0];`);
        this.loc.set(n.id, { kind: "num", expr: name });
      } else this.loc.set(n.id, arr);
    };
    return { arr, finish };
  }

  // ── outputs and assembly ───────────────────────────────────────────────────────────────────

  /**
   * The returned expressions: numbers, arrays computed per call, copies of constants, or new
   * per-call arrays holding views. Array names are read after liveness (hence functions).
   */
  placeOutputs(): (() => string)[] {
    return this.p.outputs.map((id) => {
      const l = this.loc.get(id)!;
      const a = this.avals.get(id)!;
      if (l.kind === "num") {
        const text = a.dtype === "float32" && !this.exact32 ? `Math.fround(${l.expr})` : l.expr;
        return () => text;
      }
      if (l.kind === "arr" && (l.buf === null ? !l.constant : l.buf.output)) return this.nameOf(l);
      if (l.kind === "arr" && l.constant) {
        const text = `${this.ref(l)}.slice()`;
        return () => text;
      }
      return this.nameOf(this.materialize(l, a.shape, a.dtype, true));
    });
  }

  /** Names the buffers by liveness, renders the steps and assembles the factory's source. */
  assemble(outputs: (() => string)[]): Generated {
    const { declarations, pooledBytes } = assignBuffers(this.bufs, this.spill, this.options.reuse !== false);
    this.preamble.push(...declarations);
    const body = this.renderSteps();
    const finalOut = outputs.map((o) => o());
    const ret = this.options.ret ? this.options.ret(finalOut) : `[${finalOut.join(", ")}]`;
    const params = this.p.inputs.map((_, k) => ident("x", k)).join(", ");
    if (this.spill) this.preamble.push(`const R = new Float64Array(${int(this.p.nodes.reduce((m, n) => Math.max(m, n.id), 0) + 1)});`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: \u0000…\u0001 delimit buffer placeholders no source text contains
    const resolve = (text: string) => text.replace(/\u0000(\d+)\u0001/g, (_, k: string) => this.bufs[Number(k)]!.name);
    const source = resolve(
      [
        `"use strict";`,
        ...this.preamble,
        `return function compiled(${params}) {`,
        body.join("\n").replace(/^/gm, "  "),
        `  return ${ret};`,
        `};`,
      ].join("\n"),
    );
    return { source, constants: this.constants, pooledBytes, fusedLoops: this.fusedLoops };
  }

  /** The body's statements; per-call output buffers are declared just before the step that first writes them. */
  private renderSteps(): string[] {
    const body: string[] = [];
    const outputsAt = new Map<number, Buf[]>();
    for (const b of this.bufs) if (b.output) (outputsAt.get(b.def) ?? outputsAt.set(b.def, []).get(b.def)!).push(b);
    this.steps.forEach((s, k) => {
      for (const b of outputsAt.get(k) ?? [])
        body.push(`${this.spill ? "" : "const "}${b.name} = new ${ARRAY_CTOR[b.dtype]}(${int(b.size)});`);
      body.push(s());
    });
    return this.spill ? this.splitIntoParts(body) : body;
  }

  /**
   * Huge programs: the body is split into functions so no single frame holds too many locals
   * (every value crossing a boundary lives in R, a pooled buffer or O); returns the calls.
   */
  private splitIntoParts(body: string[]): string[] {
    this.preamble.push("const O = [];");
    const args = this.p.inputs.map((_, k) => ident("x", k)).join(", ");
    const calls: string[] = [];
    let chunk: string[] = [];
    let weight = 0;
    const flush = () => {
      if (chunk.length === 0) return;
      const name = ident("part", calls.length);
      this.preamble.push(`function ${name}(${args}) {\n${chunk.join("\n")}\n}`);
      calls.push(`${name}(${args});`);
      chunk = [];
      weight = 0;
    };
    for (const text of body) {
      chunk.push(text);
      weight += text.split("\n").length;
      if (weight > 2000) flush();
    }
    flush();
    return calls;
  }
}

/** [outer, length, inner] element counts around `length` axes of `shape` from `axis`. */
function around(shape: readonly number[], axis: number, length = 1): readonly [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis, axis + length)), sizeOf(shape.slice(axis + length))];
}

/** broadcastTo, slice, pad and transpose as views of their operand. */
function viewOf(n: PNode, v: View, xa: Aval): View {
  if (n.op === "broadcastTo") return compose(v, n.shape, broadcastMap(xa.shape, n.shape), []);
  if (n.op === "slice")
    return compose(
      v,
      n.shape,
      (n.params as { begin: number[] }).begin.map((b, j) => ({ from: j, offset: b })),
      [],
    );
  if (n.op === "pad") {
    const low = (n.params as { low: number[] }).low;
    const map = low.map((l, j) => ({ from: j, offset: -l }));
    const conds = low.flatMap((l, j) => (l === 0 && xa.shape[j]! + l === n.shape[j] ? [] : [{ dim: j, lo: l, hi: l + xa.shape[j]! }]));
    return compose(v, n.shape, map, conds);
  }
  const perm = (n.params as { perm: number[] }).perm;
  const map = new Array<DimMap>(perm.length);
  perm.forEach((q, k) => (map[q] = { from: k, offset: 0 }));
  return compose(v, n.shape, map, []);
}
