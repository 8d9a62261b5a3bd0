/**
 * The tape. A `ReverseTrace` is pushed for one transformation call; every primitive applied to
 * its tracers runs on the primal values (define-by-run) and, when its output is a float that
 * depends on a differentiated input, is appended to the tape (a Wengert list) with what its rule
 * saves. `backward` then visits the tape once, last entry first, accumulating adjoints (a value
 * used twice receives both contributions). On large concrete values, elementwise primitives (and
 * contiguous slices and pads) give lazy values, forward and backward: ir's eager fusion computes a
 * chain of them in one loop when something reads it (see ir's fusion.ts).
 */
import {
  bind,
  bindCustomJvp,
  bindCustomVjp,
  castTo,
  checkCustomRule,
  checkNans,
  config,
  evalPrimitive,
  ForwardModeError,
  shapesEqual,
  Tracer,
  withTrace,
  type Aval,
  type CustomJvpRule,
  type CustomVjpRule,
  type DType,
  type Params,
  type Primitive,
  type Shape,
  type Saves,
  type VjpNode,
  type VjpRule,
  DEFINITIONS,
  fuse,
  isFloat,
  isPending,
  needsBit,
  PRIMITIVES,
  Trace,
  type Tensor,
} from "@chainrule/ir";
import { add, addInto, detach, fastPrimal, poolingEnabled, REVERSE_MATH, sharesMemory, SweepPool, swapPool, zerosLike } from "./arith.js";
import { SCALAR_PRIMITIVES } from "./scalar.js";

/** A value inside a reverse transformation: its primal (a value of the level below) and its tape slot. */
export class ReverseTracer extends Tracer {
  readonly trace: ReverseTrace;
  /** The value itself, one level down (a Tensor, or a tracer of an enclosing transformation). */
  readonly primal: Tensor;
  /** Slot in the adjoint array, or -1 for a constant (nothing to differentiate). */
  readonly id: number;

  constructor(trace: ReverseTrace, primal: Tensor, id: number) {
    super(primal);
    this.trace = trace;
    this.primal = primal;
    this.id = id;
  }

  concrete(): Tensor {
    const p = this.primal;
    return p instanceof Tracer ? p.concrete() : p;
  }
}

/** A backward rule made at run time (custom rules): cotangent of each input from the output's. */
type CustomBackward = (ct: Tensor) => (Tensor | null | undefined)[];

/** One tape entry. */
export class TapeNode implements VjpNode<Primitive> {
  readonly op: string;
  readonly rule: VjpRule<Primitive> | null;
  readonly custom: CustomBackward | null;
  readonly params: Params<Primitive>;
  /** Adjoint slots of the inputs (-1: constant). */
  readonly ids: readonly number[];
  readonly x: readonly Tensor[];
  readonly y: Tensor | null;
  readonly dtype: DType;
  readonly out: number;
  readonly needs: number;
  private readonly shapes: readonly Shape[] | null;
  private readonly outShape: Shape;

  constructor(
    op: string,
    rule: VjpRule<Primitive> | null,
    custom: CustomBackward | null,
    params: Params<Primitive>,
    ids: readonly number[],
    needs: number,
    x: readonly Tensor[],
    shapes: readonly Shape[] | null,
    y: Tensor | null,
    dtype: DType,
    out: number,
    outShape: Shape,
  ) {
    this.outShape = outShape;
    this.op = op;
    this.rule = rule;
    this.custom = custom;
    this.params = params;
    this.ids = ids;
    this.needs = needs;
    this.x = x;
    this.shapes = shapes;
    this.y = y;
    this.dtype = dtype;
    this.out = out;
  }

  get arity(): number {
    return this.ids.length;
  }

  same(i: number, j: number): boolean {
    const a = this.ids[i]!;
    return a >= 0 && a === this.ids[j];
  }

  shape(i: number): Shape {
    // no shapes and no inputs kept: every input had the output's shape
    return this.shapes !== null ? this.shapes[i]! : this.x.length > 0 ? this.x[i]!.shape : this.outShape;
  }
}

const EMPTY: readonly Tensor[] = [];
const NO_PARAMS = {} as Params<Primitive>;

function savesInputs(saves: Saves): boolean {
  return saves === "inputs" || saves === "inputs and output";
}

function savesOutput(saves: Saves): boolean {
  return saves === "output" || saves === "inputs and output";
}

/** Per primitive: its VJP rule (ir's definition), what the tape keeps for it, and whether the scalar sweep covers it. */
const RULE_INFO = Object.fromEntries(
  PRIMITIVES.map((prim) => {
    const rule = DEFINITIONS[prim].vjp as VjpRule<Primitive>;
    return [prim, { rule, keepX: savesInputs(rule.saves), keepY: savesOutput(rule.saves), scalar: SCALAR_PRIMITIVES.has(prim) }];
  }),
) as Record<Primitive, { rule: VjpRule<Primitive>; keepX: boolean; keepY: boolean; scalar: boolean }>;

/** Observes each chain-rule term of a backward pass (for the learner's trace). */
export type TermObserver = (fromSlot: number, toSlot: number, term: Tensor) => void;

export class ReverseTrace extends Trace {
  readonly name = "reverse";
  readonly nodes: TapeNode[] = [];
  /** Number of adjoint slots handed out (inputs and recorded outputs). */
  slots = 0;
  /** Keep every input and output on the tape whatever the rules save (the learner's trace). */
  keepAll = false;
  /** True while every entry is a rank-0 float64 primitive on concrete values (see scalar.ts). */
  scalarTape = true;
  /** Set on the first tape of the double-vjp jvp: it stands for forward mode (customVjp refuses it). */
  forwardMode = false;

  /** whileLoop refuses reverse-mode values (not the double-vjp jvp's tape, which stands for forward mode). */
  override get reverseMode(): boolean {
    return !this.forwardMode;
  }

  /** A differentiated input: a fresh slot. */
  input(primal: Tensor): ReverseTracer {
    return new ReverseTracer(this, primal, this.slots++);
  }

  constant(value: Tensor): ReverseTracer {
    return new ReverseTracer(this, value, -1);
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>, out: Aval): Tracer {
    const n = inputs.length;
    const primals = new Array<Tensor>(n);
    const ids = new Array<number>(n);
    let lifted = false;
    let needs = 0;
    for (let i = 0; i < n; i++) {
      const t = inputs[i] as ReverseTracer;
      const p = t.primal;
      primals[i] = p;
      if (p instanceof Tracer) lifted = true;
      const id = t.id;
      ids[i] = id;
      if (id >= 0) needs |= needsBit(i);
    }
    // the primal: evaluated now, at the level below (eagerly when it is concrete)
    // concrete: a lazy value when fusion takes it (see ir's fusion.ts; never a rank-0 result), else at once
    const value = lifted
      ? bind(prim, primals, params)
      : ((this.keepAll || config.debugNans || out.shape.length === 0 ? undefined : fuse(prim, primals, params as Params)) ??
        fastPrimal(prim, primals, params) ??
        evalPrimitive(prim, primals, params, out));
    if (config.debugNans) checkNans(`reverse: ${prim}`, primals, value);
    const info = RULE_INFO[prim];
    if (needs === 0 || info.rule.vjp === null || !isFloat(out.dtype)) return new ReverseTracer(this, value, -1);
    const keepX = this.keepAll || info.keepX;
    let shapes: Shape[] | null = null;
    if (!keepX) {
      // input shapes are kept only when some differs from the output's (broadcasting, reductions, …)
      for (let i = 0; i < n; i++) {
        if (!shapesEqual(primals[i]!.shape, out.shape)) {
          shapes = new Array<Shape>(n);
          for (let j = 0; j < n; j++) shapes[j] = primals[j]!.shape;
          break;
        }
      }
    }
    if (this.scalarTape && (lifted || !info.scalar || out.dtype !== "float64" || out.shape.length !== 0)) this.scalarTape = false;
    const slot = this.slots++;
    this.nodes.push(
      new TapeNode(
        prim,
        info.rule,
        null,
        params as Params<Primitive>,
        ids,
        needs,
        keepX ? primals : EMPTY,
        shapes,
        this.keepAll || info.keepY ? value : null,
        out.dtype,
        slot,
        out.shape,
      ),
    );
    return new ReverseTracer(this, value, slot);
  }

  /** Records an entry whose backward pass is `backward` (custom rules). */
  private recordCustom(op: string, inputs: Tracer[], value: Tensor, backward: CustomBackward): Tracer {
    let needs = 0;
    const ids = inputs.map((t, i) => {
      const id = (t as ReverseTracer).id;
      if (id >= 0) needs |= needsBit(i);
      return id;
    });
    if (needs === 0 || !isFloat(value.dtype)) return new ReverseTracer(this, value, -1);
    this.scalarTape = false;
    const slot = this.slots++;
    const shapes = inputs.map((t) => t.shape);
    const x = this.keepAll ? inputs.map((t) => (t as ReverseTracer).primal) : EMPTY;
    this.nodes.push(
      new TapeNode(op, null, backward, NO_PARAMS, ids, needs, x, shapes, this.keepAll ? value : null, value.dtype, slot, value.shape),
    );
    return new ReverseTracer(this, value, slot);
  }

  /**
   * customVjp: the forward pass runs `fwd` on the primals; the tape entry calls `bwd` with its
   * residuals. In a forward-mode trace (the jvp's first tape) that is an error: transposing `bwd`
   * would assume it linear. ir's `checkCustomRule` checks what fwd and bwd return.
   */
  override processCustomVjp(rule: CustomVjpRule, inputs: Tracer[]): Tensor {
    const primals = inputs.map((t) => (t as ReverseTracer).primal);
    if (!inputs.some((t) => (t as ReverseTracer).id >= 0)) return new ReverseTracer(this, bindCustomVjp(rule, primals), -1);
    // checkpoint's rule under forward mode: fun is differentiated as ordinary code
    if (this.forwardMode && rule.differentiableFun === true) return rule.fun(...inputs);
    if (this.forwardMode) throw new ForwardModeError(rule);
    const [value, residuals] = checkCustomRule("fwd", rule, rule.fwd(...primals));
    if (config.debugNans) checkNans("reverse: customVjp", primals, value);
    return this.recordCustom("customVjp", inputs, value, (ct) => checkCustomRule("bwd", rule, rule.bwd(residuals, ct), inputs));
  }

  /**
   * customJvp: the primal goes through the level below (which may apply the rule itself); the
   * reverse rule is the transpose of the user's linear jvp, obtained by running the jvp with
   * tangents that are fresh tracers of a nested reverse trace and pulling back through it.
   */
  override processCustomJvp(rule: CustomJvpRule, inputs: Tracer[]): Tensor {
    const primals = inputs.map((t) => (t as ReverseTracer).primal);
    const value = bindCustomJvp(rule, primals);
    if (config.debugNans) checkNans("reverse: customJvp", primals, value);
    if (!inputs.some((t) => (t as ReverseTracer).id >= 0) || !isFloat(value.dtype)) return new ReverseTracer(this, value, -1);
    const { pullback } = reverseVjp(
      (tangents) => [checkCustomRule("jvp", rule, rule.jvp(primals, tangents), value)[1]],
      primals.map((p) => zerosLike(p.shape, p.dtype)),
    );
    return this.recordCustom("customJvp", inputs, value, (ct) => pullback([ct]));
  }

  /**
   * The backward sweep: seeds the given slots, then visits the tape once in reverse. Returns the
   * adjoint of each requested slot (undefined when nothing reached it). Unless the adjoints are
   * kept or observed, the sweep recycles its own buffers (see `SweepPool` in arith.ts): an
   * adjoint is released once its entry has pulled it back, and a later contribution is added in
   * place into an adjoint buffer the sweep owns. `onPool` sees the pool when the sweep ends (tests).
   */
  backward(
    seedSlots: readonly number[],
    seeds: readonly Tensor[],
    wanted: readonly number[],
    observe?: TermObserver,
    keep = false,
    onPool?: (pool: SweepPool) => void,
  ): (Tensor | undefined)[] {
    const pool = keep || observe !== undefined || !poolingEnabled() ? null : new SweepPool();
    const outer = swapPool(pool);
    try {
      const adjoints = this.sweep(seedSlots, seeds, pool, observe, keep);
      if (pool !== null && onPool !== undefined) onPool(pool);
      return wanted.map((slot) => (slot < 0 ? undefined : adjoints[slot]));
    } finally {
      swapPool(outer);
    }
  }

  private sweep(
    seedSlots: readonly number[],
    seeds: readonly Tensor[],
    pool: SweepPool | null,
    observe: TermObserver | undefined,
    keep: boolean,
  ): (Tensor | undefined)[] {
    const adjoints = new Array<Tensor | undefined>(this.slots);
    for (let i = 0; i < seedSlots.length; i++) {
      const slot = seedSlots[i]!;
      if (slot < 0) continue;
      const previous = adjoints[slot];
      adjoints[slot] = previous === undefined ? seeds[i]! : add(previous, seeds[i]!);
    }
    const debug = config.debugNans;
    const nodes = this.nodes;
    for (let k = nodes.length - 1; k >= 0; k--) {
      const node = nodes[k]!;
      const ct = adjoints[node.out];
      if (ct === undefined) continue;
      if (!keep) adjoints[node.out] = undefined;
      const cts = node.custom !== null ? node.custom(ct) : node.rule!.vjp!(ct, node, node.needs, REVERSE_MATH);
      if (pool !== null) settle(pool, node, ct, cts);
      const ids = node.ids;
      for (let i = 0; i < ids.length; i++) {
        const slot = ids[i]!;
        const term = cts[i];
        if (slot < 0 || term === null || term === undefined) continue;
        if (debug) checkNans(`reverse: backward pass of ${node.op}`, node.y === null ? [ct, ...node.x] : [ct, ...node.x, node.y], term);
        if (observe !== undefined) observe(node.out, slot, term);
        const previous = adjoints[slot];
        if (previous === undefined) adjoints[slot] = term;
        else if (isPending(previous) || isPending(term)) adjoints[slot] = add(previous, term);
        else if (pool?.owns(previous) && !sharesMemory(previous, term) && addInto(previous, term)) {
          // previous += term: previous is the sweep's own buffer, referenced by this slot only
          if (pool.owns(term)) pool.release(term);
        } else if (pool?.owns(term) && !sharesMemory(previous, term) && addInto(term, previous)) {
          // term += previous (the same sum: floating-point addition commutes), into the sweep's own buffer
          adjoints[slot] = term;
        } else adjoints[slot] = add(previous, term);
      }
    }
    return adjoints;
  }
}

/**
 * Ownership after an entry has pulled back `ct`: a custom rule's results are user code's (never
 * recycled); a buffer two results share is no longer the sweep's alone; `ct` itself is dead and
 * goes back to the pool unless a result shares its memory. An entry that touches tracers of an
 * enclosing transformation may have recorded its concrete operands there: nothing of it is recycled.
 */
function lifted(node: SettledNode, ct: Tensor, cts: readonly (Tensor | null | undefined)[]): boolean {
  if (ct instanceof Tracer || node.y instanceof Tracer) return true;
  for (const x of node.x) if (x instanceof Tracer) return true;
  for (const term of cts) if (term instanceof Tracer) return true;
  return false;
}

/** What `settle` reads of an entry: a TapeNode, or the imperative API's GradNode. */
export type SettledNode = { readonly custom: unknown; readonly x: readonly Tensor[]; readonly y: Tensor | null };

export function settle(pool: SweepPool, node: SettledNode, ct: Tensor, cts: readonly (Tensor | null | undefined)[]): void {
  if (node.custom !== null || lifted(node, ct, cts)) {
    // user code, or an enclosing transformation, may hold any of these: never recycle them
    pool.disown(ct);
    for (const term of cts) pool.disown(term);
    return;
  }
  for (let i = 0; i < cts.length; i++) {
    const a = cts[i];
    if (a === null || a === undefined || !pool.owns(a)) continue;
    for (let j = 0; j < cts.length; j++) {
      const b = cts[j];
      if (j !== i && b !== null && b !== undefined && sharesMemory(a, b)) pool.disown(a);
    }
  }
  for (const term of cts) {
    if (isPending(term)) {
      // a lazy result may read ct or the other results when it is computed: none is the sweep's to recycle
      pool.disown(ct);
      for (const other of cts) pool.disown(other);
      return;
    }
  }
  if (!pool.owns(ct)) return;
  for (const term of cts) if (term !== null && term !== undefined && sharesMemory(ct, term)) return;
  pool.release(ct);
}

/** Makes the trace for a level (a module-level function: no closure per call). */
export function makeTrace(level: number): ReverseTrace {
  return new ReverseTrace(level);
}

/** The primal of an output and its adjoint slot (-1 when it does not depend on the inputs of `trace`). */
export function outputSlot(trace: ReverseTrace, value: Tensor): number {
  return value instanceof ReverseTracer && value.trace === trace ? value.id : -1;
}

export function primalOf(trace: ReverseTrace, value: Tensor): Tensor {
  return value instanceof ReverseTracer && value.trace === trace ? value.primal : value;
}

/** Reverse mode on flat lists of tensors: the core of the engine (see EngineCore.vjp). */
export function reverseVjp(
  f: (inputs: Tensor[]) => Tensor[],
  primals: Tensor[],
  forwardMode = false,
): { outputs: Tensor[]; pullback: (cotangents: Tensor[]) => Tensor[]; trace: ReverseTrace; slots: number[] } {
  let results: Tensor[] = [];
  const trace = withTrace(makeTrace, (t) => {
    t.forwardMode = forwardMode;
    results = f(primals.map((p) => t.input(p)));
    return t;
  });
  const slots = results.map((r) => outputSlot(trace, r));
  const outputs = results.map((r) => detach(primalOf(trace, r)));
  const inputSlots = primals.map((_, i) => i);
  const pullback = (cotangents: Tensor[]): Tensor[] => {
    const seeds = cotangents.map((ct, i) =>
      ct.dtype === outputs[i]!.dtype || !isFloat(outputs[i]!.dtype) ? ct : castTo(ct, outputs[i]!.dtype),
    );
    const adjoints = trace.backward(slots, seeds, inputSlots);
    return adjoints.map((a, i) => (a === undefined ? zerosLike(primals[i]!.shape, primals[i]!.dtype) : detach(a)));
  };
  return { outputs, pullback, trace, slots };
}
