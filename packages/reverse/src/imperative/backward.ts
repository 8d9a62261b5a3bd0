/**
 * The backward pass of imperative autograd. It collects the nodes reachable from the outputs,
 * visits them newest first (a topological order, and the reverse engine's tape order, so the
 * adjoints are summed in the same order as `grad` sums them) and applies each node's VJP rule:
 * the same rule table as the functional engine. Without createGraph the sweep runs on the saved
 * concrete values with recording off; with createGraph the rules run on the variables
 * themselves with recording on, so the gradients are variables that can be differentiated again.
 */
import {
  shapesEqual,
  add,
  castTo,
  checkNans,
  config,
  describeValue,
  formatShape,
  isPending,
  ones,
  scalar,
  Tensor,
  Tracer,
  type Primitive,
  type VjpNode,
} from "@chainrule/ir";
import {
  add as addAdjoints,
  addInto,
  detach as copyOut,
  poolingEnabled,
  REVERSE_MATH,
  sharesMemory,
  SweepPool,
  swapPool,
} from "../arith.js";
import { settle } from "../tape.js";
import { AutogradError } from "./errors.js";
import { enableGrad, type GradNode, noGrad, plain, Variable, type GradHook } from "./variable.js";

export interface BackwardOptions {
  /** Keep the graph for another backward pass (PyTorch's retain_graph; default: createGraph). */
  readonly retainGraph?: boolean;
  /** Record the backward pass itself, so the gradients can be differentiated (default false). */
  readonly createGraph?: boolean;
  /** Accumulate only into these (a variable or a non-empty list; default: every leaf that requires grad). */
  readonly inputs?: Tensor | readonly Tensor[];
}

export interface GradientsOptions {
  /** One gradient per output (required for non-scalar outputs). */
  readonly gradOutputs?: readonly (Tensor | number | undefined)[];
  readonly retainGraph?: boolean;
  readonly createGraph?: boolean;
  /** Return null for an input the outputs do not depend on (default: that is an error). */
  readonly allowUnused?: boolean;
}

const EMPTY: readonly Tensor[] = [];

const BACKWARD_OPTIONS = ["retainGraph", "createGraph", "inputs"];
const GRADIENTS_OPTIONS = ["gradOutputs", "retainGraph", "createGraph", "allowUnused"];

function checkOptions(op: string, options: unknown, known: readonly string[]): { retainGraph: boolean; createGraph: boolean } {
  if (options === null || typeof options !== "object" || options instanceof Tensor || Array.isArray(options)) {
    throw new AutogradError(
      "ARGUMENT",
      `${op}: expected an options object, got ${options instanceof Tensor ? options.describe() : typeof options}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new AutogradError("ARGUMENT", `${op}: unknown option ${JSON.stringify(key)}; expected only ${known.join(", ")}`);
    }
  }
  const { retainGraph, createGraph } = options as BackwardOptions;
  for (const [name, value] of [
    ["retainGraph", retainGraph],
    ["createGraph", createGraph],
  ] as const) {
    if (value !== undefined && typeof value !== "boolean")
      throw new AutogradError("ARGUMENT", `${op}: expected options.${name} to be a boolean, got ${typeof value}`);
  }
  const create = createGraph ?? false;
  return { createGraph: create, retainGraph: retainGraph ?? create };
}

function checkRoot(op: string, root: unknown, index: number, count: number): Variable {
  const where = count > 1 ? ` (output ${index})` : "";
  if (!(root instanceof Variable)) {
    const got = root instanceof Tracer ? root.describe() : root instanceof Tensor ? `a plain ${root.describe()}` : typeof root;
    throw new AutogradError("NO_GRAD", `${op}: expected a variable computed from variables that require grad${where}, got ${got}`);
  }
  if (!root.requiresGrad) {
    throw new AutogradError(
      "NO_GRAD",
      `${op}: expected a value that requires grad${where}, got ${root.describe()}: none of the values it was computed from requires grad ` +
        `(make the leaves with parameter(…) or variable(…, { requiresGrad: true })), or it was computed inside noGrad or from detach()`,
    );
  }
  return root;
}

/** The seed of one output: the given gradient (checked, cast to the output's dtype), or 1 for a scalar. */
function seedFor(op: string, root: Variable, gradient: unknown, createGraph: boolean, index: number, count: number): Tensor {
  const where = count > 1 ? ` for output ${index}` : "";
  if (gradient === undefined || gradient === null) {
    // PyTorch creates the gradient implicitly for any one-element output ([], [1], [1, 1], …)
    if (root.size === 1) return ones(root.shape, root.dtype);
    throw new AutogradError(
      "NOT_SCALAR",
      `${op}: expected a one-element output or a gradient${where}, got an output of shape ${formatShape(root.shape)} and no gradient: ` +
        "reduce it to a scalar first (sum(…), mean(…)), or pass the gradient of something with respect to it, of shape " +
        `${formatShape(root.shape)} (backward(ones(…)) sums it)`,
    );
  }
  let seed: Tensor;
  if (typeof gradient === "number") seed = scalar(gradient, root.dtype);
  else if (gradient instanceof Tensor && (!(gradient instanceof Tracer) || gradient instanceof Variable)) seed = gradient;
  else {
    const got = gradient instanceof Tracer ? gradient.describe() : typeof gradient;
    throw new AutogradError("ARGUMENT", `${op}: expected the gradient${where} to be a Tensor or a number, got ${got}`);
  }
  if (!shapesEqual(seed.shape, root.shape)) {
    throw new AutogradError(
      "ARGUMENT",
      `${op}: expected a gradient${where} of shape ${formatShape(root.shape)} (the output's), got shape ${formatShape(seed.shape)}`,
    );
  }
  if (!createGraph) seed = plain(seed);
  return seed.dtype === root.dtype ? seed : castTo(seed, root.dtype);
}

function runHooks(hooks: readonly GradHook[], grad: Tensor, owner: string): Tensor {
  let g = grad;
  for (const hook of hooks.slice()) {
    // a hook may keep what it sees: a fused (lazy) gradient is computed first, so it never reads later values
    if (isPending(g)) void g.data;
    const result = hook(g);
    if (result === undefined) continue;
    if (!(result instanceof Tensor) || !shapesEqual(result.shape, g.shape)) {
      throw new AutogradError(
        "ARGUMENT",
        `hook: expected a hook on ${owner} to return nothing or a gradient of shape ${formatShape(g.shape)}, got ` +
          `${result instanceof Tensor ? `shape ${formatShape(result.shape)}` : typeof result}`,
      );
    }
    g = result;
  }
  return g;
}

function freedError(op: string, node: GradNode, freed: string): AutogradError {
  return new AutogradError(
    "GRAPH_FREED",
    `${op}: expected a graph that has not been freed, got a second backward pass through ${node.describe()}, ` +
      `whose ${freed.replace(/^its /, "")} an earlier backward() freed: pass { retainGraph: true } to the first backward() ` +
      "to keep the graph for another pass, or recompute the forward pass",
  );
}

function checkVersions(op: string, node: GradNode): void {
  const versions = node.versions;
  if (versions === null) return;
  for (let i = 0; i < versions.length; i++) {
    const v = node.inputs[i]!;
    if (v.version !== versions[i]) {
      throw new AutogradError(
        "MODIFIED",
        `${op}: expected the values saved for the backward pass of ${node.describe()} to be unchanged, ` +
          `got ${v.label()} (input ${i}) assigned a new value ` +
          `after the forward pass used it (version ${v.version}, saved at version ${versions[i]}): ` +
          "call backward() before optimizer.step() or before " +
          `assigning to it, or recompute the forward pass`,
      );
    }
  }
}

/** The rule's view of a node when the backward pass is recorded: inputs and output as variables. */
function graphView(node: GradNode): VjpNode<Primitive> {
  return {
    params: node.params,
    x: node.versions !== null ? (node.inputs as Variable[]) : EMPTY,
    y: node.y !== null ? new Variable(node.y, true, node) : null,
    dtype: node.dtype,
    arity: node.arity,
    shape: (i) => node.shape(i),
    same: (i, j) => node.same(i, j),
  };
}

interface SweepResult {
  /** Summed gradient of each leaf reached, in the order they were first reached. */
  readonly leaves: Map<Variable, Tensor>;
  /** Gradient of each node asked for (non-leaf inputs of `gradients`, retained values). */
  readonly captured: Map<GradNode, Tensor>;
  /** The sweep's pool (null: none): a leaf's gradient it still owns is referenced by nothing else yet. */
  readonly pool: SweepPool | null;
}

/** Sees each pooled sweep's pool when the sweep ends (tests count its allocations). */
let poolObserver: ((pool: SweepPool) => void) | null = null;

/** Sets (or with null clears) the observer of pooled sweeps; returns the previous one. */
export function observeSweepPools(observer: ((pool: SweepPool) => void) | null): ((pool: SweepPool) => void) | null {
  const previous = poolObserver;
  poolObserver = observer;
  return previous;
}

/**
 * A sweep without createGraph, on concrete values, recycles its own buffers like the functional
 * engine's (`SweepPool` in arith.ts, `settle` in tape.ts): an adjoint is released once its node
 * has pulled it back, and a later contribution is added in place into an adjoint buffer the sweep
 * owns. What user code may hold is disowned before it could be recycled: what hooks see and return,
 * captured values (retainGrad, `gradients`' non-leaf inputs), custom rules' arguments and results;
 * seeds, saved forward values and `.grad` were never the sweep's. With createGraph nothing is pooled.
 */
function sweep(
  op: string,
  roots: readonly Variable[],
  seeds: readonly Tensor[],
  createGraph: boolean,
  retainGraph: boolean,
  capture: ReadonlySet<GradNode> | null,
): SweepResult {
  const pool = createGraph || !poolingEnabled() ? null : new SweepPool();
  const outer = swapPool(pool);
  try {
    const result = sweepNodes(op, roots, seeds, createGraph, retainGraph, capture, pool);
    if (pool !== null && poolObserver !== null) poolObserver(pool);
    return result;
  } finally {
    swapPool(outer);
  }
}

/** previous + term, in place into a buffer the sweep owns when there is one (the same bits: addition commutes). */
function sum(pool: SweepPool | null, previous: Tensor, term: Tensor): Tensor {
  if (pool === null) return add(previous, term);
  // a lazy (fused) operand: the sum stays lazy too, as in the functional sweep
  if (isPending(previous) || isPending(term)) return addAdjoints(previous, term);
  if (pool.owns(previous) && !sharesMemory(previous, term) && addInto(previous, term)) {
    if (pool.owns(term)) pool.release(term);
    return previous;
  }
  if (pool.owns(term) && !sharesMemory(previous, term) && addInto(term, previous)) return term;
  return addAdjoints(previous, term);
}

/** Every node reachable from the outputs, newest first. */
function reachable(roots: readonly Variable[]): GradNode[] {
  const nodes: GradNode[] = [];
  const seen = new Set<GradNode>();
  const stack: GradNode[] = [];
  for (const root of roots) {
    if (root.node !== null && !seen.has(root.node)) {
      seen.add(root.node);
      stack.push(root.node);
    }
  }
  while (stack.length > 0) {
    const node = stack.pop()!;
    nodes.push(node);
    for (const input of node.inputs) {
      const next = input?.node;
      if (next !== null && next !== undefined && input!.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return nodes.sort((a, b) => b.seq - a.seq);
}

function sweepNodes(
  op: string,
  roots: readonly Variable[],
  seeds: readonly Tensor[],
  createGraph: boolean,
  retainGraph: boolean,
  capture: ReadonlySet<GradNode> | null,
  pool: SweepPool | null,
): SweepResult {
  const adjoints = new Map<GradNode, Tensor>();
  const leaves = new Map<Variable, Tensor>();
  const captured = new Map<GradNode, Tensor>();
  const accumulate = (v: Variable, term: Tensor): void => {
    if (v.node !== null) {
      const previous = adjoints.get(v.node);
      adjoints.set(v.node, previous === undefined ? term : sum(pool, previous, term));
    } else {
      const previous = leaves.get(v);
      leaves.set(v, previous === undefined ? term : sum(pool, previous, term));
    }
  };
  for (let i = 0; i < roots.length; i++) accumulate(roots[i]!, seeds[i]!);

  const debug = config.debugNans;
  for (const node of reachable(roots)) {
    let ct = adjoints.get(node);
    if (ct === undefined) continue;
    adjoints.delete(node);
    if (node.freed !== null) throw freedError(op, node, node.freed);
    if (node.hooks !== null && node.hooks.length > 0) {
      // a hook may keep the gradient it sees (then the result, unless a hook replaced it), or return one it keeps
      ct = runHooks(node.hooks, ct, `a ${node.op} output`);
      pool?.disown(plain(ct));
    }
    if (node.retained !== null || capture?.has(node) === true) {
      pool?.disown(plain(ct));
      captured.set(node, ct);
    }
    checkVersions(op, node);
    const cts =
      node.custom !== null ? node.custom(ct) : node.rule!.vjp!(ct, createGraph ? graphView(node) : node, node.needs, REVERSE_MATH);
    const terms = createGraph ? cts : cts.map((t) => (t === null || t === undefined ? t : plain(t)));
    if (pool !== null) settle(pool, node, plain(ct), terms);
    const inputs = node.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const v = inputs[i];
      const value = terms[i];
      if (v === null || v === undefined || !v.requiresGrad || value === null || value === undefined) continue;
      if (debug)
        checkNans(
          `imperative: backward pass of ${node.op}`,
          node.y === null ? [plain(ct), ...node.x] : [plain(ct), ...node.x, node.y],
          plain(value),
        );
      accumulate(v, value);
    }
    // PyTorch's early release: the saved values are dropped as soon as the node's backward ran
    if (!retainGraph) node.release();
  }
  return { leaves, captured, pool };
}

function accumulateInto(v: Variable, g: Tensor, createGraph: boolean, pool: SweepPool | null = null): void {
  const previous = v.grad;
  let total: Tensor;
  if (previous === null) total = g;
  // g is the sweep's own buffer, not yet seen by user code: the sum goes into it (previous stays as it was)
  else if (pool?.owns(g) === true && !sharesMemory(g, previous) && addInto(g, previous)) total = g;
  else total = add(previous, g);
  // a kept gradient gets its own buffer (the engine carves temporaries out of shared slabs)
  v.grad = createGraph ? total : copyOut(plain(total));
}

/**
 * Computes the gradient of `outputs` (seeded with `gradients`, or 1 for scalars) with respect to
 * every leaf that requires grad, and adds it to the leaves' `.grad` (torch.autograd.backward).
 * `backward(loss)` is `loss.backward()` for a loss typed as ir's `Tensor`; anything that is not a
 * variable requiring grad is refused with an error saying why.
 */
export function backward(
  outputs: Tensor | readonly Tensor[],
  gradientsOrOptions?: Tensor | number | readonly (Tensor | number | undefined)[] | BackwardOptions,
  maybeOptions?: BackwardOptions,
): void {
  const op = "backward";
  // backward(y, options) is y.backward(options): a plain object in second place is the options
  const isOptions =
    gradientsOrOptions !== null &&
    typeof gradientsOrOptions === "object" &&
    !(gradientsOrOptions instanceof Tensor) &&
    !Array.isArray(gradientsOrOptions);
  if (isOptions && maybeOptions !== undefined) {
    throw new AutogradError("ARGUMENT", `${op}: expected (gradient, options) or (options), got two options objects`);
  }
  const gradients = isOptions ? undefined : (gradientsOrOptions as Tensor | number | readonly (Tensor | number | undefined)[] | undefined);
  const options: BackwardOptions = isOptions ? (gradientsOrOptions as BackwardOptions) : (maybeOptions ?? {});
  const roots = Array.isArray(outputs) ? (outputs as readonly unknown[]) : [outputs];
  const grads: readonly unknown[] = gradients === undefined ? [] : Array.isArray(gradients) ? gradients : [gradients];
  if (Array.isArray(outputs) && gradients !== undefined && grads.length !== roots.length) {
    throw new AutogradError("ARGUMENT", `${op}: expected one gradient per output (${roots.length}), got ${grads.length}`);
  }
  const { retainGraph, createGraph } = checkOptions(op, options, BACKWARD_OPTIONS);
  let only: Set<Variable> | null = null;
  /** Non-leaf values named in options.inputs: their gradient goes to their `.grad` for this pass. */
  const named = new Map<GradNode, Variable>();
  if (options.inputs !== undefined) {
    const list: readonly unknown[] | null =
      options.inputs instanceof Tensor ? [options.inputs] : Array.isArray(options.inputs) ? options.inputs : null;
    if (list === null || list.length === 0) {
      const got = list !== null ? "an empty array" : describeValue(options.inputs);
      throw new AutogradError("ARGUMENT", `${op}: expected options.inputs to be a variable or a non-empty array of variables, got ${got}`);
    }
    only = new Set(list.map((v, i) => checkRoot(`${op} (options.inputs[${i}])`, v, 0, 1)));
    for (const v of only) if (v.node !== null) named.set(v.node, v);
  }
  const checked = roots.map((r, i) => checkRoot(op, r, i, roots.length));
  const seeds = checked.map((r, i) => seedFor(op, r, grads[i], createGraph, i, roots.length));
  const run = (): void => {
    const { leaves, captured, pool } = sweep(op, checked, seeds, createGraph, retainGraph, named.size > 0 ? new Set(named.keys()) : null);
    for (const [leaf, g] of leaves) {
      if (only !== null && !only.has(leaf)) continue;
      if (leaf.hooks !== null && leaf.hooks.length > 0) accumulateInto(leaf, runHooks(leaf.hooks, g, leaf.label()), createGraph);
      else accumulateInto(leaf, g, createGraph, pool);
    }
    for (const [node, g] of captured) {
      const v = named.get(node) ?? node.retained;
      if (v !== null && (only === null || only.has(v))) accumulateInto(v, g, createGraph);
    }
  };
  if (createGraph) enableGrad(run);
  else noGrad(run);
}

/**
 * The gradients of `outputs` with respect to `inputs`, returned instead of accumulated in
 * `.grad` (torch.autograd.grad). With `createGraph` they are variables that can be
 * differentiated again (gradient penalties, higher derivatives).
 */
export function gradients(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  options: GradientsOptions = {},
): (Tensor | null)[] {
  const op = "gradients";
  const roots = Array.isArray(outputs) ? (outputs as readonly unknown[]) : [outputs];
  if (Array.isArray(inputs) && inputs.length === 0) {
    throw new AutogradError("ARGUMENT", `${op}: expected inputs to be a variable or a non-empty array of variables, got an empty array`);
  }
  const targets = (Array.isArray(inputs) ? (inputs as readonly unknown[]) : [inputs]).map((v, i) =>
    checkRoot(`${op} (inputs[${i}])`, v, 0, 1),
  );
  const { retainGraph, createGraph } = checkOptions(op, options, GRADIENTS_OPTIONS);
  const grads = options.gradOutputs ?? [];
  if (options.gradOutputs !== undefined && grads.length !== roots.length) {
    throw new AutogradError("ARGUMENT", `${op}: expected one gradOutput per output (${roots.length}), got ${grads.length}`);
  }
  const checked = roots.map((r, i) => checkRoot(op, r, i, roots.length));
  const seeds = checked.map((r, i) => seedFor(op, r, grads[i], createGraph, i, roots.length));
  const capture = new Set<GradNode>();
  for (const t of targets) if (t.node !== null) capture.add(t.node);
  const run = (): (Tensor | null)[] => {
    const { leaves, captured } = sweep(op, checked, seeds, createGraph, retainGraph, capture);
    return targets.map((t, i) => {
      let g = t.node === null ? leaves.get(t) : captured.get(t.node);
      if (g === undefined) {
        if (options.allowUnused === true) return null;
        throw new AutogradError(
          "ARGUMENT",
          `${op}: expected every input to be used in computing the outputs, got ${t.label()} (inputs[${i}]) unused: ` +
            "pass { allowUnused: true } to get null for it",
        );
      }
      if (t.node === null && t.hooks !== null && t.hooks.length > 0) g = runHooks(t.hooks, g, t.label());
      return createGraph ? g : copyOut(plain(g));
    });
  };
  return createGraph ? enableGrad(run) : noGrad(run);
}
