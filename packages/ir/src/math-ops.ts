/**
 * The math family's user-facing ops (issue 17): elementwise math, predicates and logic. Each is
 * a primitive of primitives/elementwise-math.ts or a composite of existing primitives where that
 * is exact and stable (rsqrt, logaddexp, copysign, isnan, isfinite, isinf, nanToNum and the
 * logic ops). Float ops turn int32 and bool operands into float64, like `exp`.
 */
import { castTo, toFloat, toOperand, toOperands, type TensorLike } from "./coerce.js";
import { isFloat, type DType } from "./dtype.js";
import { ArgumentError, checkArity, describeValue } from "./errors.js";
import { checkOptions } from "./options.js";
import { MAX_POLYGAMMA_ORDER, type MathBinaryParams, type MathUnaryParams } from "./primitives/elementwise-math.js";
import { sizeOf } from "./shape.js";
import { Tensor } from "./tensor.js";
import { bind } from "./trace.js";
import { abs, add, div, equal, exp, less, log1p, maximum, neg, notEqual, sqrt, sub, where } from "./ops.js";

function floatUnary(prim: keyof MathUnaryParams) {
  return checkArity(prim, 1, 1, (x: TensorLike): Tensor => bind(prim, [toFloat(toOperand(prim, x))], {}));
}

function floatBinary(prim: keyof MathBinaryParams) {
  return checkArity(prim, 2, 2, (x: TensorLike, y: TensorLike): Tensor => {
    const [a, b] = toOperands(prim, [x, y]);
    return bind(prim, [toFloat(a!), toFloat(b!)], {});
  });
}

// ── primitives ─────────────────────────────────────────────────────────────────────────────

export const asin = floatUnary("asin");
export const acos = floatUnary("acos");
export const atan = floatUnary("atan");
export const sinh = floatUnary("sinh");
export const cosh = floatUnary("cosh");
export const asinh = floatUnary("asinh");
export const acosh = floatUnary("acosh");
export const atanh = floatUnary("atanh");
/** The error function, 2/√π ∫₀ˣ e^{−t²} dt. */
export const erf = floatUnary("erf");
/** 1 − erf(x), accurate where erf(x) is near 1. */
export const erfc = floatUnary("erfc");
/** The inverse of erf: ±∞ at ±1, NaN outside [−1, 1]. */
export const erfinv = floatUnary("erfinv");
/** log|Γ(x)| (SciPy's gammaln): defined for negative non-integers, +∞ at 0, −1, −2, … */
export const lgamma = floatUnary("lgamma");
export const log2 = floatUnary("log2");
export const log10 = floatUnary("log10");
/** 2ˣ (exact at integers). */
export const exp2 = floatUnary("exp2");
/** The real cube root (negative for negative x). */
export const cbrt = floatUnary("cbrt");
/** Derivative 0. */
export const floor = floatUnary("floor");
/** Derivative 0. */
export const ceil = floatUnary("ceil");
/** Round half to even (NumPy, JAX): round(2.5) = 2, round(−0.5) = −0. Derivative 0. */
export const round = floatUnary("round");
/** Toward zero. Derivative 0. */
export const trunc = floatUnary("trunc");

/** C's fmod: a − trunc(a/b)·b, with the sign of a (JavaScript's %). */
export const fmod = floatBinary("fmod");
/** Python's and NumPy's %: a − floor(a/b)·b, with the sign of b. */
export const remainder = floatBinary("remainder");
/** √(a² + b²) without overflow or underflow. */
export const hypot = floatBinary("hypot");
/** floor(a / b) like NumPy's floor_divide (consistent with remainder: 1 // 0.1 = 9). Derivative 0. */
export const floorDivide = floatBinary("floorDivide");

/** ψ⁽ⁿ⁾(x), the n-th derivative of digamma (n an integer in [0, 170]), as SciPy's polygamma. */
export const polygamma = checkArity("polygamma", 2, 2, (n: number, x: TensorLike): Tensor => {
  if (!Number.isInteger(n) || n < 0 || n > MAX_POLYGAMMA_ORDER) {
    throw new ArgumentError(`polygamma: expected n to be an integer in [0, ${MAX_POLYGAMMA_ORDER}], got ${describeValue(n)}`);
  }
  return bind("polygamma", [toFloat(toOperand("polygamma", x))], { n });
});

/** ψ(x) = Γ′(x)/Γ(x) = polygamma(0, x), defined for negative non-integers as in SciPy. */
export const digamma = checkArity("digamma", 1, 1, (x: TensorLike): Tensor => {
  return bind("polygamma", [toFloat(toOperand("digamma", x))], { n: 0 });
});

// ── composites ─────────────────────────────────────────────────────────────────────────────

/** 1/√x. */
export const rsqrt = checkArity("rsqrt", 1, 1, (x: TensorLike): Tensor => div(1, sqrt(toFloat(toOperand("rsqrt", x)))));

/**
 * log(eᵃ + eᵇ) = max(a, b) + log1p(e^{−|a−b|}): never overflows; where a − b is NaN (equal
 * infinities, or a NaN operand) it is a + b, so logaddexp(−∞, −∞) = −∞.
 */
export const logaddexp = checkArity("logaddexp", 2, 2, (x: TensorLike, y: TensorLike): Tensor => {
  const [a, b] = toOperands("logaddexp", [x, y]).map(toFloat);
  const delta = sub(a!, b!);
  const smooth = add(maximum(a!, b!), log1p(exp(neg(abs(delta)))));
  return where(notEqual(delta, delta), add(a!, b!), smooth);
});

/** |a| with the sign of b, −0 included (copysign(1, −0) = −1). Derivative sign(a)·(±1) in a, 0 in b. */
export const copysign = checkArity("copysign", 2, 2, (x: TensorLike, y: TensorLike): Tensor => {
  const [a, b] = toOperands("copysign", [x, y]).map(toFloat);
  // the sign bit of b: b < 0, or b = −0 (1/b = −∞)
  const negative = where(less(b!, 0), true, less(div(1, b!), 0));
  const magnitude = abs(a!);
  return where(negative, neg(magnitude), magnitude);
});

// ── predicates and logic ───────────────────────────────────────────────────────────────────

function constantBool(x: Tensor, value: boolean): Tensor {
  return new Tensor("bool", x.shape.slice(), new Uint8Array(sizeOf(x.shape)).fill(value ? 1 : 0));
}

/** Whether each element is NaN (bool; false for int32 and bool). */
export const isnan = checkArity("isnan", 1, 1, (x: TensorLike): Tensor => {
  const t = toOperand("isnan", x);
  return isFloat(t.dtype) ? notEqual(t, t) : constantBool(t, false);
});

/** Whether each element is ±∞ (bool; false for int32 and bool). */
export const isinf = checkArity("isinf", 1, 1, (x: TensorLike): Tensor => {
  const t = toOperand("isinf", x);
  return isFloat(t.dtype) ? equal(abs(t), Infinity) : constantBool(t, false);
});

/** Whether each element is finite: not NaN, not ±∞ (bool; true for int32 and bool). */
export const isfinite = checkArity("isfinite", 1, 1, (x: TensorLike): Tensor => {
  const t = toOperand("isfinite", x);
  return isFloat(t.dtype) ? less(abs(t), Infinity) : constantBool(t, true);
});

const LARGEST: Record<"float32" | "float64", number> = { float32: 3.4028234663852886e38, float64: Number.MAX_VALUE };

export interface NanToNumOptions {
  /** Replaces NaN (default 0). */
  nan?: number;
  /** Replaces +∞ (default: the dtype's largest finite value). */
  posinf?: number;
  /** Replaces −∞ (default: minus the dtype's largest finite value). */
  neginf?: number;
}

function replacement(options: Record<string, unknown>, key: keyof NanToNumOptions, fallback: number): number {
  const v = options[key];
  if (v === undefined) return fallback;
  if (typeof v !== "number") throw new ArgumentError(`nanToNum: expected ${key} to be a number, got ${describeValue(v)}`);
  return v;
}

/**
 * NaN, +∞ and −∞ replaced by `nan` (0), `posinf` and `neginf` (± the dtype's largest finite
 * value), like NumPy. Derivative 1 where x is finite, 0 elsewhere. int32 and bool pass through.
 */
export const nanToNum = checkArity("nanToNum", 1, 2, (x: TensorLike, options?: NanToNumOptions): Tensor => {
  const o = checkOptions("nanToNum", options, ["nan", "posinf", "neginf"]);
  const t = toOperand("nanToNum", x);
  const dtype: DType = t.dtype;
  const nan = replacement(o, "nan", 0);
  const largest = dtype === "float32" || dtype === "float64" ? LARGEST[dtype] : 0;
  const posinf = replacement(o, "posinf", largest);
  const neginf = replacement(o, "neginf", -largest);
  if (!isFloat(dtype)) return t;
  const infinite = where(equal(t, Infinity), posinf, where(equal(t, -Infinity), neginf, t));
  return where(notEqual(t, t), nan, infinite);
});

/** Operands as bool: a number is true when non-zero (NaN included), as NumPy's logical ops. */
function truthy(op: string, x: TensorLike): Tensor {
  return castTo(toOperand(op, x), "bool");
}

function logicalBinary(op: string, combine: (a: Tensor, b: Tensor) => Tensor) {
  return checkArity(op, 2, 2, (x: TensorLike, y: TensorLike): Tensor => combine(truthy(op, x), truthy(op, y)));
}

/** a ∧ b (bool, broadcasting). */
export const logicalAnd = logicalBinary("logicalAnd", (a, b) => where(a, b, false));
/** a ∨ b (bool, broadcasting). */
export const logicalOr = logicalBinary("logicalOr", (a, b) => where(a, true, b));
/** a ⊕ b (bool, broadcasting). */
export const logicalXor = logicalBinary("logicalXor", (a, b) => notEqual(a, b));
/** ¬a (bool). */
export const logicalNot = checkArity("logicalNot", 1, 1, (x: TensorLike): Tensor => equal(truthy("logicalNot", x), false));
