/** Per-op table rows: shape ops. */
import type { OpRow } from "../optable.js";

export function shapeRows(): OpRow[] {
  return [];
}
