/**
 * JSON (de)serialization of graphs. Numbers that JSON cannot hold (NaN, ±Infinity, −0) are written
 * as the strings "NaN", "Infinity", "-Infinity", "-0". Parsing trusts nothing: every field is checked, then
 * the whole graph is validated (ops, references, params, shapes, constants, structures).
 */
import { allocate, isDType, type DType } from "./dtype.js";
import { checkArity, count, GraphError } from "./errors.js";
import { INDEX_CHECKS, isIndexCheck, isPrimitive, PARAM_KINDS, type ParamKind, type Primitive } from "./primitives.js";
import { checkGraphOnce, validateGraph, type Graph, type GraphConstant, type GraphInput, type GraphNode } from "./graph.js";
import type { TreeDef } from "./pytree.js";
import { MAX_ELEMENTS } from "./limits.js";
import { formatShape, sizeOf } from "./shape.js";
import { Tensor } from "./tensor.js";

export const GRAPH_FORMAT = "chainrule.graph";
export const GRAPH_FORMAT_VERSION = 1;

type JsonNumber = number | "NaN" | "Infinity" | "-Infinity" | "-0";

function encodeNumber(v: number): JsonNumber {
  if (Number.isNaN(v)) return "NaN";
  if (Object.is(v, -0)) return "-0";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return v;
}

/** The graph as plain JSON-compatible data. */
export const graphToJSON = checkArity("graphToJSON", 1, 1, (graph: Graph): unknown => {
  checkGraphOnce("graphToJSON", graph);
  // structured control flow (issue 19): a control node names sub-graphs held by this process only
  if (graph.nodes.some((n) => n.op === "control")) {
    throw new GraphError(
      "graphToJSON: expected a graph without control-flow nodes (cond, switchCase, forLoop, scan, whileLoop), got one: " +
        "their sub-graphs live in this process and do not serialize",
    );
  }
  return {
    format: GRAPH_FORMAT,
    version: GRAPH_FORMAT_VERSION,
    inputs: graph.inputs.map((i) => ({ ...i, shape: [...i.shape] })),
    constants: graph.constants.map((c) => ({
      id: c.id,
      shape: [...c.shape],
      dtype: c.dtype,
      data: Array.from(c.value.data, encodeNumber),
    })),
    nodes: graph.nodes.map((n) => ({ id: n.id, op: n.op, inputs: [...n.inputs], params: n.params, shape: [...n.shape], dtype: n.dtype })),
    outputs: [...graph.outputs],
    inTree: graph.inTree,
    outTree: graph.outTree,
  };
});

/** The graph as a JSON string. */
export const serializeGraph = checkArity("serializeGraph", 1, 1, (graph: Graph): string => {
  checkGraphOnce("serializeGraph", graph);
  return JSON.stringify(graphToJSON(graph));
});

function fail(message: string): never {
  throw new GraphError(`parseGraph: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A short, safe rendering of any value for error messages (never recurses deeply). */
function short(v: unknown): string {
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (isRecord(v)) return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}…` : v);
  return String(v);
}

function only(what: string, v: Record<string, unknown>, keys: readonly string[], optional: readonly string[] = []): void {
  for (const k of Object.keys(v)) {
    if (!keys.includes(k) && !optional.includes(k)) fail(`unexpected field ${short(k)} in ${what}`);
  }
  for (const k of keys) if (!Object.hasOwn(v, k)) fail(`expected field ${JSON.stringify(k)} in ${what}`);
}

function decodeNumber(v: unknown, dtype: DType, where: string): number {
  if (typeof v === "number") {
    if (dtype === "int32" && !(Number.isInteger(v) && v >= -2147483648 && v <= 2147483647))
      fail(`expected int32 values in ${where}, got ${v}`);
    if (dtype === "bool" && v !== 0 && v !== 1) fail(`expected 0/1 values in ${where}, got ${v}`);
    return v;
  }
  if (v === "NaN" || v === "Infinity" || v === "-Infinity" || v === "-0") {
    if (dtype === "int32" || dtype === "bool") fail(`expected finite ${dtype} values in ${where}, got ${v}`);
    return Number(v);
  }
  fail(`expected numbers in ${where}, got ${short(v)}`);
}

function parseTree(v: unknown, depth = 0): TreeDef {
  if (depth > 64) fail("expected a tree definition nested at most 64 deep");
  if (!isRecord(v)) fail(`expected a tree definition object, got ${short(v)}`);
  switch (v.kind) {
    case "number":
    case "tensor":
      only("a tree leaf", v, ["kind"]);
      return { kind: v.kind };
    case "none":
      only("a tree definition", v, ["kind"], ["value"]);
      // JSON writes `undefined` by leaving the field out
      if (!("value" in v)) return { kind: "none", value: undefined };
      if (v.value !== null) fail(`expected a none tree value of null, got ${short(v.value)}`);
      return { kind: "none", value: null };
    case "array":
      only("a tree definition", v, ["kind", "children"]);
      if (!Array.isArray(v.children)) fail("expected tree children to be an array");
      return { kind: "array", children: v.children.map((c) => parseTree(c, depth + 1)) };
    case "object": {
      only("a tree definition", v, ["kind", "keys", "children"]);
      if (
        !Array.isArray(v.keys) ||
        !v.keys.every((k) => typeof k === "string") ||
        !Array.isArray(v.children) ||
        v.keys.length !== v.children.length
      ) {
        fail("expected object tree keys (strings) matching its children");
      }
      if (new Set(v.keys).size !== v.keys.length) fail("expected distinct object tree keys");
      return { kind: "object", keys: v.keys as string[], children: v.children.map((c) => parseTree(c, depth + 1)) };
    }
    default:
      fail(`expected a tree kind, got ${short(v.kind)}`);
  }
}

function parseShape(v: unknown, where: string): number[] {
  if (!Array.isArray(v) || v.length > 64 || !v.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(
      `expected the shape of ${where} to be at most 64 non-negative integers, got ` +
        `${Array.isArray(v) && v.length <= 64 ? `[${v.map(short).join(",")}]` : short(v)}`,
    );
  }
  // per-dimension bound first: a product of huge dimensions could overflow to Infinity (and ×0 to NaN)
  if (v.some((d) => d > MAX_ELEMENTS) || !(sizeOf(v) <= MAX_ELEMENTS))
    fail(`expected ${where} to have at most ${MAX_ELEMENTS} elements (MAX_ELEMENTS), got shape ${formatShape(v)}`);
  return v.slice();
}

function parseDtype(v: unknown, where: string): DType {
  if (!isDType(v)) fail(`expected the dtype of ${where}, got ${short(v)}`);
  return v;
}

function parseId(v: unknown, where: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) fail(`expected the id of ${where} to be a non-negative integer, got ${short(v)}`);
  return v as number;
}

/** Params checked against the op's declared kinds and copied (only known keys, only numbers/strings). */
function parseParams(op: Primitive, v: unknown, where: string): object {
  if (!isRecord(v)) fail(`expected ${where} (${op}) params to be an object, got ${short(v)}`);
  const kinds = PARAM_KINDS[op] as Record<string, ParamKind>;
  const wanted = Object.keys(kinds);
  only(`${where} (${op}) params`, v, wanted);
  const out: Record<string, unknown> = {};
  for (const key of wanted) {
    const value = v[key];
    const kind = kinds[key];
    if (kind === "int") {
      if (!Number.isSafeInteger(value)) fail(`expected ${where} (${op}) param ${key} to be an integer, got ${short(value)}`);
      out[key] = value;
    } else if (kind === "ints") {
      if (!Array.isArray(value) || value.length > 64 || !value.every((x) => Number.isSafeInteger(x))) {
        fail(`expected ${where} (${op}) param ${key} to be at most 64 integers, got ${short(value)}`);
      }
      out[key] = value.slice();
    } else if (kind === "indexCheck") {
      if (!isIndexCheck(value))
        fail(`expected ${where} (${op}) param ${key} to be one of ${Object.keys(INDEX_CHECKS).join(", ")}, got ${short(value)}`);
      out[key] = value;
    } else {
      if (!isDType(value)) fail(`expected ${where} (${op}) param ${key} to be a dtype, got ${short(value)}`);
      out[key] = value;
    }
  }
  return out;
}

/** Parses and validates a graph from JSON text or already-parsed data. */
export const parseGraph = checkArity("parseGraph", 1, 1, (json: string | unknown): Graph => {
  let data: unknown = json;
  if (typeof json === "string") {
    try {
      data = JSON.parse(json);
    } catch (error) {
      fail(`expected JSON text, got a syntax error (${(error as Error).message})`);
    }
  }
  if (!isRecord(data)) fail("expected a graph object");
  only("the graph", data, ["format", "version", "inputs", "constants", "nodes", "outputs", "inTree", "outTree"]);
  if (data.format !== GRAPH_FORMAT) fail(`expected format ${JSON.stringify(GRAPH_FORMAT)}, got ${short(data.format)}`);
  if (data.version !== GRAPH_FORMAT_VERSION) fail(`expected version ${GRAPH_FORMAT_VERSION}, got ${short(data.version)}`);
  for (const key of ["inputs", "constants", "nodes", "outputs"] as const) {
    if (!Array.isArray(data[key])) fail(`expected ${key} to be an array`);
  }
  const inputs: GraphInput[] = (data.inputs as unknown[]).map((v, i) => {
    if (!isRecord(v)) fail(`expected input ${i} to be an object`);
    only(`input ${i}`, v, ["id", "shape", "dtype"], ["name"]);
    const input = { id: parseId(v.id, `input ${i}`), shape: parseShape(v.shape, `input ${i}`), dtype: parseDtype(v.dtype, `input ${i}`) };
    if (v.name === undefined) return input;
    if (typeof v.name !== "string") fail(`expected input ${i} name to be a string`);
    return { ...input, name: v.name };
  });
  const constants: GraphConstant[] = (data.constants as unknown[]).map((v, i) => {
    if (!isRecord(v)) fail(`expected constant ${i} to be an object`);
    only(`constant ${i}`, v, ["id", "shape", "dtype", "data"]);
    const shape = parseShape(v.shape, `constant ${i}`);
    const dtype = parseDtype(v.dtype, `constant ${i}`);
    if (!Array.isArray(v.data) || v.data.length !== sizeOf(shape)) {
      fail(
        `expected constant ${i} data to hold ${count(sizeOf(shape), "value")}, ` +
          `got ${Array.isArray(v.data) ? v.data.length : typeof v.data}`,
      );
    }
    const values = allocate("parseGraph", dtype, v.data.length);
    for (let j = 0; j < v.data.length; j++) values[j] = decodeNumber(v.data[j], dtype, `constant ${i}`);
    return { id: parseId(v.id, `constant ${i}`), shape, dtype, value: new Tensor(dtype, shape, values) };
  });
  const nodes: GraphNode[] = (data.nodes as unknown[]).map((v, i) => {
    if (!isRecord(v)) fail(`expected node ${i} to be an object`);
    only(`node ${i}`, v, ["id", "op", "inputs", "params", "shape", "dtype"]);
    if (!isPrimitive(v.op)) fail(`expected node ${i} op to be a known primitive, got ${short(v.op)}`);
    // structured control flow (issue 19): its sub-graphs never serialize, so a control node from outside is refused
    if (v.op === "control") fail(`expected node ${i} op to be a primitive that serializes, got "control" (control flow)`);
    if (!Array.isArray(v.inputs)) fail(`expected node ${i} inputs to be an array`);
    return {
      id: parseId(v.id, `node ${i}`),
      op: v.op,
      inputs: v.inputs.map((x) => parseId(x, `an input of node ${i}`)),
      params: parseParams(v.op, v.params, `node ${i}`),
      shape: parseShape(v.shape, `node ${i}`),
      dtype: parseDtype(v.dtype, `node ${i}`),
    } as unknown as GraphNode;
  });
  const outputs = (data.outputs as unknown[]).map((v, i) => parseId(v, `output ${i}`));
  const graph: Graph = { inputs, constants, nodes, outputs, inTree: parseTree(data.inTree), outTree: parseTree(data.outTree) };
  validateGraph(graph);
  return graph;
});
