/** DOT → SVG in-process with Graphviz compiled to WebAssembly (@viz-js/viz): no system binary. */
import { instance, type Viz } from "@viz-js/viz";

let viz: Promise<Viz> | undefined;

/** Renders Graphviz DOT source to an SVG document (a string starting with `<?xml` or `<svg`). */
export async function renderSvg(dot: string): Promise<string> {
  viz ??= instance();
  const result = (await viz).render(dot, { format: "svg" });
  if (result.status !== "success") {
    const messages = result.errors.map((e) => e.message).join("; ");
    throw new Error(`renderSvg: expected valid DOT, got Graphviz errors: ${messages}`);
  }
  return result.output;
}
