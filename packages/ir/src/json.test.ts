import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { expectError } from "./__tests__/helpers.js";
import { program, sameTensors, sampleInputs, toProgramFunction } from "./__tests__/random-programs.js";
import {
  GRAPH_FORMAT,
  GraphError,
  type Tensor,
  add,
  evalGraph,
  flatten,
  graphToJSON,
  mul,
  parseGraph,
  serializeGraph,
  sub,
  sum,
  tensor,
  toFunction,
  trace,
  traceWith,
  zeros,
} from "./index.js";

const seedGraph = () => traceWith({ names: ["x", "y"] }, (x: never, y: never) => mul(add(x, y), sub(x, y)), 3, 2);
/** A graph with every kind of field: named inputs, constants, params, pytree output with none. */
const richGraph = () =>
  traceWith({ names: ["w"] }, (w: Tensor) => ({ s: sum(add(w, tensor([1, 2], { dtype: "float32" })), 0), n: null }), zeros([2], "float32"));
const json = (g = richGraph()) => JSON.parse(serializeGraph(g)) as Record<string, any>;

describe("JSON round trip", () => {
  it("the seed graph: exact JSON text", () => {
    expect(serializeGraph(seedGraph())).toBe(
      '{"format":"chainrule.graph","version":1,' +
        '"inputs":[{"id":0,"shape":[],"dtype":"float64","name":"x"},{"id":1,"shape":[],"dtype":"float64","name":"y"}],' +
        '"constants":[],"nodes":[{"id":2,"op":"add","inputs":[0,1],"params":{},"shape":[],"dtype":"float64"},' +
        '{"id":3,"op":"sub","inputs":[0,1],"params":{},"shape":[],"dtype":"float64"},' +
        '{"id":4,"op":"mul","inputs":[2,3],"params":{},"shape":[],"dtype":"float64"}],"outputs":[4],' +
        '"inTree":{"kind":"array","children":[{"kind":"number"},{"kind":"number"}]},"outTree":{"kind":"tensor"}}',
    );
  });

  it("keeps NaN, ±Infinity and -0 constants, undefined vs null tree leaves (regressions)", () => {
    const c = tensor([NaN, Infinity, -Infinity, -0, 0]);
    const g = trace((x: Tensor) => [add(x, c), null, undefined], zeros([5]));
    const text = serializeGraph(g);
    expect(text).toContain('"data":["NaN","Infinity","-Infinity","-0",0]');
    const back = parseGraph(text);
    expect(serializeGraph(back)).toBe(text);
    expect(Object.is(back.constants[0]!.value.data[3], -0)).toBe(true);
    const out = toFunction(back)(zeros([5])) as unknown[];
    expect(out[1]).toBeNull();
    expect(out[2]).toBeUndefined();
    expect(out.length).toBe(3);
  });

  it("graphToJSON is plain data; parseGraph accepts it as well as text", () => {
    const data = graphToJSON(richGraph());
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
    expect(serializeGraph(parseGraph(data))).toBe(serializeGraph(richGraph()));
  });

  test.prop([program, fc.integer()], { numRuns: 150 })(
    "random graphs: serialize → parse → serialize is identical, and every form computes the same",
    (p, seed) => {
      const f = toProgramFunction(p);
      const inputs = sampleInputs(p, seed);
      const g = trace(f, ...inputs);
      const text = serializeGraph(g);
      const back = parseGraph(text);
      expect(serializeGraph(back)).toBe(text);
      const eager = f(...inputs).out;
      const fromGraph = (toFunction(g)(...inputs) as { out: Tensor[] }).out;
      const fromJson = (toFunction(back)(...inputs) as { out: Tensor[] }).out;
      expect(sameTensors(fromGraph, fromJson)).toBe(true);
      expect(sameTensors(eager, fromGraph)).toBe(true);
      expect(sameTensors(evalGraph(back, flatten(inputs).leaves as Tensor[]), fromJson)).toBe(true);
    },
  );
});

describe("hostile JSON is rejected with a GraphError", () => {
  const reject = (mutate: (g: Record<string, any>) => unknown, message: string) => {
    const g = json();
    const replaced = mutate(g);
    expectError(() => parseGraph(JSON.stringify(replaced ?? g)), GraphError, message);
  };

  it("not a graph", () => {
    expectError(
      () => parseGraph("{"),
      GraphError,
      `parseGraph: expected JSON text, got a syntax error (${(() => {
        try {
          JSON.parse("{");
        } catch (e) {
          return (e as Error).message;
        }
        return "";
      })()})`,
    );
    expectError(() => parseGraph("[]"), GraphError, "parseGraph: expected a graph object");
    expectError(() => parseGraph(null), GraphError, "parseGraph: expected a graph object");
    expectError(() => parseGraph(42), GraphError, "parseGraph: expected a graph object");
    reject((g) => ({ ...g, format: "other" }), `parseGraph: expected format "${GRAPH_FORMAT}", got "other"`);
    reject((g) => ({ ...g, version: 2 }), "parseGraph: expected version 1, got 2");
    reject((g) => ({ ...g, nodes: {} }), "parseGraph: expected nodes to be an array");
    reject((g) => {
      delete g["outputs"];
    }, 'parseGraph: expected field "outputs" in the graph');
  });

  it("extra fields anywhere, including __proto__ and constructor", () => {
    reject((g) => ({ ...g, extra: 1 }), 'parseGraph: unexpected field "extra" in the graph');
    reject((g) => {
      g["nodes"][0].note = "x";
    }, 'parseGraph: unexpected field "note" in node 0');
    reject((g) => {
      g["inputs"][0].extra = true;
    }, 'parseGraph: unexpected field "extra" in input 0');
    reject((g) => {
      g["constants"][0].meta = {};
    }, 'parseGraph: unexpected field "meta" in constant 0');
    expectError(
      () => parseGraph(serializeGraph(richGraph()).replace('{"format"', '{"__proto__":{"polluted":1},"format"')),
      GraphError,
      'parseGraph: unexpected field "__proto__" in the graph',
    );
    expectError(
      () => parseGraph(serializeGraph(richGraph()).replace('"params":{"axes":[0]}', '"params":{"axes":[0],"__proto__":{"polluted":1}}')),
      GraphError,
      'parseGraph: unexpected field "__proto__" in node 1 (reduceSum) params',
    );
    expectError(
      () => parseGraph(serializeGraph(richGraph()).replace('"params":{}', '"params":{"constructor":{"prototype":{"polluted":1}}}')),
      GraphError,
      'parseGraph: unexpected field "constructor" in node 0 (add) params',
    );
    reject((g) => {
      g["outTree"].children[0].extra = 3;
    }, 'parseGraph: unexpected field "extra" in a tree leaf');
    reject((g) => {
      g["outTree"].children = 3;
    }, "parseGraph: expected object tree keys (strings) matching its children");
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("unknown ops and wrong params", () => {
    reject((g) => {
      g["nodes"][0].op = "eval";
    }, 'parseGraph: expected node 0 op to be a known primitive, got "eval"');
    reject((g) => {
      g["nodes"][0].op = "__proto__";
    }, 'parseGraph: expected node 0 op to be a known primitive, got "__proto__"');
    reject((g) => {
      g["nodes"][0].op = "toString";
    }, 'parseGraph: expected node 0 op to be a known primitive, got "toString"');
    reject((g) => {
      g["nodes"][0].op = 7;
    }, "parseGraph: expected node 0 op to be a known primitive, got 7");
    reject((g) => {
      g["nodes"][1].params = { axes: "0" };
    }, 'parseGraph: expected node 1 (reduceSum) param axes to be at most 64 integers, got "0"');
    reject((g) => {
      g["nodes"][1].params = { axes: [0.5] };
    }, "parseGraph: expected node 1 (reduceSum) param axes to be at most 64 integers, got an array of length 1");
    reject((g) => {
      g["nodes"][1].params = {};
    }, 'parseGraph: expected field "axes" in node 1 (reduceSum) params');
    reject((g) => {
      g["nodes"][1].params = [0];
    }, "parseGraph: expected node 1 (reduceSum) params to be an object, got an array of length 1");
    reject((g) => {
      g["nodes"][1].params = { axes: [1] };
    }, "graph: node 3 (reduceSum) is inconsistent: reduceSum: expected sorted unique axes in [0, 0], got [1]");
    reject((g) => {
      g["nodes"][1].params = { axes: [0, 0] };
    }, "graph: node 3 (reduceSum) is inconsistent: reduceSum: expected sorted unique axes in [0, 0], got [0,0]");
    const cast = JSON.parse(serializeGraph(trace((x: Tensor) => add(x, tensor(1)), tensor(1, { dtype: "int32" })))) as Record<string, any>;
    cast["nodes"][0].params.dtype = "float16";
    expectError(() => parseGraph(cast), GraphError, 'parseGraph: expected node 0 (cast) param dtype to be a dtype, got "float16"');
  });

  it("bad references: forward, undefined, self, duplicate ids, bad outputs", () => {
    reject((g) => {
      g["nodes"][0].inputs = [0, 3];
    }, "graph: expected node 2 (add) to use values defined before it, got 3");
    reject((g) => {
      g["nodes"][0].inputs = [0, 99];
    }, "graph: expected node 2 (add) to use values defined before it, got 99");
    reject((g) => {
      g["nodes"][0].inputs = [2, 1];
    }, "graph: expected node 2 (add) to use values defined before it, got 2");
    reject((g) => {
      g["nodes"][0].inputs = [0];
    }, "graph: expected node 2 (add) to take 2 inputs, got 1");
    reject((g) => {
      g["nodes"][0].inputs = [0, "1"];
    }, 'parseGraph: expected the id of an input of node 0 to be a non-negative integer, got "1"');
    reject((g) => {
      g["nodes"][0].inputs = [0, -1];
    }, "parseGraph: expected the id of an input of node 0 to be a non-negative integer, got -1");
    reject((g) => {
      g["nodes"][1].id = 0;
    }, "graph: expected unique ids, got 0 twice");
    reject((g) => {
      g["constants"][0].id = 0;
    }, "graph: expected unique ids, got 0 twice");
    reject((g) => {
      g["outputs"] = [42];
    }, "graph: expected outputs to be defined values, got 42");
    reject((g) => {
      g["outputs"] = [1.5];
    }, "parseGraph: expected the id of output 0 to be a non-negative integer, got 1.5");
    reject(
      (g) => {
        g["nodes"][0].id = 2 ** 60;
      },
      `parseGraph: expected the id of node 0 to be a non-negative integer, got ${2 ** 60}`,
    );
  });

  it("inconsistent declared shapes and dtypes", () => {
    reject((g) => {
      g["nodes"][0].shape = [3];
    }, "graph: expected node 2 (add) to declare f32[2], got f32[3]");
    reject((g) => {
      g["nodes"][0].dtype = "float64";
    }, "graph: expected node 2 (add) to declare f32[2], got f64[2]");
    reject((g) => {
      g["nodes"][0].dtype = "complex";
    }, 'parseGraph: expected the dtype of node 0, got "complex"');
    reject((g) => {
      g["inputs"][0].shape = [3];
    }, "graph: node 2 (add) is inconsistent: add: expected broadcastable shapes, got [3] and [2]");
    reject((g) => {
      g["inputs"][0].shape = [-2];
    }, "parseGraph: expected the shape of input 0 to be at most 64 non-negative integers, got [-2]");
    reject((g) => {
      g["inputs"][0].shape = "2";
    }, 'parseGraph: expected the shape of input 0 to be at most 64 non-negative integers, got "2"');
    reject((g) => {
      g["inTree"] = { kind: "array", children: [] };
    }, "graph: expected inTree with 1 leaf, got 0");
  });

  it("malformed constants: wrong length, non-numbers, code strings, nested values, out-of-range for the dtype", () => {
    reject((g) => {
      g["constants"][0].data = [1];
    }, "parseGraph: expected constant 0 data to hold 2 values, got 1");
    reject((g) => {
      g["constants"][0].data = "12";
    }, "parseGraph: expected constant 0 data to hold 2 values, got string");
    reject((g) => {
      g["constants"][0].data = [1, "1; alert(1)"];
    }, 'parseGraph: expected numbers in constant 0, got "1; alert(1)"');
    reject((g) => {
      g["constants"][0].data = [1, "2"];
    }, 'parseGraph: expected numbers in constant 0, got "2"');
    reject((g) => {
      g["constants"][0].data = [1, null];
    }, "parseGraph: expected numbers in constant 0, got null");
    reject((g) => {
      g["constants"][0].data = [1, true];
    }, "parseGraph: expected numbers in constant 0, got true");
    reject((g) => {
      g["constants"][0].data = [1, { __proto__: 1 }];
    }, "parseGraph: expected numbers in constant 0, got an object");
    reject((g) => {
      g["constants"][0].data = [1, [2]];
    }, "parseGraph: expected numbers in constant 0, got an array of length 1");
    reject((g) => {
      g["constants"][0].dtype = "int32";
      g["constants"][0].data = [1, 2.5];
    }, "parseGraph: expected int32 values in constant 0, got 2.5");
    reject(
      (g) => {
        g["constants"][0].dtype = "int32";
        g["constants"][0].data = [1, 2 ** 31];
      },
      `parseGraph: expected int32 values in constant 0, got ${2 ** 31}`,
    );
    reject((g) => {
      g["constants"][0].dtype = "bool";
      g["constants"][0].data = [1, 2];
    }, "parseGraph: expected 0/1 values in constant 0, got 2");
    reject((g) => {
      g["constants"][0].dtype = "int32";
      g["constants"][0].data = [1, "NaN"];
    }, "parseGraph: expected finite int32 values in constant 0, got NaN");
    reject((g) => {
      g["constants"][0].dtype = "float64";
    }, "graph: node 2 (add) is inconsistent: add: expected operands of one dtype, got float32 and float64");
  });

  it("input names must be identifiers (they are printed)", () => {
    reject((g) => {
      g["inputs"][0].name = 'x"];alert(1);//';
    }, 'graph: expected input 0 name to be an identifier, got "x\\"];alert(1);//"');
    reject((g) => {
      g["inputs"][0].name = 5;
    }, "parseGraph: expected input 0 name to be a string");
  });

  it("trees: unknown kinds, duplicate keys, deep nesting", () => {
    reject((g) => {
      g["outTree"] = { kind: "function" };
    }, 'parseGraph: expected a tree kind, got "function"');
    reject((g) => {
      g["outTree"] = { kind: "object", keys: ["a", "a"], children: [{ kind: "tensor" }, { kind: "none" }] };
    }, "parseGraph: expected distinct object tree keys");
    reject((g) => {
      g["outTree"] = { kind: "object", keys: [1], children: [{ kind: "tensor" }] };
    }, "parseGraph: expected object tree keys (strings) matching its children");
    reject((g) => {
      g["outTree"] = { kind: "none", value: 0 };
    }, "parseGraph: expected a none tree value of null, got 0");
    let deep: unknown = { kind: "tensor" };
    for (let i = 0; i < 100; i++) deep = { kind: "array", children: [deep] };
    reject((g) => {
      g["outTree"] = deep;
    }, "parseGraph: expected a tree definition nested at most 64 deep");
  });

  it("deep nesting anywhere never overflows the stack", () => {
    const text = serializeGraph(richGraph());
    const deepArray = `${"[".repeat(50_000)}1${"]".repeat(50_000)}`;
    const deepObject = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
    expectError(
      () => parseGraph(text.replace('"data":[1,2]', `"data":[1,${deepArray}]`)),
      GraphError,
      "parseGraph: expected numbers in constant 0, got an array of length 1",
    );
    expectError(
      () => parseGraph(text.replace('"params":{"axes":[0]}', `"params":{"axes":${deepObject}}`)),
      GraphError,
      "parseGraph: expected node 1 (reduceSum) param axes to be at most 64 integers, got an object",
    );
    expectError(
      () => parseGraph(text.replace('"outputs":[', `"outputs":[${deepArray},`)),
      GraphError,
      "parseGraph: expected the id of output 0 to be a non-negative integer, got an array of length 1",
    );
    expectError(
      () => parseGraph(text.replace('"kind":"none"', `"kind":${deepObject}`)),
      GraphError,
      "parseGraph: expected a tree kind, got an object",
    );
  });

  it("huge shapes", () => {
    reject((g) => {
      g["inputs"][0].shape = [2 ** 16, 2 ** 16];
    }, "parseGraph: expected input 0 to have at most 2147483647 elements (MAX_ELEMENTS), got shape [65536,65536]");
    reject((g) => {
      g["inputs"][0].shape = new Array(65).fill(1);
    }, "parseGraph: expected the shape of input 0 to be at most 64 non-negative integers, got an array of length 65");
    // a product of huge dimensions times 0 would be NaN: each dimension is bounded too (regression)
    reject(
      (g) => {
        g["inputs"][0].shape = [...new Array(20).fill(2 ** 52), 0];
      },
      "parseGraph: expected input 0 to have at most 2147483647 elements (MAX_ELEMENTS), " +
        `got shape [${new Array(20).fill(2 ** 52).join(",")},0]`,
    );
    reject((g) => {
      g["nodes"][1].params = { axes: new Array(65).fill(0) };
    }, "parseGraph: expected node 1 (reduceSum) param axes to be at most 64 integers, got an array of length 65");
  });

  test.prop([fc.nat(), fc.jsonValue({ maxDepth: 3 }), fc.constantFrom("replace", "delete", "add")], { numRuns: 300 })(
    "any mutation of a valid graph parses to a valid graph or throws a GraphError",
    (where, value, how) => {
      const g = json();
      const slots: [Record<string, unknown> | unknown[], string | number][] = [];
      const walk = (v: unknown) => {
        if (Array.isArray(v)) v.forEach((c, i) => (slots.push([v, i]), walk(c)));
        else if (v !== null && typeof v === "object")
          for (const k of Object.keys(v)) slots.push([v as Record<string, unknown>, k]), walk((v as Record<string, unknown>)[k]);
      };
      walk(g);
      const [holder, key] = slots[where % slots.length]!;
      if (how === "replace") (holder as Record<string | number, unknown>)[key] = value;
      else if (how === "delete" && !Array.isArray(holder)) delete (holder as Record<string, unknown>)[key as string];
      else if (how === "add" && !Array.isArray(holder)) (holder as Record<string, unknown>)[`x${where}`] = value;
      else if (Array.isArray(holder)) holder.push(value);
      let parsed: ReturnType<typeof parseGraph>;
      try {
        parsed = parseGraph(JSON.stringify(g));
      } catch (error) {
        expect(error).toBeInstanceOf(GraphError);
        return;
      }
      const again = serializeGraph(parsed);
      expect(serializeGraph(parseGraph(again))).toBe(again);
    },
  );
});
