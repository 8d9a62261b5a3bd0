/** Functions with user-supplied derivative rules, honored by every engine. */
import { ArgumentError, checkArity, describeValue } from "./errors.js";
import { toOperand, type TensorLike } from "./coerce.js";
import { bindCustomJvp, bindCustomVjp, type CustomJvpRule, type CustomVjpRule } from "./trace.js";
import type { Tensor } from "./tensor.js";

/**
 * `customJvp(fun, jvp)` returns a function that computes `fun(...args)` but whose derivative is
 * given by `jvp([...primals], [...tangents]) → [primalOut, tangentOut]` (linear in the tangents;
 * reverse-mode engines transpose it). Arguments are tensors (or numbers); the output is one tensor.
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
 * `fwd(...args) → [output, residuals]` runs in the forward pass. Forward-mode engines apply the
 * rule by transposing `bwd` (which must be linear in the cotangent).
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
