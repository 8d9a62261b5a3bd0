/** compileGraph checks what a graph from outside demands before optimizing or allocating anything. */
import { GRAPH_FORMAT, GRAPH_FORMAT_VERSION, GraphError, neg, parseGraph, sum, tensor, trace, graphCost, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { compileGraph } from "./index.js";
import { runCompiled } from "./compile.js";

/** A document: input x f64[1], then `nodes` (ids from 1), output the last node. */
function document(nodes: object[]): string {
  return JSON.stringify({
    format: GRAPH_FORMAT,
    version: GRAPH_FORMAT_VERSION,
    inputs: [{ id: 0, shape: [1], dtype: "float64" }],
    constants: [],
    nodes: nodes.map((n, i) => ({ id: i + 1, ...n })),
    outputs: [nodes.length],
    inTree: { kind: "array", children: [{ kind: "tensor" }] },
    outTree: { kind: "tensor" },
  });
}

function limitError(f: () => unknown): string {
  const started = performance.now();
  try {
    f();
  } catch (error) {
    expect(performance.now() - started).toBeLessThan(200);
    expect(error).toBeInstanceOf(GraphError);
    return (error as Error).message;
  }
  throw new Error("expected a GraphError, got none");
}

describe("compileGraph limits", () => {
  it("refuses a 500-byte document declaring 8 GiB values (the pooled buffers would be allocated at compile time)", () => {
    const text = document([
      { op: "broadcastTo", inputs: [0], params: { shape: [2 ** 30] }, shape: [2 ** 30], dtype: "float64" },
      { op: "neg", inputs: [1], params: {}, shape: [2 ** 30], dtype: "float64" },
      { op: "reduceSum", inputs: [2], params: { axes: [0] }, shape: [], dtype: "float64" },
    ]);
    expect(text.length).toBeLessThanOrEqual(500);
    expect(limitError(() => compileGraph(parseGraph(text)))).toBe(
      `compileGraph: expected a graph whose values hold at most 67108864 elements in all (maxElements), got ${2 ** 31 + 2}; ` +
        "for a graph you trust, raise the limit with compileGraph(…, { maxElements: n })",
    );
  });

  it("refuses a chain of huge matrix products of constants (constant folding would compute them while compiling)", () => {
    const text = JSON.stringify({
      ...JSON.parse(document([])),
      inputs: [],
      constants: [{ id: 0, shape: [1], dtype: "float64", data: [1] }],
      nodes: [
        { id: 1, op: "broadcastTo", inputs: [0], params: { shape: [2048, 2048] }, shape: [2048, 2048], dtype: "float64" },
        { id: 2, op: "matmul", inputs: [1, 1], params: {}, shape: [2048, 2048], dtype: "float64" },
        { id: 3, op: "matmul", inputs: [2, 2], params: {}, shape: [2048, 2048], dtype: "float64" },
      ],
      outputs: [3],
      inTree: { kind: "array", children: [] },
    });
    expect(limitError(() => compileGraph(parseGraph(text)))).toMatch(
      /^compileGraph: expected a graph of at most 1073741824 elementary operations/,
    );
  });

  it("raising the limits compiles a graph that needs them", () => {
    const g = trace((x: Tensor) => sum(neg(x)), tensor([1, 2, 3]));
    const { elements, work } = graphCost(g);
    expect(limitError(() => compileGraph(g, { maxWork: work - 1 }))).toMatch(/\(maxWork\), got 6/);
    const c = compileGraph(g, { maxElements: elements, maxWork: work });
    expect(runCompiled(c, [tensor([1, 2, 3])])[0]!.item()).toBe(-6);
  });
});
