import { describe, expect, it } from "vitest";
import {
  add,
  graphToAscii,
  graphToDot,
  graphToMermaid,
  graphToText,
  mul,
  parseGraph,
  serializeGraph,
  sub,
  toFunction,
  trace,
  traceWith,
} from "./index.js";

const f = (x: never, y: never) => mul(add(x, y), sub(x, y));

describe("the seed function f(x, y) = (x + y)(x − y)", () => {
  it("evaluates eagerly to 5 at (3, 2)", () => {
    const out = mul(add(3, 2), sub(3, 2));
    expect(out.item()).toBe(5);
    expect(out.shape).toEqual([]);
    expect(out.dtype).toBe("float64");
  });

  it("traces to a graph of three primitive nodes", () => {
    const graph = traceWith({ names: ["x", "y"] }, f, 3, 2);
    expect(graph.nodes.map((n) => n.op)).toEqual(["add", "sub", "mul"]);
    expect(graph.inputs).toHaveLength(2);
    expect(graph.constants).toHaveLength(0);
  });

  it("prints as text, DOT, Mermaid and ASCII", () => {
    const graph = traceWith({ names: ["x", "y"] }, f, 3, 2);
    expect(graphToText(graph)).toBe(
      [
        "graph(x: f64[], y: f64[]) {",
        "  v2: f64[] = add(x, y)",
        "  v3: f64[] = sub(x, y)",
        "  v4: f64[] = mul(v2, v3)",
        "  return v4",
        "}",
      ].join("\n"),
    );
    const dot = graphToDot(graph);
    expect(dot).toContain("digraph");
    expect(dot).toContain("n0 -> n2;");
    expect(dot).toContain('label="v4 = mul');
    const mermaid = graphToMermaid(graph);
    expect(mermaid.split("\n")[0]).toBe("flowchart LR");
    expect(mermaid).toContain("n2 --> n4");
    expect(graphToAscii(graph)).toBe(
      ["v4 = mul", "├── v2 = add", "│   ├── x", "│   └── y", "└── v3 = sub", "    ├── x", "    └── y"].join("\n"),
    );
  });

  it("survives a JSON round trip and still computes 5", () => {
    const graph = trace(f, 3, 2);
    const text = serializeGraph(graph);
    const back = parseGraph(text);
    expect(serializeGraph(back)).toBe(text);
    expect((toFunction(back)(3, 2) as { item(): number }).item()).toBe(5);
    expect((toFunction(back)(10, 4) as { item(): number }).item()).toBe(84);
  });
});
