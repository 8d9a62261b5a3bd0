/**
 * The eager backend: ir's `evalPrimitive` offers each concrete primitive to it (ir's backend.ts)
 * once `useWasmBackend()` activated it, and it runs the large ones on the kernels — matmul (GEMM,
 * batched, one or two threads), elementwise arithmetic and the float32 transcendentals, and
 * reductions over one contiguous block of axes. Everything else, every small tensor and every
 * int32/bool value goes back to ir's JavaScript kernels (the backend returns undefined).
 *
 * Each call copies its operands into one backend-owned `WebAssembly.Memory` (grown on demand, never
 * shrunk), runs one kernel and copies the result into a new typed array; kernels are compiled once
 * per shape (kernels.ts's module cache) and instantiated once per shape on that memory.
 *
 * Exactness against the JavaScript backend (tested in eager.test.ts):
 * - GEMM without FMA: bit for bit in float64 (same products, same summation order over k);
 *   float32 within 1e-5 of |c| + 1 (2e-6 measured at 256³: the JavaScript loop adds each exact
 *   product in float64 before rounding to float32, the kernel rounds the product and the sum);
 * - + − × ÷, sqrt, abs, neg, min, max: bit for bit (IEEE-rounded in both);
 * - float32 exp, log, tanh: within ULP_BOUND ulps (math32.ts); float64 ones stay in JavaScript;
 * - reduceMax, and reduceSum over leading or middle axes: bit for bit (same order of additions); a
 *   reduceSum over trailing axes would add in 4 or 2 lanes, so it is left to ir's loop.
 */
import {
  ArgumentError,
  type Aval,
  type Backend,
  describeValue,
  type Params,
  type Primitive,
  registerBackend,
  setBackend,
  sizeOf,
  Tensor,
} from "@chainrule/ir";
import { wasmApi } from "./api.js";
import { Arena, ArenaPlan } from "./arena.js";
import { EW_EXACT, EW_F32, type EwOp, type EwSpec, ewFunction, ewKey, type OperandKind } from "./elementwise.js";
import { kernelsUnavailable, wasmFeatures } from "./features.js";
import { defaultTile, type GemmSpec, gemmFunction, gemmKey, gemmScratchBytes, type KernelDtype } from "./gemm.js";
import { instantiate, type KernelFn, kernelModule, MAX_PAGES } from "./kernels.js";
import { BoundedCache } from "./lru.js";
import type { FuncDef } from "./module.js";
import { reduceFunction, reduceKey } from "./reduce.js";
import { type Job, type ThreadPool, threadPool, threadsUnavailable } from "./threads.js";

export interface WasmBackendOptions {
  /** Threads for large GEMMs: 1, or 2 (needs workers and shared memory; else 1, same results). Default 1. */
  threads?: number;
  /** Relaxed-SIMD fused multiply-add in GEMM where the host has it (then not bit for bit with JavaScript). Default false. */
  fma?: boolean;
  /** A matmul runs on the kernels when m·n·k·batch is at least this. Default 4096. */
  minMatmulWork?: number;
  /** Elementwise ops and reductions run on the kernels when their largest operand has at least this many elements. Default 4096. */
  minElements?: number;
}

type Settings = Required<WasmBackendOptions>;
const DEFAULTS: Settings = { threads: 1, fma: false, minMatmulWork: 4096, minElements: 4096 };

/** What the backend ran, by kind (ops it declined are not counted). */
export const wasmBackendStats = { matmul: 0, elementwise: 0, reduce: 0, parallelMatmul: 0 };

/** Smallest GEMM (m·n·k) split across two threads (as in the JIT's kernel programs). */
const MIN_PARALLEL_WORK = 1 << 18;
/** Kernels instantiated on the backend's memory, by module key (least recently used dropped). */
const INSTANCE_LIMIT = 512;
const PAGE = 65536;

/** The backend's memory: one per sharing mode, grown to the largest call so far. */
class EagerMemory {
  readonly arena: Arena;
  private readonly kernels = new BoundedCache<string, KernelFn>(INSTANCE_LIMIT);
  private readonly jobs = new BoundedCache<string, { job: Job; block: KernelFn; tail: KernelFn | undefined }>(INSTANCE_LIMIT);

  constructor(readonly shared: boolean) {
    const { Memory } = wasmApi!;
    const memory = shared ? new Memory({ initial: 16, maximum: MAX_PAGES, shared: true }) : new Memory({ initial: 16 });
    this.arena = new Arena(memory, shared);
  }

  /** Grows the memory to hold `bytes`; false when that exceeds one memory (the caller declines). */
  fit(bytes: number): boolean {
    const have = this.arena.memory.buffer.byteLength;
    if (bytes <= have) return true;
    const pages = Math.ceil(bytes / PAGE);
    if (pages > MAX_PAGES) return false;
    this.arena.memory.grow(pages - have / PAGE);
    return true;
  }

  kernel(key: string, build: () => FuncDef): KernelFn {
    let f = this.kernels.get(key);
    if (f === undefined) {
      f = instantiate(
        kernelModule(key, this.shared, () => [build()]),
        this.arena.memory,
      )["k"]!;
      this.kernels.set(key, f);
    }
    return f;
  }

  /** A two-thread GEMM job for this shape and layout (registered with the worker once). */
  parallelGemm(pool: ThreadPool, block: GemmSpec, tail: GemmSpec | undefined, args: Parameters<ThreadPool["job"]>[3]) {
    const key = `${gemmKey(block)}@${args.join(",")}`;
    let entry = this.jobs.get(key);
    if (entry === undefined) {
      const module = kernelModule(gemmKey(block), true, () => [gemmFunction(block, "k")]);
      entry = {
        job: pool.job(this.arena, module, "k", args),
        block: this.kernel(gemmKey(block), () => gemmFunction(block, "k")),
        tail: tail && tail.n > 0 ? this.kernel(gemmKey(tail), () => gemmFunction(tail, "k")) : undefined,
      };
      this.jobs.set(key, entry);
    }
    return entry;
  }
}

let settings: Settings = { ...DEFAULTS };
let memories: { plain?: EagerMemory; shared?: EagerMemory } = {};

function memoryFor(shared: boolean): EagerMemory {
  const key = shared ? "shared" : "plain";
  let memory = memories[key];
  if (memory === undefined) {
    memory = new EagerMemory(shared);
    memories[key] = memory;
  }
  return memory;
}

const isKernelDtype = (dtype: string): dtype is KernelDtype => dtype === "float32" || dtype === "float64";

function copyIn(arena: Arena, dtype: KernelDtype, at: number, data: ArrayLike<number>): void {
  (dtype === "float32" ? arena.f32(at, data.length) : arena.f64(at, data.length)).set(data);
}

function copyOut(arena: Arena, dtype: KernelDtype, at: number, count: number): Float32Array | Float64Array {
  return dtype === "float32" ? arena.f32(at, count).slice() : arena.f64(at, count).slice();
}

// ---------------------------------------------------------------------------------------- matmul

function matmul(a: Tensor, b: Tensor, out: Aval): Tensor | undefined {
  const rank = out.shape.length;
  const m = out.shape[rank - 2]!;
  const n = out.shape[rank - 1]!;
  const k = a.shape[a.rank - 1]!;
  const batch = sizeOf(out.shape.slice(0, -2));
  // a batch is either the output's whole batch or one matrix broadcast over it (stride 0)
  const stride = (t: Tensor, size: number) => {
    const own = sizeOf(t.shape.slice(0, -2));
    return own === batch ? size : own === 1 ? 0 : undefined;
  };
  const batchA = stride(a, m * k);
  const batchB = stride(b, k * n);
  if (batchA === undefined || batchB === undefined) return undefined;
  return gemm(a, b, { m, n, k, batch, batchA, batchB, transA: false, transB: false }, out.shape);
}

/** op(A)·op(B) of rank-2 matrices (the cotangents of matmul read a transposed operand in place). */
function transposedMatmul(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor | undefined {
  const [ra, ca] = a.shape as [number, number];
  const [rb, cb] = b.shape as [number, number];
  const [m, k] = transA ? [ca, ra] : [ra, ca];
  const [kb, n] = transB ? [cb, rb] : [rb, cb];
  if (k !== kb) return undefined;
  return gemm(a, b, { m, n, k, batch: 1, batchA: 0, batchB: 0, transA, transB }, [m, n]);
}

interface GemmShape {
  m: number;
  n: number;
  k: number;
  batch: number;
  batchA: number;
  batchB: number;
  transA: boolean;
  transB: boolean;
}

function gemm(a: Tensor, b: Tensor, g: GemmShape, shape: readonly number[]): Tensor | undefined {
  const dtype = a.dtype;
  if (!isKernelDtype(dtype) || b.dtype !== dtype) return undefined;
  const { m, n, k, batch } = g;
  if (m * n * k * batch < settings.minMatmulWork) return undefined;
  const fma = settings.fma && wasmFeatures().relaxedFma;
  const spec: GemmSpec = { dtype, ...g, batchC: m * n, fma };
  const cols = 2 * defaultTile(dtype, fma).vecs * (dtype === "float32" ? 4 : 2);
  const pool =
    settings.threads >= 2 && batch === 1 && Math.floor(n / cols) >= 2 && m * n * k >= MIN_PARALLEL_WORK ? threadPool() : undefined;
  const memory = memoryFor(pool !== undefined);
  const size = dtype === "float32" ? 4 : 8;
  const plan = new ArenaPlan();
  const block: GemmSpec = { ...spec, n: cols, ldb: g.transB ? k : n, ldc: n, packA: false };
  const scratchBytes = Math.max(gemmScratchBytes(spec), pool ? gemmScratchBytes(block) : 0);
  const scratch = plan.reserve(scratchBytes);
  const scratch2 = pool ? plan.reserve(scratchBytes, 0, 128) : 0;
  const A = plan.reserve(a.size * size);
  const B = plan.reserve(b.size * size);
  const C = plan.reserve(batch * m * n * size);
  if (!memory.fit(plan.bytes)) return undefined;
  const { arena } = memory;
  copyIn(arena, dtype, A, a.data);
  copyIn(arena, dtype, B, b.data);
  if (pool === undefined) memory.kernel(gemmKey(spec), () => gemmFunction(spec, "k"))(A, B, C, scratch);
  else twoThreads(memory, pool, block, n, { A, B, C, scratch, scratch2 });
  wasmBackendStats.matmul++;
  return new Tensor(dtype, shape.slice(), copyOut(arena, dtype, C, batch * m * n));
}

/** Column blocks of `block.n` columns taken from a shared counter by both threads (the JIT's split: bit-identical to one thread). */
function twoThreads(
  memory: EagerMemory,
  pool: ThreadPool,
  block: GemmSpec,
  n: number,
  at: { A: number; B: number; C: number; scratch: number; scratch2: number },
): void {
  const size = block.dtype === "float32" ? 4 : 8;
  const cols = block.n;
  const blocks = Math.floor(n / cols);
  const tail: GemmSpec = { ...block, n: n - blocks * cols };
  const bStep = (block.transB ? cols * block.k : cols) * size;
  const cStep = cols * size;
  const { job, block: f, tail: g } = memory.parallelGemm(pool, block, tail, [at.A, at.B, at.C, at.scratch2, bStep, cStep, blocks]);
  const all = () => {
    for (let i = 0; i < blocks; i++) f(at.A, at.B + i * bStep, at.C + i * cStep, at.scratch);
  };
  if (!job.start()) all();
  else {
    for (let i = job.next(); i < blocks; i = job.next()) f(at.A, at.B + i * bStep, at.C + i * cStep, at.scratch);
    if (!job.finish()) all();
    else wasmBackendStats.parallelMatmul++;
  }
  g?.(at.A, at.B + blocks * bStep, at.C + blocks * cStep, at.scratch);
}

// ----------------------------------------------------------------------------------- elementwise

/**
 * How an operand of an elementwise op broadcasts over the (outer × inner) iteration space of `out`:
 * the whole output ("full"), one value ("scalar"), or the trailing `inner` elements repeated over
 * outer ("row"). Other broadcasts are declined.
 */
function operandKind(x: Tensor, outSize: number): { kind: OperandKind; inner: number } | undefined {
  const size = x.size;
  if (size === outSize) return { kind: "full", inner: outSize };
  if (size === 1) return { kind: "scalar", inner: 0 };
  return { kind: "row", inner: size };
}

/** A row operand must be a suffix of the output shape (leading ones aside). */
function isSuffix(x: Tensor, out: Aval): boolean {
  const own = x.shape.slice(x.shape.findIndex((d) => d !== 1));
  const tail = out.shape.slice(out.shape.length - own.length);
  return own.length <= out.shape.length && own.every((d, i) => d === tail[i]);
}

function elementwise(op: EwOp, inputs: readonly Tensor[], out: Aval): Tensor | undefined {
  const dtype = out.dtype;
  if (!isKernelDtype(dtype) || inputs.some((x) => x.dtype !== dtype)) return undefined;
  if (!(EW_EXACT.has(op) || (dtype === "float32" && EW_F32.has(op)))) return undefined;
  const total = sizeOf(out.shape);
  if (total < settings.minElements) return undefined;
  const kinds = inputs.map((x) => operandKind(x, total));
  const rows = kinds.filter((k) => k!.kind === "row");
  const inner = rows.length > 0 ? rows[0]!.inner : total;
  if (rows.some((r) => r!.inner !== inner) || inputs.some((x, i) => kinds[i]!.kind === "row" && !isSuffix(x, out))) return undefined;
  const spec: EwSpec = {
    dtype,
    outer: total / inner,
    inner,
    operands: kinds.map((k) => k!.kind),
    nodes: [{ op, args: inputs.map((_, i) => ({ operand: i })) }],
    stores: [0],
  };
  const memory = memoryFor(false);
  const size = dtype === "float32" ? 4 : 8;
  const plan = new ArenaPlan();
  const ats = inputs.map((x) => plan.reserve(x.size * size));
  const C = plan.reserve(total * size);
  if (!memory.fit(plan.bytes)) return undefined;
  const { arena } = memory;
  inputs.forEach((x, i) => copyIn(arena, dtype, ats[i]!, x.data));
  const f = memory.kernel(ewKey(spec), () => ewFunction(spec, "k"));
  if (ats.length === 1) f(ats[0]!, C);
  else f(ats[0]!, ats[1]!, C);
  wasmBackendStats.elementwise++;
  return new Tensor(dtype, out.shape.slice(), copyOut(arena, dtype, C, total));
}

// ------------------------------------------------------------------------------------ reductions

/** Sum or max over `axes` when they are one contiguous block: (outer, mid, inner) around it. */
function reduce(op: "sum" | "max", x: Tensor, axes: readonly number[], out: Aval): Tensor | undefined {
  const dtype = out.dtype;
  if (!isKernelDtype(dtype) || x.size < settings.minElements || axes.length === 0) return undefined;
  const sorted = [...axes].sort((p, q) => p - q);
  const first = sorted[0]!;
  if (sorted.some((axis, i) => axis !== first + i)) return undefined;
  const last = first + sorted.length;
  const outer = sizeOf(x.shape.slice(0, first));
  const mid = sizeOf(x.shape.slice(first, last));
  const inner = sizeOf(x.shape.slice(last));
  // a sum over trailing axes would add in 4 or 2 lanes: ir's loop adds in order, so it stays there (exactness)
  if (op === "sum" && inner === 1) return undefined;
  const spec = { dtype, op, outer, mid, inner };
  const memory = memoryFor(false);
  const size = dtype === "float32" ? 4 : 8;
  const plan = new ArenaPlan();
  const X = plan.reserve(x.size * size);
  const Y = plan.reserve(outer * inner * size);
  if (!memory.fit(plan.bytes)) return undefined;
  copyIn(memory.arena, dtype, X, x.data);
  memory.kernel(reduceKey(spec), () => reduceFunction(spec, "k"))(X, Y);
  wasmBackendStats.reduce++;
  return new Tensor(dtype, out.shape.slice(), copyOut(memory.arena, dtype, Y, outer * inner));
}

// ------------------------------------------------------------------------------------- dispatch

const UNARY_KERNEL: ReadonlySet<string> = new Set(["neg", "abs", "sqrt", "exp", "log", "tanh"]);
const BINARY_KERNEL: ReadonlySet<string> = new Set(["add", "sub", "mul", "div", "maximum", "minimum", "mulNoNan"]);

function run(prim: Primitive, inputs: readonly Tensor[], params: Params, out: Aval): Tensor | undefined {
  // small tensors pay these few comparisons only (W1's scalar calls stay on ir's kernels)
  if (prim === "matmul") return matmul(inputs[0]!, inputs[1]!, out);
  if (prim === "reduceSum" || prim === "reduceMax") {
    if (inputs[0]!.size < settings.minElements) return undefined;
    return reduce(prim === "reduceSum" ? "sum" : "max", inputs[0]!, (params as Params<"reduceSum">).axes, out);
  }
  if (sizeOf(out.shape) < settings.minElements) return undefined;
  if (UNARY_KERNEL.has(prim) || BINARY_KERNEL.has(prim)) return elementwise(prim as EwOp, inputs, out);
  return undefined;
}

/** The backend object registered with ir (name "wasm"). */
export const wasmBackend: Backend = {
  name: "wasm",
  run,
  unavailable: () => kernelsUnavailable(),
  gemm: transposedMatmul,
  /** A matmul of work m·n·k ≥ minMatmulWork has an operand of at least √minMatmulWork elements. */
  get minInputElements() {
    return Math.min(settings.minElements, Math.floor(Math.sqrt(settings.minMatmulWork)));
  },
};

/** What each option accepts (the error message names it). */
const CHECKS: { readonly [K in keyof Settings]: readonly [accepts: (v: unknown) => boolean, expected: string] } = {
  threads: [(v) => Number.isInteger(v) && (v as number) >= 1, "an integer ≥ 1 (two are used at most)"],
  fma: [(v) => typeof v === "boolean", "a boolean"],
  minMatmulWork: [(v) => Number.isInteger(v) && (v as number) >= 0, "an integer ≥ 0"],
  minElements: [(v) => Number.isInteger(v) && (v as number) >= 0, "an integer ≥ 0"],
};

/** Too many arguments is an ArgumentError, as for every exported function of ir. */
function checkArguments(op: string, count: number, most: number): void {
  if (count > most) throw new ArgumentError(`${op}: expected at most ${most} argument${most === 1 ? "" : "s"}, got ${count}`);
}

function checkOptions(options: unknown): asserts options is WasmBackendOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ArgumentError(`useWasmBackend: expected an options object, got ${describeValue(options)}`);
  }
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const check = CHECKS[key as keyof Settings];
    if (check === undefined) {
      throw new ArgumentError(`useWasmBackend: expected options among ${Object.keys(CHECKS).join(", ")}, got ${JSON.stringify(key)}`);
    }
    if (!check[0](value)) throw new ArgumentError(`useWasmBackend: expected ${key} to be ${check[1]}, got ${describeValue(value)}`);
  }
}

/**
 * Registers the WebAssembly backend with ir and makes it the active one: from then on, eager ops
 * on large float tensors (and so forward's and reverse's sweeps and the imperative API) run on the
 * kernels. Options are merged into the current settings. Returns false where the kernels cannot
 * run (ir's JavaScript backend stays active; `backendStatus()` says why). `setBackend("js")`
 * turns it off again.
 */
export function useWasmBackend(options: WasmBackendOptions = {}): boolean {
  // biome-ignore lint/complexity/noArguments: an arity check without a rest parameter (ir's pattern)
  checkArguments("useWasmBackend", arguments.length, 1);
  checkOptions(options);
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  settings = { ...settings, ...defined };
  registerBackend(wasmBackend);
  return setBackend("wasm");
}

export interface WasmBackendInfo {
  readonly settings: Readonly<Settings>;
  /** Why the kernels cannot run here (no WebAssembly, no SIMD, a CSP, jitless), or undefined. */
  readonly unavailable: string | undefined;
  /** Why a second thread is unavailable, or undefined. */
  readonly threadsUnavailable: string | undefined;
  /** Calls the backend ran on the kernels, by kind. */
  readonly ran: Readonly<typeof wasmBackendStats>;
  /** Bytes of the backend's memories (grown to the largest call so far). */
  readonly bytes: number;
}

/** The backend's settings, availability and what it ran. */
export function wasmBackendInfo(): WasmBackendInfo {
  // biome-ignore lint/complexity/noArguments: an arity check without a rest parameter (ir's pattern)
  checkArguments("wasmBackendInfo", arguments.length, 0);
  return {
    settings: { ...settings },
    unavailable: kernelsUnavailable(),
    threadsUnavailable: threadsUnavailable(),
    ran: { ...wasmBackendStats },
    bytes: (memories.plain?.arena.memory.buffer.byteLength ?? 0) + (memories.shared?.arena.memory.buffer.byteLength ?? 0),
  };
}

/** Drops the backend's memories and instantiated kernels (tests; the next call starts afresh). */
export function resetWasmBackend(): void {
  memories = {};
  settings = { ...DEFAULTS };
}
