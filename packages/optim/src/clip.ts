/**
 * Gradient clipping on pytrees (torch.nn.utils.clip_grad_norm_ / clip_grad_value_), as pure
 * functions and as an optimizer wrapper.
 */
import { ArgumentError } from "@chainrule/ir";
import { checkNonNegative, describeValue, flattenGrads, flattenParams, rebuild } from "./leaves.js";
import { checkOptions } from "./options.js";
import type { Objective, Optimizer, OptimizerState, StepResult, UpdateOptions } from "./optimizer.js";
import { shareStateCheck } from "./validate.js";

function gradLeaves(op: string, grads: unknown) {
  // grads play the role of params here: their own structure is the reference
  const flat = flattenParams(op, grads);
  return { flat, values: flattenGrads(op, grads, flat) };
}

/**
 * ‖g‖ as `scale · root` with scale = max |gᵢ| and root = √(Σ (gᵢ / scale)²) ∈ [1, √n] (as LAPACK's
 * dnrm2 and `Math.hypot` do): squaring 1e200 would overflow to Infinity and 1e-200 underflow to 0.
 */
function scaledNorm(values: readonly ArrayLike<number>[]): { scale: number; root: number } {
  let scale = 0;
  for (const v of values) for (let k = 0; k < v.length; k++) scale = Math.max(scale, Math.abs(v[k]!));
  if (scale === 0) return { scale: 0, root: 0 };
  let sum = 0;
  for (const v of values) {
    for (let k = 0; k < v.length; k++) {
      const x = v[k]! / scale;
      sum += x * x;
    }
  }
  return { scale, root: Math.sqrt(sum) };
}

/** The global L2 norm ‖g‖ = √(Σ over all leaves and elements of g²), without overflow or underflow. */
export function globalNorm(grads: unknown): number {
  const { scale, root } = scaledNorm(gradLeaves("globalNorm", grads).values);
  return scale * root;
}

const SMALLEST_NORMAL = 2 ** -1022;

/**
 * Scales all gradients by min(1, maxNorm / (‖g‖ + 1e-6)) (torch clip_grad_norm_), so that their
 * global L2 norm is at most `maxNorm`. Returns new grads of the same structure.
 */
export function clipByGlobalNorm<G>(grads: G, maxNorm: number): G {
  const op = "clipByGlobalNorm";
  const limit = checkNonNegative(op, "maxNorm", maxNorm);
  const { flat, values } = gradLeaves(op, grads);
  const { scale, root } = scaledNorm(values);
  const coefficient = limit / (scale * root + 1e-6);
  if (coefficient >= 1) return grads;
  if (coefficient >= SMALLEST_NORMAL)
    return rebuild<G>(
      flat,
      values.map((v) => Array.from(v, (x) => x * coefficient)),
    );
  // ‖g‖ near or past the largest double: c is subnormal or 0, so use c = factor / scale and g·c = (g / scale)·factor
  const factor = limit / (root + 1e-6 / scale);
  return rebuild<G>(
    flat,
    values.map((v) => Array.from(v, (x) => (x / scale) * factor)),
  );
}

/** Clamps every gradient element to [−maxValue, maxValue] (torch clip_grad_value_). */
export function clipByValue<G>(grads: G, maxValue: number): G {
  const op = "clipByValue";
  const limit = checkNonNegative(op, "maxValue", maxValue);
  const { flat, values } = gradLeaves(op, grads);
  return rebuild<G>(
    flat,
    values.map((v) => Array.from(v, (x) => Math.min(limit, Math.max(-limit, x)))),
  );
}

export interface ClipOptions {
  readonly maxNorm?: number;
  readonly maxValue?: number;
}

/** An optimizer that clips the gradients (by value, then by global norm) before `inner` sees them. */
export function withClipping<S extends OptimizerState>(inner: Optimizer<S>, options: ClipOptions): Optimizer<S> {
  checkOptions("withClipping", options, ["maxNorm", "maxValue"], true);
  if (inner === null || typeof inner !== "object" || typeof inner.update !== "function" || typeof inner.step !== "function") {
    throw new ArgumentError(`withClipping: expected an optimizer (sgd(…), adam(…), …), got ${describeValue(inner)}`);
  }
  if (options.maxNorm === undefined && options.maxValue === undefined) {
    throw new ArgumentError("withClipping: expected maxNorm and/or maxValue, got neither");
  }
  if (inner.name === "lbfgs")
    throw new ArgumentError("withClipping: expected a first-order optimizer, got lbfgs (its line search needs true gradients)");
  const clip = <G>(grads: G): G => {
    let g = grads;
    if (options.maxValue !== undefined) g = clipByValue(g, options.maxValue);
    if (options.maxNorm !== undefined) g = clipByGlobalNorm(g, options.maxNorm);
    return g;
  };
  if (options.maxNorm !== undefined) checkNonNegative("withClipping", "maxNorm", options.maxNorm);
  if (options.maxValue !== undefined) checkNonNegative("withClipping", "maxValue", options.maxValue);
  return shareStateCheck<Optimizer<S>>(inner, {
    name: inner.name,
    init: (params) => inner.init(params),
    update: (grads, state, params, updateOptions?: UpdateOptions) => inner.update(clip(grads), state, params, updateOptions),
    step<P>(objective: Objective<P>, state: S, params: P, updateOptions?: UpdateOptions): StepResult<P, S> {
      return inner.step(
        (p: P) => {
          const { loss, grads } = objective(p);
          return { loss, grads: clip(grads) };
        },
        state,
        params,
        updateOptions,
      );
    },
  });
}
