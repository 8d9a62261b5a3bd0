/** Neural-network composites, all max-shifted so they never overflow. */
import { toFloat, toOperand, toOperands, type TensorLike } from "./coerce.js";
import { ArgumentError, checkArity, describeValue, DTypeError, ShapeError } from "./errors.js";
import { erfc } from "./math-ops.js";
import { checkOptions } from "./options.js";
import { bind } from "./trace.js";
import { formatShape, normalizeAxis } from "./shape.js";
import type { Tensor } from "./tensor.js";
import { castTo } from "./coerce.js";
import { add, div, exp, logsumexp, max, mean, mul, neg, oneHot, square, stopGradient, sub, sum, tanh, where } from "./ops.js";

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
