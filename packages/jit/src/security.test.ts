/**
 * Injection fuzzing: hostile graphs (names, ops, params, constants, ids, shapes, tree keys crafted
 * to break out of generated code) are parsed and compiled; none may execute injected code. Valid
 * graphs with extreme constants must compile to code that computes exactly what evalGraph does.
 */
import { describe, expect, it } from "vitest";
import { ChainruleError, evalGraph, GRAPH_FORMAT, GRAPH_FORMAT_VERSION, parseGraph, Tensor, type Graph } from "@chainrule/ir";
import { compileGraph, runCompiled } from "./compile.js";

const g = globalThis as { __pwned?: number };
const PAYLOADS = [
  `x); globalThis.__pwned = 1; (`,
  `"; globalThis.__pwned = 1; "`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-literal payload, as a plain string on purpose
  "`${globalThis.__pwned = 1}`",
  `*/ globalThis.__pwned = 1; /*`,
  `\n globalThis.__pwned = 1; //`,
  `1) + (globalThis.__pwned = 1`,
  `]; globalThis.__pwned = 1; [`,
  `constructor`,
  `__proto__`,
  `toString`,
  `add\u2028globalThis.__pwned=1`,
];

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function baseGraph(): Record<string, unknown> {
  return {
    format: GRAPH_FORMAT,
    version: GRAPH_FORMAT_VERSION,
    inputs: [
      { id: 0, shape: [2], dtype: "float64", name: "x" },
      { id: 1, shape: [], dtype: "float64" },
    ],
    constants: [{ id: 2, shape: [2], dtype: "float64", data: [1.5, -2] }],
    nodes: [
      { id: 3, op: "mul", inputs: [0, 2], params: {}, shape: [2], dtype: "float64" },
      { id: 4, op: "add", inputs: [3, 1], params: {}, shape: [2], dtype: "float64" },
      { id: 5, op: "reduceSum", inputs: [4], params: { axes: [0] }, shape: [], dtype: "float64" },
      { id: 6, op: "slice", inputs: [4], params: { begin: [1], end: [2] }, shape: [1], dtype: "float64" },
    ],
    outputs: [5, 6],
    inTree: { kind: "array", children: [{ kind: "tensor" }, { kind: "number" }] },
    outTree: { kind: "object", keys: ["sum", "tail"], children: [{ kind: "tensor" }, { kind: "tensor" }] },
  };
}

/** Replaces one randomly chosen field somewhere in the graph with a hostile value. */
function mutate(graph: Record<string, unknown>, random: () => number): void {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const payload = pick(PAYLOADS);
  const hostile: unknown[] = [
    payload,
    { toString: () => payload },
    [payload],
    { [payload]: 1 },
    Number.NaN,
    -1,
    1.5,
    2 ** 60,
    null,
    "1e309",
    "Infinity",
  ];
  const nodes = graph.nodes as Record<string, unknown>[];
  const node = pick(nodes);
  const target = pick([
    "inputName",
    "op",
    "params",
    "paramValue",
    "constData",
    "dtype",
    "shape",
    "id",
    "inputs",
    "outputs",
    "treeKey",
    "treeKind",
    "format",
  ]);
  const value = pick(hostile);
  switch (target) {
    case "inputName":
      (graph.inputs as Record<string, unknown>[])[0]!.name = value;
      break;
    case "op":
      node.op = value;
      break;
    case "params":
      node.params = pick([{ [payload]: payload }, { axes: payload }, { axes: [payload] }, value]);
      break;
    case "paramValue":
      nodes[2]!.params = { axes: [value] };
      nodes[3]!.params = { begin: [value], end: [2] };
      break;
    case "constData":
      (graph.constants as Record<string, unknown>[])[0]!.data = [value, 1];
      break;
    case "dtype":
      node.dtype = value;
      break;
    case "shape":
      node.shape = [value];
      break;
    case "id":
      node.id = value;
      break;
    case "inputs":
      node.inputs = [value, 1];
      break;
    case "outputs":
      graph.outputs = [value];
      break;
    case "treeKey":
      graph.outTree = { kind: "object", keys: [payload, "tail"], children: [{ kind: "tensor" }, { kind: "tensor" }] };
      break;
    case "treeKind":
      graph.outTree = { kind: value, children: [] };
      break;
    case "format":
      graph[pick(["format", "version", payload])] = value;
      break;
  }
}

describe("security: generated code holds only numbers and identifiers the JIT made", () => {
  it("10,000 hostile graphs: each is rejected or compiles without executing injected code", () => {
    const random = rng(20261126);
    let compiled = 0;
    let rejected = 0;
    delete g.__pwned;
    for (let i = 0; i < 10000; i++) {
      const graph = baseGraph();
      const mutations = 1 + Math.floor(random() * 3);
      for (let m = 0; m < mutations; m++) mutate(graph, random);
      let parsed: Graph;
      try {
        parsed = parseGraph(i % 2 === 0 ? JSON.stringify(graph) : graph);
      } catch (error) {
        expect(error).toBeInstanceOf(ChainruleError);
        rejected++;
        continue;
      }
      const c = compileGraph(parsed);
      for (const payload of PAYLOADS) expect(c.source.includes(payload)).toBe(false);
      expect(c.source).not.toMatch(/__pwned/);
      runCompiled(c, [new Tensor("float64", [2], new Float64Array([1, 2])), new Tensor("float64", [], new Float64Array([3]))]);
      compiled++;
    }
    expect(g.__pwned).toBeUndefined();
    expect(rejected + compiled).toBe(10000);
    expect(compiled).toBeGreaterThan(100); // some mutations are harmless (e.g. a hostile output tree key)
    expect(rejected).toBeGreaterThan(5000);
  });

  it("hand-built graphs (not from JSON) are validated before compiling", () => {
    const bad = { ...parseGraph(baseGraph()) } as unknown as { nodes: unknown[] };
    bad.nodes = [{ id: 3, op: PAYLOADS[0], inputs: [0], params: {}, shape: [2], dtype: "float64" }];
    expect(() => compileGraph(bad as unknown as Graph)).toThrow(ChainruleError);
    expect(g.__pwned).toBeUndefined();
  });

  it("extreme constants are formatted exactly (NaN, ±Infinity, −0, subnormals, 1e308)", () => {
    const values = [
      Number.NaN,
      Infinity,
      -Infinity,
      -0,
      5e-324,
      -5e-324,
      1e308,
      -1.7976931348623157e308,
      0.1,
      1 / 3,
      123456789012345680000,
    ];
    for (const v of values) {
      const graph = baseGraph();
      (graph.constants as Record<string, unknown>[])[0]!.data = [v, v].map((x) =>
        Number.isNaN(x) ? "NaN" : x === Infinity ? "Infinity" : x === -Infinity ? "-Infinity" : x,
      );
      graph.outTree = { kind: "array", children: [{ kind: "tensor" }, { kind: "tensor" }] };
      const parsed = parseGraph(graph);
      const inputs = [new Tensor("float64", [2], new Float64Array([1, -2])), new Tensor("float64", [], new Float64Array([-0]))];
      const got = runCompiled(compileGraph(parsed), inputs).map((t) => Array.from(t.data));
      const want = evalGraph(parsed, inputs).map((t) => Array.from(t.data));
      expect(got.map((a) => a.map((x) => (Object.is(x, -0) ? "-0" : x)))).toEqual(
        want.map((a) => a.map((x) => (Object.is(x, -0) ? "-0" : x))),
      );
    }
  });
});
