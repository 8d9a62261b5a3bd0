/** Turning user arguments (numbers, nested arrays, Tensors, tracers) into operands of one dtype. */
import { allocate, isFloat, promoteTypes, type DType, type TypedArray } from "./dtype.js";
import { ArgumentError, describeValue } from "./errors.js";
import { bind } from "./trace.js";
import { createTensor, Tensor, type NestedArray } from "./tensor.js";

/** Anything an op accepts as a tensor operand. JS numbers are "weakly typed": they take the dtype of the other operands. */
export type TensorLike = Tensor | number | boolean | NestedArray | TypedArray;

function scalarOf(value: number, dtype: DType): Tensor {
  const data = allocate(dtype, 1);
  data[0] = value;
  return new Tensor(dtype, [], data);
}

/** Casts when needed (through `bind`, so it is differentiable and traceable). */
export function castTo(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : bind("cast", [x], { dtype });
}

/** One operand on its own: numbers become float64, nested arrays float64 (bool for booleans). */
export function toOperand(op: string, value: unknown): Tensor {
  if (value instanceof Tensor) return value;
  if (typeof value === "number") return scalarOf(value, "float64");
  if (value === undefined || value === null || typeof value === "string" || typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") {
    throw new ArgumentError(`${op}: expected a number, Tensor or nested array, got ${describeValue(value)}`);
  }
  return createTensor(op, value);
}

/**
 * Several operands brought to one dtype: the promotion of the Tensor operands (bool < int32 <
 * float32 < float64); JS numbers and nested arrays adopt it (float64 when a non-integer number
 * meets int32 or when there is no Tensor at all).
 */
export function toOperands(op: string, values: readonly unknown[]): Tensor[] {
  // fast path: tensors of one dtype
  if (values.length === 2) {
    const a = values[0];
    const b = values[1];
    if (a instanceof Tensor && b instanceof Tensor && a.dtype === b.dtype) return [a, b];
  }
  let strong: DType | undefined;
  let needsFloat = false;
  for (const value of values) {
    if (value instanceof Tensor) strong = strong === undefined ? value.dtype : promoteTypes(strong, value.dtype);
    else if (typeof value === "number" && !Number.isInteger(value)) needsFloat = true;
  }
  let dtype: DType = strong ?? "float64";
  if (needsFloat && !isFloat(dtype)) dtype = "float64";
  const out: Tensor[] = [];
  for (const value of values) {
    if (value instanceof Tensor) out.push(castTo(value, dtype));
    else if (typeof value === "number") out.push(scalarOf(value, dtype === "bool" ? "float64" : dtype));
    else if (typeof value === "boolean" && dtype === "bool") out.push(scalarOf(value ? 1 : 0, "bool"));
    else {
      const t = toOperand(op, value);
      out.push(t.dtype === dtype ? t : createTensor(op, t, { dtype }));
    }
  }
  // a number meeting bool tensors makes float64: cast the bool tensors up
  const final = out.reduce<DType>((d, t) => promoteTypes(d, t.dtype), out[0]?.dtype ?? "float64");
  return out.map((t) => castTo(t, final));
}

/** For float-only ops: int32/bool operands are promoted to float64. */
export function toFloat(x: Tensor): Tensor {
  return isFloat(x.dtype) ? x : castTo(x, "float64");
}
