/** Turning user arguments (numbers, nested arrays, Tensors, tracers) into operands of one dtype. */
import { checkOneCopy } from "./copies.js";
import { allocate, dtypeOfTypedArray, fitsDType, isFloat, promoteTypes, type DType, type TypedArray } from "./dtype.js";
import { ArgumentError, describeValue } from "./errors.js";
import { bind } from "./trace.js";
import { createTensor, Tensor, valueError, type NestedArray } from "./tensor.js";

/** Anything an op accepts as a tensor operand. JS numbers are "weakly typed": they take the dtype of the other operands. */
export type TensorLike = Tensor | number | boolean | NestedArray | TypedArray;

/** A weak JS number as an operand of `dtype`: it must fit (`add(int32Tensor, 2**40)` is an error, as in JAX). */
function scalarOf(op: string, value: number, dtype: DType): Tensor {
  const data = allocate(op, dtype, 1);
  if (dtype === "int32" && !fitsDType(dtype, value)) throw valueError(op, dtype, value, 0, []);
  data[0] = value;
  return new Tensor(dtype, [], data);
}

// weak types (issue 19, xforms): a JS number that a transformation traces stays weakly typed
const weakTensors = new WeakSet<Tensor>();

/**
 * Marks `t` (a tracer standing for a JS number argument, as jit makes) weakly typed: as an
 * operand it takes the other operands' dtype like a non-integer JS number (`add(float32, weak)`
 * is float32), instead of promoting them to its own float64. Returns `t`.
 */
export function markWeak(t: Tensor): Tensor {
  weakTensors.add(t);
  return t;
}

/** Whether `t` was marked weakly typed by `markWeak`. */
export function isWeak(t: Tensor): boolean {
  return weakTensors.has(t);
}

/** Casts when needed (through `bind`, so it is differentiable and traceable). */
export function castTo(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : bind("cast", [x], { dtype });
}

/** One operand on its own: numbers become float64, nested arrays float64 (bool for booleans). */
export function toOperand(op: string, value: unknown): Tensor {
  checkOneCopy(op);
  if (value instanceof Tensor) return value;
  if (typeof value === "number") return scalarOf(op, value, "float64");
  if (
    value === undefined ||
    value === null ||
    typeof value === "string" ||
    typeof value === "function" ||
    typeof value === "symbol" ||
    typeof value === "bigint"
  ) {
    throw new ArgumentError(`${op}: expected a number, Tensor or nested array, got ${describeValue(value)}`);
  }
  return createTensor(op, value);
}

/**
 * Several operands brought to one dtype. Tensors and typed arrays are strongly typed: the result
 * is their promotion (bool < int32 < float32 < float64). JS numbers, booleans and nested arrays
 * are weakly typed: they adopt that dtype, except that a non-integer meeting int32/bool makes
 * float64, and a number meeting only bool makes float64 too. With no strong operand the result
 * is float64 (bool when every operand is boolean).
 */
export function toOperands(op: string, values: readonly unknown[]): Tensor[] {
  checkOneCopy(op);
  // fast path: tensors of one dtype
  if (values.length === 2) {
    const a = values[0];
    const b = values[1];
    if (a instanceof Tensor && b instanceof Tensor && a.dtype === b.dtype) return [a, b];
  }
  let strong: DType | undefined;
  let needsFloat = false;
  let allBoolean = true;
  let weakNumeric = false;
  // weak operands are converted once (as float64, or bool for booleans) and recast below
  const converted: (Tensor | undefined)[] = values.map((value) => {
    if (value instanceof Tensor) {
      allBoolean = false;
      // a weak tensor (a JS number traced by jit) is a weak float, as a non-integer JS number
      if (weakTensors.has(value)) {
        needsFloat = true;
        weakNumeric = true;
        return undefined;
      }
      strong = strong === undefined ? value.dtype : promoteTypes(strong, value.dtype);
      return undefined;
    }
    if (typeof value === "number") {
      if (!Number.isInteger(value)) needsFloat = true;
      allBoolean = false;
      weakNumeric = true;
      return undefined;
    }
    const t = toOperand(op, value);
    if (dtypeOfTypedArray(value) !== undefined) {
      strong = strong === undefined ? t.dtype : promoteTypes(strong, t.dtype);
      allBoolean = false;
    } else if (t.dtype !== "bool") {
      allBoolean = false;
      weakNumeric = true;
      const data = t.data;
      for (let i = 0; i < data.length; i++) {
        if (!Number.isInteger(data[i])) {
          needsFloat = true;
          break;
        }
      }
    }
    return t;
  });
  let dtype: DType = strong ?? (allBoolean ? "bool" : "float64");
  if (needsFloat && !isFloat(dtype)) dtype = "float64";
  if (dtype === "bool" && weakNumeric) dtype = "float64";
  return values.map((value, i) => {
    if (value instanceof Tensor) return castTo(value, dtype);
    if (typeof value === "number") return scalarOf(op, value, dtype);
    const t = converted[i]!;
    return t.dtype === dtype ? t : createTensor(op, t, { dtype });
  });
}

/** For float-only ops: int32/bool operands are promoted to float64. */
export function toFloat(x: Tensor): Tensor {
  return isFloat(x.dtype) ? x : castTo(x, "float64");
}
