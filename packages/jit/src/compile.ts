/**
 * Compiling a graph: optimize, generate source, build the function with `new Function`.
 * Compiled functions take one argument per graph input (a JS number for rank-0 inputs, the
 * typed-array data otherwise) and return the flat outputs the same way.
 */
import {
  ArgumentError,
  checkGraphLimits,
  DTypeError,
  SPECIAL,
  Tensor,
  validateGraph,
  type Aval,
  type Graph,
  type GraphLimits,
} from "@chainrule/ir";
import { buildFunction } from "./build.js";
import { runControl } from "./control.js";
import { generate, type GenerateOptions } from "./codegen.js";
import { optimize, toProgram, type OptimizeOptions, type Program } from "./optimize.js";
import { RUNTIME_HELPERS, RUNTIME_SOURCE } from "./runtime.js";
import { checkOptions, OPTION_KEYS } from "./options.js";
import { kernelProgramFor, type KernelOptions } from "./wasm/config.js";

export type RawFunction = (...inputs: (number | Tensor["data"])[]) => unknown;

export interface CompiledGraph {
  /** The generated function (flat inputs → flat outputs, or the `ret` expression). */
  readonly run: RawFunction;
  /** The generated JavaScript (the body of the factory that returns `run`). */
  readonly source: string;
  /** On WebAssembly kernels: the WAT text of the kernels (for debugging). */
  readonly wat?: () => string;
  /** On WebAssembly kernels: `run`, writing output j into `into[j]` where given (donated buffers). */
  readonly runInto?: (inputs: readonly unknown[], into: readonly (ArrayLike<number> | undefined)[]) => unknown[];
  readonly inputs: readonly Aval[];
  readonly outputs: readonly Aval[];
  readonly nodeCount: number;
  readonly optimizedNodeCount: number;
  readonly pooledBytes: number;
  readonly fusedLoops: number;
}

export interface CompileOptions extends GenerateOptions, KernelOptions {
  optimize?: OptimizeOptions | false;
}

function runtimeFor(source: string): string {
  // include only helpers the program calls (rt_index and rt_error come with gather/scatterAdd)
  return RUNTIME_HELPERS.some((h) => source.includes(`${h}(`)) ? RUNTIME_SOURCE : "";
}

/** Errors raised by generated code: a value of the wrong kind (`"DTYPE"`) or out of range. */
function rtError(message: string, code?: string): Error {
  return code === "DTYPE" ? new DTypeError(String(message)) : new ArgumentError(String(message));
}

export function programSource(p: Program, options: CompileOptions = {}): ReturnType<typeof generate> & { full: string } {
  const generated = generate(p, options);
  const full = `${runtimeFor(generated.source)}\n${generated.source}`;
  return { ...generated, full };
}

/** `compileGraph`'s options: the code's, and the limits on what the graph may demand. */
export interface CompileGraphOptions extends CompileOptions, GraphLimits {}

/**
 * Compiles a graph. Graphs may come from JSON or be built by hand: each is validated, and what
 * it demands (elements, operations: ir's `DEFAULT_GRAPH_LIMITS` unless `maxElements`/`maxWork`
 * raise them) is checked before anything is optimized or allocated.
 */
export function compileGraph(graph: Graph, options: CompileGraphOptions = {}): CompiledGraph {
  checkOptions("compileGraph", options, OPTION_KEYS.compileGraph);
  validateGraph(graph);
  const { maxElements, maxWork, ...code } = options;
  checkGraphLimits("compileGraph", graph, {
    ...(maxElements === undefined ? {} : { maxElements }),
    ...(maxWork === undefined ? {} : { maxWork }),
  });
  return compileTrusted(graph, code);
}

/**
 * `runInto` of a generated JavaScript program: output j is written into `into[j]` where given (a
 * donated buffer, zeroed first) instead of a new array. A donated buffer is usually also the input
 * it came from, which the program may still read after it starts writing the output (x[i + 1] in
 * a stencil): such an input is first copied into a buffer kept by the compiled function (a copy
 * into memory in use costs far less than the page faults of a new array).
 */
function donatedRun(run: RawFunction, read: readonly boolean[]): NonNullable<CompiledGraph["runInto"]> {
  const copies = new Map<number, Tensor["data"]>();
  return (inputs, into) => {
    const args = inputs.slice() as (number | Tensor["data"])[];
    args.forEach((x, k) => {
      if (typeof x === "number" || !read[k] || !into.includes(x)) return;
      let copy = copies.get(k);
      if (copy === undefined || copy.length !== x.length || copy.constructor !== x.constructor) {
        copy = (x as Tensor["data"]).slice();
        copies.set(k, copy);
      } else copy.set(x);
      args[k] = copy;
    });
    return run(...args, into as never) as unknown[];
  };
}

/** Which of the program's inputs any node reads or it returns (an unread donated input needs no copy). */
function inputsRead(p: Program): boolean[] {
  const used = new Set<number>(p.outputs);
  for (const n of p.nodes) for (const id of n.inputs) used.add(id);
  return p.inputs.map((i) => used.has(i.id));
}

/** Compiles a graph this package traced itself (already valid by construction). */
export function compileTrusted(graph: Graph, options: CompileOptions = {}): CompiledGraph {
  const program = toProgram(graph);
  if (options.optimize !== false) optimize(program, options.optimize);
  // matmul-heavy programs run on WebAssembly SIMD kernels (wasm/): same inputs and outputs
  const kernels = options.ret === undefined ? kernelProgramFor(program, options) : undefined;
  if (kernels !== undefined) {
    return {
      run: kernels.run as RawFunction,
      source: kernels.source,
      wat: kernels.wat,
      runInto: kernels.runInto,
      inputs: graph.inputs.map((i) => ({ shape: i.shape, dtype: i.dtype })),
      outputs: program.outputs.map((id) => outputAval(program, id)),
      nodeCount: graph.nodes.length,
      optimizedNodeCount: program.nodes.length,
      pooledBytes: kernels.bytes,
      fusedLoops: 0,
    };
  }
  const generated = programSource(program, options);
  const factory = buildFunction(["K", "rt_error", "rt_special", "rt_control"], generated.full) as (
    k: unknown[],
    e: (m: string, code?: string) => Error,
    special: typeof SPECIAL,
    control: typeof runControl,
  ) => RawFunction;
  const run = factory(
    generated.constants.map((t) => t.data),
    rtError,
    SPECIAL,
    runControl,
  );
  const byId = new Map(program.nodes.map((n) => [n.id, n]));
  const avalOf = (id: number): Aval => {
    const n = byId.get(id);
    if (n) return { shape: n.shape, dtype: n.dtype };
    const c = program.constants.get(id);
    if (c) return { shape: c.shape, dtype: c.dtype };
    return program.inputs.find((i) => i.id === id)!;
  };
  return {
    run,
    ...(options.ret === undefined ? { runInto: donatedRun(run, inputsRead(program)) } : {}),
    source: generated.full.trim(),
    inputs: graph.inputs.map((i) => ({ shape: i.shape, dtype: i.dtype })),
    outputs: program.outputs.map(avalOf),
    nodeCount: graph.nodes.length,
    optimizedNodeCount: program.nodes.length,
    pooledBytes: generated.pooledBytes,
    fusedLoops: generated.fusedLoops,
  };
}

function outputAval(program: Program, id: number): Aval {
  const n = program.nodes.find((x) => x.id === id);
  if (n) return { shape: n.shape, dtype: n.dtype };
  const c = program.constants.get(id);
  if (c) return { shape: c.shape, dtype: c.dtype };
  return program.inputs.find((i) => i.id === id)!;
}

/** Runs a compiled graph on tensors (shapes and dtypes as compiled), returning tensors. */
export function runCompiled(c: CompiledGraph, inputs: readonly Tensor[]): Tensor[] {
  const raw = c.run(...inputs.map((t, i) => (c.inputs[i]!.shape.length === 0 ? t.data[0]! : t.data))) as unknown[];
  return raw.map((v, i) => {
    const a = c.outputs[i]!;
    if (typeof v === "number") {
      const t = new Tensor(a.dtype, [], allocate(a.dtype, 1));
      t.data[0] = v;
      return t;
    }
    return new Tensor(a.dtype, a.shape, v as Tensor["data"]);
  });
}

function allocate(dtype: Aval["dtype"], n: number): Tensor["data"] {
  return dtype === "float64"
    ? new Float64Array(n)
    : dtype === "float32"
      ? new Float32Array(n)
      : dtype === "int32"
        ? new Int32Array(n)
        : new Uint8Array(n);
}
