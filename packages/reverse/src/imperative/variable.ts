/**
 * PyTorch-style imperative autograd over the reverse engine's rule table. A `Variable` is a
 * tracer of one long-lived trace (`IMPERATIVE`, level 0: below every transformation, never on
 * ir's trace stack and never deactivated), so every ir op applied to it comes here through
 * `bind`. An op with an input that requires grad returns a `Variable` whose `node` (PyTorch's
 * grad_fn) holds the VJP rule of the primitive, what the rule saves and edges to its inputs.
 * The graph is a DAG owned by the values: it lives as long as the output does and is garbage
 * once nothing references it (no global tape). `backward` (backward.ts) sweeps it.
 *
 * Values are immutable tensors. A leaf's value can be replaced (`v.value = t`, what optimizers
 * do); that bumps the leaf's version, and a backward pass that needs the old value reports it.
 */
import {
  checkCustomRule,
  checkNans,
  config,
  evalPrimitive,
  formatShape,
  Tensor,
  Tracer,
  Trace,
  zeros,
  type Aval,
  type CustomJvpRule,
  type CustomVjpRule,
  type DType,
  type Params,
  type Primitive,
  type Shape,
  type VjpNode,
  type VjpRule,
  DEFINITIONS,
  isFloat,
  needsBit,
} from "@chainrule/ir";
import { fastPrimal } from "../arith.js";
import { reverseVjp } from "../tape.js";
import { backward as runBackward, type BackwardOptions } from "./backward.js";
import { AutogradError } from "./errors.js";

// ── grad mode ──────────────────────────────────────────────────────────────────────────────

let gradEnabled = true;

/** False inside `noGrad`: ops on variables then record nothing. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

function withGradMode<R>(op: string, enabled: boolean, body: () => R): R {
  const previous = gradEnabled;
  gradEnabled = enabled;
  let result: R;
  try {
    result = body();
  } finally {
    gradEnabled = previous;
  }
  if (result !== null && typeof result === "object" && typeof (result as { then?: unknown }).then === "function") {
    throw new AutogradError(
      "ARGUMENT",
      `${op}: expected a synchronous function, got one that returned a Promise (the mode would not cover what runs after its ` +
        `first await): call ${op} inside the async function instead`,
    );
  }
  return result;
}

/** Runs `body` with recording off (torch.no_grad): results do not require grad. */
export function noGrad<R>(body: () => R): R {
  if (typeof body !== "function") throw new AutogradError("ARGUMENT", `noGrad: expected a function, got ${typeof body}`);
  return withGradMode("noGrad", false, body);
}

/** Runs `body` with recording on, also inside `noGrad` (torch.enable_grad). */
export function enableGrad<R>(body: () => R): R {
  if (typeof body !== "function") throw new AutogradError("ARGUMENT", `enableGrad: expected a function, got ${typeof body}`);
  return withGradMode("enableGrad", true, body);
}

// ── the graph ──────────────────────────────────────────────────────────────────────────────

/** A gradient hook: sees the gradient, may return a replacement (undefined keeps it). */
export type GradHook = (grad: Tensor) => Tensor | void;

/** What `registerHook` returns. */
export interface HookHandle {
  remove(): void;
}

/** A backward rule made at run time (custom rules). */
type CustomBackward = (ct: Tensor) => readonly (Tensor | null | undefined)[];

const EMPTY: readonly Tensor[] = [];
let sequence = 0;

function savesInputs(rule: VjpRule<Primitive>): boolean {
  return rule.saves === "inputs" || rule.saves === "inputs and output";
}

function savesOutput(rule: VjpRule<Primitive>): boolean {
  return rule.saves === "output" || rule.saves === "inputs and output";
}

/**
 * One recorded op (PyTorch's grad_fn). Nodes are numbered in creation order; a backward pass
 * visits them from the newest, which is a topological order and the order the reverse engine's
 * tape uses, so both accumulate adjoints in the same order (bitwise-equal gradients).
 */
export class GradNode implements VjpNode<Primitive> {
  readonly seq = sequence++;
  readonly op: string;
  readonly rule: VjpRule<Primitive> | null;
  custom: CustomBackward | null;
  readonly params: Params<Primitive>;
  /** Inputs: every one when the rule reads them, else only those that require grad (others null). */
  readonly inputs: readonly (Variable | null)[];
  readonly needs: number;
  /** Saved primal inputs (empty unless the rule saves them). */
  x: readonly Tensor[];
  /** Versions of the saved inputs when they were saved (null when nothing is saved). */
  readonly versions: readonly number[] | null;
  /** Saved primal output (null unless the rule saves it). */
  y: Tensor | null;
  readonly dtype: DType;
  private readonly shapes: readonly Shape[];
  /**
   * What a backward pass without retainGraph dropped that this node's backward needs (its saved
   * inputs, its saved output, a customVjp's residuals); null while nothing needed was dropped, so
   * a node that saves nothing (add, sum, …) can be swept again, as in PyTorch.
   */
  freed: string | null = null;
  /** Hooks registered on the non-leaf variable this node produced. */
  hooks: GradHook[] | null = null;
  /** The variable whose `.grad` is kept (`retainGrad()`), if any. */
  retained: Variable | null = null;

  constructor(
    op: string,
    rule: VjpRule<Primitive> | null,
    custom: CustomBackward | null,
    params: Params<Primitive>,
    inputs: readonly Variable[],
    needs: number,
    keepInputs: boolean,
    y: Tensor | null,
    dtype: DType,
  ) {
    this.op = op;
    this.rule = rule;
    this.custom = custom;
    this.params = params;
    this.needs = needs;
    this.shapes = inputs.map((v) => v.shape);
    if (keepInputs) {
      this.inputs = inputs;
      this.x = inputs.map((v) => v.value);
      this.versions = inputs.map((v) => v.version);
    } else {
      this.inputs = inputs.map((v) => (v.requiresGrad ? v : null));
      this.x = EMPTY;
      this.versions = null;
    }
    this.y = y;
    this.dtype = dtype;
  }

  get arity(): number {
    return this.inputs.length;
  }

  same(i: number, j: number): boolean {
    const a = this.inputs[i];
    return a?.requiresGrad === true && a === this.inputs[j];
  }

  shape(i: number): Shape {
    return this.shapes[i]!;
  }

  /** Drops what the backward pass needed (retainGraph: false), remembering what that was. */
  release(): void {
    if (this.freed !== null) return;
    const dropped: string[] = [];
    if (this.x.length > 0) dropped.push(`its saved inputs (${this.inputs.map((v) => v?.label() ?? "a constant").join(", ")})`);
    if (this.y !== null) dropped.push("its saved output");
    if (this.custom !== null) dropped.push("the customVjp residuals its backward closes over");
    if (dropped.length > 0) this.freed = dropped.join(" and ");
    this.x = EMPTY;
    this.y = null;
    this.custom = null;
  }

  describe(): string {
    return `${this.op} (node #${this.seq})`;
  }
}

// ── the trace ──────────────────────────────────────────────────────────────────────────────

class ImperativeTrace extends Trace {
  readonly name = "imperative";

  constructor() {
    super(0);
  }

  /** whileLoop refuses values this tape differentiates (structured control flow, issue 19). */
  override get reverseMode(): boolean {
    return true;
  }

  constant(value: Tensor): Variable {
    return new Variable(value, false, null);
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>, out: Aval): Tracer {
    const n = inputs.length;
    const primals = new Array<Tensor>(n);
    let needs = 0;
    for (let i = 0; i < n; i++) {
      const v = inputs[i] as Variable;
      primals[i] = v.value;
      if (v.requiresGrad) needs |= needsBit(i);
    }
    const value = fastPrimal(prim, primals, params) ?? evalPrimitive(prim, primals, params, out);
    if (config.debugNans) checkNans(`imperative: ${prim}`, primals, value);
    const rule = DEFINITIONS[prim].vjp as VjpRule<Primitive>;
    if (needs === 0 || !gradEnabled || rule.vjp === null || !isFloat(out.dtype)) return new Variable(value, false, null);
    const node = new GradNode(
      prim,
      rule,
      null,
      params as Params<Primitive>,
      inputs as Variable[],
      needs,
      savesInputs(rule),
      savesOutput(rule) ? value : null,
      out.dtype,
    );
    return new Variable(value, true, node);
  }

  /**
   * customVjp: `fwd` runs on the variables themselves, so its residuals stay connected to the
   * graph (a backward pass with createGraph differentiates `bwd` through them); the output is
   * `fwd`'s value, detached, with a node that calls `bwd`.
   */
  override processCustomVjp(rule: CustomVjpRule, inputs: Tracer[]): Tensor {
    const vars = inputs as Variable[];
    if (!gradEnabled || !vars.some((v) => v.requiresGrad)) return new Variable(plain(rule.fun(...vars)), false, null);
    const [output, residuals] = checkCustomRule("fwd", rule, rule.fwd(...vars));
    const value = plain(output);
    if (config.debugNans)
      checkNans(
        "imperative: customVjp",
        vars.map((v) => v.value),
        value,
      );
    if (!isFloat(value.dtype)) return new Variable(value, false, null);
    const backward: CustomBackward = (ct) => checkCustomRule("bwd", rule, rule.bwd(residuals, ct), vars);
    return this.recordCustom("customVjp", vars, value, backward);
  }

  /**
   * customJvp: the value comes from `fun` (eagerly); the reverse rule is the transpose of the
   * user's linear jvp, recorded on a nested reverse tape with the variables as primals (so the
   * rule's coefficients stay connected to the graph for createGraph).
   */
  override processCustomJvp(rule: CustomJvpRule, inputs: Tracer[]): Tensor {
    const vars = inputs as Variable[];
    const value = plain(withGradMode("customJvp", false, () => rule.fun(...vars)));
    if (config.debugNans)
      checkNans(
        "imperative: customJvp",
        vars.map((v) => v.value),
        value,
      );
    if (!gradEnabled || !vars.some((v) => v.requiresGrad) || !isFloat(value.dtype)) return new Variable(value, false, null);
    const { pullback } = reverseVjp(
      (tangents) => [checkCustomRule("jvp", rule, rule.jvp(vars, tangents), value)[1]],
      vars.map((v) => zeros(v.shape as number[], v.dtype)),
    );
    return this.recordCustom("customJvp", vars, value, (ct) => pullback([ct]));
  }

  private recordCustom(op: string, vars: Variable[], value: Tensor, backward: CustomBackward): Variable {
    let needs = 0;
    for (let i = 0; i < vars.length; i++) if (vars[i]!.requiresGrad) needs |= needsBit(i);
    const node = new GradNode(op, null, backward, {} as Params<Primitive>, vars, needs, false, null, value.dtype);
    return new Variable(value, true, node);
  }
}

/** The one imperative trace: level 0, always active, never on ir's stack. */
export const IMPERATIVE: Trace = new ImperativeTrace();

/** The concrete value of a variable (other tensors unchanged). */
export function plain(t: Tensor): Tensor {
  return t instanceof Variable ? t.value : t;
}

// ── variables ──────────────────────────────────────────────────────────────────────────────

/**
 * A tensor that remembers how it was computed (PyTorch's Tensor with requires_grad). Pass it to
 * any ir op; results that depend on a variable requiring grad are variables with a `gradFn`.
 */
export class Variable extends Tracer {
  private current: Tensor;
  private flag: boolean;
  /** The op that produced this value (null for leaves and for values that need no gradient). */
  readonly node: GradNode | null;
  /** Accumulated gradient (leaves that require grad, and variables after `retainGrad()`). */
  grad: Tensor | null = null;
  /** Bumped whenever a new value is assigned (PyTorch's version counter). */
  version = 0;
  /** Name used in messages (modules set it to the parameter's path, e.g. "0.weight"). */
  name: string | undefined;
  /** Hooks on a leaf. */
  hooks: GradHook[] | null = null;

  constructor(value: Tensor, requiresGrad: boolean, node: GradNode | null) {
    super(value);
    this.current = value;
    this.flag = requiresGrad;
    this.node = node;
  }

  get trace(): Trace {
    return IMPERATIVE;
  }

  concrete(): Tensor {
    return this.current;
  }

  /** The current value, a concrete Tensor. */
  get value(): Tensor {
    return this.current;
  }

  /**
   * Replaces a leaf's value (what `optimizer.step()` does; PyTorch's in-place update). Shape and
   * dtype must stay; the version is bumped so a backward pass that saved the old value fails.
   */
  set value(next: Tensor) {
    if (this.node !== null) {
      throw new AutogradError(
        "ARGUMENT",
        `assign: expected a leaf variable, got ${this.describe()} (a non-leaf value is part of a graph and cannot change; use ` +
          "detach() for a leaf copy)",
      );
    }
    if (!(next instanceof Tensor) || next instanceof Tracer) {
      throw new AutogradError(
        "ARGUMENT",
        `assign: expected a concrete Tensor, got ${next instanceof Tracer ? next.describe() : typeof next}`,
      );
    }
    if (next.dtype !== this.dtype || next.shape.length !== this.shape.length || next.shape.some((d, i) => d !== this.shape[i])) {
      throw new AutogradError(
        "ARGUMENT",
        `assign: expected a ${this.dtype}${formatShape(this.shape)} value for ${this.label()}, got ${next.dtype}${formatShape(next.shape)}`,
      );
    }
    this.current = next;
    this.version++;
  }

  /** True when gradients flow to or through this value. */
  get requiresGrad(): boolean {
    return this.flag;
  }

  set requiresGrad(flag: boolean) {
    if (this.node !== null && !flag) {
      throw new AutogradError(
        "ARGUMENT",
        `requiresGrad: expected a leaf variable, got ${this.describe()} (use detach() to stop gradients through a computed value)`,
      );
    }
    if (flag && !isFloat(this.dtype)) {
      throw new AutogradError(
        "ARGUMENT",
        `requiresGrad: expected a float variable (float64 or float32), got ${this.dtype}: only floating-point values have gradients`,
      );
    }
    this.flag = flag;
  }

  /** Sets requiresGrad and returns this (torch's requires_grad_()). */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** True for values not produced by a recorded op (created by the user, or not requiring grad). */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** The name of the recorded op that produced this value (PyTorch's grad_fn), or null. */
  get gradFn(): string | null {
    return this.node === null ? null : this.node.op;
  }

  /**
   * Computes the gradient of this value with respect to every leaf that requires grad and adds it
   * to their `.grad`: `loss.backward()` for a scalar, `y.backward(gradient)` otherwise (the
   * gradient of something with respect to y, y's shape). Frees the graph unless `retainGraph`.
   */
  backward(gradient?: Tensor | number | BackwardOptions, options?: BackwardOptions): void {
    runBackward(this, gradient, options);
  }

  /** A new leaf with the same value that does not require grad (torch's detach()). */
  detach(): Variable {
    return new Variable(this.current, false, null);
  }

  /** Keeps this non-leaf value's gradient in `.grad` after backward (leaves always keep theirs). */
  retainGrad(): this {
    if (!this.flag) throw new AutogradError("ARGUMENT", `retainGrad: expected a variable that requires grad, got ${this.describe()}`);
    if (this.node !== null) this.node.retained = this;
    return this;
  }

  /**
   * Calls `hook(grad)` whenever a gradient for this value is computed, before it is accumulated
   * (leaves) or propagated (non-leaves); a returned tensor replaces the gradient.
   */
  registerHook(hook: GradHook): HookHandle {
    if (typeof hook !== "function") throw new AutogradError("ARGUMENT", `registerHook: expected a function, got ${typeof hook}`);
    if (!this.flag) {
      throw new AutogradError(
        "ARGUMENT",
        `registerHook: expected a variable that requires grad, got ${this.describe()} (gradients never reach it)`,
      );
    }
    const owner: { hooks: GradHook[] | null } = this.node ?? this;
    owner.hooks ??= [];
    owner.hooks.push(hook);
    return {
      remove: () => {
        const list = owner.hooks;
        const k = list === null ? -1 : list.indexOf(hook);
        if (k >= 0) list!.splice(k, 1);
      },
    };
  }

  /** Forgets the accumulated gradient (torch's `grad = None`). */
  zeroGrad(): void {
    this.grad = null;
  }

  /** The value as nested arrays. */
  override toArray(): ReturnType<Tensor["toArray"]> {
    return this.current.toArray();
  }

  /** How messages name this variable. */
  label(): string {
    return this.name !== undefined ? `'${this.name}'` : `a ${this.dtype}${formatShape(this.shape)} variable`;
  }

  override describe(): string {
    const what = this.name !== undefined ? `variable '${this.name}' ${this.typeString()}` : `variable ${this.typeString()}`;
    if (this.node !== null) return `${what} (gradFn ${this.node.op})`;
    return `${what} (leaf${this.flag ? ", requires grad" : ", does not require grad"})`;
  }

  override toString(): string {
    const detail = this.node !== null ? `, gradFn=${this.node.op}` : this.flag ? ", requiresGrad=true" : "";
    return `Variable(${this.current.toString()}${detail})`;
  }
}

export interface VariableOptions {
  /** Record ops on this value so gradients reach it (default false for `variable`, true for `parameter`). */
  readonly requiresGrad?: boolean;
  /** Name used in messages and by modules. */
  readonly name?: string;
}

function asConcrete(op: string, value: unknown): Tensor {
  if (value instanceof Variable) return value.value;
  if (value instanceof Tracer) {
    throw new AutogradError(
      "ARGUMENT",
      `${op}: expected a concrete value, got a ${value.describe()} (create variables outside grad/jvp/jit; inside them use the ` +
        "transformation's own inputs)",
    );
  }
  if (value instanceof Tensor) return value;
  throw new AutogradError("ARGUMENT", `${op}: expected a Tensor, got ${value === null ? "null" : typeof value}`);
}

/** A leaf variable holding `value` (a Tensor; ir's `tensor(…)` makes one from arrays). */
export function variable(value: Tensor, options: VariableOptions = {}): Variable {
  const v = new Variable(asConcrete("variable", value), false, null);
  if (options.requiresGrad === true) v.requiresGrad = true;
  if (options.name !== undefined) v.name = options.name;
  return v;
}

/**
 * A leaf that requires grad, collected by modules' `parameters()` (torch.nn.Parameter).
 */
export class Parameter extends Variable {
  constructor(value: Tensor, name?: string) {
    super(asConcrete("parameter", value), false, null);
    this.requiresGrad = true;
    if (name !== undefined) this.name = name;
  }
}

/** A leaf that requires grad: `parameter(t)` is `variable(t, { requiresGrad: true })` for modules. */
export function parameter(value: Tensor, options: { readonly name?: string } = {}): Parameter {
  return new Parameter(value, options.name);
}

/** True for a variable (a value recorded by imperative autograd): narrows ir's `Tensor` type. */
export function isVariable(value: unknown): value is Variable {
  return value instanceof Variable;
}
