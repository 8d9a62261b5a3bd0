/**
 * Normalization, dropout, embedding, flatten and activation modules (issue 18), with PyTorch's
 * parameter names (camelCase), shapes and default initialisation. They call ir's functional ops
 * (batchNorm, layerNorm, dropout, embedding), so they differentiate like any other op.
 */
import {
  batchNorm,
  describeValue,
  dropout,
  embedding,
  formatShape,
  formatValue,
  gelu,
  layerNorm,
  ones,
  random,
  Random,
  reshape,
  silu,
  Tensor,
  zeros,
  type DType,
} from "@chainrule/ir";
import { AutogradError } from "../imperative/errors.js";
import { Parameter, plain } from "../imperative/variable.js";
import { Buffer, defaultRandom, Module } from "./module.js";

function positiveInteger(op: string, name: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new AutogradError("ARGUMENT", `${op}: expected ${name} to be an integer ≥ 1, got ${formatValue(n)}`);
  }
  return n;
}

function checkKeys(op: string, options: unknown, keys: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new AutogradError("ARGUMENT", `${op}: expected an options object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!keys.includes(key))
      throw new AutogradError("ARGUMENT", `${op}: unknown option ${JSON.stringify(key)}; expected only ${keys.join(", ")}`);
  }
  return options as Record<string, unknown>;
}

function dtypeOption(op: string, o: Record<string, unknown>): DType {
  const dtype = o["dtype"] ?? "float64";
  if (dtype !== "float64" && dtype !== "float32") {
    throw new AutogradError("ARGUMENT", `${op}: expected options.dtype "float64" or "float32", got ${describeValue(dtype)}`);
  }
  return dtype;
}

function checkInput(op: string, input: unknown, ok: (t: Tensor) => boolean, expected: string): Tensor {
  if (!(input instanceof Tensor) || !ok(input)) {
    const got = input instanceof Tensor ? `shape ${formatShape(input.shape)}` : describeValue(input);
    throw new AutogradError("ARGUMENT", `${op}.forward: expected ${expected}, got ${got}`);
  }
  return input;
}

export interface BatchNormOptions {
  /** Added to the variance (1e-5). */
  readonly eps?: number;
  /** Weight of each new batch in the running statistics (0.1). */
  readonly momentum?: number;
  /** Learnable weight (ones) and bias (zeros) per channel (true). */
  readonly affine?: boolean;
  /** Keep running statistics for eval mode (true); false normalizes with batch statistics in both modes. */
  readonly trackRunningStats?: boolean;
  readonly dtype?: DType;
}

/** BatchNorm1d and BatchNorm2d: one implementation, checked for the input ranks of each. */
abstract class BatchNormBase extends Module {
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  /** Running statistics (buffers: in stateDict, not in parameters), zeros and ones at first. */
  readonly runningMean: Buffer | null;
  readonly runningVar: Buffer | null;
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;

  constructor(
    private readonly op: string,
    private readonly ranks: readonly number[],
    numFeatures: number,
    options?: BatchNormOptions,
  ) {
    super();
    const o = checkKeys(op, options, ["eps", "momentum", "affine", "trackRunningStats", "dtype"]);
    this.numFeatures = positiveInteger(op, "numFeatures", numFeatures);
    const dtype = dtypeOption(op, o);
    this.eps = (o["eps"] as number | undefined) ?? 1e-5;
    this.momentum = (o["momentum"] as number | undefined) ?? 0.1;
    const affine = o["affine"] ?? true;
    const track = o["trackRunningStats"] ?? true;
    this.weight = affine ? new Parameter(ones([numFeatures], dtype)) : null;
    this.bias = affine ? new Parameter(zeros([numFeatures], dtype)) : null;
    this.runningMean = track ? new Buffer(zeros([numFeatures], dtype)) : null;
    this.runningVar = track ? new Buffer(ones([numFeatures], dtype)) : null;
  }

  forward(input: Tensor): Tensor {
    const c = this.numFeatures;
    const expected = `x of rank ${this.ranks.join(" or ")} with ${c} channels on axis 1`;
    const x = checkInput(this.op, input, (t) => this.ranks.includes(t.rank) && t.shape[1] === c, expected);
    const useBatch = this.training || this.runningMean === null;
    const out = batchNorm(x, {
      ...(this.runningMean !== null && { runningMean: this.runningMean.value, runningVar: this.runningVar!.value }),
      ...(this.weight !== null && { weight: this.weight, bias: this.bias! }),
      training: useBatch,
      momentum: this.momentum,
      eps: this.eps,
    });
    if (this.training && this.runningMean !== null) {
      // the running statistics carry no gradient: store their concrete values
      this.runningMean.value = plain(out.runningMean);
      this.runningVar!.value = plain(out.runningVar);
    }
    return out.y;
  }
}

/** Batch normalization of [N, C] or [N, C, L] inputs per channel (torch.nn.BatchNorm1d). */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options?: BatchNormOptions) {
    super("BatchNorm1d", [2, 3], numFeatures, options);
  }
}

/** Batch normalization of [N, C, H, W] inputs per channel (torch.nn.BatchNorm2d). */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options?: BatchNormOptions) {
    super("BatchNorm2d", [4], numFeatures, options);
  }
}

export interface LayerNormOptions {
  readonly eps?: number;
  /** Learnable weight (ones) and bias (zeros) of the normalized shape (true). */
  readonly elementwiseAffine?: boolean;
  /** With elementwiseAffine: a bias too (true). */
  readonly bias?: boolean;
  readonly dtype?: DType;
}

/** Layer normalization over the trailing axes `normalizedShape` (torch.nn.LayerNorm). */
export class LayerNorm extends Module {
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  readonly normalizedShape: readonly number[];
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], options?: LayerNormOptions) {
    super();
    const o = checkKeys("LayerNorm", options, ["eps", "elementwiseAffine", "bias", "dtype"]);
    const shape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
    if (!Array.isArray(shape) || shape.length === 0) {
      throw new AutogradError(
        "ARGUMENT",
        `LayerNorm: expected normalizedShape to be an integer or a non-empty list, got ${formatValue(normalizedShape)}`,
      );
    }
    shape.forEach((d) => positiveInteger("LayerNorm", "each axis of normalizedShape", d));
    this.normalizedShape = shape.slice();
    this.eps = (o["eps"] as number | undefined) ?? 1e-5;
    const dtype = dtypeOption("LayerNorm", o);
    const affine = o["elementwiseAffine"] ?? true;
    this.weight = affine ? new Parameter(ones(shape, dtype)) : null;
    this.bias = affine && (o["bias"] ?? true) ? new Parameter(zeros(shape, dtype)) : null;
  }

  forward(input: Tensor): Tensor {
    return layerNorm(input, this.normalizedShape, {
      eps: this.eps,
      ...(this.weight !== null && { weight: this.weight }),
      ...(this.bias !== null && { bias: this.bias }),
    });
  }
}

/**
 * Dropout (torch.nn.Dropout): in training mode each element is zeroed with probability p and
 * the others scaled by 1/(1 − p); in eval mode the identity. Each call draws a fresh key for
 * ir's functional `dropout` from `{ rng }` or the generator seeded by `manualSeed`.
 */
export class Dropout extends Module {
  readonly p: number;
  private readonly rng: Random | undefined;

  constructor(p = 0.5, options?: { rng?: Random }) {
    super();
    if (typeof p !== "number" || !(p >= 0 && p <= 1))
      throw new AutogradError("ARGUMENT", `Dropout: expected p in [0, 1], got ${formatValue(p)}`);
    const o = checkKeys("Dropout", options, ["rng"]);
    if (o["rng"] !== undefined && !(o["rng"] instanceof Random)) {
      throw new AutogradError("ARGUMENT", `Dropout: expected options.rng to be a Random, got ${describeValue(o["rng"])}`);
    }
    this.p = p;
    this.rng = o["rng"] as Random | undefined;
  }

  forward(input: Tensor): Tensor {
    if (!this.training || this.p === 0) return input;
    const rng = this.rng ?? defaultRandom();
    const key = random.foldIn(random.key(rng.nextUint32()), rng.nextUint32() | 0);
    return dropout(input, this.p, key);
  }
}

/** A lookup table [numEmbeddings, embeddingDim] initialised N(0, 1) (torch.nn.Embedding); forward takes integer indices. */
export class Embedding extends Module {
  readonly weight: Parameter;
  readonly numEmbeddings: number;
  readonly embeddingDim: number;

  constructor(numEmbeddings: number, embeddingDim: number, options?: { rng?: Random; dtype?: DType }) {
    super();
    const o = checkKeys("Embedding", options, ["rng", "dtype"]);
    this.numEmbeddings = positiveInteger("Embedding", "numEmbeddings", numEmbeddings);
    this.embeddingDim = positiveInteger("Embedding", "embeddingDim", embeddingDim);
    const rng = (o["rng"] as Random | undefined) ?? defaultRandom();
    this.weight = new Parameter(rng.normal([numEmbeddings, embeddingDim], { dtype: dtypeOption("Embedding", o) }));
  }

  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight);
  }
}

/** Flattens the axes startDim … endDim into one (torch.nn.Flatten: 1 and −1 by default, keeping the batch axis). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
    for (const [name, v] of [
      ["startDim", startDim],
      ["endDim", endDim],
    ] as const) {
      if (!Number.isInteger(v)) throw new AutogradError("ARGUMENT", `Flatten: expected ${name} to be an integer, got ${formatValue(v)}`);
    }
  }

  forward(input: Tensor): Tensor {
    const x = checkInput("Flatten", input, () => true, "a Tensor");
    const rank = Math.max(x.rank, 1);
    const start = this.startDim < 0 ? this.startDim + rank : this.startDim;
    const end = this.endDim < 0 ? this.endDim + rank : this.endDim;
    if (start < 0 || end >= rank || start > end) {
      throw new AutogradError(
        "ARGUMENT",
        `Flatten.forward: expected startDim ${this.startDim} ≤ endDim ${this.endDim} within rank ${x.rank}, ` +
          `got shape ${formatShape(x.shape)}`,
      );
    }
    if (x.rank === 0) return reshape(x, [1]);
    const merged = x.shape.slice(start, end + 1).reduce((p, d) => p * d, 1);
    return reshape(x, [...x.shape.slice(0, start), merged, ...x.shape.slice(end + 1)]);
  }
}

/** GELU (torch.nn.GELU): exact x·Φ(x) by default, the tanh form with approximate "tanh". */
export class GELU extends Module {
  constructor(readonly approximate: "none" | "tanh" = "none") {
    super();
    if (approximate !== "none" && approximate !== "tanh") {
      throw new AutogradError("ARGUMENT", `GELU: expected approximate "none" or "tanh", got ${formatValue(approximate)}`);
    }
  }

  forward(input: Tensor): Tensor {
    return gelu(input, { approximate: this.approximate === "tanh" });
  }
}

/** SiLU, x·σ(x) (torch.nn.SiLU). */
export class SiLU extends Module {
  forward(input: Tensor): Tensor {
    return silu(input);
  }
}
