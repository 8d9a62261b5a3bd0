/**
 * The JIT engine: each transformation traces `(dynamic leaves) => interpreter.T(f)(...)` to a
 * graph (so the graph already contains the derivative), optimizes it, compiles it with
 * `new Function`, and caches it by the structure, shapes and dtypes of the arguments.
 *
 * When called on tracers of an enclosing transformation (or while one is active), it does not
 * compile: it runs the interpreter on them, so transformations nest to any order and the
 * outermost call compiles one graph.
 */
import {
  ArgumentError,
  ConcretizationError,
  config,
  evalGraph,
  inlinedCustomRules,
  mapTree,
  markWeak,
  splitVjpOptions,
  zeros,
  type AuxOption,
  type GradAuxFunction,
  type JacobianAuxFunction,
  type ValueAndGradAuxFunction,
  describeValue,
  findTopTrace,
  flatten,
  leafCount,
  nextLevel,
  scalar,
  SPEC_VERSION,
  Tensor,
  Tracer,
  traceWith,
  unflatten,
  type AnyFunction,
  type Argnums,
  type Engine,
  type GradFunction,
  type Graph,
  type HessianFunction,
  type Inputs,
  type JacobianFunction,
  type TangentOf,
  type TensorFunction,
  type TreeDef,
  type ValueAndGradFunction,
} from "@chainrule/ir";
import { interpreter } from "./ad.js";
import { buildFunction } from "./build.js";
import { recordCompile, SignatureCache, stats } from "./cache.js";
import { compileTrusted as compileGraph, type CompiledGraph, type CompileOptions } from "./compile.js";
import { checkOptions, checkPositions, OPTION_KEYS } from "./options.js";

export type Kind =
  | "jit"
  | "grad"
  | "valueAndGrad"
  | "jacobian"
  | "jacfwd"
  | "jacrev"
  | "hessian"
  | "jvp"
  | "linearize"
  | "hvp"
  | "vjpValue"
  | "vjpPullback";

/** What a compiled entry needs to turn raw outputs into the result tree. */
interface Entry {
  readonly compiled: CompiledGraph;
  readonly outTree: TreeDef;
  /** Per output leaf: return a JS number (true) or a Tensor. */
  readonly mask: readonly boolean[];
  readonly dynamic: readonly number[];
  /** `jit(f, { donate })` on kernels: output `output` is written into the buffer of leaf `leaf`. */
  readonly donation?: readonly { readonly output: number; readonly leaf: number }[];
}

/**
 * Output leaves of f, recorded while tracing: which were JS numbers, which rank 0; with hasAux,
 * those of `out` in f's `[out, aux]`, and which aux leaves were JS numbers (`aux` is undefined otherwise).
 */
interface FRecord {
  num: boolean[];
  rank0: boolean[];
  aux?: boolean[];
}

function recordOutputs(f: AnyFunction, rec: FRecord, hasAux: boolean): AnyFunction {
  return (...args: unknown[]) => {
    const result = f(...args);
    // not a pair: the interpreter raises hasAux's error
    if (hasAux && !(Array.isArray(result) && result.length === 2)) return result;
    const { leaves } = flatten(hasAux ? (result as unknown[])[0] : result, "jit", "f's result");
    rec.num = leaves.map((l) => typeof l === "number");
    rec.rank0 = leaves.map((l) => typeof l === "number" || l.rank === 0);
    if (hasAux) rec.aux = flatten((result as unknown[])[1], "jit", "f's aux").leaves.map((l) => typeof l === "number");
    return result;
  };
}

/** How the interpreter is applied for each kind (on the rebuilt arguments). */
function apply(kind: Kind, f: AnyFunction, argnums: Argnums, args: unknown[], hasAux = false): unknown {
  const options = hasAux ? { hasAux } : undefined;
  switch (kind) {
    case "jit":
    case "vjpValue":
      return f(...args);
    case "grad":
      return interpreter.grad(f, argnums, options)(...args);
    case "valueAndGrad":
      return interpreter.valueAndGrad(f, argnums, options)(...args);
    case "jacobian":
    case "jacfwd":
    case "jacrev":
      return interpreter[kind](f, argnums, options)(...args);
    case "hessian":
      return interpreter.hessian(f, argnums)(...args);
    case "jvp":
      return interpreter.jvp(f, args[0] as never, args[1] as never);
    case "linearize":
      // the tangent only: the program keeps just the primal values the tangent needs
      return interpreter.jvp(f, args[0] as never, args[1] as never)[1];
    case "hvp":
      return interpreter.hvp(f, args[0] as never, args[1] as never);
    case "vjpPullback": {
      const [primals, ct] = args as [unknown[], unknown];
      const pulled = hasAux ? interpreter.vjp(f, ...(primals as never[]), { hasAux: true }) : interpreter.vjp(f, ...(primals as never[]));
      return pulled[1](ct as never);
    }
  }
}

/** Number-in → number-out rules of `defineEngine`, per output leaf; aux leaves come back as f returned them. */
function outputMask(kind: Kind, inNum: boolean[], inRank0: boolean[], rec: FRecord, outCount: number): boolean[] {
  const main = mainMask(kind, inNum, inRank0, rec, outCount - (rec.aux?.length ?? 0));
  const aux = rec.aux;
  if (aux === undefined || kind === "vjpPullback") return main;
  // valueAndGrad: [[value, aux], gradient]; the others: [result, aux]
  return kind === "valueAndGrad" ? [main[0]!, ...aux, ...main.slice(1)] : [...main, ...aux];
}

function mainMask(kind: Kind, inNum: boolean[], inRank0: boolean[], rec: FRecord, outCount: number): boolean[] {
  const all = inNum.length > 0 && inNum.every(Boolean);
  switch (kind) {
    case "jit":
    case "vjpValue":
      return kind === "jit" ? rec.num : rec.num.map((n, i) => (all || n) && rec.rank0[i]!);
    case "grad":
    case "vjpPullback":
      return inNum;
    case "valueAndGrad":
      return [all || rec.num[0] === true, ...inNum];
    case "jvp": {
      const m = rec.num.map((n, i) => (all || n) && rec.rank0[i]!);
      return [...m, ...m];
    }
    case "linearize":
      return rec.num.map((n, i) => (all || n) && rec.rank0[i]!);
    case "hvp":
      // the result mirrors the primals: number leaves stay numbers
      return inNum.map((n, i) => n || (all && inRank0[i]!));
    case "jacobian":
    case "jacfwd":
    case "jacrev": {
      const out: boolean[] = [];
      rec.num.forEach((n, o) => inNum.forEach((w) => out.push(w && (all || n) && rec.rank0[o]!)));
      return out;
    }
    case "hessian": {
      const out: boolean[] = [];
      inRank0.forEach((r) => inNum.forEach((w) => out.push(w && all && r)));
      return out.length === outCount ? out : new Array<boolean>(outCount).fill(false);
    }
  }
}

export interface JitOptions extends Omit<CompileOptions, "ret" | "inlineConstants"> {
  /** Maximum compiled signatures kept per function (default 64). */
  cacheSize?: number;
  /**
   * jit only: argument positions treated as static: their JS numbers are baked in, and any other
   * value (a string, a boolean, an options object) is passed to f as it is; the cache keys on the
   * values (plain data by value, other objects by identity), so a new value recompiles.
   */
  staticArgnums?: readonly number[];
  /** jit only: as staticArgnums, by the names of f's parameters (`jit((x, n) => …, { staticArgnames: ["n"] })`). */
  staticArgnames?: readonly string[];
  /**
   * jit only: argument positions whose tensors each call consumes, like JAX's `donate_argnums`.
   * An output with the dtype and size of a donated tensor is written into that tensor's buffer
   * instead of a new array (whose fresh pages cost page faults), and the donated tensor, with any
   * tensor sharing its buffer (a reshape of it), can no longer be read: reading it throws. For
   * `params = step(params, batch)` with `{ donate: [0] }`. Programs on WebAssembly kernels and
   * generated JavaScript programs both reuse buffers (a JavaScript program that still reads a
   * donated input after writing its output reads a copy kept by the compiled function). Like
   * JAX's, donation is a hint: a tensor matching no output stays valid.
   */
  donate?: readonly number[];
}

/**
 * Which outputs go into which donated tensors' buffers: each output (a tensor of rank ≥ 1) takes
 * the first unused donated tensor of its dtype and size.
 */
function donationPlan(
  donate: readonly number[],
  defs: readonly TreeDef[],
  leaves: readonly (number | Tensor)[],
  outputs: CompiledGraph["outputs"],
  mask: readonly boolean[],
): Entry["donation"] {
  const candidates: number[] = [];
  let i = 0;
  defs.forEach((def, a) => {
    for (let n = leafCount(def); n > 0; n--, i++) {
      const leaf = leaves[i];
      if (donate.includes(a) && leaf instanceof Tensor && leaf.rank > 0 && leaf.size > 0) candidates.push(i);
    }
  });
  const plan: { output: number; leaf: number }[] = [];
  outputs.forEach((aval, output) => {
    if (mask[output] || aval.shape.length === 0) return;
    const size = aval.shape.reduce((x, y) => x * y, 1);
    const k = candidates.findIndex((c) => (leaves[c] as Tensor).dtype === aval.dtype && (leaves[c] as Tensor).size === size);
    if (k < 0) return;
    plan.push({ output, leaf: candidates[k]! });
    candidates.splice(k, 1);
  });
  return plan.length > 0 ? plan : undefined;
}

/**
 * Moves the donated leaves' buffers to new typed arrays (detaching the tensors' own views, so
 * reading a donated tensor throws) and returns the outputs' targets; the inputs read the moved
 * arrays. A buffer a tensor does not own whole, a shared one, or one another input of this call
 * also reads is not donated.
 */
function takeDonated(
  donation: NonNullable<Entry["donation"]>,
  leaves: readonly unknown[],
  dynamic: readonly number[],
  inputs: unknown[],
  outputs: number,
): (ArrayLike<number> | undefined)[] {
  const into = new Array<ArrayLike<number> | undefined>(outputs);
  // every leaf's buffer, read before any is moved
  const buffers = leaves.map((l) => (l instanceof Tensor ? l.data.buffer : undefined));
  for (const { output, leaf } of donation) {
    const data = (leaves[leaf] as Tensor).data;
    const buffer = data.buffer;
    if (!(buffer instanceof ArrayBuffer) || data.byteOffset !== 0 || data.byteLength !== buffer.byteLength) continue;
    if (buffers.some((other, i) => i !== leaf && other === buffer)) continue;
    const moved = structuredClone(buffer, { transfer: [buffer] });
    const fresh = new (data.constructor as new (b: ArrayBuffer) => typeof data)(moved);
    inputs[dynamic.indexOf(leaf)] = fresh;
    into[output] = fresh;
  }
  return into;
}

function treeKey(def: TreeDef): string {
  switch (def.kind) {
    case "number":
      return "n";
    case "tensor":
      return "t";
    case "none":
      return def.value === null ? "N" : "U";
    case "array":
      return `[${def.children.map(treeKey).join(",")}]`;
    case "object":
      return `{${def.keys.map((k, i) => `${JSON.stringify(k)}:${treeKey(def.children[i]!)}`).join(",")}}`;
  }
}

/** What jit's cache keys on for a static argument that is not a pytree: its value, or its identity. */
const identities = new WeakMap<object, number>();
function staticKey(value: unknown): string {
  if (typeof value === "string") return `static string ${JSON.stringify(value)}`;
  if (typeof value !== "object" && typeof value !== "function") return `static ${typeof value} ${String(value)}`;
  if (value === null) return "static null";
  try {
    // plain data (an options bag, a list of names) by value
    if (isPlainData(value)) return `static ${JSON.stringify(value)}`;
  } catch {
    // cyclic: by identity below
  }
  let id = identities.get(value);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(value, id);
  }
  return `static object #${id}`;
}
let nextIdentity = 1;

function isPlainData(value: unknown): boolean {
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return true;
  if (Array.isArray(value)) return value.every(isPlainData);
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value as object).every(isPlainData);
}

/** A call's arguments flattened, and what jit's cache keys on (structure, shapes, dtypes, static values). */
interface Signature {
  readonly leaves: (number | Tensor)[];
  /** The leaves that are inputs of the graph (the others are baked in). */
  readonly dynamic: number[];
  readonly defs: TreeDef[];
  readonly key: string;
  /** Static arguments that are not pytrees (strings, booleans, objects), passed to f as they are. */
  readonly staticValues: ReadonlyMap<number, unknown>;
}

/**
 * Flattens `args` per position: JS numbers of non-differentiated positions are baked in; a static
 * position (jit's staticArgnums) that is not a pytree is keyed by its value and passed as it is.
 */
function signatureOf(kind: Kind, args: readonly unknown[], statics: ReadonlySet<number>, diff: (a: number) => boolean): Signature {
  const leaves: (number | Tensor)[] = [];
  const dynamic: number[] = [];
  const defs: TreeDef[] = [];
  const staticValues = new Map<number, unknown>();
  let key = "";
  for (let a = 0; a < args.length; a++) {
    let flat: ReturnType<typeof flatten>;
    try {
      flat = flatten(args[a], kind, `args[${a}]`);
    } catch (error) {
      if (!statics.has(a)) throw error;
      staticValues.set(a, args[a]);
      defs.push({ kind: "none", value: undefined });
      key += `${staticKey(args[a])}|`;
      continue;
    }
    defs.push(flat.def);
    const isDiff = diff(a);
    key += `${treeKey(flat.def)}:`;
    for (const leaf of flat.leaves) {
      const isDynamic = isDiff || typeof leaf !== "number";
      if (isDynamic) dynamic.push(leaves.length);
      key += `${leafKey(leaf, isDynamic)};`;
      leaves.push(leaf);
    }
    key += "|";
  }
  return { leaves, dynamic, defs, key, staticValues };
}

/** `args` flattened for the live-tracer check, static non-pytree arguments left out. */
function flattenArgs(op: string, args: readonly unknown[], statics: ReadonlySet<number>): { leaves: (number | Tensor)[] } {
  return flatten(
    args.map((a, i) => (statics.has(i) && !isPytree(a) ? undefined : a)),
    op,
    "args",
  );
}

function isPytree(value: unknown): boolean {
  try {
    flatten(value, "jit", "args");
    return true;
  } catch {
    return false;
  }
}

function leafKey(leaf: number | Tensor, dynamic: boolean): string {
  if (typeof leaf === "number") return dynamic ? "number" : `static ${Object.is(leaf, -0) ? "-0" : String(leaf)}`;
  return `${leaf.dtype}[${leaf.shape.join(",")}]`;
}

/** The cached compiled form of one transformation of one function. */
class Compiled {
  readonly cache: SignatureCache<Entry>;
  /** Scalar fast path: all arguments JS numbers, all results JS numbers. */
  fast: ((...xs: number[]) => unknown) | undefined;
  /** Set by `wrap`: installs the scalar fast path once it exists. */
  onFast: ((fast: (...xs: number[]) => unknown, arity: number) => void) | undefined;

  /** With hasAux: f returns `[out, aux]`, and the result carries aux (see defineEngine). */
  readonly hasAux: boolean;
  /** jit nested in another transformation: f's graph per signature, evaluated on the enclosing tracers. */
  private readonly graphs = new Map<string, { graph: Graph; dynamic: readonly number[]; mask: readonly boolean[] }>();
  /** f closed over an enclosing transformation's tracer (or read a traced value): nested calls interpret it. */
  private interpretOnly = false;

  constructor(
    readonly kind: Kind,
    readonly f: AnyFunction,
    readonly argnums: Argnums,
    options: JitOptions & { hasAux?: boolean },
  ) {
    const { hasAux, ...rest } = options;
    this.hasAux = hasAux === true;
    this.options = rest;
    this.cache = new SignatureCache(rest.cacheSize ?? 64);
  }

  readonly options: JitOptions;

  /** Which argument positions are differentiated (their number leaves are dynamic). */
  private diffPositions(args: readonly unknown[]): Set<number> | "all" {
    switch (this.kind) {
      case "grad":
      case "valueAndGrad":
      case "jacobian":
      case "jacfwd":
      case "jacrev":
      case "hessian": {
        const a = this.argnums;
        return new Set(typeof a === "number" ? [a] : Array.isArray(a) ? a : []);
      }
      case "jit": {
        const s = new Set(this.options.staticArgnums ?? []);
        return new Set(args.map((_, i) => i).filter((i) => !s.has(i)));
      }
      default:
        return "all";
    }
  }

  /** The entry point's name in messages. */
  get op(): string {
    return this.kind === "vjpValue" || this.kind === "vjpPullback" ? "vjp" : this.kind;
  }

  /** Under another transformation: jit inlines f's cached graph; the others run the interpreter. */
  private interpret(args: unknown[]): unknown {
    checkLiveTracers(this.op, flattenArgs(this.op, args, this.staticSet()).leaves);
    if (this.kind === "jit" && !this.interpretOnly && !config.debugNans) {
      const result = this.inline(args);
      if (result !== undefined) return result.value;
    }
    stats.interpreted++;
    return apply(this.kind, this.f, this.argnums, args, this.hasAux);
  }

  /** jit's static argument positions that hold something other than a pytree (a string, a function, an options bag). */
  private staticSet(): ReadonlySet<number> {
    return this.kind === "jit" ? new Set(this.options.staticArgnums ?? []) : new Set();
  }

  /**
   * jit(f) called on tracers of an enclosing transformation: f is traced once per signature (the
   * tracers' shapes and dtypes, static values) to a graph that is then evaluated on the tracers,
   * primitive by primitive, so the enclosing transformation sees the same operations without f
   * running again. Undefined when f cannot be traced on its own (it closes over an enclosing tracer).
   */
  private inline(args: unknown[]): { value: unknown } | undefined {
    const statics = this.staticSet();
    const { leaves, defs, key, dynamic, staticValues } = signatureOf(this.kind, args, statics, (i) => !statics.has(i));
    let cached = this.graphs.get(key);
    if (cached === undefined) {
      try {
        cached = { ...this.traceGraph(defs, leaves, dynamic, [], [], staticValues), dynamic };
      } catch {
        // a closed-over tracer of the enclosing transformation (or data-dependent control flow on a
        // define-by-run engine's values): f runs as it is, under the enclosing transformation
        this.interpretOnly = true;
        return undefined;
      }
      // the enclosing transformation must see a custom rule: f runs itself there
      if (inlinedCustomRules(cached.graph)) {
        this.interpretOnly = true;
        return undefined;
      }
      if (this.graphs.size >= (this.options.cacheSize ?? 64)) this.graphs.delete(this.graphs.keys().next().value!);
      this.graphs.set(key, cached);
      stats.nestedTraces++;
    } else stats.cacheHits++;
    const graph = cached.graph;
    const inputs = cached.dynamic.map((i, j) => {
      const leaf = leaves[i]!;
      return typeof leaf === "number" ? scalar(leaf, graph.inputs[j]!.dtype) : leaf;
    });
    // a JS number f returned stays a JS number, as in the compiled jit
    const outputs = evalGraph(graph, inputs).map((y, i) => (cached.mask[i] && !(y instanceof Tracer) && y.rank === 0 ? y.item() : y));
    return { value: unflatten(graph.outTree, outputs) };
  }

  call(args: unknown[]): unknown {
    if (config.debugNans || nextLevel() !== 1) return this.interpret(args);
    const quick = this.quickEntry(args);
    if (quick !== undefined) {
      stats.cacheHits++;
      return this.run(quick, args);
    }
    if (this.kind === "jit") {
      checkPositions("jit", "staticArgnums", this.options.staticArgnums, args.length);
      checkPositions("jit", "donate", this.options.donate, args.length);
    }
    const positions = this.diffPositions(args);
    const signature = signatureOf(this.kind, args, this.staticSet(), (a) => positions === "all" || positions.has(a));
    if (signature.leaves.some((leaf) => leaf instanceof Tracer)) return this.interpret(args);
    const { leaves, dynamic, key, defs, staticValues } = signature;
    // the differentiated leaves, for the number-in → number-out rules
    const inNum: boolean[] = [];
    const inRank0: boolean[] = [];
    const diffArgs: unknown[] =
      this.kind === "jit"
        ? []
        : this.kind === "vjpValue"
          ? args
          : this.kind === "jvp" || this.kind === "linearize" || this.kind === "hvp" || this.kind === "vjpPullback"
            ? [args[0]]
            : (typeof this.argnums === "number" ? [this.argnums] : Array.isArray(this.argnums) ? (this.argnums as number[]) : []).map(
                (a) => args[a],
              );
    for (const tree of diffArgs) {
      for (const leaf of flatten(tree, this.kind, "args").leaves) {
        inNum.push(typeof leaf === "number");
        inRank0.push(typeof leaf === "number" || leaf.rank === 0);
      }
    }
    let entry = this.cache.get(key);
    if (entry === undefined) {
      entry = this.compile(args, defs, leaves, dynamic, inNum, inRank0, key, staticValues);
    } else stats.cacheHits++;
    // remember flat signatures (every argument a Tensor or a number) for the quick check
    // (only dtypes and shapes are kept, never the tensors' data)
    this.last = args.every((a) => typeof a === "number" || a instanceof Tensor)
      ? { entry, args: (args as (number | Tensor)[]).map((a) => (typeof a === "number" ? a : { dtype: a.dtype, shape: a.shape })) }
      : undefined;
    return this.run(entry, leaves);
  }

  /** The last call's entry if `args` is flat and matches it (same dtypes/shapes, same static numbers). */
  private last: { entry: Entry; args: (number | { dtype: Tensor["dtype"]; shape: Tensor["shape"] })[] } | undefined;
  private quickEntry(args: unknown[]): Entry | undefined {
    const last = this.last;
    if (last === undefined || last.args.length !== args.length) return undefined;
    const dynamic = last.entry.dynamic;
    let d = 0;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const b = last.args[i]!;
      if (typeof b === "number") {
        if (typeof a !== "number") return undefined;
        const isDynamic = dynamic[d] === i;
        if (isDynamic) d++;
        else if (!Object.is(a, b)) return undefined;
      } else {
        if (!(a instanceof Tensor) || a instanceof Tracer || a.dtype !== b.dtype || a.shape.length !== b.shape.length) return undefined;
        for (let k = 0; k < a.shape.length; k++) if (a.shape[k] !== b.shape[k]) return undefined;
        d++;
      }
    }
    return last.entry;
  }

  private run(entry: Entry, leaves: readonly unknown[]): unknown {
    const dynamic = entry.dynamic;
    const inputs = new Array<number | Tensor["data"]>(dynamic.length);
    for (let j = 0; j < dynamic.length; j++) {
      const leaf = leaves[dynamic[j]!] as number | Tensor;
      inputs[j] = typeof leaf === "number" ? leaf : leaf.rank === 0 ? leaf.data[0]! : leaf.data;
    }
    const outputs = entry.compiled.outputs;
    const donation = entry.donation;
    const raw = (
      donation === undefined
        ? entry.compiled.run(...inputs)
        : entry.compiled.runInto!(inputs, takeDonated(donation, leaves, dynamic, inputs, outputs.length))
    ) as unknown[];
    if (entry.outTree.kind === "number" || entry.outTree.kind === "tensor") return wrapOutput(raw[0], outputs[0]!, entry.mask[0]!);
    return unflatten(
      entry.outTree,
      raw.map((v, i) => wrapOutput(v, outputs[i]!, entry.mask[i]!)),
    );
  }

  /**
   * Traces the transformation at `args` (concrete): the graph and how to read its outputs. With
   * `everyLeafDynamic` (emitModule) every leaf is an input of the graph, JS numbers of
   * non-differentiated arguments too, instead of being baked in as constants.
   */
  traceAt(args: unknown[], everyLeafDynamic = false): { graph: Graph; mask: boolean[]; dynamic: number[]; leaves: (number | Tensor)[] } {
    const positions = everyLeafDynamic ? "all" : this.diffPositions(args);
    const leaves: (number | Tensor)[] = [];
    const dynamic: number[] = [];
    const defs: TreeDef[] = [];
    args.forEach((arg, a) => {
      const { leaves: ls, def } = flatten(arg, this.kind, `args[${a}]`);
      defs.push(def);
      const diff = positions === "all" || positions.has(a);
      for (const leaf of ls) {
        if (diff || typeof leaf !== "number") dynamic.push(leaves.length);
        leaves.push(leaf);
      }
    });
    const diffArgs: unknown[] =
      this.kind === "jit"
        ? []
        : this.kind === "vjpValue"
          ? args
          : this.kind === "jvp" || this.kind === "linearize" || this.kind === "hvp" || this.kind === "vjpPullback"
            ? [args[0]]
            : (typeof this.argnums === "number" ? [this.argnums] : (this.argnums as number[])).map((a) => args[a]);
    const inNum: boolean[] = [];
    const inRank0: boolean[] = [];
    for (const tree of diffArgs) {
      for (const leaf of flatten(tree, this.kind, "args").leaves) {
        inNum.push(typeof leaf === "number");
        inRank0.push(typeof leaf === "number" || leaf.rank === 0);
      }
    }
    const { graph, mask } = this.traceGraph(defs, leaves, dynamic, inNum, inRank0);
    return { graph, mask, dynamic, leaves };
  }

  private traceGraph(
    defs: TreeDef[],
    leaves: (number | Tensor)[],
    dynamic: number[],
    inNum: boolean[],
    inRank0: boolean[],
    staticValues: ReadonlyMap<number, unknown> = new Map(),
  ): { graph: Graph; mask: boolean[] } {
    const rec: FRecord = { num: [], rank0: [] };
    const fw = recordOutputs(this.f, rec, this.hasAux);
    const traced = dynamic.map((i) => {
      const leaf = leaves[i]!;
      return typeof leaf === "number" ? scalar(leaf) : leaf;
    });
    const graph: Graph = traceWith(
      { name: `jit(${this.kind})` },
      ((xs: Tensor[]) => {
        const all = leaves.slice() as unknown[];
        // a JS number jit traces stays weakly typed, as it is eagerly: add(float32Tensor, x) is float32
        dynamic.forEach((i, j) => (all[i] = this.kind === "jit" && typeof leaves[i] === "number" ? markWeak(xs[j]!) : xs[j]));
        let k = 0;
        const rebuilt = defs.map((def, a) => {
          const n = leafCount(def);
          const tree = staticValues.has(a) ? staticValues.get(a) : unflatten(def, all.slice(k, k + n));
          k += n;
          return tree;
        });
        return apply(this.kind, fw, this.argnums, rebuilt, this.hasAux);
      }) as never,
      traced,
    );
    return { graph, mask: outputMask(this.kind, inNum, inRank0, rec, graph.outputs.length) };
  }

  private compile(
    args: unknown[],
    defs: TreeDef[],
    leaves: (number | Tensor)[],
    dynamic: number[],
    inNum: boolean[],
    inRank0: boolean[],
    key: string,
    staticValues: ReadonlyMap<number, unknown>,
  ): Entry {
    const started = performance.now();
    let traced: { graph: Graph; mask: boolean[] };
    try {
      traced = this.traceGraph(defs, leaves, dynamic, inNum, inRank0, staticValues);
    } catch (error) {
      throw withPlace(error);
    }
    const { graph, mask } = traced;
    const compiled = compileGraph(graph, this.options);
    const donate = this.kind === "jit" ? this.options.donate : undefined;
    const donation =
      donate !== undefined && compiled.runInto !== undefined ? donationPlan(donate, defs, leaves, compiled.outputs, mask) : undefined;
    const entry: Entry = { compiled, outTree: graph.outTree, mask, dynamic, ...(donation === undefined ? {} : { donation }) };
    this.cache.set(key, entry);
    const signature = describeSignature(key);
    recordCompile({
      transform: this.kind,
      reason:
        this.cache.lastSignature === undefined
          ? "first call"
          : `signature changed: ${describeSignature(this.cache.lastSignature)} → ${signature}`,
      signature,
      nodes: compiled.nodeCount,
      optimizedNodes: compiled.optimizedNodeCount,
      milliseconds: performance.now() - started,
    });
    this.cache.lastSignature = key;
    // scalar fast path: every argument a dynamic JS number and every result a JS number
    if (
      this.fast === undefined &&
      leaves.every((l) => typeof l === "number") &&
      dynamic.length === leaves.length &&
      args.every((a) => typeof a === "number") &&
      mask.every(Boolean) &&
      literalTree(graph.outTree)
    ) {
      const fast = compileGraph(graph, { ...this.options, ret: (outs) => treeLiteral(graph.outTree, outs) });
      this.fast = fast.run as (...xs: number[]) => unknown;
      this.onFast?.(this.fast, args.length);
    }
    return entry;
  }
}

/**
 * Tracers of a transformation that has returned (leaked, e.g. stored in an outer variable) are
 * refused at the boundary with the escaped-tracer error every op raises on them: passed through
 * unchanged (`jit(x => x)`), one would come back as a dead result.
 */
function checkLiveTracers(op: string, leaves: readonly unknown[]): void {
  const tracers = leaves.filter((l): l is Tracer => l instanceof Tracer);
  if (tracers.length > 0) findTopTrace(op, tracers);
}

/**
 * A ConcretizationError raised while tracing gets the place in the user's code that read the
 * traced value (the first stack frame outside chainrule), so the message says where to use where().
 */
function withPlace(error: unknown): unknown {
  if (!(error instanceof ConcretizationError) || error.message.includes(" (read at ")) return error;
  const frames = (error.stack ?? "").split("\n").slice(1);
  const library = /[\\/](packages[\\/](ir|jit)|@chainrule[\\/](ir|jit))[\\/](src|dist)[\\/]/;
  const user = frames.find((line) => /\bat\b/.test(line) && (!library.test(line) || line.includes(".test.")));
  if (user === undefined) return error;
  const place = user.trim().replace(/^at\s+/, "");
  const wrapped = new ConcretizationError(`${error.message} (read at ${place})`);
  wrapped.stack = `${wrapped.name}: ${wrapped.message}\n${frames.join("\n")}`;
  return wrapped;
}

function literalTree(def: TreeDef): boolean {
  return def.kind === "number" || def.kind === "tensor" || (def.kind === "array" && def.children.every(literalTree));
}

function treeLiteral(def: TreeDef, outs: string[]): string {
  let k = 0;
  const build = (d: TreeDef): string => (d.kind === "array" ? `[${d.children.map(build).join(", ")}]` : outs[k++]!);
  return build(def);
}

function describeSignature(key: string): string {
  return `(${key
    .split("|")
    .filter((s) => s.length > 0)
    .map((arg) =>
      arg
        .slice(arg.indexOf(":") + 1)
        .split(";")
        .filter(Boolean)
        .join(", "),
    )
    .join("; ")})`;
}

function wrapOutput(v: unknown, aval: CompiledGraph["outputs"][number], asNumber: boolean): unknown {
  if (typeof v === "number") {
    if (asNumber) return v;
    return scalar(v, aval.dtype);
  }
  return new Tensor(aval.dtype, aval.shape, v as Tensor["data"]);
}

// ── public transformations ─────────────────────────────────────────────────────────────────

/**
 * `jit(f)`: takes `f`'s arguments with JS numbers allowed for Tensors, and returns `f`'s result
 * with a JS number where `f` returns a constant number and a Tensor where it returns a Tensor
 * (also for JS number arguments: `jit` keeps `f`'s own result types). A number argument that is
 * not in `staticArgnums` reaches `f` as a Tensor, so `f` returning it as is gives a Tensor.
 */
export interface CompiledFunction<F extends AnyFunction = AnyFunction> {
  (...args: Inputs<F>): TangentOf<ReturnType<F>>;
  /** Generated JavaScript of the most recent compile (undefined before the first call). */
  readonly source: string | undefined;
  /** Number of compiled signatures in this function's cache. */
  readonly cacheSize: number;
  /**
   * The WebAssembly text (WAT) of the kernels the most recent compile runs on, each headed by
   * its cache key; undefined when it runs as generated JavaScript (or before the first call).
   */
  readonly wat: string | undefined;
}

function checkFunction(op: string, f: unknown): void {
  if (typeof f !== "function") throw new ArgumentError(`${op}: expected a function, got ${describeValue(f)}`);
}

/**
 * A dispatcher specialised to `arity` JS-number arguments: checks them without allocating (and
 * that no transformation is active and NaN-debug is off) and calls the compiled scalar function
 * directly; anything else goes to the general path.
 */
function makeDispatcher(
  fast: (...xs: number[]) => unknown,
  arity: number,
  slow: (...args: unknown[]) => unknown,
): (...args: unknown[]) => unknown {
  const params = Array.from({ length: arity }, (_, i) => `a${i}`);
  const checks = params.map((p) => ` && typeof ${p} === "number"`).join("");
  const source = `"use strict"; return function dispatch(${params.join(", ")}) {
  if (arguments.length === ${arity}${checks} && nextLevel() === 1 && !config.debugNans) {
    stats.cacheHits++;
    return fast(${params.join(", ")});
  }
  return slow.apply(null, arguments);
};`;
  return buildFunction(["fast", "slow", "nextLevel", "config", "stats"], source)(fast, slow, nextLevel, config, stats) as (
    ...args: unknown[]
  ) => unknown;
}

function wrap(c: Compiled): CompiledFunction {
  const slow = (...args: unknown[]) => c.call(args);
  let dispatch: (...args: unknown[]) => unknown = slow;
  c.onFast = (fast, arity) => {
    dispatch = makeDispatcher(fast, arity, slow);
  };
  const fn = ((...args: unknown[]) => dispatch(...args)) as CompiledFunction;
  Object.defineProperty(fn, "source", { get: () => lastSourceOf(c) });
  Object.defineProperty(fn, "cacheSize", { get: () => c.cache.size });
  Object.defineProperty(fn, "wat", { get: () => lastCompiledOf(c)?.wat?.() });
  return fn;
}

function lastCompiledOf(c: Compiled): CompiledGraph | undefined {
  const key = c.cache.lastSignature;
  return key === undefined ? undefined : c.cache.peek(key)?.compiled;
}

function lastSourceOf(c: Compiled): string | undefined {
  return lastCompiledOf(c)?.source;
}

/** Compiles `f` for plain evaluation (cached per argument signature). */
export function jit<F extends TensorFunction>(f: F, options?: JitOptions): CompiledFunction<F>;
export function jit<F extends AnyFunction>(f: F, options?: JitOptions): CompiledFunction<F>;
export function jit<F extends AnyFunction>(f: F, options: JitOptions = {}): CompiledFunction<F> {
  checkFunction("jit", f);
  checkOptions("jit", options, OPTION_KEYS.jit);
  const { staticArgnames, ...rest } = options;
  if (staticArgnames !== undefined) {
    // names → positions, read from f's parameter list (JAX's static_argnames)
    const names = parameterNames(f);
    const positions = staticArgnames.map((name) => {
      const at = names.indexOf(name);
      if (at < 0) {
        const known = names.length === 0 ? "no named parameters" : `parameters (${names.join(", ")})`;
        throw new ArgumentError(`jit: expected staticArgnames to name parameters of f, which has ${known}, got ${JSON.stringify(name)}`);
      }
      return at;
    });
    rest.staticArgnums = [...new Set([...(rest.staticArgnums ?? []), ...positions])];
  }
  return wrap(new Compiled("jit", f, 0, rest)) as CompiledFunction<F>;
}

/**
 * The parameter names of `f` by position, from its source text: `(x, n = 2) => …`, `x => …`,
 * `function (x, n) {…}`. A destructured or rest parameter has no name (an empty string).
 */
export function parameterNames(f: AnyFunction): string[] {
  const source = Function.prototype.toString.call(f);
  const arrow = /^\s*(?:async\s*)?([A-Za-z_$][\w$]*)\s*=>/.exec(source);
  if (arrow !== null) return [arrow[1]!];
  const open = source.indexOf("(");
  if (open < 0) return [];
  let depth = 0;
  let close = open;
  for (; close < source.length; close++) {
    const c = source[close]!;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    if (depth === 0) break;
  }
  const list = source.slice(open + 1, close);
  const params: string[] = [];
  depth = 0;
  let current = "";
  for (const c of list) {
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    if (c === "," && depth === 0) {
      params.push(current);
      current = "";
    } else current += c;
  }
  if (current.trim() !== "") params.push(current);
  return params.map((p) => /^\s*([A-Za-z_$][\w$]*)\s*(?:[=:]|$)/.exec(p.replace(/\/\*.*?\*\//g, ""))?.[1] ?? "");
}

/** The options of jit's grad, valueAndGrad, jacobian, jacfwd, jacrev: the compiled code's, and hasAux. */
export interface JitTransformOptions extends JitOptions {
  /** f returns `[out, aux]`: the result carries aux, not differentiated (as every engine's). */
  readonly hasAux?: boolean;
}

function transform(kind: Kind, op: string) {
  return (f: AnyFunction, argnums: unknown = 0, options: JitTransformOptions = {}) => {
    checkFunction(op, f);
    // `(f, { hasAux })`: argnums 0 with options
    if (argnums !== null && typeof argnums === "object" && !Array.isArray(argnums) && options !== undefined) {
      if (Object.keys(options).length === 0) [argnums, options] = [0, argnums as JitTransformOptions];
    }
    checkOptions(op, options, kind === "hessian" ? OPTION_KEYS.transform : OPTION_KEYS.auxTransform);
    return wrap(new Compiled(kind, f, (argnums ?? 0) as Argnums, { ...options }));
  };
}

// direct-call transformations cache per function (and hasAux)
const perFunction = new WeakMap<AnyFunction, Map<string, Compiled>>();
function compiledFor(kind: Kind, f: AnyFunction, hasAux = false): Compiled {
  let byKind = perFunction.get(f);
  if (byKind === undefined) {
    byKind = new Map();
    perFunction.set(f, byKind);
  }
  const key = hasAux ? `${kind} hasAux` : kind;
  let c = byKind.get(key);
  if (c === undefined) {
    c = new Compiled(kind, f, 0, { hasAux });
    byKind.set(key, c);
  }
  return c;
}

/** A compiled transformation also exposes its generated code and cache size. */
export type Inspectable<T> = T & { readonly source: string | undefined; readonly cacheSize: number; readonly wat: string | undefined };

/**
 * A jit transformation's overloads, as in `Engine`: with `{ hasAux: true }` the result carries
 * aux; the first of each pair types an inline function's parameters as Tensors by context, the
 * second takes any function (pytrees, extra arguments).
 */
export interface JitTransform<K extends TransformKind> {
  <F extends TensorFunction, const A extends Argnums = 0>(
    f: F,
    argnums: A | undefined,
    options: JitTransformOptions & AuxOption,
  ): Inspectable<AuxResult<K, F, A>>;
  <F extends AnyFunction, const A extends Argnums = 0>(
    f: F,
    argnums: A | undefined,
    options: JitTransformOptions & AuxOption,
  ): Inspectable<AuxResult<K, F, A>>;
  <F extends TensorFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: JitTransformOptions): Inspectable<Result<K, F, A>>;
  <F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: JitTransformOptions): Inspectable<Result<K, F, A>>;
}

type TransformKind = "grad" | "valueAndGrad" | "jacobian" | "hessian";

type Result<K extends TransformKind, F extends AnyFunction, A extends Argnums> = K extends "grad"
  ? GradFunction<F, A>
  : K extends "valueAndGrad"
    ? ValueAndGradFunction<F, A>
    : K extends "jacobian"
      ? JacobianFunction<F, A>
      : HessianFunction<F, A>;

type AuxResult<K extends TransformKind, F extends AnyFunction, A extends Argnums> = K extends "grad"
  ? GradAuxFunction<F, A>
  : K extends "valueAndGrad"
    ? ValueAndGradAuxFunction<F, A>
    : JacobianAuxFunction<F, A>;

export const grad = transform("grad", "grad") as JitTransform<"grad">;
export const valueAndGrad = transform("valueAndGrad", "valueAndGrad") as JitTransform<"valueAndGrad">;
export const jacobian = transform("jacobian", "jacobian") as JitTransform<"jacobian">;
// issue 19 (xforms): the named Jacobians (by columns, by rows)
export const jacfwd = transform("jacfwd", "jacfwd") as JitTransform<"jacobian">;
export const jacrev = transform("jacrev", "jacrev") as JitTransform<"jacobian">;
export const hessian = transform("hessian", "hessian") as JitTransform<"hessian">;

export const jvp = ((f: AnyFunction, primals: unknown[], tangents: unknown[]) => {
  checkFunction("jvp", f);
  if (!Array.isArray(primals) || !Array.isArray(tangents)) {
    throw new ArgumentError(
      `jvp: expected primals and tangents as arrays of arguments, got ${describeValue(primals)} and ${describeValue(tangents)}`,
    );
  }
  return compiledFor("jvp", f).call([primals, tangents]);
}) as Engine["jvp"];

export const hvp = ((f: AnyFunction, primals: unknown[], tangents: unknown[]) => {
  checkFunction("hvp", f);
  if (!Array.isArray(primals)) throw new ArgumentError(`hvp: expected primals as an array of arguments, got ${describeValue(primals)}`);
  return compiledFor("hvp", f).call([primals, tangents]);
}) as Engine["hvp"];

export const vjp = ((f: AnyFunction, ...rest: unknown[]) => {
  checkFunction("vjp", f);
  const { primals, hasAux } = splitVjpOptions(rest);
  const leaves = flatten(primals, "vjp", "primals").leaves;
  checkLiveTracers("vjp", leaves);
  if (config.debugNans || nextLevel() !== 1 || leaves.some((l) => l instanceof Tracer)) {
    stats.interpreted++;
    return hasAux ? interpreter.vjp(f, ...(primals as never[]), { hasAux: true }) : interpreter.vjp(f, ...(primals as never[]));
  }
  // validate the primals as the interpreter would (errors match), then compile value and pullback
  const value = compiledFor("vjpValue", f, hasAux).call(primals);
  const pull = compiledFor("vjpPullback", f, hasAux);
  // shape/structure errors come from the interpreter's own checks, run once per new signature
  const pullback = (cotangent: unknown) => pull.call([primals, cotangent]);
  if (!hasAux) return [value, pullback];
  // f's [out, aux], compiled as f
  if (!Array.isArray(value) || value.length !== 2) {
    throw new ArgumentError(`vjp: expected f to return a pair [out, aux] (hasAux is true), got ${describeValue(value)}`);
  }
  return [value[0], pullback, value[1]];
}) as Engine["vjp"];

/**
 * `linearize(f, ...primals)`: `[f(...primals), jvpFn]`. `jvpFn(...tangents)` runs jvp's compiled
 * program (compiled once per signature, shared by every call), keeping only the tangent.
 */
export const linearize = ((f: AnyFunction, ...primals: unknown[]) => {
  checkFunction("linearize", f);
  const leaves = flatten(primals, "linearize", "primals").leaves;
  checkLiveTracers("linearize", leaves);
  if (config.debugNans || nextLevel() !== 1 || leaves.some((l) => l instanceof Tracer)) {
    stats.interpreted++;
    return interpreter.linearize(f, ...(primals as never[]));
  }
  const zero = (tree: unknown) => mapTree(tree, (leaf) => (typeof leaf === "number" ? 0 : zeros(leaf.shape, leaf.dtype)));
  const [out] = compiledFor("jvp", f).call([primals, primals.map(zero)]) as [unknown, unknown];
  const compiled = compiledFor("linearize", f);
  const jvpFn = (...tangents: unknown[]) => {
    if (tangents.length !== primals.length) {
      throw new ArgumentError(
        `linearize: expected ${primals.length} tangent${primals.length === 1 ? "" : "s"} (one per primal), got ${tangents.length}`,
      );
    }
    return compiled.call([primals, tangents]);
  };
  return [out, jvpFn];
}) as Engine["linearize"];

/**
 * `checkpoint(f, { policy })`: the interpreter's (a customVjp rule whose backward pass recomputes
 * f), so the compiled backward program holds f's recomputation rather than its stored intermediates.
 */
export const checkpoint = interpreter.checkpoint;

/** The JIT as an `Engine` (same semantics as every chainrule engine). */
export { Compiled, literalTree, treeLiteral };

export const engine: Engine = {
  name: "jit",
  specVersion: SPEC_VERSION,
  grad,
  valueAndGrad,
  jvp,
  vjp,
  jacobian,
  jacfwd,
  jacrev,
  hessian,
  hvp,
  linearize,
  checkpoint,
};
