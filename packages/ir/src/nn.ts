/** Neural-network composites, all max-shifted so they never overflow. */
import { toFloat, toOperand, type TensorLike } from "./coerce.js";
import { ShapeError } from "./errors.js";
import { formatShape, normalizeAxis } from "./shape.js";
import { Tensor } from "./tensor.js";
import { castTo } from "./coerce.js";
import { div, exp, logsumexp, max, mean, mul, neg, oneHot, square, stopGradient, sub, sum } from "./ops.js";

/** softmax(x)ᵢ = exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x) along `axis` (last by default). */
export function softmax(x: TensorLike, axis = -1): Tensor {
  const t = toFloat(toOperand("softmax", x));
  const a = normalizeAxis("softmax", axis, t.rank);
  const e = exp(sub(t, stopGradient(max(t, a, true))));
  return div(e, sum(e, a, true));
}

/** log softmax(x) = x − logsumexp(x) along `axis` (last by default). */
export function logSoftmax(x: TensorLike, axis = -1): Tensor {
  const t = toFloat(toOperand("logSoftmax", x));
  const a = normalizeAxis("logSoftmax", axis, t.rank);
  return sub(t, logsumexp(t, a, true));
}

/**
 * Mean softmax cross-entropy over the batch, like PyTorch's `F.cross_entropy`. `labels` are
 * either class indices (int32, or integers, of shape `logits.shape[:-1]`) or probabilities of
 * the same shape as `logits`.
 */
export function crossEntropy(logits: TensorLike, labels: TensorLike): Tensor {
  const z = toFloat(toOperand("crossEntropy", logits));
  if (z.rank === 0) throw new ShapeError("crossEntropy: expected logits of rank ≥ 1 (classes on the last axis), got a scalar");
  const y = toOperand("crossEntropy", labels);
  const logp = logSoftmax(z, -1);
  const classes = z.shape[z.rank - 1]!;
  let target: Tensor;
  if (y.rank === z.rank && y.shape.every((d, i) => d === z.shape[i])) {
    target = castTo(y, z.dtype);
  } else if (y.rank === z.rank - 1 && y.shape.every((d, i) => d === z.shape[i])) {
    target = oneHot(y, classes, z.dtype);
  } else {
    throw new ShapeError(
      `crossEntropy: expected labels of shape ${formatShape(z.shape.slice(0, -1))} (class indices) or ${formatShape(z.shape)} (probabilities), got ${formatShape(y.shape)}`,
    );
  }
  return neg(mean(sum(mul(target, logp), -1)));
}

/** Mean squared error: mean((prediction − target)²). */
export function mse(prediction: TensorLike, target: TensorLike): Tensor {
  const p = toOperand("mse", prediction);
  const t = toOperand("mse", target);
  if (p.rank !== t.rank || p.shape.some((d, i) => d !== t.shape[i])) {
    throw new ShapeError(`mse: expected prediction and target of one shape, got ${formatShape(p.shape)} and ${formatShape(t.shape)}`);
  }
  return mean(square(sub(p, t)));
}
