/** Per-op table rows: reductions, scans and sorting. */
import type { OpRow } from "../optable.js";

export function reductionRows(): OpRow[] {
  return [];
}
