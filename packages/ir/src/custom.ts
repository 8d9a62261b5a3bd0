/** Functions with user-supplied derivative rules, honored by every engine. */
import { ArgumentError, checkArity, describeValue } from "./errors.js";
import { toOperand, type TensorLike } from "./coerce.js";
import { bindCustomJvp, bindCustomVjp, type CustomJvpRule, type CustomVjpRule } from "./trace.js";
import { scalar, Tensor } from "./tensor.js";
import { DTypeError, ShapeError } from "./errors.js";
import { isFloat } from "./dtype.js";
import type { Aval } from "./primitives.js";
import { formatShape, shapesEqual } from "./shape.js";

// ── what engines check of a custom rule (customJvp and customVjp themselves are below) ────

/** How messages name a custom function: the name of `fun`, or "anonymous". */
function customRuleName(rule: CustomJvpRule | CustomVjpRule): string {
  const name = typeof rule?.fun === "function" ? rule.fun.name : undefined;
  return typeof name === "string" && name !== "" ? name : "anonymous";
}

/**
 * Forward mode reached a `customVjp` function with a non-zero tangent. Engines throw it instead
 * of guessing a forward rule from `bwd`; `defineEngine`'s "auto" Jacobian catches it and builds
 * the Jacobian by rows instead.
 */
export class ForwardModeError extends ArgumentError {
  override name = "ForwardModeError";
  /** The custom function's name (`fun.name`, or "anonymous"). */
  readonly functionName: string;
  constructor(rule: CustomVjpRule) {
    const name = customRuleName(rule);
    super(
      `customVjp: can't apply forward-mode autodiff (jvp) to the customVjp function "${name}": its rule (fwd, bwd) ` +
        "defines reverse mode only, and bwd need not be linear; define a forward rule with customJvp, or differentiate it " +
        "in reverse mode (grad or vjp of the reverse or jit engine: the forward engine computes every derivative in forward mode)",
    );
    this.functionName = name;
  }
}

function isAval(value: unknown): value is Aval {
  const v = value as Aval | null | undefined;
  return typeof v === "object" && v !== null && Array.isArray(v.shape) && typeof v.dtype === "string";
}

function typeOf(value: unknown): string {
  return value instanceof Tensor ? `${value.dtype}${formatShape(value.shape)}` : describeValue(value);
}

function checkJvpRule(rule: CustomJvpRule, result: unknown, output: Aval | undefined): [Tensor, Tensor] {
  const name = customRuleName(rule);
  if (!Array.isArray(result) || result.length !== 2 || !(result[0] instanceof Tensor) || !(result[1] instanceof Tensor)) {
    const got = Array.isArray(result) && result.length === 2 ? `[${typeOf(result[0])}, ${typeOf(result[1])}]` : describeValue(result);
    throw new ArgumentError(
      `customJvp: expected the jvp rule of "${name}" to return [primal output, tangent output] (two Tensors), got ${got}`,
    );
  }
  const [primal, tangent] = result as [Tensor, Tensor];
  if (output !== undefined && (!shapesEqual(primal.shape, output.shape) || primal.dtype !== output.dtype)) {
    const Err = shapesEqual(primal.shape, output.shape) ? DTypeError : ShapeError;
    throw new Err(
      `customJvp: expected the jvp rule of "${name}" to return a primal output of type ${output.dtype}${formatShape(output.shape)} ` +
        `(the function's output), got ${typeOf(primal)}`,
    );
  }
  if (!shapesEqual(tangent.shape, primal.shape) || tangent.dtype !== primal.dtype) {
    const Err = shapesEqual(tangent.shape, primal.shape) ? DTypeError : ShapeError;
    throw new Err(
      `customJvp: expected the jvp rule of "${name}" to return a tangent of type ${primal.dtype}${formatShape(primal.shape)} ` +
        `(the primal output's), got ${typeOf(tangent)}`,
    );
  }
  return [primal, tangent];
}

function checkFwd(rule: CustomVjpRule, result: unknown): [Tensor, unknown] {
  if (!Array.isArray(result) || result.length !== 2 || !(result[0] instanceof Tensor)) {
    const got = Array.isArray(result) && result.length === 2 ? `[${typeOf(result[0])}, residuals]` : describeValue(result);
    throw new ArgumentError(`customVjp: expected fwd of "${customRuleName(rule)}" to return [output Tensor, residuals], got ${got}`);
  }
  return result as [Tensor, unknown];
}

function checkBwd(rule: CustomVjpRule, result: unknown, inputs: readonly Aval[]): (Tensor | null)[] {
  const name = customRuleName(rule);
  const n = inputs.length;
  if (!Array.isArray(result) || result.length !== n) {
    throw new ArgumentError(
      `customVjp: expected bwd of "${name}" to return an array of ${n} cotangent${n === 1 ? "" : "s"} (one per argument), ` +
        `got ${describeValue(result)}`,
    );
  }
  return inputs.map((input, i) => {
    const given: unknown = result[i];
    if (given === null || given === undefined) return null;
    const want = `${input.dtype}${formatShape(input.shape)}`;
    const ct = typeof given === "number" && input.shape.length === 0 ? scalar(given, input.dtype) : given;
    const what = `cotangent ${i} of type ${want} (argument ${i}'s) or null`;
    if (!(ct instanceof Tensor)) throw new ArgumentError(`customVjp: expected bwd of "${name}" to return ${what}, got ${typeOf(ct)}`);
    if (!shapesEqual(ct.shape, input.shape))
      throw new ShapeError(`customVjp: expected bwd of "${name}" to return ${what}, got ${typeOf(ct)}`);
    // a non-float argument gets no gradient: whatever dtype its cotangent has, it is dropped
    if (!isFloat(input.dtype)) return null;
    if (ct.dtype !== input.dtype) throw new DTypeError(`customVjp: expected bwd of "${name}" to return ${what}, got ${typeOf(ct)}`);
    return ct;
  });
}

/**
 * Checks what a custom rule returned, with the same messages in every engine, and returns it
 * typed. `"jvp"`: a customJvp rule's `[primal output, tangent]` (two Tensors; the tangent of the
 * primal output's shape and dtype; with `output`, the primal output of that type too).
 * `"fwd"`: a customVjp `fwd`'s `[output Tensor, residuals]`. `"bwd"`: a customVjp `bwd`'s
 * cotangents, one per argument of `inputs`' shape and dtype, each a Tensor, a number for a
 * rank-0 argument, or null/undefined for zero (returned as null; non-float arguments get null).
 */
export function checkCustomRule(kind: "jvp", rule: CustomJvpRule, result: unknown, output?: Aval): [Tensor, Tensor];
export function checkCustomRule(kind: "fwd", rule: CustomVjpRule, result: unknown): [Tensor, unknown];
export function checkCustomRule(kind: "bwd", rule: CustomVjpRule, result: unknown, inputs: readonly Aval[]): (Tensor | null)[];
export function checkCustomRule(
  kind: "jvp" | "fwd" | "bwd",
  rule: CustomJvpRule | CustomVjpRule,
  result: unknown,
  expected?: Aval | readonly Aval[],
): unknown {
  switch (kind) {
    case "jvp":
      if (expected !== undefined && !isAval(expected)) {
        throw new ArgumentError(`checkCustomRule: expected the output's type for "jvp", got ${describeValue(expected)}`);
      }
      return checkJvpRule(rule as CustomJvpRule, result, expected);
    case "fwd":
      return checkFwd(rule as CustomVjpRule, result);
    case "bwd":
      if (!Array.isArray(expected) || !expected.every(isAval)) {
        throw new ArgumentError(`checkCustomRule: expected the arguments' types for "bwd", got ${describeValue(expected)}`);
      }
      return checkBwd(rule as CustomVjpRule, result, expected);
    default:
      throw new ArgumentError(`checkCustomRule: expected the kind "jvp", "fwd" or "bwd", got ${describeValue(kind)}`);
  }
}

// ── the custom functions ────────────────────────────────────────────────────────────────────

/**
 * `customJvp(fun, jvp)` returns a function that computes `fun(...args)` but whose derivative is
 * given by `jvp([...primals], [...tangents]) → [primalOut, tangentOut]` (linear in the tangents;
 * reverse-mode engines transpose it). Arguments are tensors (or numbers); the output is one tensor.
 * The tangent must have the primal output's shape and dtype (every engine checks what the rule
 * returns with `checkCustomRule`, so a bad rule gets the same message in every engine).
 * For higher derivatives the rule itself is differentiated, so write it with chainrule ops.
 */
export const customJvp = checkArity(
  "customJvp",
  2,
  2,
  (
    fun: (...args: Tensor[]) => Tensor,
    jvp: (primals: Tensor[], tangents: Tensor[]) => [Tensor, Tensor],
  ): ((...args: TensorLike[]) => Tensor) => {
    if (typeof fun !== "function" || typeof jvp !== "function") {
      throw new ArgumentError(`customJvp: expected (fun, jvp) functions, got ${describeValue(fun)} and ${describeValue(jvp)}`);
    }
    const rule: CustomJvpRule = { fun, jvp };
    return (...args) =>
      bindCustomJvp(
        rule,
        args.map((a) => toOperand("customJvp", a)),
      );
  },
);

/**
 * `customVjp(fun, fwd, bwd)` returns a function that computes `fun(...args)` but whose reverse
 * derivative is `bwd(residuals, cotangent) → [one cotangent per argument]`, where
 * `fwd(...args) → [output, residuals]` runs in the forward pass. Each cotangent has its
 * argument's shape and dtype, or is null for zero (a JS number for a rank-0 argument). The rule is
 * reverse-only, as in JAX: forward mode (`jvp`, and whatever an engine builds on it) raises a
 * `ForwardModeError` naming the function, since `bwd` need not be linear (gradient clipping);
 * define a forward rule with `customJvp` instead. Reverse over reverse (and forward over reverse)
 * differentiate `fwd` and `bwd` as ordinary code.
 */
export const customVjp = checkArity(
  "customVjp",
  3,
  3,
  <R>(
    fun: (...args: Tensor[]) => Tensor,
    fwd: (...args: Tensor[]) => [Tensor, R],
    bwd: (residuals: R, cotangent: Tensor) => Tensor[],
  ): ((...args: TensorLike[]) => Tensor) => {
    if (typeof fun !== "function" || typeof fwd !== "function" || typeof bwd !== "function") {
      throw new ArgumentError(
        `customVjp: expected (fun, fwd, bwd) functions, got ${describeValue(fun)}, ${describeValue(fwd)} and ${describeValue(bwd)}`,
      );
    }
    const rule: CustomVjpRule = { fun, fwd, bwd: bwd as CustomVjpRule["bwd"] };
    return (...args) =>
      bindCustomVjp(
        rule,
        args.map((a) => toOperand("customVjp", a)),
      );
  },
);
