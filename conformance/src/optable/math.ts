/** Per-op table rows: elementwise math, predicates and logic, gelu. */
import type { OpRow } from "../optable.js";

export function mathRows(): OpRow[] {
  return [];
}
