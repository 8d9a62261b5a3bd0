/**
 * Functional random numbers with explicit keys, like JAX's `jax.random` (family "random", issue
 * 18): a key is an int32 tensor of shape [2]; `split` and `foldIn` derive new keys, and the
 * samplers are pure functions of a key and a shape. Everything is built on the primitive
 * `threefry2x32` (primitives/random.ts), so a jitted step fed a new key each call draws new
 * numbers, and a key gives the same numbers eagerly, in every engine and under the JIT.
 *
 * Counters follow JAX's partitionable scheme (`jax_threefry_partitionable`): the element with
 * flat index i of a sample of any shape is drawn from the cipher of the counter (0, i), so a
 * value does not depend on the shape around it. `split(key, n)` returns the ciphers of (0, 0) …
 * (0, n − 1); `foldIn(key, d)` the cipher of (0, d). Floats are made from whole words (53 bits
 * for float64, 24 for float32), so a uniform sample is exactly a multiple of 2⁻⁵³ (2⁻²⁴) in [0, 1).
 */
import { assertDType, isFloat, type DType } from "./dtype.js";
import { ArgumentError, checkArity, describeValue, DTypeError, formatValue } from "./errors.js";
import { erfinv, floor } from "./math-ops.js";
import { add, astype, concat, div, less, mul, reshape, sub, sum, where } from "./ops.js";
import { checkOptions } from "./options.js";
import { checkShape, formatShape, sizeOf } from "./shape.js";
import { Tensor } from "./tensor.js";
import { bind } from "./trace.js";
import type { TensorLike } from "./coerce.js";
import { toOperand } from "./coerce.js";

const TWO_32 = 4294967296;

/** A key: an int32 tensor of shape [2] (a value made by `random.key`, `split` or `foldIn`). */
function checkKey(op: string, key: unknown): Tensor {
  if (!(key instanceof Tensor) || key.dtype !== "int32" || key.rank !== 1 || key.shape[0] !== 2) {
    const got = key instanceof Tensor ? `a ${key.dtype} tensor of shape ${formatShape(key.shape)}` : describeValue(key);
    throw new ArgumentError(`${op}: expected a key (an int32 tensor of shape [2], from random.key(seed)), got ${got}`);
  }
  return key;
}

/** The key of a seed (a safe integer): its high and low 32-bit words, as JAX's `random.key(seed)`. */
const key = checkArity("random.key", 1, 1, (seed: number): Tensor => {
  if (!Number.isSafeInteger(seed)) throw new ArgumentError(`random.key: expected an integer seed, got ${formatValue(seed)}`);
  const high = Math.floor(seed / TWO_32);
  return new Tensor("int32", [2], Int32Array.from([high | 0, (seed - high * TWO_32) | 0]));
});

/** Counters (0, 0), (0, 1), … (0, n − 1) as an int32 [...shape, 2] tensor. */
function counters(shape: readonly number[]): Tensor {
  const n = sizeOf(shape);
  const data = new Int32Array(2 * n);
  for (let i = 0; i < n; i++) data[2 * i + 1] = i;
  return new Tensor("int32", [...shape, 2], data);
}

/** The cipher of each counter of `shape` under the key: int32 [...shape, 2]. */
function words(k: Tensor, shape: readonly number[]): Tensor {
  return bind("threefry2x32", [k, counters(shape)], {});
}

/** `n` new keys (an int32 tensor [n, 2]; `n` = 2 by default), independent of each other and of the key. */
const split = checkArity("random.split", 1, 2, (k: Tensor, n = 2): Tensor => {
  const checked = checkKey("random.split", k);
  if (!Number.isInteger(n) || n < 0) throw new ArgumentError(`random.split: expected n to be an integer ≥ 0, got ${formatValue(n)}`);
  return words(checked, [n]);
});

/** A new key from a key and a 32-bit integer (a number, or an int32 scalar tensor, which may be traced). */
const foldIn = checkArity("random.foldIn", 2, 2, (k: Tensor, data: TensorLike): Tensor => {
  const checked = checkKey("random.foldIn", k);
  let counter: Tensor;
  if (typeof data === "number") {
    if (!Number.isInteger(data) || data < -(2 ** 31) || data >= TWO_32) {
      throw new ArgumentError(`random.foldIn: expected data to be a 32-bit integer, got ${formatValue(data)}`);
    }
    counter = new Tensor("int32", [2], Int32Array.from([0, data | 0]));
  } else {
    const d = toOperand("random.foldIn", data);
    if (d.dtype !== "int32" || d.rank !== 0) {
      throw new DTypeError(
        `random.foldIn: expected data to be an integer or an int32 scalar, got a ${d.dtype}${formatShape(d.shape)} tensor`,
      );
    }
    counter = concat([new Tensor("int32", [1], new Int32Array(1)), reshape(d, [1])]);
  }
  return bind("threefry2x32", [checked, counter], {});
});

/** The dtype option of a sampler: float64 (the default) or float32. */
function floatDType(op: string, dtype: unknown): DType {
  const checked = assertDType(op, dtype ?? "float64");
  if (!isFloat(checked)) throw new DTypeError(`${op}: expected a float dtype (float64 or float32), got ${checked}`);
  return checked;
}

function finiteOption(op: string, name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new ArgumentError(`${op}: expected ${name} to be a finite number, got ${describeValue(v)}`);
  return v;
}

/**
 * Uniform integers m in [0, 2^bits) (float64 values), one per element of `shape`: the top 27 and
 * 26 bits of the two words (53 bits), or the top 24 bits of the first word.
 */
function uniformIntegers(k: Tensor, shape: readonly number[], bits: 53 | 24): Tensor {
  const w = astype(words(k, shape), "float64");
  const unsigned = where(less(w, 0), add(w, TWO_32), w); // the word as an unsigned integer
  const [divisors, weights] =
    bits === 53
      ? [
          [32, 64],
          [2 ** 26, 1],
        ]
      : [
          [256, 1],
          [1, 0],
        ];
  return sum(mul(floor(div(unsigned, tensorOf(divisors))), tensorOf(weights)), -1);
}

const tensorOf = (values: number[]) => new Tensor("float64", [values.length], Float64Array.from(values));

/** The largest value of `dtype` below `x` (samples must stay below `high` after rounding). */
function floatBelow(x: number, dtype: DType): number {
  if (dtype === "float32") {
    const f = Math.fround(x);
    if (f < x) return f;
    const bits = new Float32Array([f]);
    const view = new Int32Array(bits.buffer);
    view[0] = f > 0 ? view[0]! - 1 : f < 0 ? view[0]! + 1 : -2147483647; // 0 → the smallest negative subnormal
    return bits[0]!;
  }
  const bits = new Float64Array([x]);
  const view = new BigInt64Array(bits.buffer);
  view[0] = x > 0 ? view[0]! - 1n : x < 0 ? view[0]! + 1n : -9223372036854775807n;
  return bits[0]!;
}

type UniformOptions = { low?: number; high?: number; dtype?: DType };

/** Samples uniform in [low, high) (0 and 1 by default), float64 by default or float32. */
const uniform = checkArity("random.uniform", 2, 3, (k: Tensor, shape: readonly number[], options?: UniformOptions): Tensor => {
  const op = "random.uniform";
  const checked = checkKey(op, k);
  const s = checkShape(op, shape);
  const o = checkOptions(op, options, ["low", "high", "dtype"]);
  const low = finiteOption(op, "low", o["low"], 0);
  const high = finiteOption(op, "high", o["high"], 1);
  if (!(low < high)) throw new ArgumentError(`${op}: expected low < high, got low ${low} and high ${high}`);
  const dtype = floatDType(op, o["dtype"]);
  const bits = dtype === "float64" ? 53 : 24;
  const unit = div(uniformIntegers(checked, s, bits), 2 ** bits);
  if (low === 0 && high === 1) return dtype === "float64" ? unit : astype(unit, "float32");
  // low + (high − low)·u may round up to high: clamp to the value below it
  const top = floatBelow(high, dtype);
  const scaled = add(mul(unit, high - low), low);
  return astype(where(less(scaled, top), scaled, top), dtype);
});

type NormalOptions = { mean?: number; std?: number; dtype?: DType };

/**
 * Normal samples (mean 0 and std 1 by default) by inverting the CDF: √2 · erfinv(v) with v
 * uniform on the odd multiples of 2⁻ᵇ in (−1, 1), so v is never ±1 (b = 53 bits, 24 for float32).
 */
const normal = checkArity("random.normal", 2, 3, (k: Tensor, shape: readonly number[], options?: NormalOptions): Tensor => {
  const op = "random.normal";
  const checked = checkKey(op, k);
  const s = checkShape(op, shape);
  const o = checkOptions(op, options, ["mean", "std", "dtype"]);
  const mean = finiteOption(op, "mean", o["mean"], 0);
  const std = finiteOption(op, "std", o["std"], 1);
  const dtype = floatDType(op, o["dtype"]);
  const bits = dtype === "float64" ? 53 : 24;
  const m = uniformIntegers(checked, s, bits);
  // v = (2m + 1 − 2ᵇ) / 2ᵇ, computed as ((m − 2ᵇ⁻¹)·2 + 1) / 2ᵇ: every step exact
  const v = div(add(mul(sub(m, 2 ** (bits - 1)), 2), 1), 2 ** bits);
  const z = mul(erfinv(v), Math.SQRT2);
  const scaled = mean === 0 && std === 1 ? z : add(mul(z, std), mean);
  return dtype === "float64" ? scaled : astype(scaled, "float32");
});

/**
 * Booleans that are true with probability `p` (0.5 by default; a number or a float tensor),
 * of `shape` (p's shape by default): uniform(key, shape) < p, float64 uniforms.
 */
const bernoulli = checkArity("random.bernoulli", 1, 3, (k: Tensor, p: TensorLike = 0.5, shape?: readonly number[]): Tensor => {
  const op = "random.bernoulli";
  const checked = checkKey(op, k);
  const probability = toOperand(op, p);
  if (!isFloat(probability.dtype) && probability.dtype !== "int32") {
    throw new DTypeError(`${op}: expected a numeric probability p, got ${probability.dtype}`);
  }
  const s = shape === undefined ? probability.shape : checkShape(op, shape);
  return less(uniform(checked, s), probability);
});

/**
 * The functional random-number API (JAX's `jax.random`): `random.key(seed)`, `random.split(key,
 * n)`, `random.foldIn(key, data)`, `random.uniform(key, shape, { low, high, dtype })`,
 * `random.normal(key, shape, { mean, std, dtype })`, `random.bernoulli(key, p, shape)`. The
 * stateful `Random` generator stays for eager use.
 */
export const random = Object.freeze({ key, split, foldIn, uniform, normal, bernoulli });
