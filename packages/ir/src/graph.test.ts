import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  ConcretizationError,
  GraphError,
  type Tensor,
  add,
  evalGraph,
  exp,
  graphToAscii,
  graphToDot,
  graphToMermaid,
  graphToText,
  matmul,
  mul,
  sub,
  sum,
  tensor,
  toFunction,
  trace,
  traceWith,
  validateGraph,
  valueNames,
  zeros,
  type Graph,
} from "./index.js";

const seed = (x: never, y: never) => mul(add(x, y), sub(x, y));
const model = () =>
  traceWith(
    { names: ["w", "x"] },
    (w: Tensor, x: Tensor) => ({ loss: sum(mul(matmul(x, w), 2)), k: 3 }),
    zeros([3, 2], "float32"),
    zeros([4, 3], "float32"),
  );

describe("trace", () => {
  it("records primitives with typed inputs and outputs, and the argument/result structures", () => {
    const g = model();
    expect(g.inputs).toEqual([
      { id: 0, shape: [3, 2], dtype: "float32", name: "w" },
      { id: 1, shape: [4, 3], dtype: "float32", name: "x" },
    ]);
    expect(g.nodes.map((n) => [n.op, n.inputs, n.params, n.shape, n.dtype])).toEqual([
      ["matmul", [1, 0], {}, [4, 2], "float32"],
      ["mul", [2, 3], {}, [4, 2], "float32"],
      ["reduceSum", [4], { axes: [0, 1] }, [], "float32"],
    ]);
    expect(g.constants.map((c) => [c.id, c.dtype, c.value.item()])).toEqual([
      [3, "float32", 2],
      [6, "float64", 3],
    ]);
    expect(g.outputs).toEqual([5, 6]);
    expect(g.outTree).toEqual({ kind: "object", keys: ["loss", "k"], children: [{ kind: "tensor" }, { kind: "number" }] });
    expect(g.inTree).toEqual({ kind: "array", children: [{ kind: "tensor" }, { kind: "tensor" }] });
  });

  it("folds operations on constants only, and reuses a constant used twice", () => {
    const c = tensor([1, 2]);
    const g = trace((x: Tensor) => add(mul(x, exp(0)), add(c, c)), zeros([2]));
    expect(g.nodes.map((n) => n.op)).toEqual(["mul", "add"]);
    expect(g.constants.map((k) => k.value.toArray())).toEqual([1, [2, 4]]);
    const h = trace((x: Tensor) => add(mul(x, c), c), zeros([2]));
    expect(h.constants).toHaveLength(1);
  });

  it("returns an input directly, and pytree arguments", () => {
    const g = trace((p: { a: Tensor; b: Tensor[] }) => [p.b[0], p.a], { a: 1, b: [tensor([1, 2])] });
    expect(g.nodes).toHaveLength(0);
    expect(g.outputs).toEqual([1, 0]);
    expect((toFunction(g)({ a: 5, b: [tensor([7, 8])] }) as Tensor[]).map((t) => t.toArray())).toEqual([[7, 8], 5]);
  });

  it("refuses to read traced values, saying what to do instead", () => {
    const message =
      "trace: cannot read the value of a traced f64[] tensor while tracing: the graph must not depend on data (an if/loop on a " +
      "traced value, .item(), .toArray()). Use where(cond, a, b) to select between values, cond(pred, trueFn, falseFn, ...operands) " +
      "to branch, and forLoop(lower, upper, body, init), whileLoop or scan to loop, instead of a JavaScript if or loop on a traced value.";
    expectError(() => trace((x: Tensor) => x.item(), 1), ConcretizationError, message);
    expectError(() => trace((x: Tensor) => (x.toArray() as number) + 1, 1), ConcretizationError, message);
    expectError(() => trace((x: Tensor) => (mul(x, 2).data[0]! > 0 ? x : 0), 1), ConcretizationError, message);
    expectError(
      () => traceWith({ name: "jit" }, (x: Tensor) => x.item(), zeros([2])),
      ConcretizationError,
      message.replace("trace:", "jit:").replace("f64[]", "f64[2]"),
    );
  });

  it("rejects bad arguments", () => {
    expectError(() => trace(5 as never), ArgumentError, "trace: expected a function, got number 5");
    expectError(
      () => trace((x: never) => x, "s"),
      ArgumentError,
      'trace: expected numbers, Tensors, arrays or plain objects, got string "s" at args[0]',
    );
    expectError(
      () => trace(() => "out" as never),
      ArgumentError,
      'trace: expected numbers, Tensors, arrays or plain objects, got string "out" at f\'s result',
    );
    expectError(
      () => traceWith({ names: ["x y"] }, (x: never) => x, 1),
      ArgumentError,
      'trace: expected names to be at most 1 identifier (one per input leaf), got ["x y"]',
    );
  });

  it("a tracer leaked out of a finished trace is refused", () => {
    let leaked: Tensor | undefined;
    trace((x: Tensor) => {
      leaked = x;
      return x;
    }, 1);
    try {
      add(leaked!, 1);
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe("ESCAPED_TRACER");
      expect((e as Error).message).toBe(
        "add: expected values of active transformations, got a trace tracer f64[] from a transformation that has already " +
          "returned (a tracer leaked out of grad/jvp/jit, e.g. stored in an outer variable)",
      );
    }
  });

  it("a tracer of an enclosing trace used inside an inner one must be passed as an argument", () => {
    expectError(
      () => trace((x: Tensor) => trace((y: Tensor) => add(x, y), 1).nodes.length, 1),
      ArgumentError,
      "trace: expected the traced function to use only its arguments and constants, got a closed-over trace tracer f64[] from an " +
        "enclosing transformation; pass it to the function as an argument instead",
    );
  });
});

describe("evalGraph and toFunction", () => {
  it("a graph computes what the function computes", () => {
    const g = trace(seed, 3, 2);
    expectTensor(evalGraph(g, [tensor(3), tensor(2)])[0], 5);
    const f = toFunction(g);
    expectTensor(f(10, 4), 84);
    expectTensor(f(tensor(10), 4), 84);
    const m = toFunction(model());
    const out = m(
      tensor(
        [
          [1, 0],
          [0, 1],
          [1, 1],
        ],
        { dtype: "float32" },
      ),
      tensor(
        [
          [1, 2, 3],
          [0, 0, 0],
          [1, 1, 1],
          [2, 0, 0],
        ],
        { dtype: "float32" },
      ),
    ) as { loss: Tensor; k: Tensor };
    expectTensor(out.loss, 2 * (1 + 3 + 2 + 3 + 0 + 0 + 1 + 1 + 1 + 1 + 2 + 0 + 0 + 0 + 0), { dtype: "float32" });
    expectTensor(out.k, 3);
  });

  it("JS numbers take the dtype of the graph input they stand for", () => {
    const g = trace((x: Tensor) => mul(x, 2), tensor(1, { dtype: "float32" }));
    expectTensor(toFunction(g)(1.5), 3, { dtype: "float32" });
  });

  it("checks inputs: count, structure, shape, dtype, type", () => {
    const g = trace(seed, 3, 2);
    const f = toFunction(g);
    expectError(() => evalGraph(g, [tensor(1)]), ArgumentError, "evalGraph: expected 2 inputs, got 1");
    expectError(
      () => evalGraph(g, [tensor(1), tensor([1, 2])]),
      ArgumentError,
      "evalGraph: expected input 1 of type f64[], got Tensor f64[2]",
    );
    expectError(() => evalGraph(g, [tensor(1), 2 as never]), ArgumentError, "evalGraph: expected input 1 to be a Tensor, got number 2");
    expectError(() => evalGraph(g, "x" as never), ArgumentError, 'evalGraph: expected an array of input tensors, got string "x"');
    expectError(() => f(1, tensor(2, { dtype: "float32" })), ArgumentError, "evalGraph: expected input 1 of type f64[], got Tensor f32[]");
    expectError(
      () => f([1, 2]),
      ArgumentError,
      "graph function: expected arguments with the structure [number, number], got [[number, number]]",
    );
    expectError(
      () => f(1, 2, 3),
      ArgumentError,
      "graph function: expected arguments with the structure [number, number], got [number, number, number]",
    );
  });
});

describe("validateGraph", () => {
  const good = (): Graph => trace(seed, 3, 2);
  const broken = (change: (g: { -readonly [K in keyof Graph]: unknown }) => void): Graph => {
    const g = { ...good() } as { -readonly [K in keyof Graph]: unknown };
    change(g);
    return g as Graph;
  };
  it("accepts traced graphs", () => {
    expect(() => validateGraph(good())).not.toThrow();
    expect(() => validateGraph(model())).not.toThrow();
  });

  it("names what is wrong", () => {
    expectError(() => validateGraph(null as never), GraphError, "graph: expected a graph object, got null");
    expectError(
      () => validateGraph(broken((g) => (g.nodes = {}))),
      GraphError,
      "graph: expected inputs, constants, nodes and outputs arrays",
    );
    expectError(
      () => validateGraph(broken((g) => (g.nodes = [...good().nodes, 7]))),
      GraphError,
      "graph: expected each node to be an object, got number 7",
    );
    expectError(() => validateGraph(broken((g) => (g.outputs = [9]))), GraphError, "graph: expected outputs to be defined values, got 9");
    expectError(
      () => validateGraph(broken((g) => (g.nodes = [...good().nodes].reverse()))),
      GraphError,
      "graph: expected node 4 (mul) to use values defined before it, got 2",
    );
    expectError(
      () => validateGraph(broken((g) => (g.nodes = good().nodes.map((n) => (n.id === 3 ? { ...n, id: 2 } : n))))),
      GraphError,
      "graph: expected unique ids, got 2 twice",
    );
    expectError(
      () => validateGraph(broken((g) => (g.nodes = good().nodes.map((n) => (n.id === 4 ? { ...n, shape: [1] } : n))))),
      GraphError,
      "graph: expected node 4 (mul) to declare f64[], got f64[1]",
    );
    expectError(
      () => validateGraph(broken((g) => (g.nodes = good().nodes.map((n) => (n.id === 4 ? { ...n, op: "mull" } : n))))),
      GraphError,
      'graph: expected a known op, got "mull" at node 4',
    );
    expectError(
      () => validateGraph(broken((g) => (g.nodes = good().nodes.map((n) => (n.id === 4 ? { ...n, params: { axis: 1 } } : n))))),
      GraphError,
      "graph: expected node 4 (mul) params {}, got {axis}",
    );
    expectError(
      () => validateGraph(broken((g) => (g.outTree = { kind: "array", children: [] }))),
      GraphError,
      "graph: expected outTree with 1 leaf, got 0",
    );
    expectError(
      () => validateGraph(broken((g) => (g.inputs = [{ id: 0, shape: [], dtype: "float64", name: "a-b" }, good().inputs[1]]))),
      GraphError,
      'graph: expected input 0 name to be an identifier, got "a-b"',
    );
  });
});

describe("printing", () => {
  it("text: one line per value with its type", () => {
    expect(graphToText(model())).toBe(
      [
        "graph(w: f32[3,2], x: f32[4,3]) {",
        "  c3: f32[] = 2",
        "  c6: f64[] = 3",
        "  v2: f32[4,2] = matmul(x, w)",
        "  v4: f32[4,2] = mul(v2, c3)",
        "  v5: f32[] = reduceSum(v4) {axes=[0,1]}",
        "  return v5, c6",
        "}",
      ].join("\n"),
    );
    expect(graphToText(trace((x: never) => sum(x), zeros([2])))).toBe(
      ["graph(x0: f64[2]) {", "  v1: f64[] = reduceSum(x0) {axes=[0]}", "  return v1", "}"].join("\n"),
    );
  });

  it("DOT: ellipses for inputs/constants, boxes for ops, DOT line breaks in labels", () => {
    expect(graphToDot(traceWith({ names: ["x", "y"] }, seed, 3, 2))).toBe(
      [
        'digraph "graph" {',
        "  rankdir=LR;",
        '  node [fontname="Helvetica"];',
        '  n0 [label="x: f64[]", shape=ellipse];',
        '  n1 [label="y: f64[]", shape=ellipse];',
        '  n2 [label="v2 = add\\nf64[]", shape=box];',
        "  n0 -> n2;",
        "  n1 -> n2;",
        '  n3 [label="v3 = sub\\nf64[]", shape=box];',
        "  n0 -> n3;",
        "  n1 -> n3;",
        '  n4 [label="v4 = mul\\nf64[]", shape=box];',
        "  n2 -> n4;",
        "  n3 -> n4;",
        '  out0 [label="output 0", shape=plaintext];',
        "  n4 -> out0;",
        "}",
      ].join("\n"),
    );
    const dot = graphToDot(model(), { title: 'say "hi"' });
    expect(dot.split("\n")[0]).toBe('digraph "say \\"hi\\"" {');
    expect(dot).toContain('  n5 [label="v5 = reduceSum {axes=[0,1]}\\nf32[]", shape=box];');
    expect(dot).toContain('  n3 [label="2", shape=ellipse, style=dashed];');
    const cast = graphToDot(trace((x: never) => add(x, tensor(1, { dtype: "float32" })), tensor(1, { dtype: "int32" })));
    expect(cast).toContain('[label="v1 = cast {dtype=\\"float32\\"}\\nf32[]", shape=box];');
    expect(dot.split("\n").every((line) => line === "}" || line.startsWith("digraph") || line.startsWith("  "))).toBe(true);
  });

  it("Mermaid: a left-to-right flowchart", () => {
    expect(graphToMermaid(traceWith({ names: ["x", "y"] }, seed, 3, 2))).toBe(
      [
        "flowchart LR",
        '  n0(["x: f64[]"])',
        '  n1(["y: f64[]"])',
        '  n2["v2 = add"]',
        "  n0 --> n2",
        "  n1 --> n2",
        '  n3["v3 = sub"]',
        "  n0 --> n3",
        "  n1 --> n3",
        '  n4["v4 = mul"]',
        "  n2 --> n4",
        "  n3 --> n4",
        '  out0(("out 0"))',
        "  n4 --> out0",
      ].join("\n"),
    );
  });

  it("DOT and Mermaid: annotate adds lines under a value's label (inputs, constants, nodes), escaped", () => {
    const shared = trace((x: Tensor) => add(x, 1), 3);
    const note = (id: number) => (id === 0 ? 'x is "3"\nsecond line' : id === 1 ? "one" : id === 2 ? "4" : undefined);
    expect(graphToDot(shared, { annotate: note }).split("\n").slice(3, 6)).toEqual([
      '  n0 [label="x0: f64[]\\nx is \\"3\\"\\nsecond line", shape=ellipse];',
      '  n1 [label="1\\none", shape=ellipse, style=dashed];',
      '  n2 [label="v2 = add\\nf64[]\\n4", shape=box];',
    ]);
    expect(graphToMermaid(shared, { annotate: note }).split("\n").slice(1, 4)).toEqual([
      '  n0(["x0: f64[]<br/>x is #quot;3#quot;<br/>second line"])',
      '  n1(["1<br/>one"])',
      '  n2["v2 = add<br/>4"]',
    ]);
    // no annotation (undefined or "") leaves the plain output unchanged
    const g = traceWith({ names: ["x", "y"] }, seed, 3, 2);
    for (const annotate of [() => undefined, () => ""]) {
      expect(graphToDot(g, { annotate, title: "t" })).toBe(graphToDot(g, { title: "t" }));
      expect(graphToMermaid(g, { annotate })).toBe(graphToMermaid(g));
    }
  });

  it("ASCII: an expression tree per output; shared nodes drawn once", () => {
    expect(graphToAscii(model())).toBe(
      ["v5 = reduceSum", "└── v4 = mul", "    ├── v2 = matmul", "    │   ├── x", "    │   └── w", "    └── 2", "3"].join("\n"),
    );
    const shared = trace((x: Tensor) => {
      const s = add(x, 1);
      return mul(s, s);
    }, 1);
    expect(graphToAscii(shared)).toBe(["v3 = mul", "├── v2 = add", "│   ├── x0", "│   └── 1", "└── v2 (above)"].join("\n"));
    expect(graphToAscii(shared, (id) => (id === 3 ? "= 4" : undefined))).toBe(
      ["v3 = mul  = 4", "├── v2 = add", "│   ├── x0", "│   └── 1", "└── v2 (above)"].join("\n"),
    );
  });

  it("valueNames: inputs by name or x{i}, constants c{id}, nodes v{id}", () => {
    expect([...valueNames(model()).entries()]).toEqual([
      [0, "w"],
      [1, "x"],
      [3, "c3"],
      [6, "c6"],
      [2, "v2"],
      [4, "v4"],
      [5, "v5"],
    ]);
  });
});
