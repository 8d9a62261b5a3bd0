/**
 * The reverse-mode engine: `defineEngine` over a flat `vjp` (the tape) and a flat `jvp` obtained
 * from it, plus a lean `grad`/`valueAndGrad` for the common case of plain arguments.
 *
 * - vjp: native (record the tape, sweep it backward).
 * - jvp: the double-vjp trick. The pullback ct ↦ Jᵀct is linear in ct, so differentiating it in
 *   reverse mode (a second tape, recorded while the first pullback runs on tracer cotangents)
 *   and pulling the tangent back through that gives (Jᵀ)ᵀ·t = J·t.
 * - jacobian: rows from pullbacks (one backward sweep per output element).
 * - hessian: reverse-over-reverse (the jacobian, by rows, of the gradient).
 * - hvp: reverse-over-reverse, H·v = pullback of the gradient map applied to v (H is symmetric).
 */
import {
  isFloat,
  describeValue,
  ArgumentError,
  ChainruleError,
  config,
  defineEngine,
  DTypeError,
  findTopTrace,
  flatten,
  formatShape,
  ones,
  rejectExtraArguments,
  scalar,
  ShapeError,
  Tensor,
  Tracer,
  withTrace,
  zeros,
  type AnyFunction,
  type Argnums,
  type Engine,
  type EngineCore,
  type FlatFunction,
} from "@chainrule/ir";
import { detach, poolingEnabled, SweepPool, swapPool } from "./arith.js";
import { scalarBackward } from "./scalar.js";
import { makeTrace, outputSlot, primalOf, reverseVjp, type ReverseTrace } from "./tape.js";

const core: EngineCore = {
  name: "reverse",
  jacobianMode: "reverse",
  vjp(f: FlatFunction, primals: Tensor[]) {
    const { outputs, pullback } = reverseVjp(f, primals);
    return { outputs, pullback };
  },
  jvp(f: FlatFunction, primals: Tensor[], tangents: Tensor[]) {
    // the first tape stands for forward mode: a customVjp function on it is an error
    const { outputs, pullback } = reverseVjp(f, primals, true);
    // differentiate the (linear) pullback, then pull the tangents back through it; linearity means
    // any point will do: ones rather than zeros keep 0/0 out of NaN-debug's sight (sqrt at 0)
    const seeds = outputs.map((o) => ones(o.shape as number[], o.dtype));
    const transposed = reverseVjp((cts) => pullback(cts), seeds);
    return { outputs, tangents: transposed.pullback(tangents) };
  },
};

const generic = defineEngine(core);

// ── the lean path for grad / valueAndGrad ──────────────────────────────────────────────────
// Taken when every differentiated argument is a JS number or a float Tensor (not a pytree) and
// argnums is valid; anything else goes to the generic implementation, which also produces every
// error message, so the two paths cannot disagree on what is an error.

function isLeaf(value: unknown): boolean {
  // a leaked tracer (of a transformation that has returned) goes to the generic path, which rejects it
  return (
    typeof value === "number" || (value instanceof Tensor && isFloat(value.dtype) && !(value instanceof Tracer && !value.trace.active))
  );
}

function leafTensor(value: unknown): Tensor {
  return typeof value === "number" ? scalar(value) : (value as Tensor);
}

/** The indices in `argnums` if the lean path applies, else undefined. */
function leanArgnums(argnums: unknown, args: readonly unknown[]): readonly number[] | undefined {
  const n = args.length;
  if (typeof argnums === "number") {
    if (!Number.isInteger(argnums) || argnums < 0 || argnums >= n || !isLeaf(args[argnums])) return undefined;
    return [argnums];
  }
  if (!Array.isArray(argnums) || argnums.length === 0) return undefined;
  for (let i = 0; i < argnums.length; i++) {
    const a = argnums[i] as unknown;
    if (typeof a !== "number" || !Number.isInteger(a) || a < 0 || a >= n || !isLeaf(args[a])) return undefined;
    for (let j = 0; j < i; j++) if (argnums[j] === a) return undefined;
  }
  return argnums as readonly number[];
}

/** A tracer of a transformation that has returned (other than `trace`, just finished) raises the escaped-tracer error. */
function rejectLeaked(op: string, value: unknown, trace: ReverseTrace): void {
  if (value instanceof Tracer && value.trace !== trace) findTopTrace(op, [value]);
}

/** The scalar output of f, as defineEngine checks it (same messages). */
function scalarOutput(op: string, result: unknown, trace: ReverseTrace): { value: Tensor; wasNumber: boolean } {
  rejectLeaked(op, result, trace);
  if (result instanceof Tensor && result.shape.length === 0 && isFloat(result.dtype)) return { value: result, wasNumber: false };
  if (typeof result === "number") return { value: scalar(result), wasNumber: true };
  const { leaves } = flatten(result, op, "f's result");
  if (leaves.length !== 1 || (typeof leaves[0] !== "number" && leaves[0]!.shape.length !== 0)) {
    const got = leaves.length === 1 ? `shape ${formatShape((leaves[0] as Tensor).shape)}` : `${leaves.length} outputs`;
    throw new ShapeError(`${op}: expected f to return a scalar, got ${got}`);
  }
  const leaf = leaves[0]!;
  rejectLeaked(op, leaf, trace);
  const value = typeof leaf === "number" ? scalar(leaf) : leaf;
  if (!isFloat(value.dtype)) throw new DTypeError(`${op}: expected f to return a float scalar, got ${value.dtype}`);
  return { value, wasNumber: typeof leaf === "number" };
}

/** A concrete scalar becomes a JS number when wanted; tracers stay tensors. */
function asNumberIf(value: Tensor, wanted: boolean): Tensor | number {
  return wanted && value.shape.length === 0 && !(value instanceof Tracer) ? value.data[0]! : value;
}

function leanValueAndGrad(op: string, f: AnyFunction, nums: readonly number[], single: boolean, args: unknown[]): [unknown, unknown] {
  const k = nums.length;
  const copy = args.slice();
  const inputs = new Array<Tensor>(k);
  for (let i = 0; i < k; i++) inputs[i] = leafTensor(args[nums[i]!]);
  let result: unknown;
  // the forward pass takes large results from the free list of earlier sweeps (see SweepPool)
  const outer = swapPool(poolingEnabled() ? new SweepPool(false) : null);
  let trace: ReverseTrace;
  try {
    trace = withTrace(makeTrace, (t) => {
      for (let i = 0; i < k; i++) copy[nums[i]!] = t.input(inputs[i]!);
      result = f(...copy);
      return t;
    });
  } finally {
    swapPool(outer);
  }
  const out = scalarOutput(op, result, trace);
  const slot = outputSlot(trace, out.value);
  const value = primalOf(trace, out.value);
  let allNumbers = true;
  for (let i = 0; i < k; i++) if (typeof args[nums[i]!] !== "number") allNumbers = false;
  const grads = new Array<unknown>(k);
  if (trace.scalarTape && value.dtype === "float64" && !config.debugNans) {
    // numbers all the way: no tensor is allocated by the backward sweep
    const adjoints = scalarBackward(trace.nodes, trace.slots, slot);
    for (let i = 0; i < k; i++) {
      const a = adjoints[i];
      const x = inputs[i]!;
      grads[i] =
        a === undefined
          ? asNumberIf(zeros(x.shape as number[], x.dtype), typeof args[nums[i]!] === "number")
          : typeof args[nums[i]!] === "number"
            ? a
            : scalar(a);
    }
  } else {
    const wanted = new Array<number>(k);
    for (let i = 0; i < k; i++) wanted[i] = i;
    const adjoints = trace.backward([slot], [scalar(1, value.dtype)], wanted);
    for (let i = 0; i < k; i++) {
      const x = inputs[i]!;
      grads[i] = asNumberIf(detach(adjoints[i] ?? zeros(x.shape as number[], x.dtype)), typeof args[nums[i]!] === "number");
    }
  }
  return [asNumberIf(detach(value), allNumbers || out.wasNumber), single ? grads[0] : grads];
}

/** `[value, gradient]` of f at an argument list: the lean path when it applies, else defineEngine's. */
function valueAndGradFor(
  op: "grad" | "valueAndGrad",
  f: AnyFunction,
  argnums: Argnums,
  extra: readonly unknown[],
): (args: unknown[]) => [unknown, unknown] {
  rejectExtraArguments(op, "(f, argnums)", extra);
  const fallback =
    op === "grad"
      ? (args: unknown[]) => [undefined, (generic.grad(f, argnums as 0) as AnyFunction)(...args)] as [unknown, unknown]
      : (args: unknown[]) => (generic.valueAndGrad(f, argnums as 0) as AnyFunction)(...args) as [unknown, unknown];
  const single = typeof argnums === "number";
  return (args) => {
    const nums = typeof f === "function" ? leanArgnums(argnums, args) : undefined;
    return nums === undefined ? fallback(args) : leanValueAndGrad(op, f, nums, single, args);
  };
}

/** The reverse-mode `Engine` (name "reverse"). */
/** Options given (`{ hasAux: true }`, or any object to be checked): the generic implementation takes them. */
const withOptions = (argnums: unknown, extra: readonly unknown[]): boolean =>
  (argnums !== null && typeof argnums === "object" && !Array.isArray(argnums)) || extra.some((e) => e !== undefined);

export const engine: Engine = {
  ...generic,
  grad: ((f: AnyFunction, argnums: Argnums = 0, ...extra: unknown[]) => {
    if (withOptions(argnums, extra)) return (generic.grad as AnyFunction)(f, argnums, ...extra);
    const both = valueAndGradFor("grad", f, argnums, extra);
    return (...args: unknown[]) => both(args)[1];
  }) as Engine["grad"],
  valueAndGrad: ((f: AnyFunction, argnums: Argnums = 0, ...extra: unknown[]) => {
    if (withOptions(argnums, extra)) return (generic.valueAndGrad as AnyFunction)(f, argnums, ...extra);
    const both = valueAndGradFor("valueAndGrad", f, argnums, extra);
    return (...args: unknown[]) => both(args);
  }) as Engine["valueAndGrad"],
  hvp: ((f: AnyFunction, primals: unknown[], tangents: unknown[], ...extra: unknown[]) => {
    if (typeof f !== "function") throw new ArgumentError(`hvp: expected a function, got ${describeValue(f)}`);
    rejectExtraArguments("hvp", "(f, primals, tangents)", extra);
    if (!Array.isArray(primals)) throw new ArgumentError(`hvp: expected primals as an array of arguments, got ${describeValue(primals)}`);
    if (!Array.isArray(tangents))
      throw new ArgumentError(`hvp: expected tangents as an array of arguments, got ${describeValue(tangents)}`);
    const all = primals.map((_, i) => i);
    const gradient = engine.grad(f, all) as AnyFunction;
    try {
      // H·v = (∇²f)ᵀ·v: the pullback of the gradient map (reverse over reverse)
      const [, pullback] = generic.vjp(gradient, ...(primals as never[]));
      return pullback(tangents as never);
    } catch (error) {
      // errors of the inner transformations speak for hvp, as defineEngine's do
      if (error instanceof ChainruleError) {
        const prefix = /^(vjp pullback|vjp|grad): /.exec(error.message);
        if (prefix !== null) error.message = `hvp: ${error.message.slice(prefix[0].length).replace("a cotangent", "tangents")}`;
      }
      throw error;
    }
  }) as Engine["hvp"],
};

export const { grad, valueAndGrad, jvp, vjp, jacobian, hessian, hvp } = engine;
// issue 19 (xforms): the named Jacobians, linearize and checkpoint (also for the imperative API's Variables)
export const { jacfwd, jacrev, linearize, checkpoint } = engine;

export { core as reverseCore };
