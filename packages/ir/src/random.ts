import { allocate, assertDType, isFloat, type DType } from "./dtype.js";
import { ArgumentError, checkArity, describeValue, DTypeError, formatValue } from "./errors.js";
import { checkOptions } from "./options.js";
import { checkShape, sizeOf } from "./shape.js";
import { Tensor } from "./tensor.js";

/**
 * Seeded random numbers, reproducible on every platform: the generator is xoshiro128**
 * (32-bit integer arithmetic only, so every JS engine gives the same stream), seeded by
 * splitmix32 from a 32-bit integer seed. Uniform doubles take 53 bits from two outputs;
 * normals use the Box–Muller transform (both values of each pair are used).
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new ArgumentError(`Random: expected an integer seed, got ${formatValue(seed)}`);
    let state = seed >>> 0;
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** A standard normal sample (Box–Muller). */
  nextNormal(): number {
    if (this.spareNormal !== undefined) {
      const v = this.spareNormal;
      this.spareNormal = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Uniform samples in [low, high) of a float dtype (default float64). */
  uniform(shape: readonly number[], options?: { low?: number; high?: number; dtype?: DType }): Tensor {
    const { low = 0, high = 1, dtype = "float64" } = checkOptions("randomUniform", options, ["low", "high", "dtype"]);
    checkFinite("randomUniform", { low, high });
    const checked = checkShape("randomUniform", shape);
    const data = allocate("randomUniform", floatDtype("randomUniform", dtype), sizeOf(checked));
    for (let i = 0; i < data.length; i++) data[i] = (low as number) + ((high as number) - (low as number)) * this.nextFloat();
    return new Tensor(dtype as DType, checked, data);
  }

  /** Normal samples with `mean` and `std` of a float dtype (default float64). */
  normal(shape: readonly number[], options?: { mean?: number; std?: number; dtype?: DType }): Tensor {
    const { mean = 0, std = 1, dtype = "float64" } = checkOptions("randomNormal", options, ["mean", "std", "dtype"]);
    checkFinite("randomNormal", { mean, std });
    const checked = checkShape("randomNormal", shape);
    const data = allocate("randomNormal", floatDtype("randomNormal", dtype), sizeOf(checked));
    for (let i = 0; i < data.length; i++) data[i] = (mean as number) + (std as number) * this.nextNormal();
    return new Tensor(dtype as DType, checked, data);
  }
}

/** Samples are floats: truncating them to int32 (or bool) would silently give zeros. */
function floatDtype(op: string, dtype: unknown): DType {
  const checked = assertDType(op, dtype);
  if (!isFloat(checked)) throw new DTypeError(`${op}: expected a float dtype (float64 or float32), got ${checked}`);
  return checked;
}

function checkFinite(op: string, values: Record<string, unknown>): void {
  for (const [name, v] of Object.entries(values)) {
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new ArgumentError(`${op}: expected a finite number ${name}, got ${describeValue(v)}`);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The options of `randomUniform`/`randomNormal`: an object with an integer `seed`, and the rest. */
function seeded(op: string, options: unknown): { seed: number; rest: Record<string, unknown> } {
  const keys = op === "randomUniform" ? ["seed", "low", "high", "dtype"] : ["seed", "mean", "std", "dtype"];
  const { seed, ...rest } = checkOptions(op, options, keys, true);
  if (!Number.isInteger(seed)) throw new ArgumentError(`${op}: expected options.seed to be an integer, got ${describeValue(seed)}`);
  return { seed: seed as number, rest };
}

/** Uniform samples in [low, high) from a fresh generator seeded with `seed`. */
export const randomUniform = checkArity(
  "randomUniform",
  2,
  2,
  (shape: readonly number[], options: { seed: number; low?: number; high?: number; dtype?: DType }): Tensor => {
    const { seed, rest } = seeded("randomUniform", options);
    return new Random(seed).uniform(shape, rest);
  },
);

/** Normal samples (mean, std) from a fresh generator seeded with `seed`. */
export const randomNormal = checkArity(
  "randomNormal",
  2,
  2,
  (shape: readonly number[], options: { seed: number; mean?: number; std?: number; dtype?: DType }): Tensor => {
    const { seed, rest } = seeded("randomNormal", options);
    return new Random(seed).normal(shape, rest);
  },
);
