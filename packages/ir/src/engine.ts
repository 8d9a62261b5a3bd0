/**
 * The `Engine` contract every engine implements, and `defineEngine`, which builds the
 * whole pytree-aware API (argnums, number in → number out, Jacobians, Hessians, HVPs) from an
 * engine's two flat primitives: `jvp` and `vjp` on lists of tensors. Engines may override any
 * transformation with a faster one; the semantics stay these.
 */
import { isFloat } from "./dtype.js";
import { checkOneCopy } from "./copies.js";
import { ArgumentError, checkArity, count, describeValue, DTypeError, formatValue, ShapeError } from "./errors.js";
import { describeTree, flatten, sameStructure, unflatten, type TreeDef } from "./pytree.js";
import { formatShape, shapesEqual } from "./shape.js";
import { scalar, type Tensor } from "./tensor.js";
import { checkNotEscaped, Tracer } from "./trace.js";
import { ones, zeros } from "./tensor.js";
import type {
  AnyFunction,
  Argnums,
  AuxOption,
  GradAuxFunction,
  JacobianAuxFunction,
  LinearizeResult,
  TransformOptions,
  ValueAndGradAuxFunction,
  VjpAuxResult,
  GradFunction,
  HessianFunction,
  Inputs,
  JacobianFunction,
  JvpResult,
  TangentOf,
  TensorFunction,
  ValueAndGradFunction,
  VjpResult,
} from "./engine-types.js";
import { reshape, stack } from "./ops.js";
import { ForwardModeError } from "./custom.js";
import { makeCheckpoint, type CheckpointOptions } from "./checkpoint.js";
import { isOptionsObject, newAuxRecord, splitVjpOptions, takeAux, transformOptions, type AuxRecord } from "./transform-options.js";
import { mapTree } from "./pytree.js";

/** Bumped whenever the `Engine` interface changes incompatibly. */
export const SPEC_VERSION = 1;

export type {
  AuxOf,
  AuxOption,
  GradAuxFunction,
  JacobianAuxFunction,
  LinearizeResult,
  OutOf,
  TransformOptions,
  ValueAndGradAuxFunction,
  VjpAuxResult,
  AllNumbers,
  AnyFunction,
  Argnums,
  ArgsAt,
  GradFunction,
  GradientOf,
  HessianFunction,
  HessianOf,
  Input,
  Inputs,
  JacobianFunction,
  JacobianOf,
  JacobianTree,
  JvpResult,
  MapLeaves,
  Output,
  TangentOf,
  TensorFunction,
  ValueAndGradFunction,
  ValueOf,
  VjpResult,
} from "./engine-types.js";

/**
 * Every transformation has two overloads: the first takes a `TensorFunction`, so an inline
 * function's parameters are Tensors by context (`grad((x) => sin(x))`); the second takes any
 * function (pytree parameters, extra arguments). Results follow the call's argument types: JS
 * numbers in give JS numbers out, Tensors give Tensors (see `engine-types.ts`).
 */
export interface Engine {
  readonly name: string;
  readonly specVersion: number;
  /** Gradient of scalar-valued `f` with respect to argument(s) `argnums` (default 0); `{ hasAux: true }`: `[gradient, aux]`. */
  grad<F extends TensorFunction, const A extends Argnums = 0>(f: F, argnums: A | undefined, options: AuxOption): GradAuxFunction<F, A>;
  grad<F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums: A | undefined, options: AuxOption): GradAuxFunction<F, A>;
  grad<F extends TensorFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: TransformOptions): GradFunction<F, A>;
  grad<F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: TransformOptions): GradFunction<F, A>;
  /** `[f(...args), gradient]` in one pass; `{ hasAux: true }`: `[[value, aux], gradient]`. */
  valueAndGrad<F extends TensorFunction, const A extends Argnums = 0>(
    f: F,
    argnums: A | undefined,
    options: AuxOption,
  ): ValueAndGradAuxFunction<F, A>;
  valueAndGrad<F extends AnyFunction, const A extends Argnums = 0>(
    f: F,
    argnums: A | undefined,
    options: AuxOption,
  ): ValueAndGradAuxFunction<F, A>;
  valueAndGrad<F extends TensorFunction, const A extends Argnums = 0>(
    f: F,
    argnums?: A,
    options?: TransformOptions,
  ): ValueAndGradFunction<F, A>;
  valueAndGrad<F extends AnyFunction, const A extends Argnums = 0>(
    f: F,
    argnums?: A,
    options?: TransformOptions,
  ): ValueAndGradFunction<F, A>;
  /** `[f(...primals), J·tangents]`. */
  jvp<F extends TensorFunction, P extends Inputs<F>>(f: F, primals: [...P], tangents: Inputs<F>): JvpResult<F, P>;
  jvp<F extends AnyFunction, P extends Inputs<F>>(f: F, primals: [...P], tangents: Inputs<F>): JvpResult<F, P>;
  /**
   * `[f(...primals), pullback]`; `pullback(cotangent)` returns one cotangent per primal. With a
   * trailing `{ hasAux: true }`: `[out, pullback, aux]`.
   */
  vjp<F extends AnyFunction, P extends Inputs<F>>(f: F, ...primalsAndOptions: [...P, AuxOption]): VjpAuxResult<F, P>;
  vjp<F extends TensorFunction, P extends Inputs<F>>(f: F, ...primals: P): VjpResult<F, P>;
  vjp<F extends AnyFunction, P extends Inputs<F>>(f: F, ...primals: P): VjpResult<F, P>;
  /** Full Jacobian, shape `out.shape ++ in.shape` (nested per leaf for pytrees and argnums arrays); picks jacfwd or jacrev. */
  jacobian<F extends TensorFunction, const A extends Argnums = 0>(
    f: F,
    argnums: A | undefined,
    options: AuxOption,
  ): JacobianAuxFunction<F, A>;
  jacobian<F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums: A | undefined, options: AuxOption): JacobianAuxFunction<F, A>;
  jacobian<F extends TensorFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: TransformOptions): JacobianFunction<F, A>;
  jacobian<F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: TransformOptions): JacobianFunction<F, A>;
  /** The Jacobian by columns (one jvp per input element), as `jacobian`'s result. */
  jacfwd<F extends TensorFunction, const A extends Argnums = 0>(
    f: F,
    argnums: A | undefined,
    options: AuxOption,
  ): JacobianAuxFunction<F, A>;
  jacfwd<F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums: A | undefined, options: AuxOption): JacobianAuxFunction<F, A>;
  jacfwd<F extends TensorFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: TransformOptions): JacobianFunction<F, A>;
  jacfwd<F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: TransformOptions): JacobianFunction<F, A>;
  /** The Jacobian by rows (one pullback per output element), as `jacobian`'s result. */
  jacrev<F extends TensorFunction, const A extends Argnums = 0>(
    f: F,
    argnums: A | undefined,
    options: AuxOption,
  ): JacobianAuxFunction<F, A>;
  jacrev<F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums: A | undefined, options: AuxOption): JacobianAuxFunction<F, A>;
  jacrev<F extends TensorFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: TransformOptions): JacobianFunction<F, A>;
  jacrev<F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums?: A, options?: TransformOptions): JacobianFunction<F, A>;
  /** Hessian, `jacfwd(jacrev(f))`: shape `out.shape ++ in.shape ++ in.shape` (a scalar `f`: `in.shape ++ in.shape`). */
  hessian<F extends TensorFunction, const A extends Argnums = 0>(f: F, argnums?: A): HessianFunction<F, A>;
  hessian<F extends AnyFunction, const A extends Argnums = 0>(f: F, argnums?: A): HessianFunction<F, A>;
  /** Hessian-vector product (with respect to all primals) without forming the Hessian; mirrors the primals. */
  hvp<F extends TensorFunction, P extends Inputs<F>>(f: F, primals: [...P], tangents: Inputs<F>): TangentOf<P>;
  hvp<F extends AnyFunction, P extends Inputs<F>>(f: F, primals: [...P], tangents: Inputs<F>): TangentOf<P>;
  /** `[f(...primals), jvpFn]`: `jvpFn(...tangents)` is the linear map t ↦ J·t at the primals, reusable. */
  linearize<F extends TensorFunction, P extends Inputs<F>>(f: F, ...primals: P): LinearizeResult<F, P>;
  linearize<F extends AnyFunction, P extends Inputs<F>>(f: F, ...primals: P): LinearizeResult<F, P>;
  /**
   * `f` whose intermediates reverse mode recomputes in the backward pass instead of storing them
   * (JAX's `jax.checkpoint`); `policy` "nothingSaveable" (default) or "everythingSaveable".
   */
  checkpoint<F extends AnyFunction>(f: F, options?: CheckpointOptions): F;
}

/** A function on flat lists of tensors: what engine cores differentiate. */
export type FlatFunction = (inputs: Tensor[]) => Tensor[];

export interface EngineCore {
  readonly name: string;
  /** Forward mode: outputs of `f` at `primals`, and their tangents along `tangents`. */
  jvp(f: FlatFunction, primals: Tensor[], tangents: Tensor[]): { outputs: Tensor[]; tangents: Tensor[] };
  /** Reverse mode: outputs of `f` at `primals`, and a pullback from output cotangents to input cotangents. */
  vjp(f: FlatFunction, primals: Tensor[]): { outputs: Tensor[]; pullback: (cotangents: Tensor[]) => Tensor[] };
  /** How `jacobian` builds its result: columns by jvp, rows by vjp, or whichever needs fewer passes (default). */
  readonly jacobianMode?: "forward" | "reverse" | "auto";
}

// ── argument plumbing ──────────────────────────────────────────────────────────────────────

/** Where every transformation starts (at creation and at each call): one copy of ir, and `f` a function. */
function checkFunction(op: string, f: unknown): void {
  checkOneCopy(op);
  if (typeof f !== "function") throw new ArgumentError(`${op}: expected a function, got ${describeValue(f)}`);
}

/**
 * Rejects what a transformation got beyond its parameters (`hessian(f, 0, { hasAux: true })`): an
 * ignored option would silently change the result. `undefined` and an empty object are accepted;
 * `signature` names the parameters for the message.
 */
export function rejectExtraArguments(op: string, signature: string, extra: readonly unknown[]): void {
  if (!Array.isArray(extra)) throw new ArgumentError(`rejectExtraArguments: expected an array of arguments, got ${describeValue(extra)}`);
  extra.forEach((value) => {
    if (value === undefined) return;
    if (isOptionsObject(value)) {
      const keys = Object.keys(value);
      if (keys.length === 0) return;
      throw new ArgumentError(
        `${op}: unknown option${keys.length === 1 ? "" : "s"} ${keys.join(", ")} (${op} takes ${signature}, no options)`,
      );
    }
    throw new ArgumentError(`${op}: expected ${signature}, got an extra argument ${describeValue(value)}`);
  });
}

/** The transformations without options: their parameters (arguments beyond them are options they do not have). */
const PARAMETERS = {
  hessian: ["f", "argnums"],
  jvp: ["f", "primals", "tangents"],
  hvp: ["f", "primals", "tangents"],
} as const;

const isOption = (value: unknown): boolean => value === undefined || isOptionsObject(value);

/**
 * The optionless transformations of `engine`, refusing options objects beyond their parameters
 * (`hessian(f, 0, { hasAux: true })`: "hessian: unknown option hasAux"). Empty options and
 * `undefined` are dropped; any other extra argument is passed on, for the transformation's own count check.
 */
function withoutOptions(engine: Engine): Partial<Engine> {
  const checked: Record<string, unknown> = {};
  for (const [op, parameters] of Object.entries(PARAMETERS)) {
    const transformation = engine[op as keyof typeof PARAMETERS] as AnyFunction;
    const signature = `(${parameters.join(", ")})`;
    checked[op] = (...args: unknown[]) => {
      const extra = args.slice(parameters.length);
      rejectExtraArguments(op, signature, extra.filter(isOption));
      return transformation(...args.slice(0, parameters.length), ...extra.filter((value) => !isOption(value)));
    };
  }
  return checked as Partial<Engine>;
}

/** `(f, argnums?, options?)` of grad and the like; `(f, options)` is read as argnums 0 with options. */
function argnumsAndOptions(op: string, argnums: unknown, options: unknown): { argnums: Argnums; hasAux: boolean } {
  if (isOptionsObject(argnums) && options === undefined)
    return { argnums: 0, hasAux: transformOptions(op, `(f, argnums, { hasAux })`, argnums).hasAux };
  return { argnums: (argnums ?? 0) as Argnums, hasAux: transformOptions(op, `(f, argnums, { hasAux })`, options).hasAux };
}

function normalizeArgnums(op: string, argnums: unknown, count: number): number[] {
  const list = typeof argnums === "number" ? [argnums] : Array.isArray(argnums) ? argnums : undefined;
  if (list === undefined || list.length === 0) {
    throw new ArgumentError(`${op}: expected argnums to be an argument index or a non-empty array of them, got ${formatValue(argnums)}`);
  }
  for (const a of list) {
    if (!Number.isInteger(a) || a < 0) {
      throw new ArgumentError(`${op}: expected argnums to be non-negative integers, got ${formatValue(argnums)}`);
    }
    if (a >= count) {
      const called = `f was called with ${count} argument${count === 1 ? "" : "s"}`;
      throw new ArgumentError(`${op}: expected argnums in [0, ${count - 1}] (${called}), got ${formatValue(argnums)}`);
    }
  }
  if (new Set(list).size !== list.length) throw new ArgumentError(`${op}: expected distinct argnums, got ${formatValue(argnums)}`);
  return list as number[];
}

/** Flattened differentiable inputs: the leaves as float tensors, and how to rebuild them. */
interface FlatInputs {
  readonly tensors: Tensor[];
  readonly wasNumber: boolean[];
  readonly defs: TreeDef[];
  readonly counts: number[];
}

function flattenInputs(op: string, trees: readonly unknown[], paths: readonly string[]): FlatInputs {
  const tensors: Tensor[] = [];
  const wasNumber: boolean[] = [];
  const defs: TreeDef[] = [];
  const counts: number[] = [];
  trees.forEach((tree, i) => {
    const { leaves, def } = flatten(tree, op, paths[i]);
    defs.push(def);
    counts.push(leaves.length);
    for (const leaf of leaves) {
      checkNotEscaped(op, leaf);
      if (typeof leaf === "number") {
        tensors.push(scalar(leaf));
        wasNumber.push(true);
      } else {
        if (!isFloat(leaf.dtype)) {
          throw new DTypeError(`${op}: expected float inputs to differentiate, got ${leaf.dtype} at ${paths[i]}`);
        }
        tensors.push(leaf);
        wasNumber.push(false);
      }
    }
  });
  return { tensors, wasNumber, defs, counts };
}

/** A concrete scalar becomes a JS number when its input was one; tracers stay tensors. */
function asNumberIf(value: Tensor, wanted: boolean): Tensor | number {
  return wanted && value.rank === 0 && !(value instanceof Tracer) ? value.item() : value;
}

function rebuildInputs(flat: FlatInputs, values: readonly Tensor[]): unknown[] {
  const out: unknown[] = [];
  let k = 0;
  flat.defs.forEach((def, i) => {
    const leaves: unknown[] = [];
    for (let j = 0; j < flat.counts[i]!; j++, k++) leaves.push(asNumberIf(values[k]!, flat.wasNumber[k]!));
    out.push(unflatten(def, leaves));
  });
  return out;
}

/** `args` with the differentiated positions replaced by the rebuilt trees of `values`. */
function substitute(args: readonly unknown[], argnums: readonly number[], flat: FlatInputs, values: readonly Tensor[]): unknown[] {
  const copy = args.slice();
  const trees: unknown[] = [];
  let k = 0;
  flat.defs.forEach((def, i) => {
    trees.push(unflatten(def, values.slice(k, k + flat.counts[i]!)));
    k += flat.counts[i]!;
  });
  argnums.forEach((a, i) => (copy[a] = trees[i]));
  return copy;
}

interface FlatOutputs {
  def: TreeDef | undefined;
  wasNumber: boolean[];
}

function outputLeaves(op: string, result: unknown, record: FlatOutputs): Tensor[] {
  const { leaves, def } = flatten(result, op, "f's result");
  // a dead tracer returned as is would pass through every engine unnoticed
  for (const leaf of leaves) checkNotEscaped(op, leaf);
  record.def = def;
  record.wasNumber = leaves.map((l) => typeof l === "number");
  return leaves.map((l) => (typeof l === "number" ? scalar(l) : l));
}

function checkScalarOutput(op: string, outputs: readonly Tensor[]): void {
  if (outputs.length !== 1 || outputs[0]!.rank !== 0) {
    const got = outputs.length === 1 ? `shape ${formatShape(outputs[0]!.shape)}` : count(outputs.length, "output");
    throw new ShapeError(`${op}: expected f to return a scalar, got ${got}`);
  }
  if (!isFloat(outputs[0]!.dtype)) throw new DTypeError(`${op}: expected f to return a float scalar, got ${outputs[0]!.dtype}`);
}

/** How checkMatching's messages name what is checked, e.g. "tangents" / "tangent" / "primal". */
interface Matching {
  readonly all: string;
  readonly leaf: string;
  readonly like: string;
}
const TANGENTS: Matching = { all: "tangents", leaf: "tangent", like: "primal" };
const COTANGENT: Matching = { all: "a cotangent", leaf: "a cotangent", like: "output" };

/**
 * Tangents (or cotangents) must match their primals (or outputs) leaf by leaf: structure, shape,
 * and dtype, as in JAX; a float32 tangent for a float64 primal is an error, not a silent cast.
 */
function checkMatching(
  op: string,
  what: Matching,
  expected: readonly Tensor[],
  given: readonly Tensor[],
  defA: TreeDef,
  defB: TreeDef,
): void {
  if (!sameStructure(defA, defB)) {
    throw new ArgumentError(`${op}: expected ${what.all} with the structure ${describeTree(defA)}, got ${describeTree(defB)}`);
  }
  expected.forEach((e, i) => {
    const g = given[i]!;
    if (!shapesEqual(e.shape, g.shape)) {
      throw new ShapeError(
        `${op}: expected ${what.leaf} leaf ${i} of shape ${formatShape(e.shape)} like its ${what.like}, got ${formatShape(g.shape)}`,
      );
    }
    if (e.dtype !== g.dtype) {
      throw new DTypeError(`${op}: expected ${what.leaf} leaf ${i} of dtype ${e.dtype} like its ${what.like}, got ${g.dtype}`);
    }
  });
}

function toTensorLeaves(op: string, tree: unknown, path: string, like: readonly Tensor[]): { tensors: Tensor[]; def: TreeDef } {
  const { leaves, def } = flatten(tree, op, path);
  for (const leaf of leaves) checkNotEscaped(op, leaf);
  const tensors = leaves.map((l, i) => (typeof l === "number" ? scalar(l, like[i]?.dtype ?? "float64") : l));
  return { tensors, def };
}

/** Stacks Jacobian columns (axis -1) or rows (axis 0) into a block of shape out.shape ++ in.shape. */
function assemble(parts: Tensor[], out: Tensor, input: Tensor, axis: number): Tensor {
  const shape = [...out.shape, ...input.shape];
  if (parts.length === 0) return zeros(shape, out.dtype);
  return reshape(stack(parts, axis), shape);
}

function basis(like: Tensor, index: number): Tensor {
  const t = zeros(like.shape, like.dtype);
  t.data[index] = 1;
  return t;
}

// ── defineEngine ───────────────────────────────────────────────────────────────────────────

/** The core checked: a name and `jvp`/`vjp` functions (a missing one would fail only when first used). */
function checkCore(core: unknown): EngineCore {
  if (core === null || typeof core !== "object")
    throw new ArgumentError(`defineEngine: expected an engine core object, got ${describeValue(core)}`);
  const { name, jvp, vjp, jacobianMode } = core as Record<string, unknown>;
  if (typeof name !== "string" || name.length === 0) {
    throw new ArgumentError(`defineEngine: expected core.name to be a non-empty string, got ${describeValue(name)}`);
  }
  if (typeof jvp !== "function" || typeof vjp !== "function") {
    throw new ArgumentError(
      `defineEngine: expected core.jvp and core.vjp to be functions, got ${describeValue(jvp)} and ${describeValue(vjp)}`,
    );
  }
  if (jacobianMode !== undefined && jacobianMode !== "forward" && jacobianMode !== "reverse" && jacobianMode !== "auto") {
    throw new ArgumentError(
      `defineEngine: expected core.jacobianMode to be "forward", "reverse" or "auto", got ${formatValue(jacobianMode)}`,
    );
  }
  return core as EngineCore;
}

/** Builds the full `Engine` API from an engine's flat `jvp` and `vjp`. */
export const defineEngine = checkArity("defineEngine", 1, 1, (engineCore: EngineCore): Engine => {
  const core = checkCore(engineCore);
  const name = core.name;

  function prepare(op: string, f: unknown, args: readonly unknown[], argnums: Argnums) {
    checkFunction(op, f);
    const nums = normalizeArgnums(op, argnums, args.length);
    // arguments not differentiated are checked only at the top level (any value may be passed)
    args.forEach((arg, i) => {
      if (!nums.includes(i)) checkNotEscaped(op, arg);
    });
    const flat = flattenInputs(
      op,
      nums.map((a) => args[a]),
      nums.map((a) => `args[${a}]`),
    );
    return { nums, flat };
  }

  /**
   * `f` as a flat function of the differentiated leaves. With `aux` (hasAux), f returns
   * `[out, aux]`: aux's leaves are appended to the outputs, so the engine hands back their values
   * (concrete outside the transformation) and no cotangent ever reaches them.
   */
  function flatOf(
    op: string,
    f: AnyFunction,
    args: readonly unknown[],
    nums: readonly number[],
    flat: FlatInputs,
    record: FlatOutputs,
    aux?: AuxRecord,
  ) {
    return (xs: Tensor[]): Tensor[] => {
      let result: unknown = f(...substitute(args, nums, flat, xs));
      if (aux !== undefined) result = takeAux(op, result, aux);
      const outs = outputLeaves(op, result, record);
      return aux === undefined ? outs : [...outs, ...aux.tensors];
    };
  }

  /** aux rebuilt from its output values: JS numbers where f returned numbers. */
  function auxValue(aux: AuxRecord, values: readonly Tensor[]): unknown {
    return unflatten(
      aux.def!,
      values.map((v, i) => asNumberIf(v, aux.wasNumber[i]!)),
    );
  }

  /** Zero cotangents for the aux outputs (they are not differentiated). */
  const zerosFor = (values: readonly Tensor[]): Tensor[] => values.map((v) => zeros(v.shape, v.dtype));

  function valueAndGradImpl(
    op: string,
    f: AnyFunction,
    argnums: Argnums,
    args: readonly unknown[],
    hasAux = false,
  ): [unknown, unknown, unknown] {
    const { nums, flat } = prepare(op, f, args, argnums);
    const record: FlatOutputs = { def: undefined, wasNumber: [] };
    const aux = hasAux ? newAuxRecord() : undefined;
    const inner = flatOf(op, f, args, nums, flat, record, aux);
    const { outputs, pullback } = core.vjp((xs) => {
      const out = inner(xs);
      checkScalarOutput(op, aux === undefined ? out : out.slice(0, out.length - aux.tensors.length));
      return out;
    }, flat.tensors);
    const out = outputs[0]!;
    const cotangents = pullback([ones([], out.dtype), ...zerosFor(outputs.slice(1))]);
    const grads = rebuildInputs(flat, cotangents);
    const allNumbers = flat.wasNumber.every(Boolean);
    const value = asNumberIf(out, allNumbers || record.wasNumber[0] === true);
    const auxResult = aux === undefined ? undefined : auxValue(aux, outputs.slice(1));
    return [value, typeof argnums === "number" ? grads[0] : grads, auxResult];
  }

  function jvpImpl(
    op: "jvp" | "hvp" | "linearize",
    f: AnyFunction,
    primals: readonly unknown[],
    tangents: readonly unknown[],
  ): [unknown, unknown] {
    checkFunction(op, f);
    if (!Array.isArray(primals) || !Array.isArray(tangents)) {
      throw new ArgumentError(
        `${op}: expected primals and tangents as arrays of arguments, got ${describeValue(primals)} and ${describeValue(tangents)}`,
      );
    }
    const nums = primals.map((_, i) => i);
    const flat = flattenInputs(
      op,
      primals,
      nums.map((i) => `primals[${i}]`),
    );
    const given = toTensorLeaves(op, tangents, "tangents", flat.tensors);
    checkMatching(op, TANGENTS, flat.tensors, given.tensors, { kind: "array", children: flat.defs }, given.def);
    const record: FlatOutputs = { def: undefined, wasNumber: [] };
    const result = core.jvp((xs) => outputLeaves(op, f(...substitute(primals, nums, flat, xs)), record), flat.tensors, given.tensors);
    const allNumbers = flat.wasNumber.every(Boolean);
    const wrap = (values: Tensor[]) =>
      unflatten(
        record.def!,
        values.map((v, i) => asNumberIf(v, allNumbers || record.wasNumber[i]!)),
      );
    return [wrap(result.outputs), wrap(result.tangents)];
  }

  function vjpImpl(f: AnyFunction, primals: readonly unknown[], hasAux: boolean): unknown[] {
    const op = "vjp";
    checkFunction(op, f);
    const nums = primals.map((_, i) => i);
    const flat = flattenInputs(
      op,
      primals,
      nums.map((i) => `primals[${i}]`),
    );
    const record: FlatOutputs = { def: undefined, wasNumber: [] };
    const aux = hasAux ? newAuxRecord() : undefined;
    const { outputs: all, pullback } = core.vjp(flatOf(op, f, primals, nums, flat, record, aux), flat.tensors);
    const nOut = all.length - (aux?.tensors.length ?? 0);
    const outputs = all.slice(0, nOut);
    const allNumbers = flat.wasNumber.every(Boolean);
    const value = unflatten(
      record.def!,
      outputs.map((v, i) => asNumberIf(v, allNumbers || record.wasNumber[i]!)),
    );
    const outDef = record.def!;
    const auxZeros = zerosFor(all.slice(nOut));
    const pull = checkArity("vjp pullback", 1, 1, (cotangent: unknown): unknown[] => {
      const given = toTensorLeaves("vjp pullback", cotangent, "cotangent", outputs);
      checkMatching("vjp pullback", COTANGENT, outputs, given.tensors, outDef, given.def);
      return rebuildInputs(flat, pullback([...given.tensors, ...auxZeros]));
    });
    return aux === undefined ? [value, pull] : [value, pull, auxValue(aux, all.slice(nOut))];
  }

  /** The Jacobian blocks by columns: one jvp per input element. */
  function forwardBlocks(flatF: FlatFunction, inputs: readonly Tensor[], outs: readonly Tensor[]): Tensor[][] {
    const blocks: Tensor[][] = outs.map(() => []);
    inputs.forEach((input, leaf) => {
      const columns: Tensor[][] = outs.map(() => []);
      for (let j = 0; j < input.size; j++) {
        const tangents = inputs.map((x, l) => (l === leaf ? basis(x, j) : zeros(x.shape, x.dtype)));
        core.jvp(flatF, inputs as Tensor[], tangents).tangents.forEach((t, o) => columns[o]!.push(t));
      }
      outs.forEach((out, o) => blocks[o]!.push(assemble(columns[o]!, out, input, -1)));
    });
    return blocks;
  }

  /**
   * The Jacobian of `f` at `args`: by columns (jvp), by rows (vjp), or whichever needs fewer
   * passes (`"auto"`, the core's default). With hasAux, returns `[J, aux]`.
   */
  function jacobianImpl(
    op: string,
    f: AnyFunction,
    argnums: Argnums,
    args: readonly unknown[],
    hasAux = false,
    how?: "forward" | "reverse",
  ): unknown {
    const { nums, flat } = prepare(op, f, args, argnums);
    const record: FlatOutputs = { def: undefined, wasNumber: [] };
    const aux = hasAux ? newAuxRecord() : undefined;
    const flatF = flatOf(op, f, args, nums, flat, record, aux);
    const inputs = flat.tensors;
    const nIn = inputs.reduce((n, t) => n + t.size, 0);
    const mode = how ?? core.jacobianMode ?? "auto";
    // forward mode needs one pass per input element, reverse one per output element
    let probe = mode === "forward" ? undefined : core.vjp(flatF, inputs);
    let all = probe?.outputs;
    const mainCount = () => all!.length - (aux?.tensors.length ?? 0);
    let forward = mode === "forward" || (mode === "auto" && nIn <= all!.slice(0, mainCount()).reduce((n, t) => n + t.size, 0));
    // blocks[outLeaf][inLeaf] has shape out.shape ++ in.shape
    let blocks: Tensor[][] = [];
    if (forward) {
      try {
        if (all === undefined)
          all = core.jvp(
            flatF,
            inputs,
            inputs.map((x) => zeros(x.shape, x.dtype)),
          ).outputs;
        blocks = forwardBlocks(flatF, inputs, all).slice(0, mainCount());
      } catch (error) {
        // "auto" may pick either mode: with a customVjp function only the rows are defined
        if (mode !== "auto" || !(error instanceof ForwardModeError)) throw error;
        forward = false;
      }
    }
    if (!forward) {
      const outs = all!;
      const pullback = probe!.pullback;
      outs.slice(0, mainCount()).forEach((out, o) => {
        const rows: Tensor[][] = inputs.map(() => []);
        for (let i = 0; i < out.size; i++) {
          const cotangents = outs.map((y, l) => (l === o ? basis(y, i) : zeros(y.shape, y.dtype)));
          pullback(cotangents).forEach((g, l) => rows[l]!.push(g));
        }
        blocks.push(inputs.map((input, l) => assemble(rows[l]!, out, input, 0)));
      });
    }
    probe = undefined;
    const allNumbers = flat.wasNumber.every(Boolean);
    const finalOutputs = all!;
    const perOutput = blocks.map((row, o) => {
      const byArg = rebuildInputs(
        { ...flat, wasNumber: flat.wasNumber.map((w) => w && (allNumbers || record.wasNumber[o] === true) && finalOutputs[o]!.rank === 0) },
        row,
      );
      return typeof argnums === "number" ? byArg[0] : byArg;
    });
    const jacobian = unflatten(record.def!, perOutput);
    return aux === undefined ? jacobian : [jacobian, auxValue(aux, finalOutputs.slice(mainCount()))];
  }

  /**
   * `linearize(f, ...primals)`: `[f(...primals), jvpFn]`, where `jvpFn(...tangents)` is the
   * linear map t ↦ J·t at the primals (as `jvp(f, primals, tangents)[1]`), reusable.
   */
  function linearizeImpl(f: AnyFunction, primals: readonly unknown[]): [unknown, AnyFunction] {
    checkFunction("linearize", f);
    const zerosLike = (tree: unknown) => mapTree(tree, (leaf) => (typeof leaf === "number" ? 0 : zeros(leaf.shape, leaf.dtype)));
    const [out] = jvpImpl("linearize", f, primals, primals.map(zerosLike));
    const jvpFn = (...tangents: unknown[]) => {
      if (tangents.length !== primals.length) {
        throw new ArgumentError(`linearize: expected ${count(primals.length, "tangent")} (one per primal), got ${tangents.length}`);
      }
      return jvpImpl("linearize", f, primals, tangents)[1];
    };
    return [out, jvpFn];
  }

  /** Checks made when a transformation is created (argnums' range needs the call's arguments). */
  function checkTransform(op: string, f: unknown, argnums: unknown): void {
    checkFunction(op, f);
    normalizeArgnums(op, argnums, Infinity);
  }

  /** `grad`, `valueAndGrad`, `jacobian`, `jacfwd`, `jacrev`: `(f, argnums?, { hasAux }?)`, checked at creation. */
  function transformation(op: string, make: (f: AnyFunction, argnums: Argnums, hasAux: boolean) => AnyFunction) {
    return checkArity(op, 1, 3, (f: AnyFunction, argnums?: unknown, options?: unknown) => {
      const parsed = argnumsAndOptions(op, argnums, options);
      checkTransform(op, f, parsed.argnums);
      return make(f, parsed.argnums, parsed.hasAux);
    });
  }

  const jacobianOf = (op: string, how?: "forward" | "reverse") =>
    transformation(
      op,
      (f, argnums, hasAux) =>
        (...args: unknown[]) =>
          jacobianImpl(op, f, argnums, args, hasAux, how),
    );

  const engine: Engine = {
    name,
    specVersion: SPEC_VERSION,
    // every method checks its argument count and options: `grad(f, 0, { hasAux: true })` must not run as `grad(f, 0)`
    grad: transformation("grad", (f, argnums, hasAux) => (...args: unknown[]) => {
      const [, g, aux] = valueAndGradImpl("grad", f, argnums, args, hasAux);
      return hasAux ? [g, aux] : g;
    }) as Engine["grad"],
    valueAndGrad: transformation("valueAndGrad", (f, argnums, hasAux) => (...args: unknown[]) => {
      const [value, g, aux] = valueAndGradImpl("valueAndGrad", f, argnums, args, hasAux);
      return hasAux ? [[value, aux], g] : [value, g];
    }) as Engine["valueAndGrad"],
    jvp: checkArity("jvp", 3, 3, (f: AnyFunction, primals: unknown[], tangents: unknown[]) =>
      jvpImpl("jvp", f, primals, tangents),
    ) as Engine["jvp"],
    vjp: checkArity("vjp", 1, Infinity, (f: AnyFunction, ...rest: unknown[]) => {
      const { primals, hasAux } = splitVjpOptions(rest);
      return vjpImpl(f, primals, hasAux);
    }) as Engine["vjp"],
    jacobian: jacobianOf("jacobian") as Engine["jacobian"],
    jacfwd: jacobianOf("jacfwd", "forward") as Engine["jacfwd"],
    jacrev: jacobianOf("jacrev", "reverse") as Engine["jacrev"],
    // jacfwd(jacrev(f)): any output shape, out.shape ++ in.shape ++ in.shape (a scalar f's rows are its gradient)
    hessian: checkArity("hessian", 1, 2, (f: AnyFunction, argnums: Argnums = 0) => {
      checkTransform("hessian", f, argnums);
      const g = (...args: unknown[]) => jacobianImpl("hessian", f, argnums, args, false, "reverse");
      return (...args: unknown[]) => jacobianImpl("hessian", g, argnums, args);
    }) as Engine["hessian"],
    linearize: checkArity("linearize", 1, Infinity, (f: AnyFunction, ...primals: unknown[]) =>
      linearizeImpl(f, primals),
    ) as Engine["linearize"],
    checkpoint: makeCheckpoint((f, primals) => core.vjp(f, primals)) as Engine["checkpoint"],
    hvp: checkArity("hvp", 3, 3, (f: AnyFunction, primals: unknown[], tangents: unknown[]) => {
      checkFunction("hvp", f);
      if (!Array.isArray(primals)) throw new ArgumentError(`hvp: expected primals as an array of arguments, got ${describeValue(primals)}`);
      const all = primals.map((_, i) => i);
      const g = (...args: unknown[]) => valueAndGradImpl("hvp", f, all, args)[1];
      const result = jvpImpl("hvp", g, primals, tangents)[1];
      // the result mirrors the primals: a JS number leaf among tensors gives a JS number
      const wasNumber = flatten(primals, "hvp", "primals").leaves.map((l) => typeof l === "number");
      const out = flatten(result, "hvp", "result");
      return unflatten(
        out.def,
        out.leaves.map((l, i) => (typeof l === "number" ? l : asNumberIf(l, wasNumber[i] === true))),
      );
    }) as Engine["hvp"],
  };
  Object.assign(engine, withoutOptions(engine));
  return engine;
});
