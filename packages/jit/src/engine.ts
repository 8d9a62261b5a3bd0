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

export type Kind = "jit" | "grad" | "valueAndGrad" | "jacobian" | "hessian" | "jvp" | "hvp" | "vjpValue" | "vjpPullback";

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

/** Output leaves of f, recorded while tracing: which were JS numbers, which rank 0. */
interface FRecord {
  num: boolean[];
  rank0: boolean[];
}

function recordOutputs(f: AnyFunction, rec: FRecord): AnyFunction {
  return (...args: unknown[]) => {
    const out = f(...args);
    const { leaves } = flatten(out, "jit", "f's result");
    rec.num = leaves.map((l) => typeof l === "number");
    rec.rank0 = leaves.map((l) => typeof l === "number" || l.rank === 0);
    return out;
  };
}

/** How the interpreter is applied for each kind (on the rebuilt arguments). */
function apply(kind: Kind, f: AnyFunction, argnums: Argnums, args: unknown[]): unknown {
  switch (kind) {
    case "jit":
    case "vjpValue":
      return f(...args);
    case "grad":
      return interpreter.grad(f, argnums)(...args);
    case "valueAndGrad":
      return interpreter.valueAndGrad(f, argnums)(...args);
    case "jacobian":
      return interpreter.jacobian(f, argnums)(...args);
    case "hessian":
      return interpreter.hessian(f, argnums)(...args);
    case "jvp":
      return interpreter.jvp(f, args[0] as never, args[1] as never);
    case "hvp":
      return interpreter.hvp(f, args[0] as never, args[1] as never);
    case "vjpPullback": {
      const [primals, ct] = args as [unknown[], unknown];
      return interpreter.vjp(f, ...(primals as never[]))[1](ct as never);
    }
  }
}

/** Number-in → number-out rules of `defineEngine`, per output leaf. */
function outputMask(kind: Kind, inNum: boolean[], inRank0: boolean[], rec: FRecord, outCount: number): boolean[] {
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
    case "hvp":
      // the result mirrors the primals: number leaves stay numbers
      return inNum.map((n, i) => n || (all && inRank0[i]!));
    case "jacobian": {
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
  /** jit only: argument positions treated as static (their JS numbers are baked in; a new value recompiles). */
  staticArgnums?: readonly number[];
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

  constructor(
    readonly kind: Kind,
    readonly f: AnyFunction,
    readonly argnums: Argnums,
    readonly options: JitOptions,
  ) {
    this.cache = new SignatureCache(options.cacheSize ?? 64);
  }

  /** Which argument positions are differentiated (their number leaves are dynamic). */
  private diffPositions(args: readonly unknown[]): Set<number> | "all" {
    switch (this.kind) {
      case "grad":
      case "valueAndGrad":
      case "jacobian":
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

  call(args: unknown[]): unknown {
    if (config.debugNans || nextLevel() !== 1) {
      checkLiveTracers(this.op, flatten(args, this.op, "args").leaves);
      stats.interpreted++;
      return apply(this.kind, this.f, this.argnums, args);
    }
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
    // flatten per argument so we know which leaves belong to which position
    const leaves: (number | Tensor)[] = [];
    const dynamic: number[] = [];
    let key = "";
    const defs: TreeDef[] = [];
    for (let a = 0; a < args.length; a++) {
      const { leaves: ls, def } = flatten(args[a], this.kind, `args[${a}]`);
      defs.push(def);
      const diff = positions === "all" || positions.has(a);
      key += `${treeKey(def)}:`;
      for (const leaf of ls) {
        if (leaf instanceof Tracer) {
          checkLiveTracers(this.op, flatten(args, this.op, "args").leaves);
          stats.interpreted++;
          return apply(this.kind, this.f, this.argnums, args);
        }
        const isDynamic = diff || typeof leaf !== "number";
        if (isDynamic) dynamic.push(leaves.length);
        key += `${leafKey(leaf, isDynamic)};`;
        leaves.push(leaf);
      }
      key += "|";
    }
    // the differentiated leaves, for the number-in → number-out rules
    const inNum: boolean[] = [];
    const inRank0: boolean[] = [];
    const diffArgs: unknown[] =
      this.kind === "jit"
        ? []
        : this.kind === "vjpValue"
          ? args
          : this.kind === "jvp" || this.kind === "hvp" || this.kind === "vjpPullback"
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
      entry = this.compile(args, defs, leaves, dynamic, inNum, inRank0, key);
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
          : this.kind === "jvp" || this.kind === "hvp" || this.kind === "vjpPullback"
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
  ): { graph: Graph; mask: boolean[] } {
    const rec: FRecord = { num: [], rank0: [] };
    const fw = recordOutputs(this.f, rec);
    const traced = dynamic.map((i) => {
      const leaf = leaves[i]!;
      return typeof leaf === "number" ? scalar(leaf) : leaf;
    });
    const graph: Graph = traceWith(
      { name: `jit(${this.kind})` },
      ((xs: Tensor[]) => {
        const all = leaves.slice() as unknown[];
        dynamic.forEach((i, j) => (all[i] = xs[j]));
        let k = 0;
        const rebuilt = defs.map((def) => {
          const n = leafCount(def);
          const tree = unflatten(def, all.slice(k, k + n));
          k += n;
          return tree;
        });
        return apply(this.kind, fw, this.argnums, rebuilt);
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
  ): Entry {
    const started = performance.now();
    let traced: { graph: Graph; mask: boolean[] };
    try {
      traced = this.traceGraph(defs, leaves, dynamic, inNum, inRank0);
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
  return wrap(new Compiled("jit", f, 0, { ...options })) as CompiledFunction<F>;
}

function transform(kind: Kind, op: string) {
  return (f: AnyFunction, argnums: Argnums = 0, options: JitOptions = {}) => {
    checkFunction(op, f);
    checkOptions(op, options, OPTION_KEYS.transform);
    return wrap(new Compiled(kind, f, argnums, { ...options }));
  };
}

// direct-call transformations cache per function
const perFunction = new WeakMap<AnyFunction, Map<Kind, Compiled>>();
function compiledFor(kind: Kind, f: AnyFunction): Compiled {
  let byKind = perFunction.get(f);
  if (byKind === undefined) {
    byKind = new Map();
    perFunction.set(f, byKind);
  }
  let c = byKind.get(kind);
  if (c === undefined) {
    c = new Compiled(kind, f, 0, {});
    byKind.set(kind, c);
  }
  return c;
}

/** A compiled transformation also exposes its generated code and cache size. */
export type Inspectable<T> = T & { readonly source: string | undefined; readonly cacheSize: number; readonly wat: string | undefined };

/**
 * A jit transformation's two overloads, as in `Engine`: the first types an inline function's
 * parameters as Tensors by context, the second takes any function (pytrees, extra arguments).
 */
export interface JitTransform<K extends TransformKind> {
  <F extends TensorFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: JitOptions): Inspectable<Result<K, F, A>>;
  <F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: JitOptions): Inspectable<Result<K, F, A>>;
}

type TransformKind = "grad" | "valueAndGrad" | "jacobian" | "hessian";

type Result<K extends TransformKind, F extends AnyFunction, A extends Argnums> = K extends "grad"
  ? GradFunction<F, A>
  : K extends "valueAndGrad"
    ? ValueAndGradFunction<F, A>
    : K extends "jacobian"
      ? JacobianFunction<F, A>
      : HessianFunction<F, A>;

export const grad = transform("grad", "grad") as JitTransform<"grad">;
export const valueAndGrad = transform("valueAndGrad", "valueAndGrad") as JitTransform<"valueAndGrad">;
export const jacobian = transform("jacobian", "jacobian") as JitTransform<"jacobian">;
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

export const vjp = ((f: AnyFunction, ...primals: unknown[]) => {
  checkFunction("vjp", f);
  const leaves = flatten(primals, "vjp", "primals").leaves;
  checkLiveTracers("vjp", leaves);
  if (config.debugNans || nextLevel() !== 1 || leaves.some((l) => l instanceof Tracer)) {
    stats.interpreted++;
    return interpreter.vjp(f, ...(primals as never[]));
  }
  // validate the primals as the interpreter would (errors match), then compile value and pullback
  const value = compiledFor("vjpValue", f).call(primals);
  const pull = compiledFor("vjpPullback", f);
  const pullback = (cotangent: unknown) => {
    // shape/structure errors come from the interpreter's own checks, run once per new signature
    return pull.call([primals, cotangent]);
  };
  return [value, pullback];
}) as Engine["vjp"];

/** The JIT as an `Engine` (same semantics as every chainrule engine). */
export { Compiled, literalTree, treeLiteral };

export const engine: Engine = { name: "jit", specVersion: SPEC_VERSION, grad, valueAndGrad, jvp, vjp, jacobian, hessian, hvp };
