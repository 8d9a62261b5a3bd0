/**
 * Bad input gives a clear error naming the op, never a silent wrong answer, a bare RangeError or
 * TypeError, or a stack overflow. One block per class of failure found by attacking ir.
 */
import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import { toy } from "./__tests__/toy-engine.js";
import {
  ARITY,
  ArgumentError,
  BINARY_PRIMITIVES,
  ChainruleError,
  COMPARISON_PRIMITIVES,
  config,
  DTYPES,
  DTypeError,
  GRAPH_FORMAT,
  MAX_DEPTH,
  MAX_ELEMENTS,
  PRIMITIVES,
  type Tensor,
  UNARY_PRIMITIVES,
  add,
  arange,
  astype,
  bind,
  broadcastTo,
  clip,
  dot,
  defineEngine,
  describeTree,
  describeValue,
  evalGraph,
  eye,
  flatten,
  formatValue,
  full,
  graphToAscii,
  graphToText,
  leafCount,
  linspace,
  max,
  min,
  mul,
  normalizeAxis,
  oneHot,
  ones,
  pad,
  parseGraph,
  randomNormal,
  randomUniform,
  reshape,
  scalar,
  serializeGraph,
  sin,
  sum,
  take,
  tensor,
  trace,
  unflatten,
  validateGraph,
  variance,
  withDebugNans,
  zeros,
  concat,
  exp,
  transpose,
} from "./index.js";

describe("huge sizes: an error naming the op and the size, not RangeError: Invalid typed array length", () => {
  const tooMany = (op: string, got: string) =>
    `${op}: expected a tensor of at most ${MAX_ELEMENTS} elements (MAX_ELEMENTS), got ${got} elements`;

  it("documents the maximum: 2^31 − 1 elements, so every element index fits an int32", () => {
    expect(MAX_ELEMENTS).toBe(2 ** 31 - 1);
  });

  it("every allocating constructor", () => {
    expectError(() => zeros([1e9, 1e9]), ArgumentError, tooMany("zeros", "1000000000000000000"));
    expectError(() => ones([1e9, 1e9]), ArgumentError, tooMany("ones", "1000000000000000000"));
    expectError(() => full([2 ** 31], 1), ArgumentError, tooMany("full", "2147483648"));
    expectError(() => eye(1e9), ArgumentError, tooMany("eye", "1000000000000000000"));
    expectError(() => linspace(0, 1, 1e10), ArgumentError, tooMany("linspace", "10000000000"));
    expectError(() => arange(0, 1e10), ArgumentError, tooMany("arange", "10000000000"));
    expectError(() => randomNormal([1e9, 1e9], { seed: 1 }), ArgumentError, tooMany("randomNormal", "1000000000000000000"));
    expectError(() => randomUniform([1e9, 1e9], { seed: 1 }), ArgumentError, tooMany("randomUniform", "1000000000000000000"));
    expectError(() => oneHot([0], 3e9), ArgumentError, tooMany("oneHot", "3000000000"));
    // a product that overflows to Infinity is reported as such
    expectError(() => zeros([1e300, 1e300]), ArgumentError, tooMany("zeros", "Infinity"));
  });

  it("ops whose result would be too large", () => {
    expectError(() => broadcastTo(1, [1e5, 1e5]), ArgumentError, tooMany("broadcastTo", "10000000000"));
    expectError(() => pad([1], [3e9]), ArgumentError, tooMany("pad", "6000000001"));
    expectError(() => mul(ones([1e5, 1]), ones([1, 1e5])), ArgumentError, tooMany("mul", "10000000000"));
  });

  it("a large zeros() costs no memory until written (fresh storage is not filled)", () => {
    const t = zeros([1e8]);
    expect(t.data[1e8 - 1]).toBe(0);
  });
});

describe("missing and null arguments: ArgumentErrors, not TypeErrors", () => {
  it("randomNormal / randomUniform without options say a seed is needed", () => {
    expectError(() => (randomNormal as (...a: unknown[]) => unknown)([2]), ArgumentError, "randomNormal: expected 2 arguments, got 1");
    expectError(() => randomNormal([2], undefined as never), ArgumentError, "randomNormal: expected an options object, got undefined");
    expectError(() => randomUniform([2], null as never), ArgumentError, "randomUniform: expected an options object, got null");
    expectError(() => randomNormal([2], {} as never), ArgumentError, "randomNormal: expected options.seed to be an integer, got undefined");
    expectError(
      () => randomNormal([2], { seed: 1, sd: 2 } as never),
      ArgumentError,
      'randomNormal: expected options among seed, mean, std, dtype, got an unknown option "sd"',
    );
  });

  it("shapes, options, trees, graphs and engine cores given null or undefined", () => {
    expectError(() => zeros(null as never), ArgumentError, "zeros: expected a shape (an array of non-negative integers), got null");
    expectError(() => tensor([1], null as never), ArgumentError, "tensor: expected an options object or undefined, got null");
    expectError(
      () => tensor([1], { dtyp: "int32" } as never),
      ArgumentError,
      'tensor: expected options among shape, dtype, got an unknown option "dtyp"',
    );
    expectError(
      () => reshape([1], undefined as never),
      ArgumentError,
      "reshape: expected a shape of integers (one may be -1), got undefined",
    );
    expectError(
      () => unflatten(null as never, []),
      ArgumentError,
      "unflatten: expected a tree definition (as flatten returns) at def, got null",
    );
    expectError(
      () => leafCount(undefined as never),
      ArgumentError,
      "leafCount: expected a tree definition (as flatten returns) at def, got undefined",
    );
    expectError(() => evalGraph(null as never, []), Error, "evalGraph: graph: expected a graph object, got null");
    expectError(() => graphToText({} as never), Error, "graphToText: graph: expected inputs, constants, nodes and outputs arrays");
    expectError(() => defineEngine(null as never), ArgumentError, "defineEngine: expected an engine core object, got null");
    expectError(
      () => defineEngine({ name: "x", jvp: () => 0 } as never),
      ArgumentError,
      "defineEngine: expected core.jvp and core.vjp to be functions, got a function and undefined",
    );
    expectError(() => withDebugNans(null as never), ArgumentError, "withDebugNans: expected a function, got null");
    expectError(
      () => toy.jvp(sin, null as never, null as never),
      ArgumentError,
      "jvp: expected primals and tangents as arrays of arguments, got null and null",
    );
    expectError(() => normalizeAxis(null as never, 0, 1), ArgumentError, "normalizeAxis: expected an op name (a string), got null");
  });

  it("config accepts only booleans and no new keys", () => {
    expectError(
      () => {
        (config as { debugNans: unknown }).debugNans = "no";
      },
      ArgumentError,
      'config.debugNans: expected a boolean, got string "no"',
    );
    expect(config.debugNans).toBe(false);
    expect(Object.isSealed(config)).toBe(true);
  });
});

describe("coercion: values that do not fit int32 are errors naming the first bad element", () => {
  const int32 = "int32 values (integers in [-2147483648, 2147483647])";

  it("tensor() from nested arrays, typed arrays and tensors (was [1, 0] silently)", () => {
    expectError(() => tensor([1.5, 2 ** 40], { dtype: "int32" }), DTypeError, `tensor: expected ${int32}, got 1.5 at index [0]`);
    expectError(
      () => tensor([[1, 2 ** 40]], { dtype: "int32" }),
      DTypeError,
      `tensor: expected ${int32}, got 1099511627776 at index [0, 1]`,
    );
    expectError(
      () => tensor(new Float64Array([1, NaN]), { dtype: "int32" }),
      DTypeError,
      `tensor: expected ${int32}, got NaN at index [1]`,
    );
    expectError(() => tensor(tensor([-Infinity]), { dtype: "int32" }), DTypeError, `tensor: expected ${int32}, got -Infinity at index [0]`);
    expectError(() => tensor(2 ** 31, { dtype: "int32" }), DTypeError, `tensor: expected ${int32}, got 2147483648`);
    expectTensor(tensor([-(2 ** 31), 2 ** 31 - 1], { dtype: "int32" }), [-(2 ** 31), 2 ** 31 - 1], { dtype: "int32" });
    // bool keeps its rule: any non-zero value is true (as in NumPy)
    expectTensor(tensor([2, 0, NaN], { dtype: "bool" }), [true, false, true], { dtype: "bool" });
  });

  it("the other constructors", () => {
    expectError(() => full([2], 1.5, "int32"), DTypeError, `full: expected a fill value of ${int32}, got 1.5`);
    expectError(() => scalar(2 ** 40, "int32"), DTypeError, `scalar: expected ${int32}, got 1099511627776`);
    expectError(() => arange(0, 1, 0.5, "int32"), DTypeError, `arange: expected ${int32}, got 0.5 at index [1]`);
    expectError(() => linspace(0, 1, 3, "int32"), DTypeError, `linspace: expected ${int32}, got 0.5 at index [1]`);
    expectTensor(linspace(0, 2, 3, "bool"), [false, true, true], { dtype: "bool" });
    expectError(
      () => randomNormal([2], { seed: 1, dtype: "int32" }),
      DTypeError,
      "randomNormal: expected a float dtype (float64 or float32), got int32",
    );
  });

  it("weak JS numbers meeting int32 operands (as JAX refuses them)", () => {
    const i = tensor([1], { dtype: "int32" });
    expectError(() => add(i, 2 ** 40), DTypeError, `add: expected ${int32}, got 1099511627776`);
    expectError(() => add(i, [2 ** 40]), DTypeError, `add: expected ${int32}, got 1099511627776 at index [0]`);
    expectTensor(add(i, 2), [3], { dtype: "int32" });
    expectError(() => take([1, 2], [2 ** 40]), DTypeError, "take: expected indices in the int32 range, got 1099511627776");
  });

  it("casts: float → int32 truncates (documented), but out of range is an error", () => {
    expectTensor(astype([1.7, -1.7], "int32"), [1, -1], { dtype: "int32" });
    expectTensor(astype([2147483647.9], "int32"), [2147483647], { dtype: "int32" });
    const range = "values that truncate into the int32 range [-2147483648, 2147483647]";
    expectError(() => astype([1, 1e10], "int32"), DTypeError, `astype: expected ${range}, got 10000000000 at index [1]`);
    expectError(() => astype(NaN, "int32"), DTypeError, `astype: expected ${range}, got NaN`);
    // the kernel itself checks too (engines bind cast directly)
    expectError(
      () => bind("cast", [tensor([-3e9])], { dtype: "int32" }),
      DTypeError,
      `cast: expected ${range}, got -3000000000 at index [0]`,
    );
  });
});

describe("jvp / vjp / hvp: a tangent's dtype must be its primal's (as in JAX)", () => {
  const f32 = (v: number[]) => tensor(v, { dtype: "float32" });

  it("jvp refuses float32 tangents for float64 primals and the reverse", () => {
    expectError(
      () => toy.jvp(sin, [tensor([1, 2])], [f32([1, 1])]),
      DTypeError,
      "jvp: expected tangent leaf 0 of dtype float64 like its primal, got float32",
    );
    expectError(
      () => toy.jvp(sin, [f32([1, 2])], [tensor([1, 1])]),
      DTypeError,
      "jvp: expected tangent leaf 0 of dtype float32 like its primal, got float64",
    );
    expectError(() => toy.jvp(sin, [1], [f32([1])]), Error, "jvp: expected tangent leaf 0 of shape [] like its primal, got [1]");
    // a JS number tangent takes its primal's dtype
    const [, tangent] = toy.jvp(sin, [tensor(0, { dtype: "float32" })], [1]);
    expect((tangent as Tensor).dtype).toBe("float32");
  });

  it("vjp pullbacks refuse cotangents of another dtype than the output", () => {
    const [, pullback] = toy.vjp((x: Tensor) => mul(x, 2), tensor([1, 2]));
    expectError(
      () => pullback(f32([1, 1])),
      DTypeError,
      "vjp pullback: expected a cotangent leaf 0 of dtype float64 like its output, got float32",
    );
  });

  it("hvp refuses tangents of another dtype, naming hvp", () => {
    expectError(
      () => toy.hvp((x: Tensor) => sum(mul(x, x)), [tensor([1, 2])], [f32([1, 0])]),
      DTypeError,
      "hvp: expected tangent leaf 0 of dtype float64 like its primal, got float32",
    );
  });
});

describe("leaked tracers are refused at the boundary of every transformation", () => {
  function leak(): Tensor {
    let leaked: Tensor | undefined;
    toy.grad((x: Tensor) => {
      leaked = x;
      return x;
    })(1);
    return leaked!;
  }
  const escaped = (op: string) =>
    `${op}: expected values of active transformations, got a toy tracer f64[] from a transformation that has already returned ` +
    "(a tracer leaked out of grad/jvp/jit, e.g. stored in an outer variable)";

  it("any op on a leaked tracer raises the escaped-tracer error, and so does grad(x => x) (which returned 1)", () => {
    const leaked = leak();
    expectError(() => add(leaked, 1), ChainruleError, escaped("add"));
    expectError(() => toy.grad((x: Tensor) => x)(leaked), ChainruleError, escaped("grad"));
    expect(catchCode(() => toy.grad((x: Tensor) => x)(leaked))).toBe("ESCAPED_TRACER");
  });

  it("as inputs, non-differentiated arguments, tangents, cotangents and results of f", () => {
    const leaked = leak();
    expectError(() => toy.valueAndGrad((x: Tensor) => x)(leaked), ChainruleError, escaped("valueAndGrad"));
    expectError(() => toy.grad((x: number, _y: Tensor) => x, 0)(1, leaked), ChainruleError, escaped("grad"));
    expectError(() => toy.grad((_x: number) => leaked)(1), ChainruleError, escaped("grad"));
    expectError(() => toy.jvp((x: Tensor) => x, [leaked], [1]), ChainruleError, escaped("jvp"));
    expectError(() => toy.jvp((x: Tensor) => x, [tensor(1)], [leaked]), ChainruleError, escaped("jvp"));
    expectError(() => toy.jacobian((x: Tensor) => x)(leaked), ChainruleError, escaped("jacobian"));
    expectError(() => toy.hessian((x: Tensor) => x)(leaked), ChainruleError, escaped("hessian"));
    expectError(() => toy.hvp((x: Tensor) => x, [leaked], [1]), ChainruleError, escaped("hvp"));
    const [, pullback] = toy.vjp((x: Tensor) => x, tensor(1));
    expectError(() => pullback(leaked), ChainruleError, escaped("vjp pullback"));
    expectError(() => trace((x: Tensor) => x, leaked), ChainruleError, escaped("trace"));
    expectError(() => trace((_x: number) => leaked, 1), ChainruleError, escaped("trace"));
  });

  it("tracers of an enclosing, still active transformation stay fine", () => {
    expect(toy.grad((x: number) => toy.grad((y: number) => mul(x, y))(1) as number)(3)).toBe(1);
  });
});

function catchCode(body: () => unknown): string | undefined {
  try {
    body();
  } catch (error) {
    return (error as ChainruleError).code;
  }
  return undefined;
}

describe("deep nesting: an error with the limit, not a stack overflow", () => {
  const nestedArray = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = [v];
    return v;
  };
  const nestedObject = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = { a: v };
    return v;
  };
  const nestedDef = (depth: number): unknown => {
    let d: unknown = { kind: "number" };
    for (let i = 0; i < depth; i++) d = { kind: "array", children: [d] };
    return d;
  };

  it("documents the limit: 1,000 levels", () => {
    expect(MAX_DEPTH).toBe(1000);
  });

  it("tensor() from nested arrays: 1,000 levels work, 100,000 (or a cycle) are refused", () => {
    expect(tensor(nestedArray(MAX_DEPTH) as never).rank).toBe(MAX_DEPTH);
    const refused = "tensor: expected arrays nested at most 1000 levels deep (MAX_DEPTH), got deeper nesting";
    expectError(() => tensor(nestedArray(MAX_DEPTH + 1) as never), ArgumentError, refused);
    expectError(() => tensor(nestedArray(100_000) as never), ArgumentError, refused);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expectError(() => tensor(cyclic as never), ArgumentError, refused);
    expectError(
      () => zeros(new Array(5000).fill(1)),
      ArgumentError,
      "zeros: expected a shape of rank at most 1000 (MAX_DEPTH), got rank 5000",
    );
  });

  it("pytrees in flatten and every transformation", () => {
    expect(flatten(nestedArray(MAX_DEPTH - 1)).leaves).toEqual([1]);
    expect(() => flatten(nestedArray(100_000))).toThrow(
      /^flatten: expected a tree nested at most 1000 levels deep \(MAX_DEPTH\), got deeper nesting at args\[0\]\[0\]/,
    );
    expect(() => flatten(nestedObject(100_000))).toThrow(/^flatten: expected a tree nested at most 1000 levels deep/);
    expect(() => toy.grad((_t: unknown) => 1)(nestedArray(100_000))).toThrow(/^grad: expected a tree nested at most 1000 levels/);
    expect(() => toy.grad((_x: number) => nestedArray(100_000) as never)(1)).toThrow(/^grad: expected a tree nested at most 1000/);
  });

  it("tree definitions in unflatten, leafCount, describeTree and graphs (hand-made, shared or cyclic)", () => {
    expect(() => unflatten(nestedDef(100_000) as never, [1])).toThrow(/^unflatten: expected a tree definition nested at most 1000/);
    expect(() => leafCount(nestedDef(100_000) as never)).toThrow(/^leafCount: expected a tree definition nested at most 1000/);
    expect(() => describeTree(nestedDef(100_000) as never)).toThrow(/^describeTree: expected a tree definition nested/);
    // a node shared 60 times over would take 2^60 steps to walk
    let shared: unknown = { kind: "number" };
    for (let i = 0; i < 60; i++) shared = { kind: "array", children: [shared, shared] };
    expect(() => leafCount(shared as never)).toThrow(/^leafCount: expected a tree definition, got a node that appears twice/);
    const g = trace((x: number) => x, 1);
    expect(() => validateGraph({ ...g, inTree: nestedDef(100_000) as never })).toThrow(
      /^graph: expected inTree to be a tree definition: expected a tree definition nested at most 1000/,
    );
  });

  it("graphToAscii draws long chains of nodes without recursion, and refuses deeper ones than it can print", () => {
    const chain = (length: number) =>
      trace((x: Tensor) => {
        let y = x;
        for (let i = 0; i < length; i++) y = sin(y);
        return y;
      }, tensor(1));
    const lines = graphToAscii(chain(MAX_DEPTH)).split("\n");
    expect(lines).toHaveLength(MAX_DEPTH + 1);
    expect(lines[MAX_DEPTH]).toBe(`${" ".repeat(4 * (MAX_DEPTH - 1))}└── x0`);
    // the drawing of a chain grows with the square of its length (50,000 nodes: 5·10⁹ characters)
    expectError(
      () => graphToAscii(chain(50_000)),
      ArgumentError,
      "graphToAscii: expected a graph at most 1000 levels deep (MAX_DEPTH) to draw, got a deeper chain of nodes (use graphToText)",
    );
  });

  it("messages describe deep values without walking them", () => {
    expect(describeValue(nestedArray(100_000))).toBe("an array of length 1");
    expect(formatValue(nestedArray(100_000))).toBe("[[[[…]]]]");
  });
});

describe("messages say what is wrong, faithfully", () => {
  it("NaN and Infinity are printed as such, not as null", () => {
    expectError(() => reshape([1], [NaN]), ArgumentError, "reshape: expected a shape of integers (one may be -1), got [NaN]");
    expectError(
      () => zeros([Infinity, -0.5]),
      ArgumentError,
      "zeros: expected a shape (an array of non-negative integers), got [Infinity,-0.5]",
    );
    expectError(() => sum([1], [0, NaN]), ArgumentError, "sum: expected an integer axis, got NaN");
    expectError(
      () => tensor([1], { dtype: NaN as never }),
      DTypeError,
      "tensor: expected dtype one of float64, float32, int32, bool, got NaN",
    );
    expect(formatValue([NaN, -0, Infinity, "a", undefined, { dtype: null }])).toBe('[NaN,-0,Infinity,"a",undefined,{"dtype":null}]');
    expect(describeValue(NaN)).toBe("number NaN");
    expect(describeValue(-0)).toBe("number -0");
  });

  it("composites name the op that was called, not the op they are built from", () => {
    expectError(() => min([]), Error, "min: expected a non-empty axis 0, got shape [0]");
    expectError(() => max([]), Error, "max: expected a non-empty axis 0, got shape [0]");
    expectError(() => clip([1, 2, 3], [1, 2], 3), Error, "clip: expected broadcastable shapes, got [3] and [2]");
    expectError(() => dot([1, 2], [1, 2, 3]), Error, "dot: expected inner dimensions to match, got [2] and [3]");
    expectError(() => variance([1, 2], 3), ArgumentError, "variance: expected axis in [-1, 0] for rank 1, got 3");
    expectError(() => sum([1], 0, "no" as never), ArgumentError, 'sum: expected keepdims to be a boolean, got string "no"');
  });

  it("counts agree with their nouns", () => {
    expectError(() => pad([1], [1, 1]), ArgumentError, "pad: expected low to hold one non-negative integer per axis (1), got [1,1]");
    expectError(() => reshape([1, 2], [3]), Error, "reshape: expected a shape with 2 elements (from [2]), got [3]");
    expectError(() => reshape(1, [2]), Error, "reshape: expected a shape with 1 element (from []), got [2]");
    expectError(
      () => toy.grad((x: number) => x, 1)(1),
      ArgumentError,
      "grad: expected argnums in [0, 0] (f was called with 1 argument), got 1",
    );
    const g = trace((x: number) => x, 1);
    expectError(() => evalGraph(g, []), ArgumentError, "evalGraph: expected 1 input, got 0");
  });
});

describe("exported tables are frozen (parseGraph trusts them)", () => {
  it("DTYPES, the primitive lists, ARITY", () => {
    for (const table of [DTYPES, PRIMITIVES, UNARY_PRIMITIVES, BINARY_PRIMITIVES, COMPARISON_PRIMITIVES, ARITY]) {
      expect(Object.isFrozen(table)).toBe(true);
    }
    expect(() => (DTYPES as string[]).push("int8")).toThrow(TypeError);
    expect(() => {
      (ARITY as Record<string, unknown>)["add"] = 3;
    }).toThrow(TypeError);
    expect(() => {
      (PRIMITIVES as string[])[0] = "evil";
    }).toThrow(TypeError);
  });

  it("parseGraph is unaffected by attempts to change them", () => {
    try {
      (DTYPES as string[]).push("int8");
    } catch {}
    try {
      (ARITY as Record<string, unknown>)["neg"] = 2;
    } catch {}
    const g = trace((x: Tensor) => sum(mul(x, x)), tensor([1, 2]));
    const json = JSON.parse(serializeGraph(g));
    json.inputs[0].dtype = "int8";
    expect(() => parseGraph(json)).toThrow(/^parseGraph: expected the dtype of input 0, got "int8"$/);
    expect(graphToText(parseGraph(serializeGraph(g)))).toBe(graphToText(g));
    expect(GRAPH_FORMAT).toBe("chainrule.graph");
  });
});

describe("no hang on empty tensors with huge dimensions", () => {
  it("toArray of zeros([2³¹, 0]) is a clear error instead of building two billion empty arrays", () => {
    expectError(
      () => zeros([2 ** 31, 0]).toArray(),
      ArgumentError,
      "toArray: expected a tensor whose nested-array form has at most 16777216 arrays, got f64[2147483648,0] (2147483649 arrays); " +
        "read .data instead",
    );
    expect(zeros([3, 0]).toArray()).toEqual([[], [], []]);
  });

  it("ops whose result is empty return at once, however many empty rows they name", () => {
    const z = zeros([2 ** 31, 0]);
    for (const r of [concat([z, z], 1), exp(z), add(z, z), transpose(z)]) expect(r.size).toBe(0);
    expect(concat([z, z], 1).shape).toEqual([2 ** 31, 0]);
  });
});
