import { ArgumentError, checkArity, DTypeError, formatValue } from "./errors.js";
import { MAX_ELEMENTS } from "./limits.js";

/** Element types. `float64` is the default; `int32` is for indices, `bool` for masks. */
export type DType = "float64" | "float32" | "int32" | "bool";

/** Every dtype (frozen: parsing and validation trust it). */
export const DTYPES: readonly DType[] = Object.freeze(["float64", "float32", "int32", "bool"] as const);

/** Typed-array storage of each dtype (`bool` is stored as 0/1 bytes). */
export type TypedArray = Float64Array | Float32Array | Int32Array | Uint8Array;

export function isDType(value: unknown): value is DType {
  return value === "float64" || value === "float32" || value === "int32" || value === "bool";
}

export function isFloat(dtype: DType): boolean {
  return dtype === "float64" || dtype === "float32";
}

const BYTES: Readonly<Record<DType, number>> = Object.freeze({ float64: 8, float32: 4, int32: 4, bool: 1 });

/**
 * Fresh zeroed storage for `size` elements of `dtype`, the one place ir allocates tensor data.
 * More than `MAX_ELEMENTS` elements, or more than memory allows, is an `ArgumentError` naming
 * `op` and the size (rather than a bare `RangeError: Invalid typed array length`).
 */
export function allocate(op: string, dtype: DType, size: number): TypedArray {
  if (!(size <= MAX_ELEMENTS)) {
    throw new ArgumentError(
      `${op}: expected a tensor of at most ${MAX_ELEMENTS} elements (MAX_ELEMENTS), got ${formatValue(size)} elements`,
    );
  }
  try {
    switch (dtype) {
      case "float64":
        return new Float64Array(size);
      case "float32":
        return new Float32Array(size);
      case "int32":
        return new Int32Array(size);
      case "bool":
        return new Uint8Array(size);
    }
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const gib = (size * BYTES[dtype]) / 2 ** 30;
    throw new ArgumentError(
      `${op}: expected a tensor that fits in memory, got ${size} ${dtype} elements (${gib.toPrecision(3)} GiB): the allocation failed`,
    );
  }
  throw new DTypeError(`${op}: expected dtype one of ${DTYPES.join(", ")}, got ${formatValue(dtype)}`);
}

/** The dtype whose storage is the given typed array, or undefined. */
export function dtypeOfTypedArray(data: unknown): DType | undefined {
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint8Array) return "bool";
  return undefined;
}

const RANK: Readonly<Record<DType, number>> = Object.freeze({ bool: 0, int32: 1, float32: 2, float64: 3 });

/** The dtype two operands meet at: bool < int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Short names used by printing: f64, f32, i32, bool. */
export const SHORT_DTYPE: Readonly<Record<DType, string>> = Object.freeze({ float64: "f64", float32: "f32", int32: "i32", bool: "bool" });

export function assertDType(op: string, value: unknown): DType {
  if (!isDType(value)) {
    throw new DTypeError(`${op}: expected dtype one of ${DTYPES.join(", ")}, got ${formatValue(value)}`);
  }
  return value;
}

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/**
 * Whether `value` can be stored as data of `dtype` without silently changing it: an integer in
 * the int32 range for int32 (`1.5` would become 1, `2**40` would wrap to 0). Floats take any
 * number (float32 rounds, as a cast would), and bool any number (non-zero is true, as in NumPy).
 */
export function fitsDType(dtype: DType, value: number): boolean {
  return dtype !== "int32" || (Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX);
}

/** The stored form of `value` in `dtype`, which it fits: bool storage holds only 0 and 1. */
export function storedValue(dtype: DType, value: number): number {
  return dtype === "bool" ? (value !== 0 ? 1 : 0) : value;
}

/** What `fitsDType` asks of int32 data, for messages. */
export const INT32_VALUES = `int32 values (integers in [${INT32_MIN}, ${INT32_MAX}])`;

// ── the exported versions (index.ts) of the unchecked helpers above ────────────────────────

/** Whether `dtype` is float32 or float64. */
export const publicIsFloat = checkArity("isFloat", 1, 1, (dtype: DType): boolean => isFloat(assertDType("isFloat", dtype)));

/** The dtype two operands meet at: bool < int32 < float32 < float64. */
export const publicPromoteTypes = checkArity(
  "promoteTypes",
  2,
  2,
  (a: DType, b: DType): DType => promoteTypes(assertDType("promoteTypes", a), assertDType("promoteTypes", b)),
);
