/**
 * Named initialisers (torch.nn.init, issue 18), as the namespace `init`: each fills a Parameter
 * (or a Buffer) in place from the generator seeded by `manualSeed` (or `{ rng }`) and returns it,
 * like PyTorch's `xavier_uniform_(w)`. Fans follow PyTorch: for a weight [out, in, ...kernel],
 * fanIn = in · Π kernel and fanOut = out · Π kernel (rank ≥ 2).
 */
import { describeValue, formatShape, formatValue, full, Random, type Tensor } from "@chainrule/ir";
import { AutogradError } from "../imperative/errors.js";
import { Parameter } from "../imperative/variable.js";
import { Buffer, defaultRandom } from "./module.js";

export type Nonlinearity = "linear" | "conv1d" | "conv2d" | "conv3d" | "sigmoid" | "tanh" | "relu" | "leakyRelu" | "selu";
export type FanMode = "fanIn" | "fanOut";

type Target = Parameter | Buffer;

function checkTarget(op: string, target: unknown): Target {
  if (!(target instanceof Parameter) && !(target instanceof Buffer)) {
    throw new AutogradError("ARGUMENT", `init.${op}: expected a Parameter or a Buffer, got ${describeValue(target)}`);
  }
  return target;
}

function rngOf(op: string, rng: unknown): Random {
  if (rng === undefined) return defaultRandom();
  if (!(rng instanceof Random))
    throw new AutogradError("ARGUMENT", `init.${op}: expected options.rng to be a Random, got ${describeValue(rng)}`);
  return rng;
}

function numberOf(op: string, name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new AutogradError("ARGUMENT", `init.${op}: expected ${name} to be a finite number, got ${describeValue(v)}`);
  }
  return v;
}

/** PyTorch's `_calculate_fan_in_and_fan_out`: [fanIn, fanOut] of a weight of rank ≥ 2. */
export function fans(op: string, shape: readonly number[]): [number, number] {
  if (shape.length < 2) {
    throw new AutogradError("ARGUMENT", `init.${op}: expected a weight of rank ≥ 2 to compute its fans, got shape ${formatShape(shape)}`);
  }
  const receptive = shape.slice(2).reduce((p, d) => p * d, 1);
  return [shape[1]! * receptive, shape[0]! * receptive];
}

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for linear, conv and
 * sigmoid; 5/3 for tanh; √2 for relu; √(2 / (1 + slope²)) for leakyRelu (slope 0.01 by default);
 * 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv1d":
    case "conv2d":
    case "conv3d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leakyRelu": {
      const slope = numberOf("calculateGain", "the negative slope", param, 0.01);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new AutogradError(
        "ARGUMENT",
        `init.calculateGain: expected a nonlinearity among linear, conv1d, conv2d, conv3d, sigmoid, tanh, relu, leakyRelu, selu, ` +
          `got ${formatValue(nonlinearity)}`,
      );
  }
}

function fill(target: Target, value: Tensor): Target {
  if (target instanceof Parameter) target.value = value;
  else target.value = value;
  return target;
}

function uniformFill(op: string, t: unknown, bound: number, rng: unknown, low = -bound): Target {
  const target = checkTarget(op, t);
  const { shape, dtype } = target.value;
  return fill(target, rngOf(op, rng).uniform(shape, { low, high: bound, dtype }));
}

function normalFill(op: string, t: unknown, mean: number, std: number, rng: unknown): Target {
  const target = checkTarget(op, t);
  const { shape, dtype } = target.value;
  return fill(target, rngOf(op, rng).normal(shape, { mean, std, dtype }));
}

interface GainOptions {
  readonly gain?: number;
  readonly rng?: Random;
}

interface KaimingOptions {
  /** The negative slope of the leaky ReLU after this layer (0: ReLU). */
  readonly a?: number;
  readonly mode?: FanMode;
  readonly nonlinearity?: Nonlinearity;
  readonly rng?: Random;
}

/** The std of a Kaiming initialisation: gain / √fan (fan by `mode`, fanIn by default). */
function kaimingStd(op: string, shape: readonly number[], options: KaimingOptions): number {
  const mode = options.mode ?? "fanIn";
  if (mode !== "fanIn" && mode !== "fanOut") {
    throw new AutogradError("ARGUMENT", `init.${op}: expected mode "fanIn" or "fanOut", got ${formatValue(mode)}`);
  }
  const [fanIn, fanOut] = fans(op, shape);
  const gain = calculateGain(options.nonlinearity ?? "leakyRelu", options.a ?? 0);
  return gain / Math.sqrt(mode === "fanIn" ? fanIn : fanOut);
}

const shapeOf = (op: string, t: unknown) => checkTarget(op, t).value.shape;

/**
 * The initialisers of torch.nn.init, each filling its first argument in place and returning it:
 * `init.xavierUniform(w, { gain })` U(−a, a) with a = gain·√(6 / (fanIn + fanOut));
 * `init.xavierNormal(w, { gain })` N(0, gain²·2 / (fanIn + fanOut));
 * `init.kaimingUniform(w, { a, mode, nonlinearity })` U(−b, b) with b = √3 · gain / √fan;
 * `init.kaimingNormal(w, { a, mode, nonlinearity })` N(0, gain² / fan) (gain by `calculateGain`,
 * leakyRelu with slope a = 0 by default, mode fanIn); `init.uniform(w, low, high)`,
 * `init.normal(w, mean, std)`, `init.constant(w, value)`, `init.zeros(w)`, `init.ones(w)`.
 */
export const init = Object.freeze({
  calculateGain,
  xavierUniform(t: Parameter | Buffer, options: GainOptions = {}): Target {
    const [fanIn, fanOut] = fans("xavierUniform", shapeOf("xavierUniform", t));
    const gain = numberOf("xavierUniform", "gain", options.gain, 1);
    return uniformFill("xavierUniform", t, gain * Math.sqrt(6 / (fanIn + fanOut)), options.rng);
  },
  xavierNormal(t: Parameter | Buffer, options: GainOptions = {}): Target {
    const [fanIn, fanOut] = fans("xavierNormal", shapeOf("xavierNormal", t));
    const gain = numberOf("xavierNormal", "gain", options.gain, 1);
    return normalFill("xavierNormal", t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), options.rng);
  },
  kaimingUniform(t: Parameter | Buffer, options: KaimingOptions = {}): Target {
    const std = kaimingStd("kaimingUniform", shapeOf("kaimingUniform", t), options);
    return uniformFill("kaimingUniform", t, Math.sqrt(3) * std, options.rng);
  },
  kaimingNormal(t: Parameter | Buffer, options: KaimingOptions = {}): Target {
    const std = kaimingStd("kaimingNormal", shapeOf("kaimingNormal", t), options);
    return normalFill("kaimingNormal", t, 0, std, options.rng);
  },
  uniform(t: Parameter | Buffer, low = 0, high = 1, options: { rng?: Random } = {}): Target {
    const lo = numberOf("uniform", "low", low, 0);
    const hi = numberOf("uniform", "high", high, 1);
    if (!(lo < hi)) throw new AutogradError("ARGUMENT", `init.uniform: expected low < high, got ${lo} and ${hi}`);
    return uniformFill("uniform", t, hi, options.rng, lo);
  },
  normal(t: Parameter | Buffer, mean = 0, std = 1, options: { rng?: Random } = {}): Target {
    return normalFill("normal", t, numberOf("normal", "mean", mean, 0), numberOf("normal", "std", std, 1), options.rng);
  },
  constant(t: Parameter | Buffer, value: number): Target {
    const target = checkTarget("constant", t);
    const { shape, dtype } = target.value;
    return fill(target, full(shape, numberOf("constant", "value", value, 0), dtype));
  },
  zeros(t: Parameter | Buffer): Target {
    return init.constant(checkTarget("zeros", t), 0);
  },
  ones(t: Parameter | Buffer): Target {
    return init.constant(checkTarget("ones", t), 1);
  },
});
