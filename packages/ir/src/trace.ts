/**
 * The interpreter machinery (JAX-style). Every primitive application goes through `bind`.
 * With no tracer among its inputs, `bind` evaluates eagerly (the reference semantics). An
 * engine that transforms a function pushes a `Trace` for the duration of the call and hands the
 * function `Tracer`s of that trace; `bind` then routes the primitive to the highest-level trace
 * among its inputs, which interprets it (carries tangents, records a tape, builds a graph) by
 * binding primitives on the values of the level below. Levels are what keep nested
 * transformations apart: a value from an enclosing transformation enters an inner one as a
 * constant of the inner level (no perturbation confusion).
 */
import type { TypedArray } from "./dtype.js";
import { checkOneCopy } from "./copies.js";
import { article, ChainruleError, internalError } from "./errors.js";
import { evalPrimitive, inferAval, type Aval, type Params, type Primitive } from "./primitives.js";
import { CONTROL_RUNTIME, type ControlCall } from "./primitives/control.js";
import { Tensor } from "./tensor.js";

/** A value standing for a tensor inside a transformation. Its shape and dtype are known. */
export abstract class Tracer extends Tensor {
  abstract readonly trace: Trace;

  constructor(aval: Aval) {
    super(aval.dtype, aval.shape, null);
  }

  /**
   * The concrete value behind this tracer: define-by-run engines return their primal; a
   * tracing engine throws a `ConcretizationError` that says what to do instead.
   */
  abstract concrete(): Tensor;

  override get data(): TypedArray {
    return this.concrete().data;
  }

  override describe(): string {
    return `${this.trace.name} tracer ${this.typeString()}`;
  }

  override toString(): string {
    return `Tracer<${this.trace.name}, level ${this.trace.level}>(${this.typeString()})`;
  }
}

/** A user function with a custom derivative rule (see `customJvp`). */
export interface CustomJvpRule {
  readonly fun: (...args: Tensor[]) => Tensor;
  /** Given primals and tangents, returns [primal output, tangent output]; linear in tangents. */
  readonly jvp: (primals: Tensor[], tangents: Tensor[]) => [Tensor, Tensor];
}

/** A user function with a custom reverse rule (see `customVjp`). */
export interface CustomVjpRule {
  readonly fun: (...args: Tensor[]) => Tensor;
  /** Returns [primal output, residuals] — the residuals are handed to `bwd`. */
  readonly fwd: (...args: Tensor[]) => [Tensor, unknown];
  /** Given the residuals and the output cotangent, returns one cotangent per argument. */
  readonly bwd: (residuals: unknown, cotangent: Tensor) => Tensor[];
  /**
   * `fun` is ordinary differentiable code (as under `checkpoint`): forward mode differentiates it
   * directly instead of raising a ForwardModeError (the rule only changes what reverse mode stores).
   */
  readonly differentiableFun?: boolean;
}

/**
 * One active interpretation. Engines subclass it. `constant` embeds a value of a lower level
 * (a Tensor or a lower-level Tracer) into this level; `processPrimitive` interprets one primitive
 * whose inputs all belong to this trace. Custom rules default to inlining the function.
 */
export abstract class Trace {
  // `declare` + assignment, not class fields: see Tensor (one trace is made per transformation call)
  /** Nesting depth, 1 for the outermost transformation. */
  declare readonly level: number;
  /** False once the transformation that pushed this trace has returned. */
  declare active: boolean;
  /** Short name for messages, e.g. "reverse", "forward", "jit". */
  abstract readonly name: string;

  constructor(level: number) {
    this.level = level;
    this.active = true;
  }

  abstract constant(value: Tensor): Tracer;

  abstract processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>, out: Aval): Tracer;

  processCustomJvp(rule: CustomJvpRule, inputs: Tracer[]): Tensor {
    return rule.fun(...inputs);
  }

  processCustomVjp(rule: CustomVjpRule, inputs: Tracer[]): Tensor {
    return rule.fun(...inputs);
  }

  /**
   * A staged control-flow call (cond, scan, while; see primitives/control.ts) whose inputs all
   * belong to this trace. The default interprets its sub-graphs op by op on this trace's values
   * (a cond reads its index, so the index must be concrete here); the JIT's traces override it
   * to stage the derivative as calls of derived sub-graphs.
   */
  processControl(call: ControlCall, inputs: Tracer[]): Tensor[] {
    const interpret = CONTROL_RUNTIME.interpret;
    if (interpret === null) throw internalError("control flow: no interpreter registered");
    return interpret(call, inputs);
  }

  /**
   * True for reverse-mode traces (tapes): `whileLoop` refuses to run on their values, as JAX
   * does (a loop with a data-dependent trip count has no reverse-mode derivative there).
   */
  get reverseMode(): boolean {
    return false;
  }

  /** True for traces that stage a program (graph tracing): control flow is staged, not run. */
  get stages(): boolean {
    return false;
  }
}

const stack: Trace[] = [];

// checkpoint's recomputation (issue 19, xforms): the primitives bound while a backward pass
// recomputes a checkpointed function belong to a numbered region, so a graph optimizer does not
// merge them with the forward pass's (which would bring back the stored intermediates)
let rematRegion = 0;
let rematRegions = 0;

/** The recomputation region the current primitives belong to (0: none). */
export function currentRematRegion(): number {
  return rematRegion;
}

/** Runs `body` as a fresh recomputation region (see `currentRematRegion`). */
export function withRematRegion<R>(body: () => R): R {
  const outer = rematRegion;
  rematRegion = ++rematRegions;
  try {
    return body();
  } finally {
    rematRegion = outer;
  }
}

/** The level a new trace would get. */
export function nextLevel(): number {
  return stack.length + 1;
}

/** Whether a staging trace (graph tracing, the JIT) is active: control flow then builds sub-graphs. */
export function stagingActive(): boolean {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.stages) return true;
  return false;
}

/** Applies a staged control-flow call: eagerly when all inputs are concrete, else by the top trace. */
export function bindControl(call: ControlCall, inputs: readonly Tensor[]): Tensor[] {
  checkOneCopy("control");
  const top = findTopTrace("control", inputs);
  if (top === undefined) {
    const interpret = CONTROL_RUNTIME.interpret;
    if (interpret === null) throw internalError("control flow: no interpreter registered");
    return interpret(call, inputs);
  }
  return top.processControl(call, raiseAll(top, inputs));
}

/** The innermost active trace, if any. */
export function currentTrace(): Trace | undefined {
  // reading index -1 of an empty array takes V8's slow path (a property lookup), so check first
  return stack.length === 0 ? undefined : stack[stack.length - 1];
}

/**
 * Pushes the trace made by `make(level)` while `body` runs, then pops it and marks it inactive.
 * Engines call this once per transformation call.
 */
export function withTrace<T extends Trace, R>(make: (level: number) => T, body: (trace: T) => R): R {
  const trace = make(stack.length + 1);
  if (trace.level !== stack.length + 1) throw internalError(`trace created at level ${trace.level}, expected ${stack.length + 1}`);
  stack.push(trace);
  try {
    return body(trace);
  } finally {
    stack.pop();
    trace.active = false;
  }
}

/** The error for using a tracer whose transformation has returned (code `ESCAPED_TRACER`). */
export function escapedTracer(tracer: Tracer, op: string): ChainruleError {
  return new ChainruleError(
    "ESCAPED_TRACER",
    `${op}: expected values of active transformations, got ${article(tracer.describe())} from a transformation ` +
      `that has already returned (a tracer leaked out of grad/jvp/jit, e.g. stored in an outer variable)`,
  );
}

/**
 * Throws the escaped-tracer error when `value` is a tracer of a transformation that has already
 * returned. Transformations call it on what crosses their boundary (inputs, and what `f` returns),
 * where no primitive would otherwise notice: `grad(x => x)(leaked)` must not return 1.
 */
export function checkNotEscaped(op: string, value: unknown): void {
  if (value instanceof Tracer && !value.trace.active) throw escapedTracer(value, op);
}

/** The highest-level trace among the inputs, or undefined when all are concrete. */
export function findTopTrace(op: string, inputs: readonly Tensor[]): Trace | undefined {
  let top: Trace | undefined;
  for (const x of inputs) {
    if (x instanceof Tracer) {
      const trace = x.trace;
      if (!trace.active) throw escapedTracer(x, op);
      if (top === undefined || trace.level > top.level) top = trace;
      else if (trace.level === top.level && trace !== top) throw internalError(`two active traces at level ${trace.level}`);
    }
  }
  return top;
}

/** Brings every input to `top`'s level. */
export function raiseAll(top: Trace, inputs: readonly Tensor[]): Tracer[] {
  const out = new Array<Tracer>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i]!;
    out[i] = x instanceof Tracer && x.trace === top ? x : top.constant(x);
  }
  return out;
}

/** Applies a primitive: checks shapes and dtypes, then evaluates eagerly or lets the top trace interpret it. */
export function bind<P extends Primitive>(prim: P, inputs: readonly Tensor[], params: Params<P>): Tensor {
  checkOneCopy(prim);
  const out = inferAval(prim, inputs, params);
  const top = findTopTrace(prim, inputs);
  if (top === undefined) return evalPrimitive(prim, inputs, params, out);
  return top.processPrimitive(prim, raiseAll(top, inputs), params, out);
}

/** Applies a function with a custom JVP rule (eagerly: just the function). */
export function bindCustomJvp(rule: CustomJvpRule, inputs: readonly Tensor[]): Tensor {
  checkOneCopy("customJvp");
  const top = findTopTrace("customJvp", inputs);
  if (top === undefined) return rule.fun(...inputs);
  return top.processCustomJvp(rule, raiseAll(top, inputs));
}

/** Applies a function with a custom VJP rule (eagerly: just the function). */
export function bindCustomVjp(rule: CustomVjpRule, inputs: readonly Tensor[]): Tensor {
  checkOneCopy("customVjp");
  const top = findTopTrace("customVjp", inputs);
  if (top === undefined) return rule.fun(...inputs);
  return top.processCustomVjp(rule, raiseAll(top, inputs));
}
