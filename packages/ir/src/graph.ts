/**
 * Graphs: an SSA list of primitive applications. `trace(f, ...args)` records one by running `f`
 * on tracers; `toFunction(graph)` turns it back into a callable (which binds primitives, so a
 * graph runs eagerly or under any engine's transformation).
 */
import { isDType, type DType } from "./dtype.js";
import { ArgumentError, checkArity, ConcretizationError, count, GraphError, describeValue, formatValue } from "./errors.js";
import { checkOptions } from "./options.js";
import {
  inferAval,
  isIndexCheck,
  isPrimitive,
  PARAM_KINDS,
  ARITY,
  type Aval,
  type ParamKind,
  type Params,
  type Primitive,
} from "./primitives.js";
import { describeTree, flatten, leafCount, sameStructure, unflatten, type TreeDef } from "./pytree.js";
import { formatShape, shapesEqual, sizeOf } from "./shape.js";
import { scalar, Tensor } from "./tensor.js";
import {
  bind,
  bindControl,
  checkNotEscaped,
  currentRematRegion,
  Trace,
  Tracer,
  withTrace,
  type CustomJvpRule,
  type CustomVjpRule,
} from "./trace.js";
import { controlCall, registerControlCall, type ControlCall } from "./primitives/control.js";
import { SHORT_DTYPE } from "./dtype.js";

export interface GraphValue {
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface GraphInput extends GraphValue {
  /** A readable name for printing (`x`, `y`); defaults to `x{index}`. */
  readonly name?: string;
}

export interface GraphConstant extends GraphValue {
  readonly value: Tensor;
}

export interface GraphNode<P extends Primitive = Primitive> extends GraphValue {
  readonly op: P;
  readonly inputs: readonly number[];
  readonly params: Params<P>;
  /**
   * Set on the nodes a backward pass recomputes for `checkpoint` (one number per recomputation):
   * an optimizer must not merge them with nodes outside their region.
   */
  readonly remat?: number;
}

export interface Graph {
  readonly inputs: readonly GraphInput[];
  readonly constants: readonly GraphConstant[];
  readonly nodes: readonly GraphNode[];
  readonly outputs: readonly number[];
  /** Structure of the arguments (an array of per-argument trees) and of the result. */
  readonly inTree: TreeDef;
  readonly outTree: TreeDef;
}

class GraphTracer extends Tracer {
  constructor(
    readonly trace: GraphTrace,
    readonly id: number,
    aval: Aval,
  ) {
    super(aval);
  }

  concrete(): Tensor {
    throw new ConcretizationError(
      `${this.trace.name}: cannot read the value of a traced ${this.typeString()} tensor while tracing: the graph ` +
        `must not depend on data (an if/loop on a traced value, .item(), .toArray()). ` +
        `Use where(cond, a, b) to select between values, cond(pred, trueFn, falseFn, ...operands) to branch, and ` +
        `forLoop(lower, upper, body, init), whileLoop or scan to loop, instead of a JavaScript if or loop on a traced value.`,
    );
  }
}

class GraphTrace extends Trace {
  readonly name: string;
  readonly inputs: GraphInput[] = [];
  readonly constants: GraphConstant[] = [];
  readonly nodes: GraphNode[] = [];
  private nextId = 0;
  private readonly constantIds = new Map<Tensor, GraphTracer>();
  /** Sub-graph tracing (control flow): values of enclosing traces become extra inputs, listed here. */
  readonly captured: Tracer[] = [];

  constructor(
    level: number,
    name: string,
    private readonly capture = false,
  ) {
    super(level);
    this.name = name;
  }

  override get stages(): boolean {
    return true;
  }

  newInput(aval: Aval, name?: string): GraphTracer {
    const id = this.nextId++;
    this.inputs.push(
      name === undefined ? { id, shape: aval.shape, dtype: aval.dtype } : { id, shape: aval.shape, dtype: aval.dtype, name },
    );
    return new GraphTracer(this, id, aval);
  }

  constant(value: Tensor): Tracer {
    checkNotEscaped(this.name, value);
    if (value instanceof Tracer && this.capture) {
      const known = this.constantIds.get(value);
      if (known) return known;
      const input = this.newInput(value);
      this.captured.push(value);
      this.constantIds.set(value, input);
      return input;
    }
    if (value instanceof Tracer) {
      throw new ArgumentError(
        `${this.name}: expected the traced function to use only its arguments and constants, got a closed-over ${value.describe()} ` +
          `from an enclosing transformation; pass it to the function as an argument instead`,
      );
    }
    const known = this.constantIds.get(value);
    if (known) return known;
    const id = this.nextId++;
    this.constants.push({ id, shape: value.shape, dtype: value.dtype, value });
    const tracer = new GraphTracer(this, id, value);
    this.constantIds.set(value, tracer);
    return tracer;
  }

  /** A customJvp/customVjp function was inlined: the graph has lost its rule (see `inlinedCustomRules`). */
  sawCustomRule = false;

  override processCustomJvp(rule: CustomJvpRule, inputs: Tracer[]): Tensor {
    this.sawCustomRule = true;
    return super.processCustomJvp(rule, inputs);
  }

  override processCustomVjp(rule: CustomVjpRule, inputs: Tracer[]): Tensor {
    this.sawCustomRule = true;
    return super.processCustomVjp(rule, inputs);
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>, out: Aval): Tracer {
    const id = this.nextId++;
    const node = {
      id,
      op: prim,
      inputs: inputs.map((t) => (t as GraphTracer).id),
      params: structuredClone(params),
      shape: out.shape,
      dtype: out.dtype,
    } as GraphNode;
    const region = currentRematRegion();
    this.nodes.push(region === 0 ? node : { ...node, remat: region });
    return new GraphTracer(this, id, out);
  }

  /** One `control` node per output of the call, all with the call's inputs. */
  override processControl(call: ControlCall, inputs: Tracer[]): Tensor[] {
    const callId = registerControlCall(call);
    const ids = inputs.map((t) => (t as GraphTracer).id);
    return call.outs.map((out, output) => {
      const id = this.nextId++;
      this.nodes.push({ id, op: "control", inputs: ids, params: { call: callId, output }, shape: out.shape, dtype: out.dtype });
      return new GraphTracer(this, id, out);
    });
  }
}

/** A sub-graph traced for control flow, and the values of enclosing traces it reads (its last inputs). */
export interface SubTrace {
  readonly graph: Graph;
  readonly captured: readonly Tensor[];
  readonly outDef: TreeDef;
}

/**
 * Traces `f` on fresh inputs of the given avals into a graph (control flow's sub-graphs). Values
 * of enclosing traces that `f` reads become extra inputs after the declared ones (`captured`);
 * concrete tensors become constants. JS numbers in the result become constants.
 */
export function traceSubgraph(name: string, avals: readonly Aval[], f: (inputs: Tensor[]) => unknown): SubTrace {
  return withTrace(
    (level) => new GraphTrace(level, name, true),
    (t) => {
      const ins = avals.map((a) => t.newInput(a));
      const result = f(ins);
      const out = flatten(result, name, "the function's result");
      const outputs = out.leaves.map((leaf) => {
        const value = typeof leaf === "number" ? scalar(leaf) : leaf;
        if (value instanceof GraphTracer && value.trace === t) return value.id;
        return (t.constant(value) as GraphTracer).id;
      });
      const inTree = flatten(
        t.inputs.map(() => scalar(0)),
        name,
      ).def;
      const graph: Graph = { inputs: t.inputs, constants: t.constants, nodes: t.nodes, outputs, inTree, outTree: out.def };
      validated.add(graph);
      return { graph, captured: t.captured, outDef: out.def };
    },
  );
}

export interface TraceOptions {
  /** Names for the input leaves, in order (for printing). */
  readonly names?: readonly string[];
  /** Used in error messages (default "trace"). */
  readonly name?: string;
}

/**
 * Runs `f` on tracers shaped like `args` (numbers, Tensors, or pytrees of them) and records the
 * primitives it applies. Ops on constants only are evaluated while tracing (constant folding).
 */
export const trace = checkArity(
  "trace",
  1,
  Infinity,
  (f: (...args: never[]) => unknown, ...args: unknown[]): Graph => traceGraph({}, f, args),
);

/** `trace` with options: input names for printing, and the name used in error messages. */
export const traceWith = checkArity(
  "traceWith",
  2,
  Infinity,
  (options: TraceOptions, f: (...args: never[]) => unknown, ...args: unknown[]): Graph => traceGraph(options, f, args),
);

function traceGraph(options: TraceOptions, f: (...args: never[]) => unknown, args: unknown[]): Graph {
  const { name, names } = checkOptions("traceWith", options, ["names", "name"]);
  if (name !== undefined && (typeof name !== "string" || name.length === 0)) {
    throw new ArgumentError(`traceWith: expected options.name to be a non-empty string, got ${describeValue(name)}`);
  }
  const opName = (name as string | undefined) ?? "trace";
  if (typeof f !== "function") throw new ArgumentError(`${opName}: expected a function, got ${describeValue(f)}`);
  const { leaves, def } = flatten(args, opName, "args");
  for (const leaf of leaves) checkNotEscaped(opName, leaf);
  if (names !== undefined) {
    if (!Array.isArray(names) || names.length > leaves.length || !names.every((n) => typeof n === "string" && IDENTIFIER.test(n))) {
      const count = `${leaves.length} identifier${leaves.length === 1 ? "" : "s"}`;
      throw new ArgumentError(`${opName}: expected names to be at most ${count} (one per input leaf), got ${formatValue(names)}`);
    }
  }
  return withTrace(
    (level) => new GraphTrace(level, opName),
    (t) => {
      const tracers = leaves.map((leaf, i) => {
        const aval = typeof leaf === "number" ? { shape: [], dtype: "float64" as DType } : { shape: leaf.shape, dtype: leaf.dtype };
        return t.newInput(aval, (names as readonly string[] | undefined)?.[i]);
      });
      const result = (f as (...a: unknown[]) => unknown)(...(unflatten(def, tracers) as unknown[]));
      const out = flatten(result, opName, "f's result");
      const outputs = out.leaves.map((leaf) => {
        const value = typeof leaf === "number" ? scalar(leaf) : leaf;
        if (value instanceof GraphTracer && value.trace === t) return value.id;
        return (t.constant(value) as GraphTracer).id;
      });
      const graph: Graph = { inputs: t.inputs, constants: t.constants, nodes: t.nodes, outputs, inTree: def, outTree: out.def };
      validated.add(graph);
      if (t.sawCustomRule) withCustomRules.add(graph);
      return graph;
    },
  );
}

// graphs whose tracing inlined a customJvp/customVjp function (issue 19, xforms)
const withCustomRules = new WeakSet<Graph>();

/**
 * Whether tracing `graph` inlined a customJvp/customVjp function: the graph computes the same
 * values, but differentiating it would not apply the custom rule (jit then runs f itself under an
 * enclosing transformation instead of its graph).
 */
export const inlinedCustomRules = checkArity("inlinedCustomRules", 1, 1, (graph: Graph): boolean => withCustomRules.has(graph));

// ── limits for graphs from outside ─────────────────────────────────────────────────────────

/**
 * Bounds on what evaluating or compiling a graph may demand, checked (with the graph's validity)
 * before anything is allocated: a small JSON document can declare values of billions of elements
 * or a chain of huge matrix products. Graphs this process traced itself are not limited.
 */
export interface GraphLimits {
  /** Elements all the graph's values hold together (inputs, constants, every node's result). */
  readonly maxElements?: number;
  /** Elementary operations of one evaluation (a node's result size, a matmul's m·n·k, a reduction's input size). */
  readonly maxWork?: number;
}

/** 2^26 elements (512 MiB as float64) and 2^30 operations (about a second of eager evaluation). */
export const DEFAULT_GRAPH_LIMITS: Required<GraphLimits> = Object.freeze({ maxElements: 2 ** 26, maxWork: 2 ** 30 });

/** What evaluating a (valid) graph demands: elements held by all its values, and elementary operations. */
export const graphCost = checkArity("graphCost", 1, 1, (graph: Graph): { elements: number; work: number } => {
  checkGraphOnce("graphCost", graph);
  const shapes = new Map<number, readonly number[]>();
  let elements = 0;
  for (const v of [...graph.inputs, ...graph.constants, ...graph.nodes]) {
    shapes.set(v.id, v.shape);
    elements += sizeOf(v.shape);
  }
  let work = 0;
  for (const node of graph.nodes) {
    const out = sizeOf(node.shape);
    const ins = node.inputs.reduce((total, id) => total + sizeOf(shapes.get(id)!), 0);
    if (node.op === "matmul") {
      // m·n·k multiply-adds: the result's size times the inner dimension
      const a = shapes.get(node.inputs[0]!)!;
      work += out * (a[a.length - 1] ?? 1) + ins;
    } else work += Math.max(out, ins);
  }
  return { elements, work };
});

/** Throws a GraphError naming `op`, the limit and how to raise it when `graph` demands more than `limits` allow. */
export const checkGraphLimits = checkArity("checkGraphLimits", 2, 3, (op: string, graph: Graph, limits: GraphLimits = {}): void => {
  if (typeof op !== "string") throw new ArgumentError(`checkGraphLimits: expected the op name as a string, got ${describeValue(op)}`);
  checkGraphOnce(op, graph);
  if (limits === null || typeof limits !== "object")
    throw new ArgumentError(`${op}: expected limits as an object, got ${describeValue(limits)}`);
  for (const key of ["maxElements", "maxWork"] as const) {
    const v = limits[key];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1))
      throw new ArgumentError(`${op}: expected ${key} to be an integer ≥ 1, got ${describeValue(v)}`);
  }
  const { elements, work } = graphCost(graph);
  const maxElements = limits.maxElements ?? DEFAULT_GRAPH_LIMITS.maxElements;
  const maxWork = limits.maxWork ?? DEFAULT_GRAPH_LIMITS.maxWork;
  const raise = (key: string) => `; for a graph you trust, raise the limit with ${op}(…, { ${key}: n })`;
  if (elements > maxElements) {
    const expected = `a graph whose values hold at most ${maxElements} elements in all (maxElements)`;
    throw new GraphError(`${op}: expected ${expected}, got ${elements}${raise("maxElements")}`);
  }
  if (work > maxWork) {
    const expected = `a graph of at most ${maxWork} elementary operations per evaluation (maxWork)`;
    throw new GraphError(`${op}: expected ${expected}, got ${work}${raise("maxWork")}`);
  }
});

/**
 * Evaluates a graph on flat input tensors by binding each primitive (eagerly, or under any
 * engine). The graph is validated and its demands checked against `limits` first
 * (DEFAULT_GRAPH_LIMITS unless raised).
 */
export const evalGraph = checkArity("evalGraph", 2, 3, (graph: Graph, inputs: readonly Tensor[], limits: GraphLimits = {}): Tensor[] => {
  checkGraphOnce("evalGraph", graph);
  checkGraphLimits("evalGraph", graph, limits);
  return evaluate(graph, inputs);
});

/** Evaluates a graph this process traced (control flow's sub-graphs): no validation or limits. */
export function evalGraphTrusted(graph: Graph, inputs: readonly Tensor[]): Tensor[] {
  return evaluate(graph, inputs);
}

function evaluate(graph: Graph, inputs: readonly Tensor[]): Tensor[] {
  if (!Array.isArray(inputs)) throw new ArgumentError(`evalGraph: expected an array of input tensors, got ${describeValue(inputs)}`);
  if (inputs.length !== graph.inputs.length) {
    throw new ArgumentError(`evalGraph: expected ${count(graph.inputs.length, "input")}, got ${inputs.length}`);
  }
  const env = new Map<number, Tensor>();
  graph.inputs.forEach((input, i) => {
    const x = inputs[i]!;
    if (!(x instanceof Tensor)) throw new ArgumentError(`evalGraph: expected input ${i} to be a Tensor, got ${describeValue(x)}`);
    if (!shapesEqual(x.shape, input.shape) || x.dtype !== input.dtype) {
      throw new ArgumentError(
        `evalGraph: expected input ${i} of type ${SHORT_DTYPE[input.dtype]}${formatShape(input.shape)}, got ${x.describe()}`,
      );
    }
    env.set(input.id, x);
  });
  for (const c of graph.constants) env.set(c.id, c.value);
  // the output nodes of one control-flow call (same call, same inputs) share one evaluation
  const calls = new Map<string, Tensor[]>();
  for (const node of graph.nodes) {
    if (node.op === "control") {
      const { call, output } = node.params as Params<"control">;
      const key = `${call}|${node.inputs.join(",")}`;
      let outs = calls.get(key);
      if (outs === undefined) {
        outs = bindControl(
          controlCall(call),
          node.inputs.map((id) => env.get(id)!),
        );
        calls.set(key, outs);
      }
      env.set(node.id, outs[output]!);
      continue;
    }
    env.set(
      node.id,
      bind(
        node.op,
        node.inputs.map((id) => env.get(id)!),
        node.params,
      ),
    );
  }
  return graph.outputs.map((id) => env.get(id)!);
}

/** A graph as a function of the same argument structure it was traced with (validated and limited once, here). */
export const toFunction = checkArity("toFunction", 1, 2, (graph: Graph, limits: GraphLimits = {}): ((...args: unknown[]) => unknown) => {
  validateGraph(graph);
  checkGraphLimits("toFunction", graph, limits);
  return (...args: unknown[]) => {
    const { leaves, def } = flatten(args, "graph function", "args");
    if (!sameStructure(graph.inTree, def)) {
      throw new ArgumentError(
        `graph function: expected arguments with the structure ${describeTree(graph.inTree)}, got ${describeTree(def)}`,
      );
    }
    // a JS number is weakly typed: it takes the dtype of the graph input it stands for
    const tensors = leaves.map((l, i) => (typeof l === "number" ? scalar(l, graph.inputs[i]!.dtype) : l));
    const outputs = evaluate(graph, tensors);
    return unflatten(graph.outTree, outputs);
  };
});

// ── validation ─────────────────────────────────────────────────────────────────────────────

function fail(message: string): never {
  throw new GraphError(`graph: ${message}`);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function isObject(v: unknown): boolean {
  return v !== null && typeof v === "object";
}

function checkValue(what: string, v: GraphValue): void {
  if (!isObject(v)) fail(`expected each ${what} to be an object, got ${describeValue(v)}`);
  if (!Number.isInteger(v.id) || v.id < 0) fail(`expected ${what} id to be a non-negative integer, got ${formatValue(v.id)}`);
  if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    fail(`expected ${what} ${v.id} to have a shape of non-negative integers, got ${formatValue(v.shape)}`);
  }
  if (!isDType(v.dtype)) fail(`expected ${what} ${v.id} to have a dtype, got ${formatValue(v.dtype)}`);
}

function checkParams(node: GraphNode): void {
  const kinds = PARAM_KINDS[node.op] as Record<string, ParamKind>;
  const params = node.params as unknown;
  if (params === null || typeof params !== "object" || Array.isArray(params))
    fail(`expected node ${node.id} (${node.op}) params to be an object, got ${formatValue(params)}`);
  const given = Object.keys(params as object);
  const wanted = Object.keys(kinds);
  if (given.length !== wanted.length || !wanted.every((k) => given.includes(k))) {
    fail(`expected node ${node.id} (${node.op}) params {${wanted.join(", ")}}, got {${given.join(", ")}}`);
  }
  for (const key of wanted) {
    const value = (params as Record<string, unknown>)[key];
    const kind = kinds[key];
    const ok =
      kind === "int"
        ? Number.isSafeInteger(value)
        : kind === "ints"
          ? Array.isArray(value) && value.length <= 64 && value.every((v) => Number.isSafeInteger(v))
          : kind === "indexCheck"
            ? isIndexCheck(value)
            : isDType(value);
    const expected = { int: "an integer", ints: "an array of integers", dtype: "a dtype", indexCheck: "an op with an index check" }[kind!];
    if (!ok) fail(`expected node ${node.id} (${node.op}) param ${key} to be ${expected}, got ${formatValue(value)}`);
  }
}

/** Checks every invariant of a graph: ids, references, ops, params, shapes, constants, tree structures. */
export const validateGraph = checkArity("validateGraph", 1, 1, (graph: Graph): void => {
  if (!isObject(graph)) fail(`expected a graph object, got ${describeValue(graph)}`);
  const defined = new Map<number, Aval>();
  const define = (what: string, v: GraphValue) => {
    checkValue(what, v);
    if (defined.has(v.id)) fail(`expected unique ids, got ${v.id} twice`);
    defined.set(v.id, { shape: v.shape, dtype: v.dtype });
  };
  if (!Array.isArray(graph.inputs) || !Array.isArray(graph.constants) || !Array.isArray(graph.nodes) || !Array.isArray(graph.outputs)) {
    fail("expected inputs, constants, nodes and outputs arrays");
  }
  for (const input of graph.inputs) {
    define("input", input);
    if (input.name !== undefined && (typeof input.name !== "string" || !IDENTIFIER.test(input.name))) {
      fail(`expected input ${input.id} name to be an identifier, got ${formatValue(input.name)}`);
    }
  }
  for (const c of graph.constants) {
    define("constant", c);
    if (
      !(c.value instanceof Tensor) ||
      c.value.dtype !== c.dtype ||
      !shapesEqual(c.value.shape, c.shape) ||
      c.value.data.length !== sizeOf(c.shape)
    ) {
      fail(`expected constant ${c.id} to hold ${count(sizeOf(c.shape), `${c.dtype} value`)} of shape ${formatShape(c.shape)}`);
    }
  }
  for (const node of graph.nodes as readonly GraphNode[]) {
    if (!isObject(node)) fail(`expected each node to be an object, got ${describeValue(node)}`);
    if (!isPrimitive(node.op as unknown)) fail(`expected a known op, got ${formatValue(node.op)} at node ${formatValue(node.id)}`);
    checkValue("node", node);
    if (!Array.isArray(node.inputs as unknown)) fail(`expected node ${node.id} inputs to be an array`);
    const arity = ARITY[node.op];
    if (arity !== "variadic" ? node.inputs.length !== arity : node.inputs.length === 0) {
      const wanted = arity === "variadic" ? "at least one input" : `${arity} input${arity === 1 ? "" : "s"}`;
      fail(`expected node ${node.id} (${node.op}) to take ${wanted}, got ${node.inputs.length}`);
    }
    const avals = node.inputs.map((id) => {
      const aval = defined.get(id);
      if (aval === undefined) fail(`expected node ${node.id} (${node.op}) to use values defined before it, got ${formatValue(id)}`);
      return aval;
    });
    checkParams(node);
    let out: Aval;
    try {
      out = inferAval(node.op, avals, node.params);
    } catch (error) {
      fail(`node ${node.id} (${node.op}) is inconsistent: ${(error as Error).message}`);
    }
    if (!shapesEqual(out.shape, node.shape) || out.dtype !== node.dtype) {
      fail(
        `expected node ${node.id} (${node.op}) to declare ${SHORT_DTYPE[out.dtype]}${formatShape(out.shape)}, got ` +
          `${SHORT_DTYPE[node.dtype]}${formatShape(node.shape)}`,
      );
    }
    define("node", node);
  }
  for (const id of graph.outputs) {
    if (!defined.has(id)) fail(`expected outputs to be defined values, got ${formatValue(id)}`);
  }
  const inLeaves = treeLeaves("inTree", graph.inTree);
  if (inLeaves !== graph.inputs.length) fail(`expected inTree with ${count(graph.inputs.length, "leaf", "leaves")}, got ${inLeaves}`);
  const outLeaves = treeLeaves("outTree", graph.outTree);
  if (outLeaves !== graph.outputs.length) fail(`expected outTree with ${count(graph.outputs.length, "leaf", "leaves")}, got ${outLeaves}`);
  validated.add(graph);
});

/** The leaves of a graph's tree definition, or a GraphError saying why it is not one. */
function treeLeaves(what: string, def: unknown): number {
  try {
    return leafCount(def as TreeDef);
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    fail(`expected ${what} to be a tree definition: ${error.message.replace(/^leafCount: /, "")}`);
  }
}

/** Graphs known to be valid: made by `trace`, read by `parseGraph`, or passed by `validateGraph`. */
const validated = new WeakSet<object>();

/**
 * Validates `graph` unless it is known valid, so that functions taking a graph (evaluation,
 * printing, JSON) give a GraphError on a malformed one instead of a TypeError midway, without
 * re-validating the same graph on every call. (Graphs are read-only: changing one after it was
 * validated is not supported.)
 */
export function checkGraphOnce(op: string, graph: unknown): asserts graph is Graph {
  if (graph !== null && typeof graph === "object" && validated.has(graph)) return;
  try {
    validateGraph(graph as Graph);
  } catch (error) {
    if (error instanceof GraphError) throw new GraphError(`${op}: ${error.message}`);
    throw error;
  }
}

export type { Primitive };
