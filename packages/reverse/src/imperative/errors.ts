/** The errors of imperative autograd: one class, a stable `reason` for each situation. */
import { ChainruleError, type ErrorCode } from "@chainrule/ir";

/**
 * - `ARGUMENT`: a bad argument (the ir code says the rest).
 * - `NO_GRAD`: backward on a value that does not require grad.
 * - `NOT_SCALAR`: backward on a non-scalar output without a gradient.
 * - `GRAPH_FREED`: a second backward through a graph freed by the first (no retainGraph).
 * - `MODIFIED`: a value saved for backward was assigned a new value after it was saved.
 */
export type AutogradReason = "ARGUMENT" | "NO_GRAD" | "NOT_SCALAR" | "GRAPH_FREED" | "MODIFIED";

export class AutogradError extends ChainruleError {
  override name = "AutogradError";
  readonly reason: AutogradReason;
  constructor(reason: AutogradReason, message: string, code: ErrorCode = "ARGUMENT") {
    super(code, message);
    this.reason = reason;
  }
}
