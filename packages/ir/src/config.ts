/** Library-wide switches shared by every engine. */
export interface Config {
  /**
   * NaN-debug mode: engines check each primitive they apply (forward and backward) and throw a
   * `NanError` naming the first one that makes a NaN from non-NaN inputs. Slow; for debugging.
   */
  debugNans: boolean;
}

export const config: Config = { debugNans: false };

/** Runs `body` with NaN-debug mode on (restoring the previous setting afterwards). */
export function withDebugNans<R>(body: () => R): R {
  const previous = config.debugNans;
  config.debugNans = true;
  try {
    return body();
  } finally {
    config.debugNans = previous;
  }
}

import { NanError } from "./errors.js";
import { formatShape } from "./shape.js";
import type { Tensor } from "./tensor.js";

function hasNan(t: Tensor): boolean {
  const data = t.data;
  for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) return true;
  return false;
}

/**
 * For engines in NaN-debug mode: throws when `output` holds a NaN although no input does.
 * `where` says who is asking, e.g. "reverse: backward pass of log".
 */
export function checkNans(where: string, inputs: readonly Tensor[], output: Tensor): void {
  if (!hasNan(output) || inputs.some(hasNan)) return;
  throw new NanError(
    `${where} produced NaN from non-NaN inputs (shapes ${inputs.map((t) => formatShape(t.shape)).join(", ")} → ` +
      `${formatShape(output.shape)})`,
  );
}
