/** Library-wide switches shared by every engine. */
import { ArgumentError, checkArity, describeValue, NanError } from "./errors.js";
import { formatShape } from "./shape.js";
import { Tensor } from "./tensor.js";

export interface Config {
  /**
   * NaN-debug mode: engines check each primitive they apply (forward and backward) and throw a
   * `NanError` naming the first one that makes a NaN from non-NaN inputs. Slow; for debugging.
   */
  debugNans: boolean;
}

let debugNans = false;

/**
 * The switches (sealed: no other keys can be added; assigning a non-boolean to `debugNans` is an
 * ArgumentError, so `config.debugNans = "no"` cannot silently turn it on).
 */
export const config: Config = Object.seal({
  get debugNans(): boolean {
    return debugNans;
  },
  set debugNans(value: boolean) {
    if (typeof value !== "boolean") throw new ArgumentError(`config.debugNans: expected a boolean, got ${describeValue(value)}`);
    debugNans = value;
  },
});

/** Runs `body` with NaN-debug mode on (restoring the previous setting afterwards). */
export const withDebugNans = checkArity("withDebugNans", 1, 1, <R>(body: () => R): R => {
  if (typeof body !== "function") throw new ArgumentError(`withDebugNans: expected a function, got ${describeValue(body)}`);
  const previous = debugNans;
  debugNans = true;
  try {
    return body();
  } finally {
    debugNans = previous;
  }
});

function hasNan(t: Tensor): boolean {
  const data = t.data;
  for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) return true;
  return false;
}

/**
 * For engines in NaN-debug mode: throws when `output` holds a NaN although no input does.
 * `where` says who is asking, e.g. "reverse: backward pass of log".
 */
export const checkNans = checkArity("checkNans", 3, 3, (where: string, inputs: readonly Tensor[], output: Tensor): void => {
  if (typeof where !== "string") throw new ArgumentError(`checkNans: expected a description (a string), got ${describeValue(where)}`);
  if (!Array.isArray(inputs) || !inputs.every((t) => t instanceof Tensor) || !(output instanceof Tensor)) {
    throw new ArgumentError(
      `checkNans: expected an array of input Tensors and an output Tensor, got ${describeValue(inputs)} and ${describeValue(output)}`,
    );
  }
  if (!hasNan(output) || inputs.some((t) => hasNan(t))) return;
  throw new NanError(
    `${where} produced NaN from non-NaN inputs (shapes ${inputs.map((t) => formatShape(t.shape)).join(", ")} → ` +
      `${formatShape(output.shape)})`,
  );
});
