/**
 * Eager backends: where a concrete primitive's kernel runs. ir's own kernels (plain JavaScript
 * loops, no dependencies) are the default backend "js" and the reference. Another package may
 * register a faster backend (`@chainrule/wasm`'s WebAssembly SIMD kernels) and activate it; from
 * then on `evalPrimitive` — eager ops, forward's tangents, reverse's forward and backward sweeps,
 * the imperative API — offers each primitive to it first. A backend takes what it runs well
 * (large tensors, the primitives it has kernels for) and returns undefined for the rest, which ir
 * runs itself: a backend is never required to cover everything, and small tensors pay one branch.
 */
import { ArgumentError, checkArity, describeValue } from "./errors.js";
import { inferAval, type Aval, type Params, type Primitive } from "./primitives.js";
import type { Tensor } from "./tensor.js";
import { Tracer } from "./trace.js";

export interface Backend {
  /** A short unique name ("wasm"); "js" is ir's own. */
  readonly name: string;
  /**
   * Runs `prim` on concrete `inputs` into a new tensor of aval `out`, or returns undefined to
   * leave it to ir's JavaScript kernels. Must give the JavaScript backend's result (bit for bit
   * where the backend documents it, else within its documented ulps) and never mutate inputs.
   */
  run(prim: Primitive, inputs: readonly Tensor[], params: Params, out: Aval): Tensor | undefined;
  /** Why the backend cannot run in this runtime (no SIMD, a CSP, jitless), or undefined. */
  unavailable(): string | undefined;
  /**
   * A rank-2 product of concrete float matrices with either operand read transposed (Aᵀ·B, A·Bᵀ:
   * the cotangents of matmul) without copying the transpose, or undefined to decline.
   */
  gemm?(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor | undefined;
  /** Calls whose inputs all have fewer elements than this are never taken (they skip the backend at once). */
  readonly minInputElements: number;
}

export interface BackendStatus {
  /** The backend that eager ops are offered to first ("js" when none is active). */
  readonly name: string;
  /** Every registered backend, "js" first, with why it cannot run here (undefined: it can). */
  readonly backends: readonly { readonly name: string; readonly unavailable: string | undefined }[];
}

const registered = new Map<string, Backend>();
/** @internal the active backend, read by `evalPrimitive` (undefined: ir's JavaScript kernels). */
export let activeBackend: Backend | undefined;

function checkBackend(op: string, backend: unknown): asserts backend is Backend {
  const b = backend as Partial<Backend> | null;
  if (
    typeof b !== "object" ||
    b === null ||
    typeof b.name !== "string" ||
    b.name === "" ||
    b.name === "js" ||
    typeof b.run !== "function" ||
    typeof b.unavailable !== "function" ||
    typeof b.minInputElements !== "number" ||
    (b.gemm !== undefined && typeof b.gemm !== "function")
  ) {
    throw new ArgumentError(
      `${op}: expected a backend { name (not "js"), run, unavailable, minInputElements, gemm? }, got ${describeValue(backend)}`,
    );
  }
}

/** Registers `backend` (replacing one of the same name) without activating it. */
export const registerBackend = checkArity("registerBackend", 1, 1, (backend: Backend): void => {
  checkBackend("registerBackend", backend);
  if (activeBackend?.name === backend.name) activeBackend = backend;
  registered.set(backend.name, backend);
});

/**
 * Makes the backend `name` the one eager ops are offered to ("js": ir's kernels only). Returns
 * false, leaving the JavaScript backend active, when that backend cannot run here
 * (`backendStatus()` says why). An unknown name is an ArgumentError.
 */
export const setBackend = checkArity("setBackend", 1, 1, (name: string): boolean => {
  if (name === "js") {
    activeBackend = undefined;
    return true;
  }
  const backend = typeof name === "string" ? registered.get(name) : undefined;
  if (backend === undefined) {
    const known = ["js", ...registered.keys()].map((n) => JSON.stringify(n)).join(", ");
    throw new ArgumentError(`setBackend: expected the name of a registered backend (${known}), got ${describeValue(name)}`);
  }
  if (backend.unavailable() !== undefined) {
    activeBackend = undefined;
    return false;
  }
  activeBackend = backend;
  return true;
});

/** The active backend's name and every registered backend with why it cannot run here. */
export const backendStatus = checkArity(
  "backendStatus",
  0,
  0,
  (): BackendStatus => ({
    name: activeBackend?.name ?? "js",
    backends: [
      { name: "js", unavailable: undefined },
      ...[...registered.values()].map((b) => ({ name: b.name, unavailable: b.unavailable() })),
    ],
  }),
);

/** Runs `body` with backend `name` active, restoring the previous one afterwards (tests, benchmarks). */
export const withBackend = checkArity("withBackend", 2, 2, <R>(name: string, body: () => R): R => {
  if (typeof body !== "function") throw new ArgumentError(`withBackend: expected a function, got ${describeValue(body)}`);
  const previous = activeBackend;
  setBackend(name);
  try {
    return body();
  } finally {
    activeBackend = previous;
  }
});

/** @internal Whether the active backend may take a call on these inputs (concrete, and one large enough). */
export function offered(backend: Backend, inputs: readonly Tensor[]): boolean {
  let largest = 0;
  for (const x of inputs) {
    if (x instanceof Tracer) return false;
    const size = x.size;
    if (size > largest) largest = size;
  }
  return largest >= backend.minInputElements;
}

/**
 * For engines' own typed-array fast paths (which bypass `evalPrimitive`): the active backend's
 * result for primitive `prim` on concrete `inputs`, or undefined when no backend is active, an
 * input is a tracer, or the backend declines (then the engine runs its own loop).
 */
export const backendRun = checkArity(
  "backendRun",
  3,
  3,
  (prim: Primitive, inputs: readonly Tensor[], params: Params): Tensor | undefined => {
    const backend = activeBackend;
    if (backend === undefined || !offered(backend, inputs)) return undefined;
    return backend.run(prim, inputs, params, inferAval(prim, inputs, params));
  },
);

/**
 * For engines' fast paths: op(A)·op(B) of rank-2 concrete float matrices on the active backend
 * (op = transpose where asked: the cotangents of matmul, without copying a transpose), or undefined.
 */
export const backendMatmul = checkArity(
  "backendMatmul",
  4,
  4,
  (a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor | undefined => {
    const backend = activeBackend;
    if (backend?.gemm === undefined || !offered(backend, [a, b])) return undefined;
    if (a.rank !== 2 || b.rank !== 2 || a.dtype !== b.dtype) return undefined;
    return backend.gemm(a, b, transA === true, transB === true);
  },
);
