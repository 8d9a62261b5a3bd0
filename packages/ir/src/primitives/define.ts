/**
 * What a primitive is: one `PrimitiveDef` per primitive holds everything any interpretation needs
 * — name, arity and params, the shape and dtype rule, the eager kernel, the JVP rule, the VJP rule
 * (for a linear primitive: its transpose), and the batching rule. Engines keep no derivative
 * math of their own: forward mode runs `jvp` on chunks of tangents, reverse mode records `vjp` on
 * its tape, the JIT runs both on graph tracers.
 *
 * Conventions, each decided here once (the conformance suite pins them for every engine):
 * - 0 · ∞: every (co)tangent × derivative-factor product is `mulNoNan` (ZERO_TIMES_INFINITY in
 *   math.ts): a zero on either side gives 0.
 * - Ties: maximum/minimum give ½ of the derivative to each operand at a tie (`tieWeight`); a
 *   reduction to the max with k tied maxima gives 1/k to each (`maxWeights` in reduction.ts).
 * - Kinks: abs′(0) = sign(0) = 0; sign, comparisons, argmax and stopGradient have derivative 0.
 * - Integer and bool values carry no derivative: engines give them no tangent and no cotangent
 *   (a rule runs only for float outputs); cast into int32/bool has derivative 0, and cast from an
 *   integer input gets no cotangent.
 * - Broadcasting: a binary op's cotangent is summed back to each operand's shape (`unbroadcast`).
 */
import { allocate, isFloat, type DType, type TypedArray } from "../dtype.js";
import { ChainruleError, count, DTypeError, formatValue, ShapeError } from "../errors.js";
import { broadcastOperand, type Kernel } from "../kernels.js";
import type { Aval, Params, Primitive } from "../primitives.js";
import { broadcastShapes, shapesEqual, sizeOf, type Shape } from "../shape.js";
import { Tensor } from "../tensor.js";
import { bind } from "../trace.js";
import { plus, times, type Arith, type TangentOps, type TensorMath } from "./math.js";

// ── the pieces of a definition ─────────────────────────────────────────────────────────────

export type ShapeRule<P extends Primitive> = (avals: readonly Aval[], params: Params<P>) => Aval;
/** The kind of each parameter, for validating graphs that come from outside (JSON). */
export type ParamKind = "int" | "ints" | "dtype" | "indexCheck";

/** What a rule reads at the point of differentiation. */
export interface Primals<P extends Primitive> {
  readonly x: readonly Tensor[];
  readonly y: Tensor;
  readonly params: Params<P>;
}

/**
 * Forward mode: the output tangent from the input tangents (`null` is a zero tangent). Engines
 * call it only when some input tangent is non-null and the output is float; it returns `null`
 * for a zero output tangent. Generic over the engine's tangent representation `T`.
 */
export type JvpRule<P extends Primitive> = <T>(dx: readonly (T | null)[], at: Primals<P>, ops: TangentOps<T>) => T | null;

/** What a recorded entry keeps for its backward pass (input shapes are always available). */
export type Saves = "nothing" | "inputs" | "output" | "inputs and output";

/** The view of a recorded primitive a VJP rule reads. */
export interface VjpNode<P extends Primitive> {
  readonly params: Params<P>;
  /** Primal inputs (empty unless the rule saves "inputs"). */
  readonly x: readonly Tensor[];
  /** Primal output (null unless the rule saves "output"). */
  readonly y: Tensor | null;
  /** Shape of input `i`. */
  shape(i: number): Shape;
  /** Dtype of the output. */
  readonly dtype: DType;
  /** Number of inputs. */
  readonly arity: number;
  /** Whether inputs i and j are one differentiated value (as in x·x). */
  same(i: number, j: number): boolean;
}

/**
 * Reverse mode: `vjp(ct, node, needs, m)` returns one cotangent per input (null for none); bit i
 * of `needs` (see `needsBit`) is set when input i needs one. `vjp: null` means derivative 0:
 * engines record nothing. `saves` declares what `vjp` reads of the node.
 */
export interface VjpRule<P extends Primitive> {
  readonly saves: Saves;
  readonly vjp: ((ct: Tensor, node: VjpNode<P>, needs: number, m: TensorMath) => (Tensor | null)[]) | null;
}

/** The bit of `needs` for input `i` (inputs from the 31st on share the last bit). */
export function needsBit(i: number): number {
  return 1 << (i < 30 ? i : 30);
}

export function needsInput(needs: number, i: number): boolean {
  return (needs & needsBit(i)) !== 0;
}

/**
 * The batching rule, for a batch axis in front: inputs whose `batched[i]` is true have a leading
 * axis of size `k`, the others are shared by every batch element; the result is the output of
 * every element stacked, shape `[k, ...out.shape]`. Forward mode applies linear primitives to its
 * k stacked tangent directions with it; vmap (vmap.ts) moves batch axes to the front and uses it
 * for every primitive. A rule that can't batch some case throws `BatchingUnsupported`: vmap then
 * loops over the batch (reported, see `vmapFallbacks`).
 */
export type BatchRule<P extends Primitive> = (
  args: readonly Tensor[],
  batched: readonly boolean[],
  params: Params<P>,
  k: number,
  out: Aval,
) => Tensor;

/** What a batching rule throws for a case it can't batch; vmap falls back to a loop over the batch and reports it. */
export class BatchingUnsupported extends ChainruleError {
  override name = "BatchingUnsupported";
  constructor(message: string) {
    super("ARGUMENT", message);
  }
}

/** ∂y/∂xᵢ from the inputs and the output, on numbers or tensors (a JS number for a constant). */
export type Partial = <V, C>(m: Arith<V, C>, x: readonly V[], y: V) => V | number;

/** Loops of elementwise kernels; `sa`/`sb` are 1 for a full operand and 0 for a broadcast scalar. */
export type UnaryLoop = (x: TypedArray, out: TypedArray) => void;
export type BinaryLoop = (a: TypedArray, sa: number, b: TypedArray, sb: number, out: TypedArray) => void;

/** The elementwise form of a smooth float primitive, which the scalar fast paths of the engines run. */
export type Elementwise =
  | { readonly arity: 1; readonly loop: UnaryLoop; readonly partials: readonly [Partial] }
  | { readonly arity: 2; readonly loop: BinaryLoop; readonly partials: readonly [Partial, Partial] };

/** One primitive, read top to bottom. */
export interface PrimitiveDef<P extends Primitive> {
  readonly name: P;
  readonly arity: number | "variadic";
  readonly params: { readonly [K in keyof Params<P>]-?: ParamKind };
  readonly shape: ShapeRule<P>;
  readonly kernel: Kernel<P>;
  readonly jvp: JvpRule<P>;
  readonly vjp: VjpRule<P>;
  readonly batch: BatchRule<P>;
  /** For elementwise float primitives defined by their partials. */
  readonly elementwise?: Elementwise;
}

/** One definition per primitive of a family: a missing or misnamed one is a type error. */
export type Definitions<K extends Primitive> = { readonly [P in K]: PrimitiveDef<P> };

// ── checks shared by shape rules ───────────────────────────────────────────────────────────

export function requireFloat(op: string, dtype: DType): void {
  if (!isFloat(dtype)) throw new DTypeError(`${op}: expected a float32 or float64 operand, got ${dtype}`);
}

export function requireSameDtype(op: string, avals: readonly Aval[]): DType {
  const dtype = avals[0]!.dtype;
  for (const aval of avals) {
    if (aval.dtype !== dtype) {
      throw new DTypeError(`${op}: expected operands of one dtype, got ${avals.map((a) => a.dtype).join(" and ")}`);
    }
  }
  return dtype;
}

export function checkAxesParam(op: string, axes: readonly number[], rank: number): void {
  let previous = -1;
  for (const axis of axes) {
    if (!Number.isInteger(axis) || axis <= previous || axis >= rank) {
      throw new ShapeError(`${op}: expected sorted unique axes in [0, ${rank - 1}], got ${formatValue(axes)}`);
    }
    previous = axis;
  }
}

export function checkAxisParam(op: string, axis: number, rank: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) throw new ShapeError(`${op}: expected axis in [0, ${rank - 1}], got ${axis}`);
}

export function checkIntList(op: string, name: string, list: unknown, length: number): asserts list is number[] {
  if (!Array.isArray(list) || list.length !== length || !list.every((v) => Number.isInteger(v))) {
    throw new ShapeError(`${op}: expected ${name} to be ${count(length, "integer")}, got ${formatValue(list)}`);
  }
}

/** "float": float32/float64 operands only; "numeric": int32 too (never bool). */
export type Domain = "float" | "numeric";

function checkDomain(op: string, domain: Domain, dtype: DType, operands: string): void {
  if (domain === "float") requireFloat(op, dtype);
  else if (dtype === "bool") throw new DTypeError(`${op}: expected ${operands}, got bool`);
}

export function unaryShape(op: string, domain: Domain): ShapeRule<Primitive> {
  return ([x]) => {
    checkDomain(op, domain, x!.dtype, "a numeric operand");
    return x!;
  };
}

export function binaryShape(op: string, domain: Domain): ShapeRule<Primitive> {
  return ([a, b]) => {
    const dtype = a!.dtype === b!.dtype ? a!.dtype : requireSameDtype(op, [a!, b!]);
    checkDomain(op, domain, dtype, "numeric operands");
    return { shape: broadcastShapes(op, a!.shape, b!.shape), dtype };
  };
}

// ── rules shared by families ───────────────────────────────────────────────────────────────

/** The rules of a piecewise-constant primitive (or one with an integer or bool output): derivative 0. */
export const ZERO_DERIVATIVE = { jvp: () => null, vjp: { saves: "nothing", vjp: null } } as const;

/** [k, ...s] → [k, 1, …, 1, ...s] of rank `rank + 1`, so it broadcasts against rank-`rank` values. */
export function liftBatched(t: Tensor, rank: number): Tensor {
  const extra = rank + 1 - t.rank;
  if (extra <= 0) return t;
  return bind("reshape", [t], { shape: [t.shape[0]!, ...new Array<number>(extra).fill(1), ...t.shape.slice(1)] });
}

/** A batched value broadcast to `[k, ...shape]` (no work when it has that shape). */
export function expandBatched(t: Tensor, k: number, shape: Shape): Tensor {
  const full = [k, ...shape];
  return shapesEqual(t.shape, full) ? t : bind("broadcastTo", [t], { shape: full });
}

/** Elementwise primitives batch by broadcasting: batched operands get their axis in front of the others' axes. */
export function elementwiseBatch<P extends Primitive>(name: P): BatchRule<P> {
  return (args, batched, params, k, out) => {
    const rank = out.shape.length;
    const lifted = args.map((a, i) => (batched[i] ? liftBatched(a, rank) : a));
    return expandBatched(bind(name, lifted, params), k, out.shape);
  };
}

/** `t` with axis `from` moved to position `to`, the others keeping their order (no work when equal). */
export function moveAxis(t: Tensor, from: number, to: number): Tensor {
  if (from === to) return t;
  const perm = t.shape.map((_, i) => i).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return bind("transpose", [t], { perm });
}

/** A batching rule that shifts axis-valued params past the batch axis (the op then applies to all of it). */
export function shiftedBatch<P extends Primitive>(name: P, shift: (params: Params<P>, k: number) => Params<P>): BatchRule<P> {
  return ([x, ...rest], batched, params, k) => {
    if (batched.slice(1).some((b) => b)) throw new BatchingUnsupported(`${name}: batching its non-first operands is not supported`);
    return bind(name, [x!, ...rest], shift(params, k));
  };
}

/**
 * The JVP of a primitive linear in the inputs `linearIn` (the others are fixed primal values, such
 * as gather's indices): the tangent goes through the primitive itself. Zero tangents are made
 * where only some linear inputs have one.
 */
export function linearJvp<P extends Primitive>(name: P, linearIn: readonly number[] | "all"): JvpRule<P> {
  return (dx, { x, params }, ops) => {
    const isLinear = (i: number) => linearIn === "all" || linearIn.includes(i);
    if (x.every((_, i) => !isLinear(i) || dx[i] == null)) return null;
    return ops.apply(
      name,
      x.map((xi, i) => (isLinear(i) ? (dx[i] ?? ops.zeros(xi)) : xi)),
      params,
    );
  };
}

/** The JVP of a bilinear primitive (matmul): d f(a, b) = f(da, b) + f(a, db). */
export function bilinearJvp<P extends Primitive>(name: P): JvpRule<P> {
  return (dx, { x, params }, ops) => {
    const [a, b] = x;
    const [da, db] = dx;
    const ta = da == null ? null : ops.apply(name, [da, b!], params);
    const tb = db == null ? null : ops.apply(name, [a!, db], params);
    return ta !== null && tb !== null ? ops.add(ta, tb) : (ta ?? tb);
  };
}

/** The weight of maximum/minimum's first operand: 1 where it wins, ½ at a tie, 0 where it loses (the tie convention). */
export function tieWeight<V, C>(m: Arith<V, C>, wins: C, ties: C, like: V): V {
  return m.add(m.indicator(wins, like), m.mul(m.indicator(ties, like), 0.5));
}

// ── builders for elementwise primitives ────────────────────────────────────────────────────

function unaryKernel(name: Primitive, loop: UnaryLoop): Kernel<Primitive> {
  return ([x], _params, out) => {
    const data = allocate(name, out.dtype, x!.size);
    loop(x!.data, data);
    return new Tensor(out.dtype, out.shape, data);
  };
}

function binaryKernel(name: Primitive, loop: BinaryLoop): Kernel<Primitive> {
  return ([a, b], _params, out) => {
    const data = allocate(name, out.dtype, sizeOf(out.shape));
    const [da, sa] = broadcastOperand(a!, out.shape);
    const [db, sb] = broadcastOperand(b!, out.shape);
    loop(da, sa, db, sb, data);
    return new Tensor(out.dtype, out.shape, data);
  };
}

/** A smooth unary primitive: its loop and its derivative dy/dx = d(x, y). */
export function unary<P extends Primitive>(
  name: P,
  spec: { readonly domain: Domain; readonly saves: Saves; readonly d: Partial; readonly loop: UnaryLoop },
): PrimitiveDef<P> {
  const { d } = spec;
  return {
    name,
    arity: 1,
    params: {} as PrimitiveDef<P>["params"],
    shape: unaryShape(name, spec.domain),
    kernel: unaryKernel(name, spec.loop),
    // dy = dx · d(x, y)
    jvp: (dx, { x, y }, ops) => (dx[0] == null ? null : times(ops, dx[0], d(ops.math, x, y))),
    // x̄ = ȳ · d(x, y)
    vjp: { saves: spec.saves, vjp: (ct, node, _needs, m) => [times(m, ct, d(m, node.x, node.y!))] },
    batch: elementwiseBatch(name),
    elementwise: { arity: 1, loop: spec.loop, partials: [d] },
  };
}

/** A binary primitive with NumPy broadcasting: its loop and its partials ∂y/∂a = da, ∂y/∂b = db. */
export function binary<P extends Primitive>(
  name: P,
  spec: { readonly domain: Domain; readonly saves: Saves; readonly da: Partial; readonly db: Partial; readonly loop: BinaryLoop },
): PrimitiveDef<P> {
  const { da, db } = spec;
  return {
    name,
    arity: 2,
    params: {} as PrimitiveDef<P>["params"],
    shape: binaryShape(name, spec.domain),
    kernel: binaryKernel(name, spec.loop),
    // dy = da·d(a) + db·d(b), broadcast to y's shape
    jvp: (dx, { x, y }, ops) => {
      const ta = dx[0] == null ? null : times(ops, dx[0], da(ops.math, x, y));
      const tb = dx[1] == null ? null : times(ops, dx[1], db(ops.math, x, y));
      const total = ta !== null && tb !== null ? ops.add(ta, tb) : (ta ?? tb);
      return total === null ? null : ops.broadcast(total, y.shape);
    },
    // ā = Σ_broadcast ȳ·da, b̄ = Σ_broadcast ȳ·db; one value on both sides (x·x) gets ȳ·(da + db) in one pass
    vjp: {
      saves: spec.saves,
      vjp: (ct, node, needs, m) => {
        const { x } = node;
        const y = node.y!;
        if (node.same(0, 1)) return [m.unbroadcast(times(m, ct, plus(m, da(m, x, y), db(m, x, y))), node.shape(0)), null];
        return [
          needs & 1 ? m.unbroadcast(times(m, ct, da(m, x, y)), node.shape(0)) : null,
          needs & 2 ? m.unbroadcast(times(m, ct, db(m, x, y)), node.shape(1)) : null,
        ];
      },
    },
    batch: elementwiseBatch(name),
    elementwise: { arity: 2, loop: spec.loop, partials: [da, db] },
  };
}

/** A piecewise-constant unary primitive (sign): derivative 0. */
export function unaryConstant<P extends Primitive>(name: P, spec: { readonly domain: Domain; readonly loop: UnaryLoop }): PrimitiveDef<P> {
  return {
    name,
    arity: 1,
    params: {} as PrimitiveDef<P>["params"],
    shape: unaryShape(name, spec.domain),
    kernel: unaryKernel(name, spec.loop),
    ...ZERO_DERIVATIVE,
    batch: elementwiseBatch(name),
  };
}

/** A comparison: broadcasting, a bool output, derivative 0. */
export function comparison<P extends Primitive>(name: P, loop: BinaryLoop): PrimitiveDef<P> {
  return {
    name,
    arity: 2,
    params: {} as PrimitiveDef<P>["params"],
    shape: ([a, b]) => {
      if (a!.dtype !== b!.dtype) requireSameDtype(name, [a!, b!]);
      return { shape: broadcastShapes(name, a!.shape, b!.shape), dtype: "bool" };
    },
    kernel: binaryKernel(name, loop),
    ...ZERO_DERIVATIVE,
    batch: elementwiseBatch(name),
  };
}

export { binaryKernel, unaryKernel, type Kernel };
