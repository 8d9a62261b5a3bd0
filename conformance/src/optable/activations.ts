/** Per-op table rows: activations and losses. */
import type { OpRow } from "../optable.js";

export function activationRows(): OpRow[] {
  return [];
}
