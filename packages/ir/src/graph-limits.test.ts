/**
 * Graphs from outside are limited: a document of a few hundred bytes cannot make evalGraph or
 * toFunction allocate gigabytes or compute for seconds — the limits are checked, with the graph's
 * validity, before anything is allocated.
 */
import { describe, expect, it } from "vitest";
import { ArgumentError, GraphError } from "./errors.js";
import { checkGraphLimits, DEFAULT_GRAPH_LIMITS, evalGraph, graphCost, toFunction, trace } from "./graph.js";
import { GRAPH_FORMAT, GRAPH_FORMAT_VERSION, parseGraph } from "./json.js";
import { neg, sum } from "./ops.js";
import { tensor } from "./tensor.js";

/** A document: input x f64[1], then `nodes` (ids from 1), output the last node. */
function document(nodes: object[]): string {
  const ids = nodes.map((_, i) => i + 1);
  return JSON.stringify({
    format: GRAPH_FORMAT,
    version: GRAPH_FORMAT_VERSION,
    inputs: [{ id: 0, shape: [1], dtype: "float64" }],
    constants: [],
    nodes: nodes.map((n, i) => ({ id: ids[i], ...n })),
    outputs: [ids[ids.length - 1]],
    inTree: { kind: "array", children: [{ kind: "tensor" }] },
    outTree: { kind: "tensor" },
  });
}

/** 8 GiB: x broadcast to 2^31 float64 elements. */
const HUGE_ALLOCATION = document([{ op: "broadcastTo", inputs: [0], params: { shape: [2 ** 30] }, shape: [2 ** 30], dtype: "float64" }]);

/** A chain of matrix products of 2048² (8.6·10⁹ multiply-adds each) on 4 Mi elements. */
const HUGE_WORK = document([
  { op: "broadcastTo", inputs: [0], params: { shape: [2048, 2048] }, shape: [2048, 2048], dtype: "float64" },
  ...[2, 3, 4].map((id) => ({ op: "matmul", inputs: [id - 1, id - 1], params: {}, shape: [2048, 2048], dtype: "float64" })),
]);

/** The GraphError `f` throws, within `ms` milliseconds (nothing was allocated or computed first). */
function limitError(f: () => unknown, ms = 200): string {
  const started = performance.now();
  try {
    f();
  } catch (error) {
    expect(performance.now() - started).toBeLessThan(ms);
    expect(error).toBeInstanceOf(GraphError);
    return (error as Error).message;
  }
  throw new Error("expected a GraphError, got none");
}

describe("limits on graphs from outside", () => {
  it("the crafted documents are small and valid", () => {
    expect(HUGE_ALLOCATION.length).toBeLessThan(500);
    expect(HUGE_WORK.length).toBeLessThan(700);
    expect(graphCost(parseGraph(HUGE_ALLOCATION)).elements).toBe(2 ** 30 + 1);
    expect(graphCost(parseGraph(HUGE_WORK)).work).toBeGreaterThan(3 * 2048 ** 3);
  });

  it("evalGraph refuses a 8 GiB value before allocating it, naming the limit and how to raise it", () => {
    const g = parseGraph(HUGE_ALLOCATION);
    expect(limitError(() => evalGraph(g, [tensor([1])]))).toBe(
      `evalGraph: expected a graph whose values hold at most ${2 ** 26} elements in all (maxElements), got ${2 ** 30 + 1}; ` +
        "for a graph you trust, raise the limit with evalGraph(…, { maxElements: n })",
    );
    expect(limitError(() => toFunction(g))).toMatch(
      /^toFunction: expected a graph whose values hold at most .*toFunction\(…, \{ maxElements: n \}\)$/,
    );
  });

  it("evalGraph refuses a chain of huge matrix products before computing", () => {
    const g = parseGraph(HUGE_WORK);
    expect(limitError(() => evalGraph(g, [tensor([1])]))).toMatch(
      new RegExp(
        `^evalGraph: expected a graph of at most ${2 ** 30} elementary operations per evaluation \\(maxWork\\), got \\d+; ` +
          "for a graph you trust, raise the limit with evalGraph\\(…, \\{ maxWork: n \\}\\)$",
      ),
    );
  });

  it("the limits are exact and can be raised (or lowered) per call", () => {
    const g = trace((x) => sum(neg(x)), tensor([1, 2, 3]));
    const { elements, work } = graphCost(g);
    expect([elements, work]).toEqual([3 + 3 + 1, 3 + 3]);
    expect(evalGraph(g, [tensor([1, 2, 3])], { maxElements: elements, maxWork: work })[0]!.item()).toBe(-6);
    expect(limitError(() => evalGraph(g, [tensor([1, 2, 3])], { maxElements: elements - 1 }))).toMatch(/\(maxElements\), got 7/);
    expect(limitError(() => evalGraph(g, [tensor([1, 2, 3])], { maxWork: work - 1 }))).toMatch(/\(maxWork\), got 6/);
    expect((toFunction(g, { maxWork: work })(tensor([1, 2, 3])) as { item(): number }).item()).toBe(-6);
    expect(() => checkGraphLimits("evalGraph", g, { maxWork: 0 })).toThrow(ArgumentError);
    expect(() => checkGraphLimits("evalGraph", g, { maxElements: Number.NaN })).toThrow(
      /expected maxElements to be an integer ≥ 1, got number NaN/,
    );
    expect(DEFAULT_GRAPH_LIMITS).toEqual({ maxElements: 2 ** 26, maxWork: 2 ** 30 });
    expect(Object.isFrozen(DEFAULT_GRAPH_LIMITS)).toBe(true);
  });

  it("evalGraph validates a graph built by hand before evaluating it (declared shapes cannot hide the work)", () => {
    const g = parseGraph(HUGE_ALLOCATION);
    // the node declares a small shape; the op would still build 2^30 elements
    const lying = { ...g, nodes: [{ ...g.nodes[0]!, shape: [1] }] };
    expect(limitError(() => evalGraph(lying, [tensor([1])]))).toMatch(
      /^evalGraph: graph: expected node 1 \(broadcastTo\) to declare f64\[1073741824\]/,
    );
  });
});
