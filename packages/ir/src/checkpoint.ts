/**
 * `checkpoint(f, { policy })` (JAX's `jax.checkpoint`, "remat"): under reverse mode, `f`'s
 * intermediates are not kept for the backward pass; only its inputs are, and the backward pass
 * runs `f` again to pull the cotangent back. Built on a customVjp rule whose `fwd` saves the
 * inputs and whose `bwd` recomputes `f` with the engine's own vjp; forward mode differentiates
 * `f` directly (it stores nothing anyway).
 */
import { castTo } from "./coerce.js";
import { isFloat, promoteTypes, type DType } from "./dtype.js";
import { ArgumentError, checkArity, describeValue, formatValue } from "./errors.js";
import { checkOptions } from "./options.js";
import { flatten, unflatten, type TreeDef } from "./pytree.js";
import { scalar, Tensor } from "./tensor.js";
import { bind, bindCustomVjp, Tracer, withRematRegion, type CustomVjpRule } from "./trace.js";

/**
 * What the backward pass may keep of `f`'s intermediates: `"nothingSaveable"` (the default: keep
 * only the inputs, recompute everything) or `"everythingSaveable"` (keep everything, as without
 * checkpoint).
 */
export type CheckpointPolicy = "nothingSaveable" | "everythingSaveable";

export const CHECKPOINT_POLICIES: readonly CheckpointPolicy[] = ["nothingSaveable", "everythingSaveable"];

export interface CheckpointOptions {
  readonly policy?: CheckpointPolicy;
}

/** A flat reverse-mode differentiation: outputs and a pullback (an engine core's `vjp`). */
type FlatVjp = (f: (xs: Tensor[]) => Tensor[], primals: Tensor[]) => { pullback: (cotangents: Tensor[]) => Tensor[] };

function checkPolicy(options: unknown): CheckpointPolicy {
  const { policy } = checkOptions("checkpoint", options, ["policy"]);
  if (policy === undefined) return "nothingSaveable";
  if (!CHECKPOINT_POLICIES.includes(policy as CheckpointPolicy)) {
    throw new ArgumentError(
      `checkpoint: expected policy to be ${CHECKPOINT_POLICIES.map((p) => `"${p}"`).join(" or ")}, got ${formatValue(policy)}`,
    );
  }
  return policy as CheckpointPolicy;
}

/** f's outputs as one vector (one customVjp output), and how to take them apart again. */
interface Packing {
  def: TreeDef;
  shapes: number[][];
  dtypes: DType[];
  wasNumber: boolean[];
  dtype: DType;
}

function pack(result: unknown, into: { packing?: Packing }): Tensor {
  const { leaves, def } = flatten(result, "checkpoint", "f's result");
  const tensors = leaves.map((l) => (typeof l === "number" ? scalar(l) : l));
  let dtype: DType = tensors.length === 0 ? "float64" : tensors[0]!.dtype;
  for (const t of tensors) dtype = promoteTypes(dtype, t.dtype);
  if (!isFloat(dtype)) dtype = "float64";
  into.packing = {
    def,
    shapes: tensors.map((t) => t.shape.slice()),
    dtypes: tensors.map((t) => t.dtype),
    wasNumber: leaves.map((l) => typeof l === "number"),
    dtype,
  };
  const flat = tensors.map((t) => bind("reshape", [castTo(t, dtype)], { shape: [t.size] }));
  if (flat.length === 0) return new Tensor(dtype, [0], new (dtype === "float32" ? Float32Array : Float64Array)(0));
  return flat.length === 1 ? flat[0]! : bind("concat", flat, { axis: 0 });
}

function unpack(packed: Tensor, packing: Packing): unknown {
  let offset = 0;
  const leaves = packing.shapes.map((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const piece = bind("slice", [packed], { begin: [offset], end: [offset + size] });
    offset += size;
    const value = castTo(bind("reshape", [piece], { shape }), packing.dtypes[i]!);
    return packing.wasNumber[i] && !(value instanceof Tracer) ? value.item() : value;
  });
  return unflatten(packing.def, leaves);
}

/** The `checkpoint` of an engine whose reverse mode is `vjp`. */
export function makeCheckpoint(vjp: FlatVjp) {
  return checkArity("checkpoint", 1, 2, <F extends (...args: never[]) => unknown>(f: F, options?: CheckpointOptions): F => {
    if (typeof f !== "function") throw new ArgumentError(`checkpoint: expected a function, got ${describeValue(f)}`);
    const policy = checkPolicy(options);
    if (policy === "everythingSaveable") return ((...args: never[]) => f(...args)) as F;
    return ((...args: unknown[]) => rematerialized(f as unknown as (...a: unknown[]) => unknown, args, vjp)) as unknown as F;
  });
}

/** One call of a checkpointed `f`: its float Tensor leaves are the rule's inputs, everything else is closed over. */
function rematerialized(f: (...args: unknown[]) => unknown, args: unknown[], vjp: FlatVjp): unknown {
  const { leaves, def } = flatten(args, "checkpoint", "args");
  const positions: number[] = [];
  leaves.forEach((leaf, i) => {
    if (leaf instanceof Tensor && isFloat(leaf.dtype)) positions.push(i);
  });
  // nothing is being differentiated: f runs as it is
  if (!positions.some((i) => leaves[i] instanceof Tracer)) return f(...args);
  const into: { packing?: Packing } = {};
  const fun = (...xs: Tensor[]): Tensor => {
    const call = leaves.slice();
    positions.forEach((p, j) => (call[p] = xs[j]!));
    return pack(f(...(unflatten(def, call) as unknown[])), into);
  };
  const rule: CustomVjpRule = {
    fun,
    // only the inputs are saved: the intermediates of fun are garbage once fwd returns
    fwd: (...xs) => [fun(...xs), xs],
    // ∂f recomputed: the pullback of a fresh vjp of f at the saved inputs
    // (a recomputation region: a graph optimizer must not merge it with the forward pass)
    bwd: (saved, ct) => withRematRegion(() => vjp((xs) => [fun(...xs)], saved as Tensor[]).pullback([ct])),
    differentiableFun: true,
  };
  const packed = bindCustomVjp(
    rule,
    positions.map((p) => leaves[p] as Tensor),
  );
  return unpack(packed, into.packing!);
}
