import { DTypeError } from "./errors.js";

/** Element types. `float64` is the default; `int32` is for indices, `bool` for masks. */
export type DType = "float64" | "float32" | "int32" | "bool";

export const DTYPES: readonly DType[] = ["float64", "float32", "int32", "bool"];

/** Typed-array storage of each dtype (`bool` is stored as 0/1 bytes). */
export type TypedArray = Float64Array | Float32Array | Int32Array | Uint8Array;

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && (DTYPES as readonly string[]).includes(value);
}

export function isFloat(dtype: DType): boolean {
  return dtype === "float64" || dtype === "float32";
}

export function allocate(dtype: DType, size: number): TypedArray {
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
}

/** The dtype whose storage is the given typed array, or undefined. */
export function dtypeOfTypedArray(data: unknown): DType | undefined {
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint8Array) return "bool";
  return undefined;
}

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** The dtype two operands meet at: bool < int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Short names used by printing: f64, f32, i32, bool. */
export const SHORT_DTYPE: Record<DType, string> = { float64: "f64", float32: "f32", int32: "i32", bool: "bool" };

export function assertDType(op: string, value: unknown): DType {
  if (!isDType(value)) {
    throw new DTypeError(`${op}: expected dtype one of ${DTYPES.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value;
}
