/**
 * Structured control flow (issue 19), JAX's semantics with camelCase names: `cond`, `switchCase`,
 * `forLoop` (fori_loop), `scan` and `whileLoop`. Operands and carries are pytrees.
 *
 * Two ways to run, one semantics:
 * - **define-by-run** (eager, forward, reverse: no graph is being traced): the branch runs after
 *   reading the predicate, loops run in JS, so engines differentiate what the functions do
 *   (reverse records each step). `whileLoop` refuses reverse-mode values (JAX's error).
 * - **staged** (a graph is being traced: the JIT): the functions are traced once into sub-graphs
 *   and the call becomes one higher-order `control` primitive (primitives/control.ts), so a
 *   10⁶-step loop is one node, and a cond on a traced predicate does not concretize it.
 *
 * Either way, the branches' outputs (and a loop body's carry) must agree in structure, shape and
 * dtype; the errors name the op and both structures.
 */
import { isFloat, SHORT_DTYPE } from "./dtype.js";
import { ArgumentError, checkArity, ConcretizationError, describeValue, DTypeError, ShapeError } from "./errors.js";
import { evalGraphTrusted, traceSubgraph, type Graph, type SubTrace } from "./graph.js";
import { castTo } from "./coerce.js";
import type { Aval } from "./primitives.js";
import { CONTROL_RUNTIME, type ControlCall } from "./primitives/control.js";
import { flatten, leafCount, sameStructure, unflatten, type TreeDef } from "./pytree.js";
import { formatShape, shapesEqual } from "./shape.js";
import { scalar, Tensor, zeros } from "./tensor.js";
import { bind, bindControl, stagingActive, Tracer } from "./trace.js";
import { BatchTracer } from "./vmap.js";

type Fn = (...args: never[]) => unknown;

// ── values, avals and the checks on them ───────────────────────────────────────────────────

/** A leaf as a tensor: a JS number is a float64 scalar. */
function asTensor(leaf: number | Tensor): Tensor {
  return typeof leaf === "number" ? scalar(leaf) : leaf;
}

function avalOf(leaf: number | Tensor): Aval {
  return typeof leaf === "number" ? { shape: [], dtype: "float64" } : { shape: leaf.shape, dtype: leaf.dtype };
}

function typeText(a: Aval): string {
  return `${SHORT_DTYPE[a.dtype]}${formatShape(a.shape)}`;
}

/** A structure with its leaves' types, e.g. `[f64[3], {a: f32[]}]`, for messages. */
function describeTyped(def: TreeDef, avals: readonly Aval[]): string {
  let k = 0;
  const walk = (d: TreeDef): string => {
    switch (d.kind) {
      case "number":
      case "tensor":
        return k < avals.length ? typeText(avals[k++]!) : d.kind;
      case "none":
        return String(d.value);
      case "array":
        return `[${d.children.map(walk).join(", ")}]`;
      case "object":
        return `{${d.keys.map((key, i) => `${key}: ${walk(d.children[i]!)}`).join(", ")}}`;
    }
  };
  return walk(def);
}

function sameDef(a: TreeDef, b: TreeDef): boolean {
  return sameStructure(a, b, true);
}

/**
 * Throws unless `got` has the structure and leaf types of `want`. A JS-number leaf of `want` is
 * weakly typed: it accepts any float scalar (a carry initialised with 0 may become a float32 scalar).
 */
function checkAgree(
  op: string,
  what: [string, string],
  want: { def: TreeDef; avals: readonly Aval[]; weak?: readonly boolean[] },
  got: { def: TreeDef; avals: readonly Aval[] },
): void {
  const agree =
    sameDef(want.def, got.def) &&
    want.avals.every((w, i) => {
      const g = got.avals[i]!;
      if (want.weak?.[i] === true && g.shape.length === 0 && isFloat(g.dtype)) return true;
      return w.dtype === g.dtype && shapesEqual(w.shape, g.shape);
    });
  if (agree) return;
  const kind = !sameDef(want.def, got.def)
    ? ShapeError
    : want.avals.some((w, i) => !shapesEqual(w.shape, got.avals[i]!.shape))
      ? ShapeError
      : DTypeError;
  throw new kind(
    `${op}: expected ${what[0]} and ${what[1]} to agree in structure, shape and dtype, ` +
      `got ${describeTyped(want.def, want.avals)} and ${describeTyped(got.def, got.avals)}`,
  );
}

function checkFunction(op: string, name: string, f: unknown): asserts f is Fn {
  if (typeof f !== "function") throw new ArgumentError(`${op}: expected ${name} to be a function, got ${describeValue(f)}`);
}

/** A predicate, index or bound: a JS number or boolean, or a rank-0 tensor. */
function scalarOperand(op: string, name: string, v: unknown): number | Tensor {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return v;
  if (v instanceof Tensor) {
    if (v.rank !== 0) throw new ShapeError(`${op}: expected ${name} to be a scalar (rank 0), got ${v.describe()}`);
    return v;
  }
  throw new ArgumentError(`${op}: expected ${name} to be a number, a boolean or a rank-0 tensor, got ${describeValue(v)}`);
}

/** Reads a scalar operand's value (a define-by-run tracer gives its primal). */
function readScalar(v: number | Tensor): number {
  return typeof v === "number" ? v : v.data[0]!;
}

/** Whether `x` is (or wraps) a value of a reverse-mode trace. */
function reverseTraced(x: unknown): boolean {
  let v = x;
  while (v instanceof Tracer) {
    if (v.trace.reverseMode) return true;
    v = (v as { primal?: unknown }).primal;
  }
  return false;
}

/** JAX's error for reverse-mode differentiation of a loop whose trip count depends on data. */
export function whileLoopReverseError(): ArgumentError {
  return new ArgumentError(
    "whileLoop: expected values no reverse-mode transformation differentiates, got a reverse-mode (grad/vjp) value in the carry: " +
      "reverse-mode differentiation does not work for whileLoop or forLoop with traced bounds (the trip count depends on data); " +
      "use forLoop with JS-number bounds or scan, whose trip count is fixed",
  );
}

function checkNotReverse(leaves: readonly unknown[]): void {
  if (leaves.some(reverseTraced)) throw whileLoopReverseError();
}

// ── batched predicates (vmap): JAX's select semantics ──────────────────────────────────────

/** The first value in `x`'s chain of tracers (outermost first) that varies over a vmap batch, if any. */
function batchedLink(x: unknown): BatchTracer | undefined {
  let v = x;
  while (v instanceof Tracer) {
    if (v instanceof BatchTracer && v.batched) return v;
    v = v instanceof BatchTracer ? v.value : (v as { primal?: unknown }).primal;
  }
  return undefined;
}

/** Whether a predicate, index or loop test varies over a vmap batch (it then has no single value). */
function isBatched(x: unknown): boolean {
  return batchedLink(x) !== undefined;
}

/** Whether any element of a batched predicate is true (read one level below each vmap that batches it). */
function anyTrue(p: Tensor | number): boolean {
  const link = batchedLink(p);
  if (link === undefined) return readScalar(p as Tensor | number) !== 0;
  const v = link.value;
  const truth = v.dtype === "bool" ? v : bind("notEqual", [v, scalar(0, v.dtype)], {});
  const any = bind("reduceMax", [castTo(truth, "int32")], { axes: [0] });
  return anyTrue(any);
}

/** `pick ? a : b` per element, the scalar predicate broadcast over the leaf (a batched select). */
function select(pick: Tensor, a: number | Tensor, b: number | Tensor): Tensor {
  const x = asTensor(a);
  const y = asTensor(b);
  const truth = pick.dtype === "bool" ? pick : bind("notEqual", [pick, scalar(0, pick.dtype)], {});
  return bind("where", [truth, x, castTo(y, x.dtype)], {});
}

/**
 * cond/switchCase on a batched predicate or index: every branch runs on the whole batch and each
 * element keeps its own branch's result (JAX turns the cond into a select).
 */
function runAllAndSelect(
  op: string,
  index: Tensor,
  branches: readonly Fn[],
  operands: unknown[],
  check: (results: { def: TreeDef; avals: Aval[] }[]) => void,
): unknown {
  const results = branches.map((b) => flatten((b as (...a: unknown[]) => unknown)(...operands), op, "a branch's result"));
  check(results.map((r) => ({ def: r.def, avals: r.leaves.map(avalOf) })));
  const chosen =
    op === "cond" ? castTo(bind("notEqual", [index, scalar(0, index.dtype)], {}), "int32") : indexTensor(op, index, branches.length);
  const leaves = results[0]!.leaves.map((_, j) => {
    let acc = asTensor(results[0]!.leaves[j]!);
    for (let b = 1; b < results.length; b++) {
      acc = select(bind("equal", [chosen, scalar(b, "int32")], {}), results[b]!.leaves[j]!, acc);
    }
    return acc;
  });
  return unflatten(results[0]!.def, leaves);
}

// ── staging: sub-graphs with a common list of captured values ─────────────────────────────

type Traced = SubTrace & { avals: Aval[] };

/** Traces `f` on a tree of fresh inputs (`def` over `avals`), with its outputs' avals. */
function traceFn(op: string, avals: readonly Aval[], def: TreeDef, f: (tree: unknown) => unknown): Traced {
  const sub = traceSubgraph(op, avals, (ins) => f(unflatten(def, ins)));
  const outIds = sub.graph.outputs;
  const all = [...sub.graph.inputs, ...sub.graph.constants, ...sub.graph.nodes];
  const byId = new Map(all.map((v) => [v.id, v]));
  return { ...sub, avals: outIds.map((id) => ({ shape: byId.get(id)!.shape, dtype: byId.get(id)!.dtype })) };
}

/** The union of the captured lists, each value once. */
function unionOf(lists: readonly (readonly Tensor[])[]): Tensor[] {
  const all: Tensor[] = [];
  for (const list of lists) for (const t of list) if (!all.includes(t)) all.push(t);
  return all;
}

/**
 * `graph` (inputs: `declared` ones, then its own captured values) as a graph whose inputs are the
 * declared ones followed by one per value of `consts` (unused inputs for values it does not read).
 */
function withConsts(graph: Graph, declared: number, captured: readonly Tensor[], consts: readonly Tensor[]): Graph {
  let next = 1 + Math.max(-1, ...[...graph.inputs, ...graph.constants, ...graph.nodes].map((v) => v.id));
  const inputs = graph.inputs.slice(0, declared).concat(
    consts.map((c) => {
      const k = captured.indexOf(c);
      return k >= 0 ? graph.inputs[declared + k]! : { id: next++, shape: c.shape, dtype: c.dtype };
    }),
  );
  return { ...graph, inputs, inTree: flatten(inputs.map(() => 0)).def };
}

// ── the signatures (JAX's, camelCase; the implementations check their arguments at run time) ──

/** A predicate, branch index or loop bound: a JS number or boolean, or a rank-0 tensor (traced under jit). */
export type ControlScalar = number | boolean | Tensor;
/** `scan`'s options: the trip count when xs is null, and the direction. */
export interface ScanOptions {
  readonly length?: number;
  readonly reverse?: boolean;
}
export type CondFunction = <A extends unknown[], R>(
  pred: ControlScalar,
  trueFn: (...operands: A) => R,
  falseFn: (...operands: A) => R,
  ...operands: A
) => R;
export type SwitchCaseFunction = <A extends unknown[], R>(
  index: ControlScalar,
  branches: readonly ((...operands: A) => R)[],
  ...operands: A
) => R;
export type ForLoopFunction = <C>(lower: ControlScalar, upper: ControlScalar, body: (i: Tensor, carry: C) => C, init: C) => C;
export type ScanFunction = <C, X, Y>(f: (carry: C, x: X) => readonly [C, Y], init: C, xs: X, options?: ScanOptions) => [C, Y];
export type WhileLoopFunction = <C>(condFn: (carry: C) => Tensor | boolean, bodyFn: (carry: C) => C, init: C) => C;

// ── cond and switchCase ────────────────────────────────────────────────────────────────────

function runSwitch(op: string, index: number | Tensor, branches: readonly Fn[], operands: unknown[], names: readonly string[]): unknown {
  const { leaves, def } = flatten(operands, op, "operands");
  const avals = leaves.map(avalOf);
  const traced = branches.map((b, i) => ({
    i,
    sub: tryTrace(op, avals, def, (tree) => (b as (...a: unknown[]) => unknown)(...(tree as unknown[]))),
  }));
  const known = traced.filter((t): t is { i: number; sub: Traced } => t.sub !== null);
  for (const t of known.slice(1)) {
    const want = known[0]!;
    checkAgree(
      op,
      [`${names[want.i]}'s result`, `${names[t.i]}'s`],
      { def: want.sub.outDef, avals: want.sub.avals },
      { def: t.sub.outDef, avals: t.sub.avals },
    );
  }
  if (isBatched(index)) {
    return runAllAndSelect(op, index as Tensor, branches, operands, (results) => {
      for (let b = 1; b < results.length; b++) {
        checkAgree(op, [`${names[0]}'s result`, `${names[b]}'s`], results[0]!, results[b]!);
      }
    });
  }
  if (!stagingActive() || !(index instanceof Tracer)) {
    const n = branches.length;
    const v = readScalar(index);
    const chosen = op === "cond" ? (v !== 0 ? 1 : 0) : Math.min(n - 1, Math.max(0, Number.isNaN(v) ? 0 : Math.trunc(v)));
    return (branches[chosen] as (...a: unknown[]) => unknown)(...operands);
  }
  const subs = traced.map((t) => {
    if (t.sub === null)
      throw new ConcretizationError(`${op}: a branch reads the value of a traced tensor; under jit both branches are traced`);
    return t.sub;
  });
  const consts = unionOf(subs.map((s) => s.captured));
  const call: ControlCall = {
    kind: "cond",
    branches: subs.map((s) => withConsts(s.graph, leaves.length, s.captured, consts)),
    operands: leaves.length,
    outs: subs[0]!.avals,
  };
  const outs = bindControl(call, [indexTensor(op, index, branches.length), ...leaves.map(asTensor), ...consts]);
  return unflatten(subs[0]!.outDef, outs);
}

/** Traces a branch for its output types; null when it reads data (define-by-run only: it then runs unchecked). */
function tryTrace(op: string, avals: readonly Aval[], def: TreeDef, f: (tree: unknown) => unknown): Traced | null {
  try {
    return traceFn(op, avals, def, f);
  } catch (e) {
    if (e instanceof ConcretizationError && !stagingActive()) return null;
    throw e;
  }
}

/** The int32 branch index of a traced predicate (cond: pred ≠ 0) or index (switchCase: clamped). */
function indexTensor(op: string, v: Tensor, n: number): Tensor {
  if (op === "cond") {
    const truth = v.dtype === "bool" ? v : bind("notEqual", [v, scalar(0, v.dtype)], {});
    return castTo(truth, "int32");
  }
  const i = v.dtype === "int32" ? v : castTo(v, "int32");
  return bind("minimum", [bind("maximum", [i, scalar(0, "int32")], {}), scalar(n - 1, "int32")], {});
}

/**
 * `pred ? trueFn(...operands) : falseFn(...operands)`, with JAX's `lax.cond` semantics: under jit
 * the predicate may be traced (both branches are traced, one runs). Both branches must return the
 * same structure of the same shapes and dtypes.
 */
export const cond = checkArity("cond", 3, Infinity, (pred: unknown, trueFn: unknown, falseFn: unknown, ...operands: unknown[]): unknown => {
  checkFunction("cond", "trueFn", trueFn);
  checkFunction("cond", "falseFn", falseFn);
  return runSwitch("cond", scalarOperand("cond", "pred", pred), [falseFn, trueFn], operands, ["falseFn", "trueFn"]);
}) as CondFunction;

/** `branches[index](...operands)`, the index clamped into range (JAX's `lax.switch`). */
export const switchCase = checkArity("switchCase", 2, Infinity, (index: unknown, branches: unknown, ...operands: unknown[]): unknown => {
  if (!Array.isArray(branches) || branches.length === 0) {
    throw new ArgumentError(`switchCase: expected a non-empty array of branch functions, got ${describeValue(branches)}`);
  }
  branches.forEach((b, i) => checkFunction("switchCase", `branches[${i}]`, b));
  return runSwitch(
    "switchCase",
    scalarOperand("switchCase", "index", index),
    branches as Fn[],
    operands,
    branches.map((_, i) => `branches[${i}]`),
  );
}) as SwitchCaseFunction;

// ── loops ──────────────────────────────────────────────────────────────────────────────────

interface Carry {
  def: TreeDef;
  leaves: (number | Tensor)[];
  avals: Aval[];
  weak: boolean[];
}

function carryOf(op: string, tree: unknown, path: string): Carry {
  const { leaves, def } = flatten(tree, op, path);
  return { def, leaves, avals: leaves.map(avalOf), weak: leaves.map((l) => typeof l === "number") };
}

/** The new carry of a define-by-run step, checked against the initial one. */
function nextCarry(op: string, init: Carry, tree: unknown, what: string): Carry {
  const next = carryOf(op, tree, what);
  checkAgree(op, ["the initial carry", what], init, next);
  return next;
}

/**
 * Traces a loop body on the carry's types; when a JS-number leaf of the carry comes back with
 * another float dtype (weak typing), traces again with that dtype. Returns the trace and the
 * carry's avals used.
 */
function traceBody(
  op: string,
  init: Carry,
  extra: readonly Aval[],
  f: (carry: unknown, extra: Tensor[]) => unknown,
  /** The carry's part of the body's result structure (the whole result, or a scan step's first entry). */
  carryOut: (result: TreeDef) => TreeDef,
): { sub: Traced; avals: Aval[] } {
  let avals = init.avals;
  for (let attempt = 0; ; attempt++) {
    const nc = avals.length;
    const sub = traceFn(op, [...avals, ...extra], flatten([...avals.map(() => 0), ...extra.map(() => 0)]).def, (tree) => {
      const ins = tree as Tensor[];
      return f(unflatten(init.def, ins.slice(0, nc)), ins.slice(nc));
    });
    const outDef = carryOut(sub.outDef);
    const outAvals = sub.avals.slice(0, leafCount(outDef));
    checkAgree(op, ["the initial carry", "the body's carry"], { ...init, avals }, { def: outDef, avals: outAvals });
    const widened = avals.map((a, i) => (init.weak[i] && outAvals[i]!.dtype !== a.dtype ? outAvals[i]! : a));
    if (attempt > 0 || widened.every((a, i) => a === avals[i])) return { sub, avals };
    avals = widened;
  }
}

/** `init`'s leaves as tensors of the (possibly widened) carry avals. */
function carryTensors(init: Carry, avals: readonly Aval[]): Tensor[] {
  return init.leaves.map((l, i) => (typeof l === "number" ? scalar(l, avals[i]!.dtype) : l));
}

function intBound(op: string, name: string, v: number): number {
  if (!Number.isSafeInteger(v)) throw new ArgumentError(`${op}: expected ${name} to be an integer, got ${v}`);
  return v;
}

/**
 * `for (let i = lower; i < upper; i++) carry = body(i, carry)` (JAX's `lax.fori_loop`); `i` is an
 * int32 scalar tensor. With JS-number bounds the trip count is static: reverse mode works (each
 * step is recorded; under jit a reversed loop over the stored carries). With traced bounds (jit)
 * it is a whileLoop (forward-differentiable only).
 */
export const forLoop = checkArity("forLoop", 4, 4, (lower: unknown, upper: unknown, body: unknown, init: unknown): unknown => {
  checkFunction("forLoop", "body", body);
  const lo = scalarOperand("forLoop", "lower", lower);
  const hi = scalarOperand("forLoop", "upper", upper);
  const f = body as (i: Tensor, carry: unknown) => unknown;
  const carry = carryOf("forLoop", init, "init");
  if (!stagingActive() || (!(lo instanceof Tracer) && !(hi instanceof Tracer))) {
    const a = intBound("forLoop", "lower", readScalar(lo));
    const b = intBound("forLoop", "upper", readScalar(hi));
    if (!stagingActive()) {
      let c = carry;
      for (let i = a; i < b; i++)
        c = nextCarry("forLoop", carry, f(scalar(i, "int32"), unflatten(carry.def, c.leaves)), "the body's carry");
      return unflatten(carry.def, c.leaves);
    }
    const { sub, avals } = traceBody(
      "forLoop",
      carry,
      [{ shape: [], dtype: "int32" }],
      (c, [i]) => f(i!, c),
      (d) => d,
    );
    // the body's inputs are [i, ...carry, ...consts]: move i first
    const nc = avals.length;
    const graph = { ...sub.graph, inputs: [sub.graph.inputs[nc]!, ...sub.graph.inputs.slice(0, nc), ...sub.graph.inputs.slice(nc + 1)] };
    const call: ControlCall = {
      kind: "scan",
      body: graph,
      length: Math.max(0, b - a),
      reverse: false,
      indexed: a,
      carry: nc,
      xs: 0,
      outs: avals,
    };
    return unflatten(carry.def, bindControl(call, [...carryTensors(carry, avals), ...sub.captured]));
  }
  // traced bounds: a while loop on [i, carry]
  const start = typeof lo === "number" ? scalar(intBound("forLoop", "lower", lo), "int32") : castTo(lo, "int32");
  const stop = typeof hi === "number" ? scalar(intBound("forLoop", "upper", hi), "int32") : castTo(hi, "int32");
  const [, result] = whileLoop(
    ([i]: [Tensor, unknown]) => bind("less", [i, stop], {}),
    ([i, c]: [Tensor, unknown]) => [bind("add", [i, scalar(1, "int32")], {}), f(i, c)],
    [start, init],
  ) as [Tensor, unknown];
  return result;
}) as ForLoopFunction;

function scanOptions(options: unknown): { length?: number; reverse: boolean } {
  if (options === undefined) return { reverse: false };
  if (options === null || typeof options !== "object")
    throw new ArgumentError(`scan: expected options as an object, got ${describeValue(options)}`);
  const { length, reverse, ...rest } = options as { length?: unknown; reverse?: unknown };
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new ArgumentError(`scan: expected options length and reverse, got ${unknown.join(", ")}`);
  if (length !== undefined && !(Number.isSafeInteger(length) && (length as number) >= 0)) {
    throw new ArgumentError(`scan: expected options.length to be a non-negative integer, got ${describeValue(length)}`);
  }
  if (reverse !== undefined && typeof reverse !== "boolean")
    throw new ArgumentError(`scan: expected options.reverse to be a boolean, got ${describeValue(reverse)}`);
  return { ...(length === undefined ? {} : { length: length as number }), reverse: reverse === true };
}

/** Slice `t` of a leaf stacked on its leading axis. */
function sliceAt(x: Tensor, t: number): Tensor {
  const rest = x.shape.slice(1);
  const sliced = bind("slice", [x], { begin: [t, ...rest.map(() => 0)], end: [t + 1, ...rest] });
  return bind("reshape", [sliced], { shape: rest });
}

function stackSteps(steps: readonly Tensor[], aval: Aval, length: number): Tensor {
  if (length === 0) return zeros([0, ...aval.shape], aval.dtype);
  const parts = steps.map((s) => bind("reshape", [s], { shape: [1, ...s.shape] }));
  return parts.length === 1 ? parts[0]! : bind("concat", parts, { axis: 0 });
}

function splitStep(op: string, result: unknown): [unknown, unknown] {
  if (!Array.isArray(result) || result.length !== 2) {
    throw new ArgumentError(`${op}: expected f to return [carry, y], got ${describeValue(result)}`);
  }
  return [result[0], result[1]];
}

/**
 * `scan(f, init, xs)` → `[carry, ys]`, JAX's `lax.scan`: `[carry, y] = f(carry, x)` for each x
 * along xs's leading axis (xs a pytree of tensors of one leading length; null with
 * `{ length }`), ys the ys stacked. `{ reverse: true }` scans from the last x to the first.
 */
export const scan = checkArity("scan", 3, 4, (f: unknown, init: unknown, xs: unknown, options?: unknown): unknown => {
  checkFunction("scan", "f", f);
  const { length: given, reverse } = scanOptions(options);
  const carry = carryOf("scan", init, "init");
  const xsFlat = flatten(xs, "scan", "xs");
  const xLeaves = xsFlat.leaves.map((l) => {
    if (!(l instanceof Tensor) || l.rank === 0)
      throw new ShapeError(`scan: expected the leaves of xs to be tensors of rank ≥ 1, got ${describeValue(l)}`);
    return l;
  });
  const lengths = [...new Set(xLeaves.map((l) => l.shape[0]!))];
  if (lengths.length > 1 || (given !== undefined && lengths.length === 1 && lengths[0] !== given)) {
    const expected = `one leading length${given === undefined ? "" : ` (${given})`}`;
    throw new ShapeError(`scan: expected the leaves of xs to share ${expected}, got ${lengths.join(" and ")}`);
  }
  const length = lengths[0] ?? given;
  if (length === undefined) throw new ArgumentError("scan: expected xs with at least one tensor, or options.length");
  const step = f as (c: unknown, x: unknown) => unknown;
  const xAvals = xLeaves.map((l) => ({ shape: l.shape.slice(1), dtype: l.dtype }));
  if (!stagingActive() && length > 0) {
    let c = carry;
    let yDef: TreeDef | undefined;
    let yAvals: Aval[] = [];
    const ys: Tensor[][] = [];
    for (let k = 0; k < length; k++) {
      const t = reverse ? length - 1 - k : k;
      const [nc, y] = splitStep(
        "scan",
        step(
          unflatten(carry.def, c.leaves),
          unflatten(
            xsFlat.def,
            xLeaves.map((x) => sliceAt(x, t)),
          ),
        ),
      );
      c = nextCarry("scan", carry, nc, "f's carry");
      const yf = flatten(y, "scan", "f's y");
      const avals = yf.leaves.map(avalOf);
      if (yDef === undefined) [yDef, yAvals] = [yf.def, avals];
      else checkAgree("scan", ["the first step's y", "a later step's y"], { def: yDef, avals: yAvals }, { def: yf.def, avals });
      ys[t] = yf.leaves.map(asTensor);
    }
    const stacked = yAvals.map((a, j) =>
      stackSteps(
        ys.map((s) => s[j]!),
        a,
        length,
      ),
    );
    return [unflatten(carry.def, c.leaves), unflatten(yDef!, stacked)];
  }
  const { sub, avals } = traceBody(
    "scan",
    carry,
    xAvals,
    (c, xsl) => splitStep("scan", step(c, unflatten(xsFlat.def, xsl))),
    (d) => (d as { readonly children: readonly TreeDef[] }).children[0]!,
  );
  const yDef = (sub.outDef as { readonly children: readonly TreeDef[] }).children[1]!;
  const yAvals = sub.avals.slice(avals.length).map((a) => ({ shape: [length, ...a.shape], dtype: a.dtype }));
  const call: ControlCall = {
    kind: "scan",
    body: sub.graph,
    length,
    reverse,
    indexed: null,
    carry: avals.length,
    xs: xLeaves.length,
    outs: [...avals, ...yAvals],
  };
  const outs = bindControl(call, [...carryTensors(carry, avals), ...xLeaves, ...sub.captured]);
  return [unflatten(carry.def, outs.slice(0, avals.length)), unflatten(yDef, outs.slice(avals.length))];
}) as ScanFunction;

function checkPredicate(op: string, result: unknown): Tensor | number {
  const p = typeof result === "boolean" ? (result ? 1 : 0) : result;
  if (typeof p === "number") return p;
  if (!(p instanceof Tensor) || p.rank !== 0) {
    throw new ShapeError(`${op}: expected condFn to return a boolean or a rank-0 tensor, got ${describeValue(result)}`);
  }
  return p;
}

/**
 * `while (condFn(carry)) carry = bodyFn(carry)` (JAX's `lax.while_loop`). Forward-differentiable;
 * reverse mode refuses it (use forLoop with JS-number bounds or scan).
 */
export const whileLoop = checkArity("whileLoop", 3, 3, (condFn: unknown, bodyFn: unknown, init: unknown): unknown => {
  checkFunction("whileLoop", "condFn", condFn);
  checkFunction("whileLoop", "bodyFn", bodyFn);
  const test = condFn as (c: unknown) => unknown;
  const body = bodyFn as (c: unknown) => unknown;
  const carry = carryOf("whileLoop", init, "init");
  if (!stagingActive()) {
    checkNotReverse(carry.leaves);
    let c = carry;
    for (;;) {
      const p = checkPredicate("whileLoop", test(unflatten(carry.def, c.leaves)));
      if (!anyTrue(p)) break;
      const next = nextCarry("whileLoop", carry, body(unflatten(carry.def, c.leaves)), "bodyFn's carry");
      // a batched test: the elements whose test is false keep their carry (JAX's batched while)
      c = isBatched(p) ? { ...next, leaves: next.leaves.map((l, i) => select(p as Tensor, l, c.leaves[i]!)) } : next;
      checkNotReverse(c.leaves);
    }
    return unflatten(carry.def, c.leaves);
  }
  const { sub: bodySub, avals } = traceBody(
    "whileLoop",
    carry,
    [],
    (c) => body(c),
    (d) => d,
  );
  const condSub = traceFn("whileLoop", avals, carry.def, (c) => checkPredicate("whileLoop", test(c)));
  const p = condSub.avals[0]!;
  if (condSub.avals.length !== 1 || p.shape.length !== 0)
    throw new ShapeError(`whileLoop: expected condFn to return a scalar, got ${describeTyped(condSub.outDef, condSub.avals)}`);
  const consts = unionOf([condSub.captured, bodySub.captured]);
  const nc = avals.length;
  const call: ControlCall = {
    kind: "while",
    cond: withConsts(condSub.graph, nc, condSub.captured, consts),
    body: withConsts(bodySub.graph, nc, bodySub.captured, consts),
    carry: nc,
    outs: avals,
  };
  return unflatten(carry.def, bindControl(call, [...carryTensors(carry, avals), ...consts]));
}) as WhileLoopFunction;

// ── interpreting a staged call (eagerly, or op by op on a define-by-run trace's values) ───

function truthy(v: Tensor): boolean {
  return v.data[0]! !== 0;
}

function interpretScan(call: Extract<ControlCall, { kind: "scan" }>, inputs: readonly Tensor[]): Tensor[] {
  const nc = call.carry;
  let carry = inputs.slice(0, nc);
  const xs = inputs.slice(nc, nc + call.xs);
  const consts = inputs.slice(nc + call.xs);
  const ys: Tensor[][] = [];
  for (let k = 0; k < call.length; k++) {
    const t = call.reverse ? call.length - 1 - k : k;
    const index = call.indexed === null ? [] : [scalar(call.indexed + t, "int32")];
    const out = evalGraphTrusted(call.body as Graph, [...index, ...carry, ...xs.map((x) => sliceAt(x, t)), ...consts]);
    carry = out.slice(0, nc);
    ys[t] = out.slice(nc);
  }
  const stacked = call.outs.slice(nc).map((a, j) =>
    stackSteps(
      ys.map((s) => s[j]!),
      { shape: a.shape.slice(1), dtype: a.dtype },
      call.length,
    ),
  );
  return [...carry, ...stacked];
}

function interpret(call: ControlCall, inputs: readonly Tensor[]): Tensor[] {
  switch (call.kind) {
    case "cond": {
      const index = inputs[0]!.data[0]!;
      return evalGraphTrusted(call.branches[index]! as Graph, inputs.slice(1));
    }
    case "scan":
      return interpretScan(call, inputs);
    case "while": {
      checkNotReverse(inputs);
      let carry = inputs.slice(0, call.carry);
      const consts = inputs.slice(call.carry);
      while (truthy(evalGraphTrusted(call.cond as Graph, [...carry, ...consts])[0]!)) {
        carry = evalGraphTrusted(call.body as Graph, [...carry, ...consts]);
      }
      return carry;
    }
  }
}

CONTROL_RUNTIME.interpret = interpret;
