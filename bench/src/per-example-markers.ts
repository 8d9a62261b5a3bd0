/** The markers around the per-example-gradient section of RESULTS.md (written by per-example.ts, kept by main.ts). */
export const PER_EXAMPLE_BEGIN = "<!-- per-example gradients: begin -->";
export const PER_EXAMPLE_END = "<!-- per-example gradients: end -->";
