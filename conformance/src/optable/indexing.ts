/** Per-op table rows: strided slices, N-d dot, takeAlongAxis and functional index updates (at). */
import type { OpRow } from "../optable.js";

export function indexRows(): OpRow[] {
  return [];
}
