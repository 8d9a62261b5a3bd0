/**
 * Structured control flow in compiled code (issue 19). A `control` node names a call of ir's
 * registry (cond, scan, while: see ir's primitives/control.ts). Generated code calls
 * `rt_control(call, inputs)` once per call (codegen.ts); it runs the call as a JavaScript loop or
 * branch around the call's sub-graphs, each compiled once (on first use) into a function of its
 * own. So a 10⁶-step loop is one node of the program and one compiled body, never unrolled.
 *
 * Values cross as compiled functions take them: a JS number for rank 0, typed-array data
 * otherwise. Per-step slices of a scan's xs are `subarray` views (no copy); ys are written into
 * one preallocated array each.
 */
import { controlCall, sizeOf, type Aval, type ControlCall, type Graph, type TypedArray } from "@chainrule/ir";
import { compileTrusted, type RawFunction } from "./compile.js";

type Value = number | TypedArray;

const bodies = new WeakMap<object, RawFunction>();

/** A sub-graph's compiled function (compiled on first use, kept while the graph lives). */
function compiled(graph: object): RawFunction {
  let run = bodies.get(graph);
  if (run === undefined) {
    run = compileTrusted(graph as Graph).run;
    bodies.set(graph, run);
  }
  return run;
}

function allocate(a: Aval, size: number): TypedArray {
  switch (a.dtype) {
    case "float64":
      return new Float64Array(size);
    case "float32":
      return new Float32Array(size);
    case "int32":
      return new Int32Array(size);
    default:
      return new Uint8Array(size);
  }
}

function runScan(call: Extract<ControlCall, { kind: "scan" }>, ins: readonly Value[]): Value[] {
  const nc = call.carry;
  const first = call.indexed === null ? 0 : 1;
  const carry = ins.slice(0, nc);
  const xs = ins.slice(nc, nc + call.xs) as TypedArray[];
  const consts = ins.slice(nc + call.xs);
  const bodyInputs = (call.body as Graph).inputs;
  const xSizes = xs.map((_, j) => sizeOf(bodyInputs[first + nc + j]!.shape));
  const xScalar = xs.map((_, j) => bodyInputs[first + nc + j]!.shape.length === 0);
  const yAvals = call.outs.slice(nc);
  const ySizes = yAvals.map((a) => sizeOf(a.shape.slice(1)));
  const ys = yAvals.map((a) => allocate(a, sizeOf(a.shape)));
  const run = compiled(call.body);
  const args = new Array<Value>(first + nc + xs.length + consts.length);
  for (let j = 0; j < consts.length; j++) args[first + nc + xs.length + j] = consts[j]!;
  const length = call.length;
  for (let k = 0; k < length; k++) {
    const t = call.reverse ? length - 1 - k : k;
    if (first === 1) args[0] = call.indexed! + t;
    for (let i = 0; i < nc; i++) args[first + i] = carry[i]!;
    for (let j = 0; j < xs.length; j++) {
      const size = xSizes[j]!;
      args[first + nc + j] = xScalar[j] ? xs[j]![t]! : xs[j]!.subarray(t * size, (t + 1) * size);
    }
    const out = run(...args) as Value[];
    for (let i = 0; i < nc; i++) carry[i] = out[i]!;
    for (let j = 0; j < ys.length; j++) {
      const y = out[nc + j]!;
      if (typeof y === "number") ys[j]![t] = y;
      else ys[j]!.set(y, t * ySizes[j]!);
    }
  }
  return [...carry, ...ys];
}

function runWhile(call: Extract<ControlCall, { kind: "while" }>, ins: readonly Value[]): Value[] {
  const nc = call.carry;
  const args = ins.slice();
  const test = compiled(call.cond);
  const body = compiled(call.body);
  while ((test(...args) as Value[])[0] !== 0) {
    const out = body(...args) as Value[];
    for (let i = 0; i < nc; i++) args[i] = out[i]!;
  }
  return args.slice(0, nc);
}

/** Runs call `id` on compiled-code values; the results are the caller's (never one of its inputs' arrays). */
export function runControl(id: number, ins: readonly Value[]): Value[] {
  const call = controlCall(id);
  let outs: Value[];
  if (call.kind === "cond") outs = compiled(call.branches[ins[0] as number]!)(...ins.slice(1)) as Value[];
  else if (call.kind === "scan") outs = runScan(call, ins);
  else outs = runWhile(call, ins);
  return outs.map((o) => (typeof o !== "number" && ins.includes(o) ? o.slice() : o));
}
