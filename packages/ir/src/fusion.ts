/**
 * Eager elementwise fusion. An engine that runs primitives eagerly (reverse mode's tape, forward
 * mode's tangents) may, instead of running an elementwise primitive on large concrete operands
 * at once, return a `LazyTensor`: the primitive and its operands, not yet computed. Lazy values
 * feed further elementwise primitives without being computed; the first read of `.data` (any
 * other primitive, the user, a copy out) computes the whole expression in one loop — one pass
 * over memory instead of one per primitive, and no intermediate array. A full sum of a lazy value
 * (`fusedSum`) runs inside that loop too.
 *
 * The loops are generated from each primitive's JavaScript expression (JS_EXPRESSIONS, the same
 * entries the JIT fuses), compiled once per expression shape with `new Function` and cached.
 * Every primitive rounds to float32 exactly where its eager kernel stores into a Float32Array,
 * and the sum adds in the eager kernel's order, so fused results are bitwise those of the
 * unfused kernels. Where code generation is refused (a CSP without `unsafe-eval`,
 * `--disallow-code-generation-from-strings`) fusion is off and engines run each primitive at once.
 */
import type { DType, TypedArray } from "./dtype.js";
import { ArgumentError, checkArity, describeValue } from "./errors.js";
import { JS_EXPRESSIONS, type ExpressionPrimitive } from "./primitives/js-expr.js";
import type { Params, Primitive } from "./primitives.js";
import type { Shape } from "./shape.js";
import { SPECIAL } from "./special.js";
import { Tensor } from "./tensor.js";
import { Tracer } from "./trace.js";

type FloatArray = Float64Array | Float32Array;

/** A JS number operand: weakly typed, it takes the dtype of the expression. */
export type FusionOperand = Tensor | number;

/** Where materialized results come from (an engine may hand out recycled buffers: every element is written). */
export interface FusionAllocator {
  takeFree(dtype: DType, size: number): FloatArray;
}

/** The float → float elementwise primitives fusion takes (comparisons, where and casts change dtypes: not these). */
const NOT_FLOAT_TO_FLOAT = ["greater", "greaterEqual", "less", "lessEqual", "equal", "notEqual", "where", "cast"];
const FUSABLE: ReadonlySet<Primitive> = new Set(
  (Object.keys(JS_EXPRESSIONS) as ExpressionPrimitive[]).filter((p) => !NOT_FLOAT_TO_FLOAT.includes(p)),
);

/** Above this many primitives an expression is computed before growing further (bounds code size and recomputation). */
const MAX_WEIGHT = 48;
const MAX_KERNELS = 512;

let enabled = true;
let minSize = 4096;
let allocator: FusionAllocator | null = null;
let codegen: boolean | undefined;
let codegenReason = "";
const kernels = new Map<string, FusedKernel>();
const stats = { lazy: 0, materialized: 0, fusedSums: 0, compiled: 0 };

type FusedKernel = (
  arrays: readonly TypedArray[],
  constants: Float64Array,
  offsets: Int32Array,
  out: FloatArray | null,
  n: number,
) => number;

/** Whether `new Function` works here (checked once). */
function codegenAvailable(): boolean {
  if (codegen === undefined) {
    try {
      codegen = new Function("return 1")() === 1;
    } catch (e) {
      codegen = false;
      codegenReason = `code generation from strings is refused (${(e as Error).message})`;
    }
  }
  return codegen;
}

export interface FusionOptions {
  /** Fuse at all (default true). */
  readonly enabled?: boolean;
  /** The least number of elements a result must have to be fused (default 4096; smaller ones run at once). */
  readonly minSize?: number;
}

/** Turns eager elementwise fusion on or off, or sets its size threshold; returns the previous settings. */
export const setFusion = checkArity("setFusion", 1, 1, (options: FusionOptions): Required<FusionOptions> => {
  const previous = { enabled, minSize };
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ArgumentError(`setFusion: expected an options object { enabled?, minSize? }, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== "enabled" && key !== "minSize")
      throw new ArgumentError(`setFusion: unknown option ${JSON.stringify(key)}; expected enabled or minSize`);
  }
  const { enabled: on, minSize: size } = options;
  if (on !== undefined && typeof on !== "boolean")
    throw new ArgumentError(`setFusion: expected enabled to be a boolean, got ${describeValue(on)}`);
  if (size !== undefined && !(Number.isInteger(size) && size >= 1)) {
    throw new ArgumentError(`setFusion: expected minSize to be a positive integer, got ${describeValue(size)}`);
  }
  if (on !== undefined) enabled = on;
  if (size !== undefined) minSize = size;
  return previous;
});

export interface FusionStatus {
  readonly enabled: boolean;
  /** Whether code generation works here (fusion needs it). */
  readonly available: boolean;
  /** Why fusion is off, or "" when it is on. */
  readonly reason: string;
  readonly minSize: number;
  /** Lazy values made, expressions computed, sums fused, loops compiled (since the start or the last reset). */
  readonly lazy: number;
  readonly materialized: number;
  readonly fusedSums: number;
  readonly compiled: number;
}

/** Whether fusion is on, and if not why; its threshold and counters. */
export const fusionStatus = checkArity("fusionStatus", 0, 0, (): FusionStatus => {
  const available = codegenAvailable();
  const reason = !enabled ? "turned off with setFusion({ enabled: false })" : available ? "" : codegenReason;
  return { enabled: enabled && available, available, reason, minSize, ...stats };
});

/** Zeroes the counters of `fusionStatus` (tests, benchmarks). */
export const resetFusionStats = checkArity("resetFusionStats", 0, 0, (): void => {
  stats.lazy = stats.materialized = stats.fusedSums = stats.compiled = 0;
});

/** Makes `next` the allocator of materialized results (null: fresh arrays); returns the previous one. */
export function swapFusionAllocator(next: FusionAllocator | null): FusionAllocator | null {
  const previous = allocator;
  allocator = next;
  return previous;
}

/** An elementwise result not computed yet: its primitive and operands. Reading `.data` computes it. */
/** What a lazy value is: an elementwise primitive, or a slice or zero pad that is a contiguous block (an index shift). */
export type LazyOp = ExpressionPrimitive | "slice" | "pad";

export class LazyTensor extends Tensor {
  declare readonly op: LazyOp;
  declare readonly params: Params;
  /** The operands, until computed (then none: the result no longer holds them). */
  declare inputs: readonly FusionOperand[];
  /** Primitives in the expression (an upper bound: shared parts count once per use). */
  declare readonly weight: number;
  /** slice: where the block starts in the operand; pad: where the operand starts in the block (elements). */
  declare readonly shift: number;

  constructor(op: LazyOp, params: Params, inputs: readonly FusionOperand[], dtype: DType, shape: Shape, weight: number, shift = 0) {
    super(dtype, shape, null);
    this.op = op;
    this.params = params;
    this.inputs = inputs;
    this.weight = weight;
    this.shift = shift;
  }

  /** Whether the value has been computed. */
  get materialized(): boolean {
    return this.storage !== null;
  }

  override get data(): TypedArray {
    return this.storage ?? materialize(this);
  }
}

/** Whether `t` is a lazy value not computed yet. */
export function isPending(t: unknown): t is LazyTensor {
  return t instanceof LazyTensor && !t.materialized;
}

const NO_PARAMS = {} as Params;
const NONE: readonly FusionOperand[] = [];

/**
 * `prim` on `inputs` as a lazy value, or undefined when fusion does not take it: fusion off, a
 * primitive it does not fuse, an operand that is a tracer or not float, dtypes that differ, a
 * result below the size threshold, or operands other than one shape (up to leading 1s: [n] with
 * [1, n]) plus size-1 values of no higher rank (those broadcast without changing the shape).
 */
export function fuse(prim: Primitive, inputs: readonly FusionOperand[], params: Params = NO_PARAMS): LazyTensor | undefined {
  if (!enabled) return undefined;
  if (prim === "slice" || prim === "pad") return fuseBlock(prim, inputs[0], params);
  if (!FUSABLE.has(prim)) return undefined;
  // the operand that gives the result its shape: of more than one element, the highest rank
  let full: Tensor | null = null;
  for (const x of inputs) {
    if (typeof x !== "number" && x.size !== 1 && (full === null || x.shape.length > full.shape.length)) full = x;
  }
  if (full === null || full.size < minSize || !codegenAvailable()) return undefined;
  const dtype = full.dtype;
  if (dtype !== "float64" && dtype !== "float32") return undefined;
  const shape = full.shape;
  const rank = shape.length;
  let weight = 1;
  for (const x of inputs) {
    if (typeof x === "number") continue;
    if (x instanceof Tracer || x.dtype !== dtype) return undefined;
    if (x !== full && !(x.size === 1 && x.shape.length <= rank) && !sameTrailing(x.shape, shape)) return undefined;
    if (isPending(x)) weight += x.weight;
  }
  if (weight > MAX_WEIGHT) {
    for (const x of inputs) if (isPending(x)) void x.data;
    weight = 1;
  }
  stats.lazy++;
  return new LazyTensor(prim as ExpressionPrimitive, params, inputs, dtype, shape, weight);
}

/**
 * A slice or a zero pad that is one contiguous block of the larger array (every axis before the
 * first one it changes has size 1, every axis after it is whole), as an index shift.
 */
function fuseBlock(prim: "slice" | "pad", x: FusionOperand | undefined, params: Params): LazyTensor | undefined {
  if (!(x instanceof Tensor) || x instanceof Tracer || !codegenAvailable()) return undefined;
  if (x.dtype !== "float64" && x.dtype !== "float32") return undefined;
  const inShape = x.shape;
  const rank = inShape.length;
  const outShape = new Array<number>(rank);
  let first = -1;
  let start = 0;
  if (prim === "slice") {
    const { begin, end } = params as { begin: number[]; end: number[] };
    for (let a = 0; a < rank; a++) {
      outShape[a] = end[a]! - begin[a]!;
      if (first < 0 && outShape[a] !== inShape[a]) first = a;
    }
    if (first >= 0) start = begin[first]!;
  } else {
    const { low, high } = params as { low: number[]; high: number[] };
    for (let a = 0; a < rank; a++) {
      outShape[a] = inShape[a]! + low[a]! + high[a]!;
      if (first < 0 && outShape[a] !== inShape[a]) first = a;
    }
    if (first >= 0) start = low[first]!;
  }
  const big = prim === "slice" ? inShape : outShape;
  const size = sizeOfShape(outShape);
  if (first < 0 || size < minSize || size === 0) return undefined;
  for (let a = 0; a < first; a++) if (big[a] !== 1) return undefined;
  for (let a = first + 1; a < rank; a++) if (outShape[a] !== inShape[a]) return undefined;
  let stride = 1;
  for (let a = first + 1; a < rank; a++) stride *= big[a]!;
  const weight = 1 + (isPending(x) ? x.weight : 0);
  if (weight > MAX_WEIGHT) void x.data;
  stats.lazy++;
  return new LazyTensor(prim, params, [x], x.dtype, outShape, weight > MAX_WEIGHT ? 1 : weight, start * stride);
}

/** A size-1 float tensor broadcast to `shape`, lazily (the cotangent of a full sum), or undefined when fusion does not take it. */
export function fuseFill(value: Tensor, shape: Shape): LazyTensor | undefined {
  if (!enabled || value instanceof Tracer || value.size !== 1 || value.shape.length > shape.length) return undefined;
  if ((value.dtype !== "float64" && value.dtype !== "float32") || sizeOfShape(shape) < minSize || !codegenAvailable()) return undefined;
  stats.lazy++;
  return new LazyTensor("stopGradient", NO_PARAMS, [value], value.dtype, shape, 1);
}

/** The sum of every element of a lazy value, in the eager kernel's order, without computing the value itself. */
export function fusedSum(x: LazyTensor): number {
  stats.fusedSums++;
  return run(x, true);
}

/** Whether `a` (rank ≤ b's) is `b` after leading 1s: the same elements in the same order (a [n] against a [1, n]). */
function sameTrailing(a: Shape, b: Shape): boolean {
  const lead = b.length - a.length;
  for (let i = 0; i < lead; i++) if (b[i] !== 1) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[lead + i]) return false;
  return true;
}

function sizeOfShape(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function materialize(x: LazyTensor): TypedArray {
  stats.materialized++;
  run(x, false);
  return (x as unknown as { storage: TypedArray }).storage;
}

/**
 * The loop of one expression: its operands in order, and the body's lines. A value is read at an
 * index expression ("i", or a shifted one inside a slice or a pad), so names are remembered per
 * (value, index); a pad's operand is read inside an `if`, a scope whose names end with it.
 */
interface Plan {
  readonly arrays: TypedArray[];
  readonly constants: number[];
  readonly offsets: number[];
  lines: string[];
  /** Lines of values that do not depend on the index (of constants and size-1 operands only): before the loop. */
  readonly before: string[];
  readonly invariant: Set<string>;
  scopes: Map<string, Map<unknown, string>>[];
  locals: number;
  /** Per array: its dtype and whether it is read per element or once (part of the cache key). */
  signature: string;
}

function run(root: LazyTensor, sum: boolean): number {
  const plan: Plan = {
    arrays: [],
    constants: [],
    offsets: [],
    lines: [],
    before: [],
    invariant: new Set(),
    scopes: [new Map()],
    locals: 0,
    signature: "",
  };
  const n = root.size;
  const dtype = root.dtype;
  const result = visit(plan, root, dtype, "i");
  const f32 = dtype === "float32";
  const before = plan.before.join("\n");
  const lines = plan.lines.join("\n");
  const total = f32 ? `Math.fround(acc + ${result})` : `acc + ${result}`;
  const body = sum
    ? `${before}\nlet acc = 0;\nfor (let i = 0; i < n; i++) {\n${lines}\nacc = ${total};\n}\nreturn acc;`
    : `${before}\nfor (let i = 0; i < n; i++) {\n${lines}\nout[i] = ${result};\n}\nreturn 0;`;
  const key = `${plan.signature}|${body}`;
  let kernel = kernels.get(key);
  if (kernel === undefined) kernel = compile(key, plan, body);
  const constants = new Float64Array(plan.constants);
  if (f32) for (let i = 0; i < constants.length; i++) constants[i] = Math.fround(constants[i]!);
  const offsets = new Int32Array(plan.offsets);
  if (sum) return kernel(plan.arrays, constants, offsets, null, n);
  const out = allocator !== null ? allocator.takeFree(dtype, n) : f32 ? new Float32Array(n) : new Float64Array(n);
  kernel(plan.arrays, constants, offsets, out, n);
  (root as unknown as { storage: TypedArray }).storage = out;
  root.inputs = NONE;
  return 0;
}

function lookup(plan: Plan, x: unknown, index: string): string | undefined {
  for (let s = plan.scopes.length - 1; s >= 0; s--) {
    const name = plan.scopes[s]!.get(index)?.get(x);
    if (name !== undefined) return name;
  }
  return undefined;
}

function remember(plan: Plan, x: unknown, index: string, name: string): void {
  const scope = plan.scopes[plan.scopes.length - 1]!;
  let names = scope.get(index);
  if (names === undefined) {
    names = new Map();
    scope.set(index, names);
  }
  names.set(x, name);
}

/** The expression of `x` read at `index` in the loop body: a local's name (its lines appended), a constant's, an array read. */
function visit(plan: Plan, x: FusionOperand, dtype: DType, index: string): string {
  if (typeof x === "number") {
    const name = `c${plan.constants.push(x) - 1}`;
    plan.invariant.add(name);
    return name;
  }
  const known = lookup(plan, x, index);
  if (known !== undefined) return known;
  let name: string;
  if (isPending(x) && x.op === "slice") {
    // y[i] = x[i + offset]
    plan.offsets.push(x.shift);
    name = visit(plan, x.inputs[0]!, dtype, `(${index} + o${plan.offsets.length - 1})`);
  } else if (isPending(x) && x.op === "pad") {
    // y[i] = x[i − low] inside the block [low, low + m), else 0
    const lo = plan.offsets.push(x.shift) - 1;
    const hi = plan.offsets.push(x.shift + (x.inputs[0] as Tensor).size) - 1;
    name = `v${plan.locals++}`;
    const inner = `j${plan.locals++}`;
    plan.lines.push(`let ${name} = 0;`, `if (${index} >= o${lo} && ${index} < o${hi}) {`, `const ${inner} = ${index} - o${lo};`);
    plan.scopes.push(new Map());
    const value = visit(plan, x.inputs[0]!, dtype, inner);
    plan.scopes.pop();
    plan.lines.push(`${name} = ${value};`, "}");
  } else if (isPending(x)) {
    const args = x.inputs.map((a) => visit(plan, a, dtype, index));
    name = `v${plan.locals++}`;
    const context = { inDtype: dtype, outDtype: dtype, params: x.params, exactFloat32: true };
    const expr = JS_EXPRESSIONS[x.op as ExpressionPrimitive](args, context);
    if (args.every((a) => plan.invariant.has(a))) {
      plan.before.push(`const ${name} = ${expr};`);
      plan.invariant.add(name);
    } else plan.lines.push(`const ${name} = ${expr};`);
  } else {
    const k = plan.arrays.length;
    const data = x.data;
    plan.arrays.push(data);
    const once = x.size === 1;
    plan.signature += `${data instanceof Float32Array ? "f" : "d"}${once ? "s" : "e"}`;
    if (once) {
      name = `s${k}`;
      plan.invariant.add(name);
    } else {
      name = `v${plan.locals++}`;
      plan.lines.push(`const ${name} = a${k}[${index}];`);
    }
  }
  remember(plan, x, index, name);
  return name;
}

function compile(key: string, plan: Plan, body: string): FusedKernel {
  const hoist: string[] = [];
  for (let k = 0; k < plan.arrays.length; k++) {
    const once = plan.signature[2 * k + 1] === "s";
    hoist.push(once ? `const s${k} = arrays[${k}][0];` : `const a${k} = arrays[${k}];`);
  }
  for (let j = 0; j < plan.constants.length; j++) hoist.push(`const c${j} = constants[${j}];`);
  for (let j = 0; j < plan.offsets.length; j++) hoist.push(`const o${j} = offsets[${j}];`);
  const source = `return function fused(arrays, constants, offsets, out, n) {\n${hoist.join("\n")}\n${body}\n};`;
  const kernel = new Function("rt_special", source)(SPECIAL) as FusedKernel;
  if (kernels.size >= MAX_KERNELS) kernels.clear();
  kernels.set(key, kernel);
  stats.compiled++;
  return kernel;
}
