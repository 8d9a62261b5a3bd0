/**
 * Convolution and pooling modules in the shape of torch.nn (issue 18): Conv1d, Conv2d,
 * ConvTranspose2d, MaxPool2d, AvgPool2d — PyTorch's signatures, parameter names and shapes
 * (Conv2d's weight [out, in/groups, kh, kw], ConvTranspose2d's [in, out/groups, kh, kw], bias
 * [out]) and PyTorch's default initialization: kaiming-uniform with a = √5, which is
 * U(−1/√fanIn, 1/√fanIn), and the bias U(−1/√fanIn, 1/√fanIn), fanIn = weight.shape[1] · Π kernel.
 * Inputs are channels-first, batched [N, C, …] or unbatched [C, …] (as torch).
 */
import {
  add,
  avgPool,
  conv,
  convTranspose,
  describeValue,
  formatShape,
  formatValue,
  maxPool,
  Random,
  reshape,
  Tensor,
  type ConvPadding,
  type DType,
} from "@chainrule/ir";
import { AutogradError } from "../imperative/errors.js";
import { Parameter } from "../imperative/variable.js";
import { defaultRandom, Module } from "./module.js";

type Size = number | readonly number[];

export interface ConvModuleOptions {
  readonly stride?: Size;
  /** A number, one per spatial axis, [lo, hi] pairs, "valid" or "same" (default 0). */
  readonly padding?: ConvPadding;
  readonly dilation?: Size;
  readonly groups?: number;
  /** Add a bias (default true). */
  readonly bias?: boolean;
  /** Generator for the initial values (default: the one seeded by `manualSeed`). */
  readonly rng?: Random;
  readonly dtype?: DType;
}

export interface ConvTransposeModuleOptions extends Omit<ConvModuleOptions, "padding"> {
  readonly padding?: number | readonly number[];
  readonly outputPadding?: Size;
}

const CONV_OPTIONS = ["stride", "padding", "dilation", "groups", "bias", "rng", "dtype"];

function checkOptions(op: string, options: unknown, keys: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new AutogradError("ARGUMENT", `${op}: expected an options object, got ${describeValue(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!keys.includes(key))
      throw new AutogradError("ARGUMENT", `${op}: unknown option ${JSON.stringify(key)}; expected only ${keys.join(", ")}`);
  }
  if (o.bias !== undefined && typeof o.bias !== "boolean") {
    throw new AutogradError("ARGUMENT", `${op}: expected options.bias to be true or false, got ${describeValue(o.bias)}`);
  }
  if (o.dtype !== undefined && o.dtype !== "float64" && o.dtype !== "float32") {
    throw new AutogradError("ARGUMENT", `${op}: expected options.dtype "float64" or "float32", got ${describeValue(o.dtype)}`);
  }
  if (o.rng !== undefined && !(o.rng instanceof Random)) {
    throw new AutogradError("ARGUMENT", `${op}: expected options.rng to be a Random (new Random(seed)), got ${describeValue(o.rng)}`);
  }
  return o;
}

function positive(op: string, name: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
    throw new AutogradError("ARGUMENT", `${op}: expected ${name} to be an integer ≥ 1, got ${describeValue(n)}`);
  return n;
}

/** A kernel size per spatial axis (a number for all of them). */
function kernelOf(op: string, size: unknown, spatial: number): number[] {
  const list = typeof size === "number" ? new Array<number>(spatial).fill(size) : size;
  if (!Array.isArray(list) || list.length !== spatial || !list.every((k) => Number.isInteger(k) && k >= 1)) {
    throw new AutogradError("ARGUMENT", `${op}: expected kernelSize to be an integer ≥ 1 or ${spatial} of them, got ${formatValue(size)}`);
  }
  return list.slice();
}

/** Checks a module's input rank (batched or unbatched); returns it batched and whether a batch axis was added. */
function batched(op: string, input: unknown, spatial: number, channels?: number): [Tensor, boolean] {
  const names = ["L", "H, W", "D, H, W"][spatial - 1]!;
  if (!(input instanceof Tensor) || (input.rank !== spatial + 1 && input.rank !== spatial + 2)) {
    const got = input instanceof Tensor ? `shape ${formatShape(input.shape)}` : describeValue(input);
    throw new AutogradError("ARGUMENT", `${op}.forward: expected an input [N, C, ${names}] or [C, ${names}], got ${got}`);
  }
  const x = input.rank === spatial + 1 ? reshape(input, [1, ...input.shape]) : input;
  if (channels !== undefined && x.shape[1] !== channels) {
    throw new AutogradError("ARGUMENT", `${op}.forward: expected ${channels} input channels, got shape ${formatShape(input.shape)}`);
  }
  return [x, input.rank === spatial + 1];
}

const unbatch = (y: Tensor, added: boolean) => (added ? reshape(y, y.shape.slice(1)) : y);

/** PyTorch's default: weight and bias uniform in ±1/√fanIn (kaiming-uniform with a = √5 gives exactly this bound). */
function initialize(shape: number[], biasSize: number, options: Record<string, unknown>): [Parameter, Parameter | null] {
  const rng = (options.rng as Random | undefined) ?? defaultRandom();
  const dtype = (options.dtype as DType | undefined) ?? "float64";
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const bound = 1 / Math.sqrt(fanIn);
  const weight = new Parameter(rng.uniform(shape, { low: -bound, high: bound, dtype }));
  const bias = options.bias === false ? null : new Parameter(rng.uniform([biasSize], { low: -bound, high: bound, dtype }));
  return [weight, bias];
}

/** Adds a per-channel bias [C] to y [N, C, ...]. */
function addBias(y: Tensor, bias: Parameter | null): Tensor {
  return bias === null ? y : add(y, reshape(bias, [bias.shape[0]!, ...new Array<number>(y.rank - 2).fill(1)]));
}

/** The convolution module of `spatial` axes (Conv1d, Conv2d). */
abstract class ConvNd extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: readonly number[];
  readonly stride: Size;
  readonly padding: ConvPadding;
  readonly dilation: Size;
  readonly groups: number;

  protected constructor(
    private readonly op: string,
    private readonly spatial: number,
    inChannels: number,
    outChannels: number,
    kernelSize: Size,
    optionsGiven?: ConvModuleOptions,
  ) {
    super();
    const options = checkOptions(op, optionsGiven, CONV_OPTIONS);
    this.inChannels = positive(op, "inChannels", inChannels);
    this.outChannels = positive(op, "outChannels", outChannels);
    this.kernelSize = kernelOf(op, kernelSize, spatial);
    this.groups = positive(op, "groups", options.groups ?? 1);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new AutogradError(
        "ARGUMENT",
        `${op}: expected groups (${this.groups}) to divide inChannels (${inChannels}) and outChannels (${outChannels})`,
      );
    }
    this.stride = (options.stride as Size | undefined) ?? 1;
    this.padding = (options.padding as ConvPadding | undefined) ?? 0;
    this.dilation = (options.dilation as Size | undefined) ?? 1;
    [this.weight, this.bias] = initialize([outChannels, inChannels / this.groups, ...this.kernelSize], outChannels, options);
  }

  forward(input: Tensor): Tensor {
    const [x, added] = batched(this.op, input, this.spatial, this.inChannels);
    const y = conv(x, this.weight, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
    return unbatch(addBias(y, this.bias), added);
  }
}

/** torch.nn.Conv1d: input [N, C, L], weight [out, in/groups, k], bias [out]. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size, options?: ConvModuleOptions) {
    super("Conv1d", 1, inChannels, outChannels, kernelSize, options);
  }
}

/** torch.nn.Conv2d: input [N, C, H, W], weight [out, in/groups, kh, kw], bias [out]. */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: Size, options?: ConvModuleOptions) {
    super("Conv2d", 2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * torch.nn.ConvTranspose2d: input [N, in, H, W], weight [in, out/groups, kh, kw], bias [out];
 * output size (n − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1.
 */
export class ConvTranspose2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: readonly number[];
  readonly stride: Size;
  readonly padding: number | readonly number[];
  readonly outputPadding: Size;
  readonly dilation: Size;
  readonly groups: number;

  constructor(inChannels: number, outChannels: number, kernelSize: Size, optionsGiven?: ConvTransposeModuleOptions) {
    super();
    const op = "ConvTranspose2d";
    const options = checkOptions(op, optionsGiven, [...CONV_OPTIONS, "outputPadding"]);
    this.inChannels = positive(op, "inChannels", inChannels);
    this.outChannels = positive(op, "outChannels", outChannels);
    this.kernelSize = kernelOf(op, kernelSize, 2);
    this.groups = positive(op, "groups", options.groups ?? 1);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new AutogradError(
        "ARGUMENT",
        `${op}: expected groups (${this.groups}) to divide inChannels (${inChannels}) and outChannels (${outChannels})`,
      );
    }
    this.stride = (options.stride as Size | undefined) ?? 1;
    this.padding = (options.padding as number | readonly number[] | undefined) ?? 0;
    this.outputPadding = (options.outputPadding as Size | undefined) ?? 0;
    this.dilation = (options.dilation as Size | undefined) ?? 1;
    [this.weight, this.bias] = initialize([inChannels, outChannels / this.groups, ...this.kernelSize], outChannels, options);
  }

  forward(input: Tensor): Tensor {
    const [x, added] = batched("ConvTranspose2d", input, 2, this.inChannels);
    const y = convTranspose(x, this.weight, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    });
    return unbatch(addBias(y, this.bias), added);
  }
}

export interface PoolModuleOptions {
  /** Default: the kernel size. */
  readonly stride?: Size;
  readonly padding?: ConvPadding;
}

/** torch.nn.MaxPool2d: the max over each kernelSize window of [N, C, H, W] (padded cells never win). */
export class MaxPool2d extends Module {
  readonly kernelSize: readonly number[];
  readonly stride: Size;
  readonly padding: ConvPadding;

  constructor(kernelSize: Size, options?: PoolModuleOptions) {
    super();
    const o = checkOptions("MaxPool2d", options, ["stride", "padding"]);
    this.kernelSize = kernelOf("MaxPool2d", kernelSize, 2);
    this.stride = (o.stride as Size | undefined) ?? this.kernelSize;
    this.padding = (o.padding as ConvPadding | undefined) ?? 0;
  }

  forward(input: Tensor): Tensor {
    const [x, added] = batched("MaxPool2d", input, 2);
    return unbatch(maxPool(x, this.kernelSize, { stride: this.stride, padding: this.padding }), added);
  }
}

export interface AvgPoolModuleOptions extends PoolModuleOptions {
  /** Count padded cells in the mean (default true, as torch). */
  readonly countIncludePad?: boolean;
}

/** torch.nn.AvgPool2d: the mean over each kernelSize window of [N, C, H, W]. */
export class AvgPool2d extends Module {
  readonly kernelSize: readonly number[];
  readonly stride: Size;
  readonly padding: ConvPadding;
  readonly countIncludePad: boolean;

  constructor(kernelSize: Size, options?: AvgPoolModuleOptions) {
    super();
    const o = checkOptions("AvgPool2d", options, ["stride", "padding", "countIncludePad"]);
    this.kernelSize = kernelOf("AvgPool2d", kernelSize, 2);
    this.stride = (o.stride as Size | undefined) ?? this.kernelSize;
    this.padding = (o.padding as ConvPadding | undefined) ?? 0;
    this.countIncludePad = (o.countIncludePad as boolean | undefined) ?? true;
  }

  forward(input: Tensor): Tensor {
    const [x, added] = batched("AvgPool2d", input, 2);
    const y = avgPool(x, this.kernelSize, { stride: this.stride, padding: this.padding, countIncludePad: this.countIncludePad });
    return unbatch(y, added);
  }
}
