/** Neural-network composites, all max-shifted so they never overflow. */
import { toFloat, toOperand, toOperands, type TensorLike } from "./coerce.js";
import { ArgumentError, checkArity, describeValue, DTypeError, formatValue, ShapeError } from "./errors.js";
import { erfc } from "./math-ops.js";
import { checkOptions } from "./options.js";
import { bind } from "./trace.js";
import { formatShape, normalizeAxis } from "./shape.js";
import type { Tensor } from "./tensor.js";
import { castTo } from "./coerce.js";
import {
  abs,
  add,
  div,
  exp,
  expm1,
  greater,
  less,
  lessEqual,
  log1p,
  logsumexp,
  max,
  mean,
  mul,
  neg,
  oneHot,
  sigmoid,
  square,
  stopGradient,
  sub,
  sum,
  tanh,
  where,
} from "./ops.js";

/** softmax(x)ᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x) along `axis` (last by default). */
export const softmax = checkArity("softmax", 1, 2, (x: TensorLike, axis = -1): Tensor => {
  const t = toFloat(toOperand("softmax", x));
  const a = normalizeAxis("softmax", axis, t.rank);
  if (t.shape[a] === 0) return t; // nothing to normalize (and no max to shift by)
  const e = exp(sub(t, stopGradient(max(t, a, true))));
  return div(e, sum(e, a, true));
});

/** log softmax(x) = x − logsumexp(x) along `axis` (last by default). */
export const logSoftmax = checkArity("logSoftmax", 1, 2, (x: TensorLike, axis = -1): Tensor => {
  const t = toFloat(toOperand("logSoftmax", x));
  const a = normalizeAxis("logSoftmax", axis, t.rank);
  return sub(t, logsumexp(t, a, true));
});

/**
 * Mean softmax cross-entropy over the batch, like PyTorch's `F.cross_entropy`. `labels` are
 * either class indices (int32, or integers, of shape `logits.shape[:-1]`) or probabilities of
 * the same shape as `logits`.
 */
export const crossEntropy = checkArity("crossEntropy", 2, 2, (logits: TensorLike, labels: TensorLike): Tensor => {
  const z = toFloat(toOperand("crossEntropy", logits));
  if (z.rank === 0) throw new ShapeError("crossEntropy: expected logits of rank ≥ 1 (classes on the last axis), got a scalar");
  const y = toOperand("crossEntropy", labels);
  const logp = logSoftmax(z, -1);
  const classes = z.shape[z.rank - 1]!;
  let picked: Tensor;
  if (y.rank === z.rank && y.shape.every((d, i) => d === z.shape[i])) {
    picked = mul(castTo(y, z.dtype), logp);
  } else if (y.rank === z.rank - 1 && y.shape.every((d, i) => d === z.shape[i])) {
    // select (not multiply) the label's log-probability: 0 · (−∞) for a masked class would be NaN
    picked = where(oneHot(checkClassIndices(y, classes), classes, "bool"), logp, 0);
  } else {
    throw new ShapeError(
      `crossEntropy: expected labels of shape ${formatShape(z.shape.slice(0, -1))} (class indices) or ${formatShape(z.shape)} ` +
        `(probabilities), got ${formatShape(y.shape)}`,
    );
  }
  return neg(mean(sum(picked, -1)));
});

/**
 * Class indices must be integers in [0, classes): an out-of-range label would silently add 0 to
 * the loss. A primitive, so traced programs check their labels too (compiled code at run time).
 */
function checkClassIndices(labels: Tensor, classes: number): Tensor {
  if (labels.dtype === "bool") throw new DTypeError("crossEntropy: expected integer class indices, got bool");
  return bind("checkIndices", [labels], { op: "crossEntropy", size: classes });
}

/** Mean squared error: mean((prediction − target)²). */
export const mse = checkArity("mse", 2, 2, (prediction: TensorLike, target: TensorLike): Tensor => {
  const [p, t] = toOperands("mse", [prediction, target]) as [Tensor, Tensor];
  if (p.rank !== t.rank || p.shape.some((d, i) => d !== t.shape[i])) {
    throw new ShapeError(`mse: expected prediction and target of one shape, got ${formatShape(p.shape)} and ${formatShape(t.shape)}`);
  }
  return mean(square(sub(p, t)));
});

// ── activations and losses (issue 17, family "activations": ops-nn) ──────────────────────────
// Composites of primitives, so every engine differentiates them at every order. Each has float
// results (int32/bool inputs become float64). At a kink the derivative is the one-sided value
// documented on each op, following relu′(0) = 0 (docs/ops.md, "Activations and losses").

/** A finite number option, or `fallback` when absent. */
function numberOption(op: string, options: Record<string, unknown>, key: string, fallback: number): number {
  const value = options[key] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ArgumentError(`${op}: expected ${key} to be a finite number, got ${describeValue(value)}`);
  }
  return value;
}

/** The float operand of a unary activation. */
function activationInput(op: string, x: TensorLike): Tensor {
  return toFloat(toOperand(op, x));
}

/**
 * softplus(x) = log(1 + eˣ), computed as max(x, 0) + log1p(e^(−|x|)) so it never overflows.
 * Smooth everywhere: softplus′ = σ(x), softplus′(0) = ½ (the max and |x| are selected with one
 * mask, x > 0, so no kink convention leaks into the derivative).
 */
export const softplus = checkArity("softplus", 1, 1, (x: TensorLike): Tensor => {
  const t = activationInput("softplus", x);
  const positive = greater(t, 0);
  // x ≤ 0: log1p(eˣ); x > 0: x + log1p(e⁻ˣ): both branches analytic on their side of 0
  return add(where(positive, t, 0), log1p(exp(neg(where(positive, t, neg(t))))));
});

/** log σ(x) = −softplus(−x): never overflows, log σ′(x) = σ(−x). */
export const logSigmoid = checkArity("logSigmoid", 1, 1, (x: TensorLike): Tensor => {
  return neg(softplus(neg(activationInput("logSigmoid", x))));
});

/** silu(x) = x · σ(x) (also called swish): silu′ = σ(x)(1 + x(1 − σ(x))). */
export const silu = checkArity("silu", 1, 1, (x: TensorLike): Tensor => {
  const t = activationInput("silu", x);
  return mul(t, sigmoid(t));
});

/**
 * elu(x) = x for x > 0, α(eˣ − 1) otherwise (α = 1 by default, option `{ alpha }`).
 * elu′(0) = α (the x ≤ 0 side, as in JAX); e^x is only taken of x ≤ 0, so large x never overflows.
 */
export const elu = checkArity("elu", 1, 2, (x: TensorLike, options?: { alpha?: number }): Tensor => {
  const t = activationInput("elu", x);
  const alpha = numberOption("elu", checkOptions("elu", options, ["alpha"]), "alpha", 1);
  const positive = greater(t, 0);
  return where(positive, t, mul(expm1(where(positive, 0, t)), alpha));
});

/** leakyRelu(x) = x for x > 0, slope · x otherwise (slope 0.01, option `{ negativeSlope }`); leakyRelu′(0) = slope. */
export const leakyRelu = checkArity("leakyRelu", 1, 2, (x: TensorLike, options?: { negativeSlope?: number }): Tensor => {
  const t = activationInput("leakyRelu", x);
  const slope = numberOption("leakyRelu", checkOptions("leakyRelu", options, ["negativeSlope"]), "negativeSlope", 0.01);
  return where(greater(t, 0), t, mul(t, slope));
});

/** softsign(x) = x / (1 + |x|): softsign′ = 1 / (1 + |x|)², 1 at 0. */
export const softsign = checkArity("softsign", 1, 1, (x: TensorLike): Tensor => {
  const t = activationInput("softsign", x);
  return div(t, add(abs(t), 1));
});

/**
 * `x` clamped to [low, high] with derivative 1 strictly inside and 0 elsewhere, the bounds
 * included (PyTorch's hardtanh; unlike `clip`, whose derivative is 1 at the bounds).
 */
function hardClamp(t: Tensor, low: number, high: number): Tensor {
  return where(greater(t, low), where(less(t, high), t, high), low);
}

/** relu6(x) = min(max(x, 0), 6); relu6′ is 1 on (0, 6) and 0 elsewhere, at 0 and 6 included. */
export const relu6 = checkArity("relu6", 1, 1, (x: TensorLike): Tensor => hardClamp(activationInput("relu6", x), 0, 6));

/**
 * hardTanh(x) = min(max(x, min), max) with bounds `{ min, max }` (−1 and 1 by default, min ≤ max);
 * hardTanh′ is 1 on (min, max) and 0 elsewhere, the bounds included.
 */
export const hardTanh = checkArity("hardTanh", 1, 2, (x: TensorLike, options?: { min?: number; max?: number }): Tensor => {
  const t = activationInput("hardTanh", x);
  const checked = checkOptions("hardTanh", options, ["min", "max"]);
  const low = numberOption("hardTanh", checked, "min", -1);
  const high = numberOption("hardTanh", checked, "max", 1);
  if (low > high) throw new ArgumentError(`hardTanh: expected min ≤ max, got min ${low} and max ${high}`);
  return hardClamp(t, low, high);
});

export type Reduction = "none" | "mean" | "sum";

/** The loss's `reduction` option: "mean" (the default), "sum" or "none" (elementwise). */
function reductionOption(op: string, options: Record<string, unknown>): Reduction {
  const value = options["reduction"] ?? "mean";
  if (value !== "none" && value !== "mean" && value !== "sum") {
    throw new ArgumentError(`${op}: expected reduction to be "none", "mean" or "sum", got ${formatValue(value)}`);
  }
  return value;
}

function reduceLoss(losses: Tensor, reduction: Reduction): Tensor {
  if (reduction === "none") return losses;
  return reduction === "sum" ? sum(losses) : mean(losses);
}

/** Two float operands of one shape (the dtype of their promotion). */
function lossOperands(op: string, first: TensorLike, second: TensorLike, names: string): [Tensor, Tensor] {
  const [a, b] = toOperands(op, [first, second]) as [Tensor, Tensor];
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${op}: expected ${names} of one shape, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  return [toFloat(a), toFloat(b)];
}

/**
 * Binary cross-entropy from logits z and labels y in [0, 1] (probabilities of the class 1):
 * softplus(z) − z·y = max(z, 0) − z·y + log1p(e^(−|z|)), which never overflows. The mean by
 * default; option `{ reduction: "none" | "mean" | "sum" }`. ∂/∂z = σ(z) − y, ∂/∂y = −z.
 */
export const binaryCrossEntropy = checkArity(
  "binaryCrossEntropy",
  2,
  3,
  (logits: TensorLike, labels: TensorLike, options?: { reduction?: Reduction }): Tensor => {
    const [z, y] = lossOperands("binaryCrossEntropy", logits, labels, "logits and labels");
    const reduction = reductionOption("binaryCrossEntropy", checkOptions("binaryCrossEntropy", options, ["reduction"]));
    return reduceLoss(sub(softplus(z), mul(z, y)), reduction);
  },
);

/**
 * Huber loss of d = pred − target: ½d² where |d| ≤ δ, δ(|d| − ½δ) beyond (δ = 1 by default,
 * option `{ delta }`, δ > 0). The mean by default; option `{ reduction }`. Its derivative
 * clamp(d, −δ, δ) is continuous; the second derivative at |d| = δ is 1 (the quadratic side).
 */
export const huberLoss = checkArity(
  "huberLoss",
  2,
  3,
  (pred: TensorLike, target: TensorLike, options?: { delta?: number; reduction?: Reduction }): Tensor => {
    const [p, t] = lossOperands("huberLoss", pred, target, "pred and target");
    const checked = checkOptions("huberLoss", options, ["delta", "reduction"]);
    const delta = numberOption("huberLoss", checked, "delta", 1);
    if (!(delta > 0)) throw new ArgumentError(`huberLoss: expected delta > 0, got ${delta}`);
    const reduction = reductionOption("huberLoss", checked);
    const d = sub(p, t);
    const size = abs(d);
    const quadratic = lessEqual(size, delta);
    // the linear side only sees |d| > δ > 0, away from the kink of |d|
    const losses = where(quadratic, mul(mul(d, d), 0.5), mul(sub(size, 0.5 * delta), delta));
    return reduceLoss(losses, reduction);
  },
);
/**
 * GELU. Exact by default: x·Φ(x) = ½·x·erfc(−x/√2) (erfc keeps the far negative tail accurate).
 * `{ approximate: true }`: the tanh form ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
 */
export const gelu = checkArity("gelu", 1, 2, (x: TensorLike, options?: { approximate?: boolean }): Tensor => {
  const o = checkOptions("gelu", options, ["approximate"]);
  const approximate = o["approximate"] ?? false;
  if (typeof approximate !== "boolean") {
    throw new ArgumentError(`gelu: expected approximate to be a boolean, got ${describeValue(approximate)}`);
  }
  const t = toFloat(toOperand("gelu", x));
  if (!approximate) return mul(mul(t, 0.5), erfc(mul(t, -Math.SQRT1_2)));
  const inner = mul(add(t, mul(mul(mul(t, t), t), 0.044715)), Math.sqrt(2 / Math.PI));
  return mul(mul(t, 0.5), add(tanh(inner), 1));
});
