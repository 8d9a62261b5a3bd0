/**
 * The forward-mode engine. `jvp` is native: one pass carries the tangent beside each value.
 * `vjp`, `grad` and `jacobian` build the Jacobian by chunked columns: ⌈n/k⌉ passes over the n
 * input elements, each pass carrying k directions (the primal is computed once per pass).
 * Everything else (pytrees, argnums, numbers in → numbers out, errors) comes from `defineEngine`;
 * `grad`/`valueAndGrad` have a lean path for JS-number arguments (W1) with the same semantics.
 */
import {
  add,
  ArgumentError,
  bind,
  castTo,
  concat,
  defineEngine,
  describeValue,
  DTypeError,
  formatShape,
  isFloat,
  matmul,
  mul,
  reshape,
  ShapeError,
  Tensor,
  Tracer,
  withTrace,
  zeros,
  type AnyFunction,
  type Argnums,
  type Engine,
  type EngineCore,
  type FlatFunction,
} from "@chainrule/ir";
import { DualTrace, DualTracer, forwardPass } from "./dual.js";
import { chunkedJacobian } from "./jacobian.js";

export interface ForwardOptions {
  /**
   * Tangent directions carried per pass (vector mode) when building gradients and Jacobians:
   * n inputs cost ⌈n / k⌉ passes with k = min(chunkSize, n, ⌊TANGENT_BUDGET / n⌋) (so at least
   * 1). Default: `DEFAULT_CHUNK_SIZE`.
   */
  readonly chunkSize?: number;
  /** Use the typed-array kernels for concrete elementwise ops (default true; false = rules only, for testing). */
  readonly fastKernels?: boolean;
}

/** Chosen from the chunk-size curve of the W2 gradient at n = 1000 (see README). */
export const DEFAULT_CHUNK_SIZE = 32;

/**
 * Upper bound on k·n (tangent elements of an input-sized value in one pass): with many inputs
 * the chunk shrinks so that one pass never holds more than ~16 MB per such value.
 */
export const TANGENT_BUDGET = 1 << 21;

/** Outputs of a function and, per output, its Jacobian as `[n, outSize]` (n input elements). */
export interface Columns {
  readonly outputs: Tensor[];
  readonly jacobians: Tensor[];
  readonly sizes: number[];
  readonly total: number;
}

export interface ForwardEngine extends Engine {
  /** Directions per pass used by grad/vjp/jacobian/hessian. */
  readonly chunkSize: number;
}

function isZero(t: Tensor): boolean {
  if (t instanceof Tracer) return false;
  const data = t.data;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

function checkChunkSize(value: unknown): number {
  if (value === undefined) return DEFAULT_CHUNK_SIZE;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new ArgumentError(`createEngine: expected chunkSize to be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

const OPTIONS: readonly (keyof ForwardOptions)[] = ["chunkSize", "fastKernels"];

/** The options, checked: an object (or undefined) with known keys of the right types. */
function checkOptions(options: unknown): { chunkSize: number; fast: boolean } {
  if (options === undefined) return { chunkSize: DEFAULT_CHUNK_SIZE, fast: true };
  if (options === null || typeof options !== "object" || Array.isArray(options) || options instanceof Tensor) {
    throw new ArgumentError(
      `createEngine: expected an options object { chunkSize?, fastKernels? } or nothing, got ${describeValue(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if ((OPTIONS as readonly string[]).includes(key)) continue;
    const near = OPTIONS.find((known) => known.toLowerCase() === key.toLowerCase());
    const hint = near === undefined ? `known options: ${OPTIONS.join(", ")}` : `did you mean ${near}?`;
    throw new ArgumentError(`createEngine: unknown option ${key} (${hint})`);
  }
  const { chunkSize, fastKernels } = options as ForwardOptions;
  if (fastKernels !== undefined && typeof fastKernels !== "boolean") {
    throw new ArgumentError(`createEngine: expected fastKernels to be a boolean, got ${describeValue(fastKernels)}`);
  }
  return { chunkSize: checkChunkSize(chunkSize), fast: fastKernels ?? true };
}

/** Creates a forward-mode engine; `chunkSize` sets the directions carried per pass. */
export function createEngine(options?: ForwardOptions): ForwardEngine {
  const { chunkSize, fast } = checkOptions(options);

  /**
   * The Jacobian by chunked columns: ⌈n/k⌉ forward passes over the n input elements. Returns the
   * outputs and, per output, J as `[n, outSize]` (row g = ∂y/∂x_g).
   */
  function columnsOf(f: FlatFunction, primals: readonly Tensor[]): Columns {
    const sizes = primals.map((p) => p.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const k = Math.max(1, Math.min(chunkSize, total, Math.floor(TANGENT_BUDGET / Math.max(1, total))));
    let outputs: Tensor[] | undefined;
    const columns: Tensor[][] = [];
    for (let start = 0; start < total || outputs === undefined; start += k) {
      const width = Math.min(k, total - start);
      let offset = 0;
      const seeds = primals.map((p, l) => {
        const n = sizes[l]!;
        const lo = Math.max(start, offset);
        const hi = Math.min(start + width, offset + n);
        let seed: Tensor | null = null;
        if (lo < hi) {
          seed = zeros([width, ...p.shape], p.dtype);
          for (let g = lo; g < hi; g++) seed.data[(g - start) * n + (g - offset)] = 1;
        }
        offset += n;
        return seed;
      });
      const pass = forwardPass(f, primals, seeds, Math.max(width, 0), fast);
      if (outputs === undefined) {
        outputs = pass.outputs;
        outputs.forEach(() => columns.push([]));
      }
      if (width > 0) pass.tangents.forEach((t, o) => columns[o]!.push(t ?? zeros([width, ...outputs![o]!.shape], outputs![o]!.dtype)));
    }
    const outs = outputs;
    const jacobians = outs.map((y, o) => {
      const parts = columns[o]!;
      if (parts.length === 0) return zeros([0, y.size], y.dtype);
      const stacked = parts.length === 1 ? parts[0]! : concat(parts, 0);
      return reshape(stacked, [total, y.size]);
    });
    return { outputs: outs, jacobians, sizes, total };
  }

  const core: EngineCore = {
    name: "forward",
    // rows of the Jacobian come from the (already built) Jacobian, see vjp below
    jacobianMode: "reverse",

    jvp(f, primals, tangents) {
      const seeds = primals.map((p, i) => {
        let t = tangents[i]!;
        if (isZero(t)) return null;
        if (t.dtype !== p.dtype) t = castTo(t, p.dtype);
        return reshape(t, [1, ...p.shape]);
      });
      const pass = forwardPass(f, primals, seeds, 1, fast);
      return {
        outputs: pass.outputs,
        tangents: pass.outputs.map((y, o) => {
          const t = pass.tangents[o];
          return t === null || t === undefined ? zeros(y.shape, y.dtype) : reshape(t, y.shape);
        }),
      };
    },

    vjp(f, primals) {
      const { outputs: outs, jacobians, sizes, total } = columnsOf(f, primals);
      const pullback = (cotangents: Tensor[]): Tensor[] => {
        let g: Tensor | undefined;
        for (let o = 0; o < outs.length; o++) {
          const term = contract(jacobians[o]!, cotangents[o]!, total, outs[o]!.size);
          g = g === undefined ? term : add(g, term);
        }
        let offset = 0;
        return primals.map((p, l) => {
          const n = sizes[l]!;
          const piece =
            g === undefined ? zeros(p.shape, p.dtype) : reshape(bind("slice", [g], { begin: [offset], end: [offset + n] }), p.shape);
          offset += n;
          return piece.dtype === p.dtype ? piece : castTo(piece, p.dtype);
        });
      };
      return { outputs: outs, pullback };
    },
  };

  const base = defineEngine(core);

  /**
   * grad/valueAndGrad when every differentiated argument is a JS number (and f returns a
   * scalar Tensor or a number): one pass with one direction per argument, no pytree plumbing.
   * Built once per grad(f, argnums); its call returns undefined to hand over to the general path
   * (which also produces every error message).
   */
  function lean(op: string, f: AnyFunction, argnums: Argnums): ((args: unknown[]) => [unknown, unknown] | undefined) | undefined {
    if (typeof f !== "function") return undefined;
    const single = typeof argnums === "number";
    const nums: number[] = single ? [argnums] : Array.isArray(argnums) ? argnums.slice() : [];
    const n = nums.length;
    if (n === 0 || n > chunkSize) return undefined;
    for (let j = 0; j < n; j++) {
      const a = nums[j]!;
      if (!Number.isInteger(a) || a < 0) return undefined;
      for (let i = 0; i < j; i++) if (nums[i] === a) return undefined;
    }
    // the seeds (rows of the identity) are immutable, so every call shares them
    const seeds = nums.map((_, j) => {
      const seed = new Float64Array(n);
      seed[j] = 1;
      return new Tensor("float64", [n], seed);
    });
    const scalarShape: number[] = [];
    return (args) => {
      for (let j = 0; j < n; j++) {
        const a = nums[j]!;
        if (a >= args.length || typeof args[a] !== "number") return undefined;
      }
      const result = withTrace(
        (level) => new DualTrace(level, n, fast),
        (trace) => {
          const call = args.slice();
          for (let j = 0; j < n; j++) {
            const value = new Float64Array(1);
            value[0] = args[nums[j]!] as number;
            call[nums[j]!] = new DualTracer(trace, new Tensor("float64", scalarShape, value), seeds[j]!);
          }
          const out: unknown = f(...call);
          if (typeof out === "number") return [out, null] as const;
          if (!(out instanceof Tensor)) return undefined;
          if (out.rank !== 0) throw new ShapeError(`${op}: expected f to return a scalar, got shape ${formatShape(out.shape)}`);
          if (!isFloat(out.dtype)) throw new DTypeError(`${op}: expected f to return a float scalar, got ${out.dtype}`);
          if (out instanceof DualTracer && out.trace === trace) return [out.primal, out.tangent] as const;
          return out instanceof Tracer ? undefined : ([out, null] as const);
        },
      );
      if (result === undefined) return undefined;
      const [value, tangent] = result;
      if (value instanceof Tracer || tangent instanceof Tracer) return undefined;
      const v = typeof value === "number" ? value : value.data[0]!;
      if (single) return [v, tangent === null ? 0 : tangent.data[0]!];
      const grads = new Array<number>(n);
      for (let j = 0; j < n; j++) grads[j] = tangent === null ? 0 : tangent.data[j]!;
      return [v, grads];
    };
  }

  /** jacobian/jacfwd from the stored columns; with options (hasAux) the base engine's. */
  function chunked(op: "jacobian" | "jacfwd"): Engine["jacobian"] {
    return ((f: AnyFunction, argnums: Argnums = 0, ...extra: unknown[]) => {
      const slow = (base[op] as AnyFunction)(f, argnums, ...extra) as AnyFunction;
      if (withOptions(argnums, extra)) return slow;
      return (...args: unknown[]) => chunkedJacobian(f, argnums, args, columnsOf, () => slow(...args));
    }) as Engine["jacobian"];
  }

  const engine: ForwardEngine = {
    ...base,
    name: "forward",
    chunkSize,
    grad: ((f: AnyFunction, argnums: Argnums = 0, ...extra: unknown[]) => {
      const slow = (base.grad as AnyFunction)(f, argnums, ...extra) as AnyFunction;
      const quick = withOptions(argnums, extra) ? undefined : lean("grad", f, argnums);
      if (quick === undefined) return slow;
      return (...args: unknown[]) => {
        const r = quick(args);
        return r === undefined ? slow(...args) : r[1];
      };
    }) as Engine["grad"],
    // Jacobians from the stored columns directly (the base engine would pull back one basis
    // cotangent per output element: costly for the many-outputs case forward mode is for)
    jacobian: chunked("jacobian"),
    // by columns, the chunked way (jacobian's own choice in forward mode)
    jacfwd: chunked("jacfwd"),
    valueAndGrad: ((f: AnyFunction, argnums: Argnums = 0, ...extra: unknown[]) => {
      const slow = (base.valueAndGrad as AnyFunction)(f, argnums, ...extra) as AnyFunction;
      const quick = withOptions(argnums, extra) ? undefined : lean("valueAndGrad", f, argnums);
      if (quick === undefined) return slow;
      return (...args: unknown[]) => quick(args) ?? slow(...args);
    }) as Engine["valueAndGrad"],
  };
  return engine;
}

/** Options given (`{ hasAux: true }`, or any object to be checked): the base engine takes them. */
function withOptions(argnums: unknown, extra: readonly unknown[]): boolean {
  return (argnums !== null && typeof argnums === "object" && !Array.isArray(argnums)) || extra.some((e) => e !== undefined);
}

/** Σᵢ J[g, i]·ct[i] for every input element g: the pullback of one output. */
function contract(jacobian: Tensor, cotangent: Tensor, total: number, outSize: number): Tensor {
  let ct = cotangent;
  if (ct.dtype !== jacobian.dtype) ct = castTo(ct, jacobian.dtype);
  if (outSize === 1) return mul(reshape(jacobian, [total]), reshape(ct, []));
  if (!(jacobian instanceof Tracer) && !(ct instanceof Tracer)) {
    // concrete: skip zero cotangent entries (a basis cotangent, as jacobian() sends, costs O(total))
    const jd = jacobian.data;
    const cd = ct.data;
    const out = new Float64Array(total);
    for (let i = 0; i < outSize; i++) {
      const c = cd[i]!;
      if (c === 0) continue;
      for (let g = 0; g < total; g++) out[g] = out[g]! + jd[g * outSize + i]! * c;
    }
    const t = new Tensor("float64", [total], out);
    return jacobian.dtype === "float64" ? t : castTo(t, jacobian.dtype);
  }
  return reshape(matmul(jacobian, reshape(ct, [outSize, 1])), [total]);
}

/** The default forward-mode engine (chunk size `DEFAULT_CHUNK_SIZE`). */
export const engine: ForwardEngine = createEngine();
