/**
 * `vmap(f, { inAxes, outAxes })`: f mapped over a batch axis of its arguments, JAX's semantics.
 *
 * A `BatchTrace` is one more interpretation (trace.ts): each of its tracers holds a value of the
 * level below whose batch axis, when it has one, is in front. A primitive with no batched input is
 * bound as it is; otherwise its definition's batching rule (`PrimitiveDef.batch`, define.ts) turns
 * it into primitives on the whole batch at once, bound at the level below. So vmap composes with
 * every engine's traces (grad of vmap, vmap of grad, jit of vmap: one program whatever the batch
 * size) and with itself. A rule that refuses a case (`BatchingUnsupported`) falls back to a loop
 * over the batch, reported once per primitive with a warning and listed by `vmapFallbacks()`.
 */
import { ArgumentError, checkArity, ConcretizationError, count, describeValue, formatValue, internalError, ShapeError } from "./errors.js";
import { definitionOf, type Aval, type Params, type Primitive } from "./primitives.js";
import { BatchingUnsupported, moveAxis, type BatchRule } from "./primitives/define.js";
import { evalGraphTrusted, traceSubgraph, type Graph } from "./graph.js";
import { checkDepth } from "./limits.js";
import { CONTROL_RUNTIME, type ControlCall, type SubGraph } from "./primitives/control.js";
import { flatten, unflatten, type TreeDef } from "./pytree.js";
import { formatShape, shapesEqual } from "./shape.js";
import { scalar, Tensor } from "./tensor.js";
import {
  bind,
  bindControl,
  bindCustomJvp,
  bindCustomVjp,
  checkNotEscaped,
  Trace,
  Tracer,
  withTrace,
  type CustomJvpRule,
  type CustomVjpRule,
} from "./trace.js";

// ── the trace ──────────────────────────────────────────────────────────────────────────────

/** A value inside `vmap`: one element of the batch, held as the whole batch one level down. */
export class BatchTracer extends Tracer {
  declare readonly trace: BatchTrace;
  /** The value one level down: `[size, ...shape]` when batched, `shape` when shared by every element. */
  declare readonly value: Tensor;
  declare readonly batched: boolean;

  constructor(trace: BatchTrace, value: Tensor, batched: boolean) {
    super(batched ? { shape: value.shape.slice(1), dtype: value.dtype } : value);
    this.trace = trace;
    this.value = value;
    this.batched = batched;
  }

  concrete(): Tensor {
    if (!this.batched) return this.value instanceof Tracer ? this.value.concrete() : this.value;
    throw new ConcretizationError(
      `vmap: can't read a batched value (${this.typeString()}, one per batch element) as a concrete number: ` +
        "inside vmap a value that varies over the batch has no single value; select with where(…), or use cond(…) " +
        "or a loop construct (forLoop, scan) instead of a JavaScript if or loop on it",
    );
  }
}

export class BatchTrace extends Trace {
  readonly name = "vmap";
  /** The batch size. */
  declare readonly size: number;

  constructor(level: number, size: number) {
    super(level);
    this.size = size;
  }

  constant(value: Tensor): BatchTracer {
    return new BatchTracer(this, value, false);
  }

  /** A tracer for a value one level down with its batch axis in front (or none). */
  wrap(value: Tensor, batched: boolean): BatchTracer {
    return new BatchTracer(this, value, batched);
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>, out: Aval): Tracer {
    const values = inputs.map((t) => (t as BatchTracer).value);
    const batched = inputs.map((t) => (t as BatchTracer).batched);
    if (!batched.some(Boolean)) return new BatchTracer(this, bind(prim, values, params), false);
    const rule = definitionOf(prim).batch as BatchRule<P>;
    return new BatchTracer(this, applyBatchRule(prim, rule, values, batched, params, this.size, out), true);
  }

  /** The custom rule stays a custom rule one level down, on the whole batch. */
  override processCustomJvp(rule: CustomJvpRule, inputs: Tracer[]): Tensor {
    const values = inputs.map((t) => (t as BatchTracer).value);
    const batched = inputs.map((t) => (t as BatchTracer).batched);
    if (!batched.some(Boolean)) return new BatchTracer(this, bindCustomJvp(rule, values), false);
    const k = this.size;
    const n = values.length;
    const lifted: CustomJvpRule = {
      fun: named(rule.fun, (...xs: Tensor[]) => batchFlat((ts) => [rule.fun(...ts)], xs, batched, k)[0]!),
      jvp: (primals, tangents) => {
        const [p, t] = batchFlat((all) => rule.jvp(all.slice(0, n), all.slice(n)), [...primals, ...tangents], [...batched, ...batched], k);
        return [p!, t!];
      },
    };
    return new BatchTracer(this, bindCustomJvp(lifted, values), true);
  }

  /**
   * customVjp on the batch: fwd and bwd run batched; the cotangent of an input shared by the
   * batch is the sum over the batch of its elements' cotangents. Residuals that are not a tree of
   * tensors can't be batched: then the function is inlined (differentiated as written).
   */
  override processCustomVjp(rule: CustomVjpRule, inputs: Tracer[]): Tensor {
    const values = inputs.map((t) => (t as BatchTracer).value);
    const batched = inputs.map((t) => (t as BatchTracer).batched);
    if (!batched.some(Boolean)) return new BatchTracer(this, bindCustomVjp(rule, values), false);
    const k = this.size;
    let residualDef: TreeDef | undefined;
    const lifted: CustomVjpRule = {
      fun: named(rule.fun, (...xs: Tensor[]) => batchFlat((ts) => [rule.fun(...ts)], xs, batched, k)[0]!),
      fwd: (...xs: Tensor[]) => {
        const outs = batchFlat(
          (ts) => {
            const [out, residuals] = rule.fwd(...ts);
            const { leaves, def } = flatten(residuals, "customVjp", "residuals");
            residualDef = def;
            return [out, ...leaves.map((l) => (typeof l === "number" ? scalar(l) : l))];
          },
          xs,
          batched,
          k,
        );
        return [outs[0]!, outs.slice(1)];
      },
      bwd: (residuals, ct) => {
        const leaves = residuals as Tensor[];
        const mask = [true, ...leaves.map(() => true)];
        const cts = batchFlat((ts) => rule.bwd(unflatten(residualDef!, ts.slice(1)), ts[0]!), [ct, ...leaves], mask, k);
        return cts.map((c, i) => (batched[i] ? c : bind("reduceSum", [c], { axes: [0] })));
      },
      // checkpoint's rule: the batched fun stays ordinary differentiable code (forward mode differentiates it)
      ...(rule.differentiableFun === true ? { differentiableFun: true } : {}),
    };
    return new BatchTracer(this, bindCustomVjp(lifted, values), true);
  }

  /**
   * A staged control-flow call on the batch: one call of batched sub-graphs one level down (a
   * loop stays one loop whatever the batch size). A cond on a batched index runs every branch
   * and selects per element; a while loop on a batched test runs while any element continues.
   */
  override processControl(call: ControlCall, inputs: Tracer[]): Tensor[] {
    const values = inputs.map((t) => (t as BatchTracer).value);
    const batched = inputs.map((t) => (t as BatchTracer).batched);
    if (!batched.some(Boolean)) return bindControl(call, values).map((v) => new BatchTracer(this, v, false));
    return batchControl(call, values, batched, this.size).map((v) => new BatchTracer(this, v, true));
  }
}

// ── control flow on a batch ────────────────────────────────────────────────────────────────

/** `graph` batched: a sub-graph one level down taking the inputs of `avals` (batched ones marked), every output batched. */
function batchedGraph(
  graph: SubGraph,
  avals: readonly Aval[],
  batched: readonly boolean[],
  k: number,
  post: (outs: Tensor[], ins: Tensor[]) => Tensor[] = (outs) => outs,
): Graph {
  const sub = traceSubgraph("vmap", avals, (ins) =>
    post(
      batchFlat((xs) => evalGraphTrusted(graph as Graph, xs), ins, batched, k),
      ins,
    ),
  );
  if (sub.captured.length > 0) throw internalError("vmap: a batched control-flow sub-graph captured an outer value");
  return sub.graph;
}

const avalOf = (t: Tensor): Aval => ({ shape: t.shape, dtype: t.dtype });
const batchedAval = (a: Aval, k: number): Aval => ({ shape: [k, ...a.shape], dtype: a.dtype });

/** `v` with its batch axis in front (broadcast when shared by the batch). */
function asBatched(v: Tensor, batched: boolean, k: number): Tensor {
  return batched ? v : broadcastBatch(v, k);
}

/** A batched [k] predicate as "is it true", reshaped to broadcast against a batched `[k, ...shape]` leaf. */
function truthFor(p: Tensor, rank: number): Tensor {
  const truth = p.dtype === "bool" ? p : bind("notEqual", [p, scalar(0, p.dtype)], {});
  return bind("reshape", [truth], { shape: [truth.shape[0]!, ...Array.from({ length: rank - 1 }, () => 1)] });
}

/** cond on a batched index `values[0]` ([k]): every branch runs on the batch, each element keeps its own branch's outputs. */
function selectBranches(
  call: Extract<ControlCall, { kind: "cond" }>,
  values: readonly Tensor[],
  flags: readonly boolean[],
  k: number,
): Tensor[] {
  const index = values[0]!;
  const results = call.branches.map((b) => batchFlat((xs) => evalGraphTrusted(b as Graph, xs), values.slice(1), flags, k));
  return results[0]!.map((_, j) => {
    let acc = results[0]![j]!;
    for (let b = 1; b < results.length; b++) {
      const pick = truthFor(bind("equal", [index, scalar(b, "int32")], {}), acc.rank);
      acc = bind("where", [pick, results[b]![j]!, acc], {});
    }
    return acc;
  });
}

/** The call on the batch's values one level down, all outputs batched (carries are made batched). */
export function batchControl(call: ControlCall, values: readonly Tensor[], batched: readonly boolean[], k: number): Tensor[] {
  switch (call.kind) {
    case "cond": {
      const rest = values.slice(1);
      const flags = batched.slice(1);
      if (batched[0]) return selectBranches(call, values, flags, k);
      const branches = call.branches.map((b) => batchedGraph(b, rest.map(avalOf), flags, k));
      return bindControl({ ...call, branches, outs: call.outs.map((a) => batchedAval(a, k)) }, values);
    }
    case "scan":
      return batchScan(call, values, batched, k);
    case "while":
      return batchWhile(call, values, batched, k);
  }
}

function batchScan(
  call: Extract<ControlCall, { kind: "scan" }>,
  values: readonly Tensor[],
  batched: readonly boolean[],
  k: number,
): Tensor[] {
  const nc = call.carry;
  const carry = values.slice(0, nc).map((v, i) => asBatched(v, batched[i]!, k));
  // a batched x [k, T, ...] is scanned along T: [T, k, ...], each slice batched
  const xs = values.slice(nc, nc + call.xs).map((v, i) => (batched[nc + i] ? moveAxis(v, 0, 1) : v));
  const consts = values.slice(nc + call.xs);
  const index: Aval[] = call.indexed === null ? [] : [{ shape: [], dtype: "int32" }];
  const avals = [...index, ...carry.map(avalOf), ...xs.map((x) => ({ shape: x.shape.slice(1), dtype: x.dtype })), ...consts.map(avalOf)];
  const flags = [...index.map(() => false), ...carry.map(() => true), ...batched.slice(nc)];
  const body = batchedGraph(call.body, avals, flags, k);
  const outs = call.outs.map((a, i) => (i < nc ? batchedAval(a, k) : { shape: [a.shape[0]!, k, ...a.shape.slice(1)], dtype: a.dtype }));
  const result = bindControl({ ...call, body, outs }, [...carry, ...xs, ...consts]);
  return result.map((r, i) => (i < nc ? r : moveAxis(r, 1, 0)));
}

/** JAX's batched while: runs while any element's test holds; an element whose test fails keeps its carry. */
function batchWhile(
  call: Extract<ControlCall, { kind: "while" }>,
  values: readonly Tensor[],
  batched: readonly boolean[],
  k: number,
): Tensor[] {
  const nc = call.carry;
  const carry = values.slice(0, nc).map((v, i) => asBatched(v, batched[i]!, k));
  const consts = values.slice(nc);
  const avals = [...carry, ...consts].map(avalOf);
  const flags = [...carry.map(() => true), ...batched.slice(nc)];
  const test = (ins: Tensor[]) => batchFlat((xs) => evalGraphTrusted(call.cond as Graph, xs), ins, flags, k)[0]!;
  const cond = batchedGraph(call.cond, avals, flags, k, ([p]) => {
    const any = bind("reduceMax", [bind("cast", [truthFor(p!, 1)], { dtype: "int32" })], { axes: [0] });
    return [bind("greater", [any, scalar(0, "int32")], {})];
  });
  const body = batchedGraph(call.body, avals, flags, k, (next, ins) => {
    const p = test(ins);
    return next.map((c, i) => bind("where", [truthFor(p, c.rank), c, ins[i]!], {}));
  });
  return bindControl({ ...call, cond, body, outs: call.outs.map((a) => batchedAval(a, k)) }, [...carry, ...consts]);
}

function named<F extends (...args: Tensor[]) => Tensor>(like: { name: string }, fn: F): F {
  Object.defineProperty(fn, "name", { value: like.name });
  return fn;
}

/**
 * `f` on flat lists, mapped over the leading axis of the inputs marked in `batched` (size `k`):
 * every output comes back batched, its batch axis in front.
 */
function batchFlat(f: (xs: Tensor[]) => Tensor[], xs: readonly Tensor[], batched: readonly boolean[], k: number): Tensor[] {
  const [outs, trace] = withTrace(
    (level) => new BatchTrace(level, k),
    (trace) => [f(xs.map((x, i) => (batched[i] ? trace.wrap(x, true) : x))), trace] as const,
  );
  return outs.map((o) => toBatched(trace, o));
}

/** An output of `trace` as a value one level down with its batch axis in front (broadcast if shared). */
function toBatched(trace: BatchTrace, out: Tensor): Tensor {
  if (out instanceof BatchTracer && out.trace === trace) {
    return out.batched ? out.value : broadcastBatch(out.value, trace.size);
  }
  return broadcastBatch(out, trace.size);
}

function broadcastBatch(t: Tensor, k: number): Tensor {
  return bind("broadcastTo", [t], { shape: [k, ...t.shape] });
}

// ── batching rules and the fallback loop ───────────────────────────────────────────────────

interface Fallback {
  readonly primitive: Primitive;
  readonly reason: string;
}
const fallbacks = new Map<Primitive, Fallback>();

/**
 * The primitives vmap has batched with a loop over the batch (their rule refused the case): each
 * with the reason its rule gave. The first fallback of each primitive also warns on the console.
 */
export const vmapFallbacks = checkArity("vmapFallbacks", 0, 0, (): Fallback[] => [...fallbacks.values()]);

/** Forgets the fallbacks reported so far (tests). */
export function forgetFallbacks(): void {
  fallbacks.clear();
}

/** `rule` applied to a primitive with some batched inputs: its result checked, or the loop when it refuses the case. */
export function applyBatchRule<P extends Primitive>(
  prim: P,
  rule: BatchRule<P>,
  values: readonly Tensor[],
  batched: readonly boolean[],
  params: Params<P>,
  k: number,
  out: Aval,
): Tensor {
  let result: Tensor;
  try {
    result = rule(values, batched, params, k, out);
  } catch (error) {
    if (!(error instanceof BatchingUnsupported)) throw error;
    if (!fallbacks.has(prim)) {
      fallbacks.set(prim, { primitive: prim, reason: error.message });
      console.warn(`vmap: ${prim} is batched by a loop over the batch (${error.message}); see vmapFallbacks()`);
    }
    result = batchByLoop(prim, values, batched, params, k);
  }
  if (!shapesEqual(result.shape, [k, ...out.shape]) || result.dtype !== out.dtype) {
    throw internalError(
      `the batching rule of ${prim} returned ${result.dtype}${formatShape(result.shape)}, ` +
        `expected ${out.dtype}${formatShape([k, ...out.shape])}`,
    );
  }
  return result;
}

/** Element `j` of a batched value (its leading axis dropped). */
function batchElement(t: Tensor, j: number): Tensor {
  const rest = t.shape.slice(1);
  const begin = [j, ...rest.map(() => 0)];
  const end = [j + 1, ...rest];
  return bind("reshape", [bind("slice", [t], { begin, end })], { shape: rest });
}

/**
 * The primitive applied to each batch element alone, the results stacked: correct for every
 * primitive, but k applications (under jit, a program that grows with the batch).
 */
export const batchByLoop = checkArity(
  "batchByLoop",
  5,
  5,
  <P extends Primitive>(prim: P, values: readonly Tensor[], batched: readonly boolean[], params: Params<P>, k: number): Tensor => {
    const parts: Tensor[] = [];
    for (let j = 0; j < k; j++) {
      const y = bind(
        prim,
        values.map((v, i) => (batched[i] ? batchElement(v, j) : v)),
        params,
      );
      parts.push(bind("reshape", [y], { shape: [1, ...y.shape] }));
    }
    return bind("concat", parts, { axis: 0 });
  },
);

// ── vmap ───────────────────────────────────────────────────────────────────────────────────

/** An axis per leaf: a number (negative counts from the end), null (not mapped), or a tree of them matching the values. */
export type AxisSpec = number | null | undefined | readonly AxisSpec[] | { readonly [key: string]: AxisSpec };

export interface VmapOptions {
  /** Per argument (an array as long as the arguments) or for all of them: the axis to map, or null. Default 0. */
  readonly inAxes?: AxisSpec;
  /** Per output leaf (a tree prefix of f's result) or for all of them: where the batch axis goes, or null. Default 0. */
  readonly outAxes?: AxisSpec;
  /** The batch size, needed only when no argument is mapped. */
  readonly axisSize?: number;
}

const OPTIONS = ["inAxes", "outAxes", "axisSize"];

function checkOptions(options: unknown): VmapOptions {
  if (options === undefined) return {};
  const proto = options !== null && typeof options === "object" ? Object.getPrototypeOf(options) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new ArgumentError(`vmap: expected options { inAxes, outAxes, axisSize }, got ${describeValue(options)}`);
  }
  const unknown = Object.keys(options as object).filter((key) => !OPTIONS.includes(key));
  if (unknown.length > 0) {
    throw new ArgumentError(
      `vmap: unknown option${unknown.length === 1 ? "" : "s"} ${unknown.join(", ")} (vmap takes inAxes, outAxes, axisSize)`,
    );
  }
  const { axisSize } = options as VmapOptions;
  if (axisSize !== undefined && (!Number.isSafeInteger(axisSize) || axisSize < 0)) {
    throw new ArgumentError(`vmap: expected axisSize to be a non-negative integer, got ${formatValue(axisSize)}`);
  }
  return options as VmapOptions;
}

/**
 * The axis of each leaf of `tree` (flattened as `flatten` does) from `spec`, a number or null for
 * the whole subtree, or an array/object matching the tree's structure (a tree prefix, as in JAX).
 */
function axesOfLeaves(what: string, spec: AxisSpec, tree: unknown, path: string, out: (number | null)[]): void {
  if (spec === undefined) spec = null;
  if (spec === null || typeof spec === "number") {
    if (typeof spec === "number" && !Number.isInteger(spec))
      throw new ArgumentError(`vmap: expected integer ${what}, got ${spec} for ${path}`);
    const { leaves } = flatten(tree, "vmap", path);
    for (let i = 0; i < leaves.length; i++) out.push(spec);
    return;
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(tree) || tree.length !== spec.length) {
      const got = Array.isArray(tree) ? `an array of ${tree.length}` : describeValue(tree);
      throw new ArgumentError(
        `vmap: expected ${what} at ${path} to match the value's structure, got an array of ${spec.length} for ${got}`,
      );
    }
    spec.forEach((s, i) => axesOfLeaves(what, s as AxisSpec, tree[i], `${path}[${i}]`, out));
    return;
  }
  if (typeof spec === "object" && Object.getPrototypeOf(spec) === Object.prototype) {
    const keys = Object.keys(spec);
    const isObject = tree !== null && typeof tree === "object" && !Array.isArray(tree) && !(tree instanceof Tensor);
    const treeKeys = isObject ? Object.keys(tree) : [];
    if (!isObject || treeKeys.length !== keys.length || treeKeys.some((key) => !keys.includes(key))) {
      throw new ArgumentError(
        `vmap: expected ${what} at ${path} to match the value's structure, got keys {${keys.join(", ")}} for ${describeValue(tree)}`,
      );
    }
    // leaves come in the tree's key order (flatten's)
    for (const key of treeKeys)
      axesOfLeaves(what, (spec as Record<string, AxisSpec>)[key], (tree as Record<string, unknown>)[key], `${path}.${key}`, out);
    return;
  }
  throw new ArgumentError(`vmap: expected ${what} to be numbers, null, or arrays/objects of them, got ${describeValue(spec)} at ${path}`);
}

/** `axis` in [-rank, rank) made non-negative, or a ShapeError naming the value. */
function normalizeMapAxis(what: string, axis: number, rank: number, path: string): number {
  if (axis < -rank || axis >= rank) {
    const range = rank === 0 ? "none: it is a scalar (use null)" : `[${-rank}, ${rank - 1}]`;
    throw new ShapeError(`vmap: expected ${what} for ${path} in ${range} (rank ${rank}), got ${axis}`);
  }
  return axis < 0 ? axis + rank : axis;
}

interface MappedInput {
  readonly path: string;
  readonly axis: number;
  readonly size: number;
}

/** The batch size all mapped inputs agree on, or a ShapeError naming two that differ. */
function batchSize(mapped: readonly MappedInput[], axisSize: number | undefined): number {
  if (mapped.length === 0) {
    if (axisSize === undefined) {
      throw new ArgumentError(
        "vmap: expected at least one argument with a mapped axis, got inAxes null for every argument (or pass axisSize)",
      );
    }
    return axisSize;
  }
  const first = axisSize === undefined ? mapped[0]! : { path: "axisSize", axis: -1, size: axisSize };
  for (const m of mapped) {
    if (m.size !== first.size) {
      const where = (x: MappedInput) => (x.axis < 0 ? `${x.size} for axisSize` : `size ${x.size} for ${x.path} (axis ${x.axis})`);
      throw new ShapeError(`vmap: expected one batch size for all mapped arguments, got ${where(first)} and ${where(m)}`);
    }
  }
  return first.size;
}

function vmapCall(f: (...args: unknown[]) => unknown, options: VmapOptions, args: unknown[]): unknown {
  const { leaves, def } = flatten(args, "vmap", "args");
  for (const leaf of leaves) checkNotEscaped("vmap", leaf);
  const paths = leafPaths(args);
  const inAxes: (number | null)[] = [];
  const spec = options.inAxes === undefined ? 0 : options.inAxes;
  if (Array.isArray(spec) && spec.length !== args.length) {
    throw new ArgumentError(`vmap: expected inAxes to have one entry per argument (${count(args.length, "argument")}), got ${spec.length}`);
  }
  axesOfLeaves("inAxes", spec, args, "args", inAxes);
  const mapped: MappedInput[] = [];
  const fronts = leaves.map((leaf, i) => {
    const axis = inAxes[i]!;
    if (axis === null) return undefined;
    if (typeof leaf === "number") {
      throw new ShapeError(`vmap: expected inAxes null for the JS number at ${paths[i]} (a number has no axis to map), got ${axis}`);
    }
    const a = normalizeMapAxis("inAxes", axis, leaf.rank, paths[i]!);
    mapped.push({ path: paths[i]!, axis: a, size: leaf.shape[a]! });
    return moveAxis(leaf, a, 0);
  });
  const k = batchSize(mapped, options.axisSize);
  const [result, trace] = withTrace(
    (level) => new BatchTrace(level, k),
    (trace) => {
      const inner = leaves.map((leaf, i) => (fronts[i] === undefined ? leaf : trace.wrap(fronts[i]!, true)));
      return [f(...(unflatten(def, inner) as unknown[])), trace] as const;
    },
  );
  return placeOutputs(trace, result, options.outAxes === undefined ? 0 : options.outAxes);
}

/** The path of every leaf of `args` ("args[0]", "args[1].w"), in flatten's order. */
function leafPaths(args: unknown[]): string[] {
  const paths: string[] = [];
  const walk = (tree: unknown, path: string): void => {
    if (typeof tree === "number" || tree instanceof Tensor) paths.push(path);
    else if (Array.isArray(tree)) tree.forEach((t, i) => walk(t, `${path}[${i}]`));
    else if (tree !== null && typeof tree === "object")
      for (const key of Object.keys(tree)) walk((tree as Record<string, unknown>)[key], `${path}.${key}`);
  };
  walk(args, "args");
  return paths;
}

/** f's result with each leaf's batch axis moved to its outAxes entry (null: the leaf must not vary over the batch). */
function placeOutputs(trace: BatchTrace, result: unknown, outAxes: AxisSpec): unknown {
  const { leaves, def } = flatten(result, "vmap", "f's result");
  const axes: (number | null)[] = [];
  axesOfLeaves("outAxes", outAxes, result, "out", axes);
  const outPaths = leafPaths([result]).map((p) => `out${p.slice("args[0]".length)}`);
  const placed = leaves.map((leaf, i) => {
    const axis = axes[i]!;
    const own = leaf instanceof BatchTracer && leaf.trace === trace;
    if (!own) checkNotEscaped("vmap", leaf);
    if (axis === null) {
      if (own && leaf.batched) {
        throw new ArgumentError(
          `vmap: expected the output ${outPaths[i]} not to vary over the batch (outAxes null), ` +
            `got one that does (${leaf.typeString()} per element)`,
        );
      }
      return own ? leaf.value : leaf;
    }
    const value = own ? leaf.value : typeof leaf === "number" ? scalar(leaf) : leaf;
    const full = own && leaf.batched ? value : broadcastBatch(value, trace.size);
    return moveAxis(full, 0, normalizeMapAxis("outAxes", axis, full.rank, outPaths[i]!));
  });
  return unflatten(def, placed);
}

/**
 * `f` mapped over an axis of its arguments: `vmap(f)(xs)` stacks `f(x)` for each `x` along the
 * leading axis of `xs`, computed by batching rules on the whole batch at once (no loop). inAxes
 * gives the mapped axis of each argument (null: shared by every element), outAxes where the batch
 * axis goes in each output. Composes with grad, jvp, jit and vmap itself, in every engine.
 */
export const vmap = checkArity("vmap", 1, 2, <F extends (...args: never[]) => unknown>(f: F, options?: VmapOptions): F => {
  if (typeof f !== "function") throw new ArgumentError(`vmap: expected a function, got ${describeValue(f)}`);
  const checked = checkOptions(options);
  if (checked.inAxes !== undefined) axesOfLeaves("inAxes", checked.inAxes, structureOf(checked.inAxes, "inAxes"), "inAxes", []);
  if (checked.outAxes !== undefined) axesOfLeaves("outAxes", checked.outAxes, structureOf(checked.outAxes, "outAxes"), "outAxes", []);
  const mapped = (...args: unknown[]) => vmapCall(f as unknown as (...args: unknown[]) => unknown, checked, args);
  return mapped as unknown as F;
});

/** A tree of the spec's own structure (numbers and nulls as leaves), to validate a spec at creation. */
function structureOf(spec: AxisSpec, path: string, depth = 0): unknown {
  if (spec === null || spec === undefined || typeof spec !== "object") return 0;
  checkDepth("vmap", depth + 1, "a tree", path);
  if (Array.isArray(spec)) return spec.map((s, i) => structureOf(s as AxisSpec, `${path}[${i}]`, depth + 1));
  return Object.fromEntries(Object.entries(spec).map(([key, s]) => [key, structureOf(s, `${path}.${key}`, depth + 1)]));
}

CONTROL_RUNTIME.batch = batchControl;
