/**
 * Normalization, dropout and embedding (family "normalization", issue 18): composites of
 * primitives, so every engine differentiates them at every order and the JIT compiles them.
 * Statistics follow PyTorch: the biased variance (divided by n) normalizes; batchNorm's running
 * variance is updated with the unbiased one (divided by n − 1).
 */
import { castTo, toFloat, toOperand, type TensorLike } from "./coerce.js";
import { ArgumentError, checkArity, describeValue, DTypeError, formatValue, ShapeError } from "./errors.js";
import { rsqrt } from "./math-ops.js";
import { add, div, mean, mul, reshape, stopGradient, sub, where } from "./ops.js";
import { take } from "./ops.js";
import { checkOptions } from "./options.js";
import { random } from "./random-keys.js";
import { formatShape, shapesEqual } from "./shape.js";
import { Tensor } from "./tensor.js";
import { bind } from "./trace.js";

/** A finite number option, or `fallback` when absent. */
function numberOption(op: string, options: Record<string, unknown>, key: string, fallback: number): number {
  const value = options[key] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ArgumentError(`${op}: expected ${key} to be a finite number, got ${describeValue(value)}`);
  }
  return value;
}

/** eps > 0 (1e-5 by default, as PyTorch). */
function epsOption(op: string, options: Record<string, unknown>): number {
  const eps = numberOption(op, options, "eps", 1e-5);
  if (!(eps > 0)) throw new ArgumentError(`${op}: expected eps > 0, got ${eps}`);
  return eps;
}

/** An optional affine parameter of exactly `shape` (weight or bias), as a float tensor of x's dtype. */
function affineOption(op: string, options: Record<string, unknown>, key: string, shape: readonly number[], dtype: Tensor["dtype"]) {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  const t = toOperand(op, value as TensorLike);
  if (!shapesEqual(t.shape, shape))
    throw new ShapeError(`${op}: expected ${key} of shape ${formatShape(shape)}, got ${formatShape(t.shape)}`);
  if (t.dtype === "bool") throw new DTypeError(`${op}: expected a float ${key}, got bool`);
  return t.dtype === dtype ? t : castTo(t, dtype);
}

/** (x − mean) / √(var + eps) over `axes`, with the biased variance. */
function standardize(x: Tensor, axes: number[], eps: number): Tensor {
  const centered = sub(x, mean(x, axes, true));
  const variance = mean(mul(centered, centered), axes, true);
  return mul(centered, rsqrt(add(variance, eps)));
}

/** y · weight + bias where given (weight and bias already shaped to broadcast against y). */
function affine(y: Tensor, weight: Tensor | undefined, bias: Tensor | undefined): Tensor {
  const scaled = weight === undefined ? y : mul(y, weight);
  return bias === undefined ? scaled : add(scaled, bias);
}

export interface LayerNormOptions {
  /** Added to the variance (1e-5). */
  eps?: number;
  /** Scale of shape `normalizedShape` (none by default). */
  weight?: TensorLike;
  /** Shift of shape `normalizedShape` (none by default). */
  bias?: TensorLike;
}

/**
 * Layer normalization (PyTorch's `F.layer_norm`): each slice over the trailing axes
 * `normalizedShape` (the last axis by default) becomes (x − mean) / √(var + eps), biased variance,
 * then · weight + bias when given (both of shape `normalizedShape`).
 */
export const layerNorm = checkArity(
  "layerNorm",
  1,
  3,
  (x: TensorLike, normalizedShape?: number | readonly number[], options?: LayerNormOptions): Tensor => {
    const t = toFloat(toOperand("layerNorm", x));
    const o = checkOptions("layerNorm", options, ["eps", "weight", "bias"]);
    const shape =
      normalizedShape === undefined ? t.shape.slice(-1) : typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
    const k = Array.isArray(shape) ? shape.length : -1;
    if (k < 1 || k > t.rank || !shapesEqual(shape as number[], t.shape.slice(t.rank - k))) {
      throw new ShapeError(
        `layerNorm: expected normalizedShape to be the trailing axes of x ${formatShape(t.shape)}, got ${formatValue(normalizedShape)}`,
      );
    }
    const axes = Array.from({ length: k }, (_, i) => t.rank - k + i);
    const y = standardize(t, axes, epsOption("layerNorm", o));
    return affine(y, affineOption("layerNorm", o, "weight", shape, t.dtype), affineOption("layerNorm", o, "bias", shape, t.dtype));
  },
);

/** The shape [C, 1, …, 1] of a per-channel value broadcast against x [N, C, ...spatial]. */
const channelShape = (x: Tensor) => [x.shape[1]!, ...new Array<number>(x.rank - 2).fill(1)];

function checkChannelsFirst(op: string, x: Tensor): void {
  if (x.rank < 2) throw new ShapeError(`${op}: expected x of rank ≥ 2 [N, C, ...], got shape ${formatShape(x.shape)}`);
}

/** A per-channel option ([C]) reshaped to broadcast against x. */
function channelOption(op: string, o: Record<string, unknown>, key: string, x: Tensor): Tensor | undefined {
  const t = affineOption(op, o, key, [x.shape[1]!], x.dtype);
  return t === undefined ? undefined : reshape(t, channelShape(x));
}

export interface BatchNormOptions {
  /** Running mean [C] (eval mode normalizes with it; training mode returns its update). Zeros when absent. */
  runningMean?: TensorLike;
  /** Running variance [C]. Ones when absent. */
  runningVar?: TensorLike;
  /** Scale [C] and shift [C] (none by default). */
  weight?: TensorLike;
  bias?: TensorLike;
  /** Batch statistics (true, the default) or the running ones (false: eval mode). */
  training?: boolean;
  /** Weight of the new batch in the running statistics (0.1). */
  momentum?: number;
  eps?: number;
}

export interface BatchNormResult {
  readonly y: Tensor;
  /** The running statistics after this step: updated in training mode, the given ones in eval mode. */
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
}

/**
 * Batch normalization of x [N, C, ...spatial] per channel (PyTorch's `F.batch_norm`). Training
 * (the default): statistics over N and the spatial axes, biased variance to normalize, and the
 * running statistics updated as (1 − momentum)·running + momentum·batch with the unbiased
 * variance (running values default to PyTorch's initial zeros and ones). Eval
 * (`training: false`): the running statistics normalize, and come back unchanged. The running
 * statistics carry no derivative (stopGradient); y differentiates at every order.
 */
export const batchNorm = checkArity("batchNorm", 1, 2, (x: TensorLike, options?: BatchNormOptions): BatchNormResult => {
  const op = "batchNorm";
  const t = toFloat(toOperand(op, x));
  checkChannelsFirst(op, t);
  const o = checkOptions(op, options, ["runningMean", "runningVar", "weight", "bias", "training", "momentum", "eps"]);
  const training = o["training"] ?? true;
  if (typeof training !== "boolean") throw new ArgumentError(`${op}: expected training to be a boolean, got ${describeValue(training)}`);
  const momentum = numberOption(op, o, "momentum", 0.1);
  if (momentum < 0 || momentum > 1) throw new ArgumentError(`${op}: expected momentum in [0, 1], got ${momentum}`);
  const eps = epsOption(op, o);
  const c = t.shape[1]!;
  const runningMean =
    affineOption(op, o, "runningMean", [c], t.dtype) ??
    new Tensor(t.dtype, [c], new (t.dtype === "float32" ? Float32Array : Float64Array)(c));
  const runningVar =
    affineOption(op, o, "runningVar", [c], t.dtype) ??
    new Tensor(t.dtype, [c], new (t.dtype === "float32" ? Float32Array : Float64Array)(c).fill(1));
  const weight = channelOption(op, o, "weight", t);
  const bias = channelOption(op, o, "bias", t);
  if (!training) {
    const y = mul(sub(t, reshape(runningMean, channelShape(t))), rsqrt(add(reshape(runningVar, channelShape(t)), eps)));
    return { y: affine(y, weight, bias), runningMean, runningVar };
  }
  const axes = [0, ...Array.from({ length: t.rank - 2 }, (_, i) => i + 2)];
  const n = t.size / c;
  if (n < 2) throw new ShapeError(`${op}: expected more than 1 value per channel in training, got x of shape ${formatShape(t.shape)}`);
  const batchMean = mean(t, axes, true);
  const centered = sub(t, batchMean);
  const batchVar = mean(mul(centered, centered), axes, true);
  const y = mul(centered, rsqrt(add(batchVar, eps)));
  const flat = (s: Tensor) => reshape(stopGradient(s), [c]);
  const update = (running: Tensor, batch: Tensor) => add(mul(stopGradient(running), 1 - momentum), mul(batch, momentum));
  return {
    y: affine(y, weight, bias),
    runningMean: update(runningMean, flat(batchMean)),
    runningVar: update(runningVar, mul(flat(batchVar), n / (n - 1))),
  };
});

export interface GroupNormOptions {
  eps?: number;
  /** Per-channel scale [C] and shift [C] (none by default). */
  weight?: TensorLike;
  bias?: TensorLike;
}

/**
 * Group normalization (PyTorch's `F.group_norm`) of x [N, C, ...spatial]: the C channels form
 * `numGroups` groups of C / numGroups consecutive channels; each (sample, group) is standardized
 * over its channels and spatial positions (biased variance), then · weight + bias per channel.
 */
export const groupNorm = checkArity("groupNorm", 2, 3, (x: TensorLike, numGroups: number, options?: GroupNormOptions): Tensor => {
  const op = "groupNorm";
  const t = toFloat(toOperand(op, x));
  checkChannelsFirst(op, t);
  const o = checkOptions(op, options, ["eps", "weight", "bias"]);
  const c = t.shape[1]!;
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) {
    throw new ArgumentError(`${op}: expected numGroups to be an integer ≥ 1 dividing the ${c} channels, got ${formatValue(numGroups)}`);
  }
  const n = t.shape[0]!;
  const grouped = reshape(t, [n, numGroups, t.size / Math.max(n * numGroups, 1)]);
  const y = reshape(standardize(grouped, [2], epsOption(op, o)), t.shape.slice());
  return affine(y, channelOption(op, o, "weight", t), channelOption(op, o, "bias", t));
});

/**
 * Rows of `table` [numEmbeddings, dim] picked by integer `indices` (int32, or floats holding
 * integers, each in [0, numEmbeddings)): out.shape = indices.shape ++ [dim]. A gather, so the
 * table's gradient is a scatter-add: a row picked k times gets the sum of its k cotangents.
 */
export const embedding = checkArity("embedding", 2, 2, (indices: TensorLike, table: TensorLike): Tensor => {
  const w = toOperand("embedding", table);
  if (w.rank !== 2) throw new ShapeError(`embedding: expected a table of rank 2 [numEmbeddings, dim], got shape ${formatShape(w.shape)}`);
  const idx = toOperand("embedding", indices);
  if (idx.dtype === "bool") throw new DTypeError("embedding: expected integer indices, got bool");
  const checked = bind("checkIndices", [idx], { op: "embedding", size: w.shape[0]! });
  return take(w, checked.dtype === "int32" ? checked : castTo(checked, "int32"), 0);
});

/**
 * Dropout (PyTorch's inverted dropout): each element is zeroed with probability `rate` and the
 * others are scaled by 1 / (1 − rate), so the expectation is x. The mask is
 * `random.bernoulli(key, 1 − rate, x.shape)`: one key, one mask, in every engine and under the
 * JIT. rate 0 returns x, rate 1 zeros; the derivative is the mask / (1 − rate).
 */
export const dropout = checkArity("dropout", 3, 3, (x: TensorLike, rate: number, key: Tensor): Tensor => {
  const t = toFloat(toOperand("dropout", x));
  if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) {
    throw new ArgumentError(`dropout: expected rate in [0, 1], got ${formatValue(rate)}`);
  }
  if (!(key instanceof Tensor) || key.dtype !== "int32" || !shapesEqual(key.shape, [2])) {
    throw new ArgumentError(`dropout: expected a key (an int32 tensor of shape [2], from random.key(seed)), got ${describeValue(key)}`);
  }
  if (rate === 0) return t;
  if (rate === 1) return where(new Tensor("bool", [], new Uint8Array(1)), t, 0);
  const keep = random.bernoulli(key, 1 - rate, t.shape);
  return where(keep, div(t, 1 - rate), 0);
});
