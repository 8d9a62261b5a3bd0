import {
  allocate,
  assertDType,
  dtypeOfTypedArray,
  fitsDType,
  INT32_VALUES,
  SHORT_DTYPE,
  storedValue,
  type DType,
  type TypedArray,
} from "./dtype.js";
import { ArgumentError, checkArity, count, describeValue, DTypeError, formatValue, ShapeError } from "./errors.js";
import { MAX_DEPTH } from "./limits.js";
import { checkOptions } from "./options.js";
import { checkOneCopy } from "./copies.js";
import { checkShape, formatShape, sizeOf, type Shape } from "./shape.js";

/** The most JS arrays `toArray()` builds (2²⁴): beyond it the nested form would take minutes and gigabytes. */
export const MAX_NESTED_ARRAYS = 2 ** 24;

/** Nested JS arrays of numbers or booleans, as accepted by `tensor()`. */
export type NestedArray = number | boolean | readonly NestedArray[];

/**
 * An n-dimensional array: a dtype, a shape and contiguous row-major typed-array data.
 * Tensors are immutable by convention: ops never write into their inputs.
 *
 * Inside a transformation, user functions receive `Tracer`s, a subclass that stands for a value
 * being differentiated or traced; they have the same shape/dtype surface.
 */
export class Tensor {
  // `declare`: the constructor's plain assignments create these fields. Emitted class fields would
  // be defined (DefineNamedOwnIC) in this constructor for every subclass too: with five or more
  // Tracer classes alive (forward, reverse, the jit's) V8 sends such a megamorphic define to the
  // runtime on every construction (~0.5 µs per tracer), while megamorphic assignments stay cached.
  declare readonly dtype: DType;
  declare readonly shape: Shape;
  /** @internal storage of concrete tensors; tracers leave it null. */
  declare protected readonly storage: TypedArray | null;

  /** Internal constructor: no validation. Use `tensor()`, `zeros()`, … */
  constructor(dtype: DType, shape: Shape, data: TypedArray | null) {
    this.dtype = dtype;
    this.shape = shape;
    this.storage = data;
  }

  /**
   * The row-major element data. Throws when its buffer was detached (donated to a compiled call
   * with `jit(f, { donate })`, or transferred), rather than reading as empty.
   */
  get data(): TypedArray {
    const data = this.storage!;
    if (data.length === 0 && this.size !== 0) throw detached(this);
    return data;
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  /** The single element as a JS number (booleans as 0/1). */
  item(): number {
    const data = this.data;
    if (data.length !== 1) {
      throw new ShapeError(`item: expected a tensor with exactly one element, got shape ${formatShape(this.shape)}`);
    }
    return data[0]!;
  }

  /** Nested JS arrays (a number for rank 0; booleans for dtype bool). */
  toArray(): NestedArray {
    // an empty tensor can still name billions of empty rows ([2³¹, 0]): building them would hang
    let arrays = 0;
    let rows = 1;
    for (let axis = 0; axis < this.shape.length; axis++) {
      arrays += rows;
      rows *= this.shape[axis]!;
    }
    if (arrays > MAX_NESTED_ARRAYS) {
      throw new ArgumentError(
        `toArray: expected a tensor whose nested-array form has at most ${MAX_NESTED_ARRAYS} arrays, ` +
          `got ${this.typeString()} (${arrays} arrays); read .data instead`,
      );
    }
    const data = this.data;
    const asBool = this.dtype === "bool";
    const shape = this.shape;
    let offset = 0;
    const build = (axis: number): NestedArray => {
      if (axis === shape.length) {
        const v = data[offset++]!;
        return asBool ? v !== 0 : v;
      }
      const out: NestedArray[] = [];
      for (let i = 0; i < shape[axis]!; i++) out.push(build(axis + 1));
      return out;
    };
    return build(0);
  }

  /** `f64[2,3]`-style type string. */
  typeString(): string {
    return `${SHORT_DTYPE[this.dtype]}${formatShape(this.shape)}`;
  }

  describe(): string {
    return `Tensor ${this.typeString()}`;
  }

  toString(): string {
    return `Tensor(${this.typeString()}) ${formatValues(this)}`;
  }

  /** Implicit conversion would silently drop derivatives (`x * 2`), so it is refused. */
  [Symbol.toPrimitive](hint: string): string {
    if (hint === "string") return this.toString();
    throw new ArgumentError(
      `Tensor: cannot convert a ${this.typeString()} tensor to a JS number implicitly ` +
        `(JS operators would lose derivatives); use ops such as add/mul, or .item() to read a value`,
    );
  }

  /** Node's util.inspect: print like toString. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

function formatNumber(value: number, dtype: DType): string {
  if (dtype === "bool") return value ? "true" : "false";
  if (dtype === "int32" || Number.isInteger(value)) return String(value);
  const text = value.toPrecision(6);
  return text.includes("e") ? text : String(Number(text));
}

function formatValues(t: Tensor): string {
  const shape = t.shape;
  const data = t.data;
  const limit = 6;
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  const build = (axis: number, base: number): string => {
    if (axis === shape.length) return formatNumber(data[base]!, t.dtype);
    const n = shape[axis]!;
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      if (n > limit && i === 3) {
        parts.push("…");
        i = n - 3;
      }
      parts.push(build(axis + 1, base + i * strides[axis]!));
    }
    return `[${parts.join(", ")}]`;
  };
  return build(0, 0);
}

export interface TensorOptions {
  shape?: readonly number[];
  dtype?: DType;
}

/**
 * The shape of a nested array, checked to be rectangular: the first element of each level fixes
 * the expected length there and the depth at which numbers sit. Leaves are flattened into `flat`;
 * the result says whether every leaf was a boolean.
 */
function readNested(op: string, values: unknown, flat: number[]): { shape: number[]; allBoolean: boolean } {
  const shape: number[] = [];
  for (let v: unknown = values; Array.isArray(v); v = v[0]) {
    if (shape.length === MAX_DEPTH) {
      throw new ArgumentError(`${op}: expected arrays nested at most ${MAX_DEPTH} levels deep (MAX_DEPTH), got deeper nesting`);
    }
    shape.push(v.length);
    if (v.length === 0) break;
  }
  let allBoolean = true;
  const visit = (value: unknown, path: string, depth: number): void => {
    if (Array.isArray(value)) {
      if (depth === shape.length) {
        throw new ArgumentError(
          `${op}: expected a rectangular nested array, got a ragged array (an array at ${path} where a number was expected)`,
        );
      }
      if (value.length !== shape[depth]) {
        throw new ArgumentError(
          `${op}: expected a rectangular nested array, got a ragged array (length ${value.length} at ${path}, expected ${shape[depth]})`,
        );
      }
      for (let i = 0; i < value.length; i++) visit(value[i], `${path}[${i}]`, depth + 1);
      return;
    }
    if (typeof value !== "number" && typeof value !== "boolean") {
      throw new ArgumentError(`${op}: expected numbers, booleans or nested arrays of them, got ${describeValue(value)} at ${path}`);
    }
    if (depth !== shape.length) {
      throw new ArgumentError(
        `${op}: expected a rectangular nested array, got a ragged array (a scalar at ${path} where an array of depth ` +
          `${shape.length - depth} was expected)`,
      );
    }
    if (typeof value === "boolean") flat.push(value ? 1 : 0);
    else {
      allBoolean = false;
      flat.push(value);
    }
  };
  visit(values, "values", 0);
  return { shape, allBoolean: allBoolean && flat.length > 0 };
}

/**
 * Copies `source` into fresh storage of `dtype`. Values must fit (see `fitsDType`): an int32
 * tensor of `[1.5, 2**40]` is an error naming the first bad element, not a silent `[1, 0]`.
 * Bool storage holds only 0 and 1 (any non-zero value is true).
 */
function convertData(op: string, dtype: DType, source: ArrayLike<number>, shape: Shape): TypedArray {
  const data = allocate(op, dtype, source.length);
  const from = dtypeOfTypedArray(source);
  if (dtype === "bool") for (let i = 0; i < source.length; i++) data[i] = source[i] !== 0 ? 1 : 0;
  else if (dtype === "int32" && from !== "int32" && from !== "bool") {
    for (let i = 0; i < source.length; i++) {
      const v = source[i]!;
      if (!fitsDType(dtype, v)) throw valueError(op, dtype, v, i, shape);
      data[i] = v;
    }
  } else if (from !== undefined) data.set(source as TypedArray);
  else for (let i = 0; i < source.length; i++) data[i] = source[i]!;
  return data;
}

/** The error for a value that does not fit int32, at flat index `index` of a tensor of `shape`. */
export function valueError(op: string, dtype: DType, value: number, index: number, shape: Shape): DTypeError {
  return new DTypeError(
    `${op}: expected ${dtype === "int32" ? INT32_VALUES : `${dtype} values`}, got ${formatValue(value)}${indexSuffix(index, shape)}`,
  );
}

/** ` at index [i, j]`: the multi-index of flat position `index` (nothing for a scalar). */
export function indexSuffix(index: number, shape: Shape): string {
  if (shape.length === 0) return "";
  const position = new Array<number>(shape.length);
  let rest = index;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const dim = shape[axis]!;
    position[axis] = dim === 0 ? 0 : rest % dim;
    rest = dim === 0 ? 0 : Math.floor(rest / dim);
  }
  return ` at index [${position.join(", ")}]`;
}

/**
 * Creates a tensor from a number, a boolean, a (rectangular) nested array or a typed array.
 * The dtype defaults to float64 (bool for booleans; the array's own type for typed arrays).
 * With an int32 `dtype` every value must be an integer in the int32 range: anything else is a
 * `DTypeError` naming the first bad element (use `astype` to truncate floats on purpose). With a
 * bool `dtype` any non-zero value is true.
 */
export const tensor = checkArity(
  "tensor",
  1,
  2,
  (values: NestedArray | TypedArray | Tensor, options?: TensorOptions): Tensor => createTensor("tensor", values, options),
);

/** `tensor()` with the calling op's name in its error messages. */
export function createTensor(op: string, values: unknown, options?: TensorOptions): Tensor {
  checkOneCopy(op);
  const { shape: wantedShape, dtype: wantedDtype } = checkOptions(op, options, ["shape", "dtype"]);
  const dtype = wantedDtype === undefined ? undefined : assertDType(op, wantedDtype);
  const shape = wantedShape === undefined ? undefined : checkShape(op, wantedShape);
  if (values instanceof Tensor) {
    const target = dtype ?? values.dtype;
    const out = shape ?? values.shape.slice();
    if (sizeOf(out) !== values.size) {
      throw new ShapeError(
        `${op}: expected shape ${formatShape(out)} to match ${count(values.size, "element")}, got ${count(sizeOf(out), "element")}`,
      );
    }
    return new Tensor(target, out, convertData(op, target, values.data, out));
  }
  const typedDtype = dtypeOfTypedArray(values);
  if (typedDtype !== undefined) {
    const source = values as TypedArray;
    const out = shape ?? [source.length];
    if (sizeOf(out) !== source.length) {
      throw new ShapeError(
        `${op}: expected shape ${formatShape(out)} to match ${count(source.length, "element")}, got ${count(sizeOf(out), "element")}`,
      );
    }
    const target = dtype ?? typedDtype;
    return new Tensor(target, out, convertData(op, target, source, out));
  }
  if (values !== null && typeof values === "object" && !Array.isArray(values)) {
    throw new ArgumentError(`${op}: expected a number, boolean, nested array, typed array or Tensor, got ${describeValue(values)}`);
  }
  const flat: number[] = [];
  const inferred = readNested(op, values, flat);
  const target = dtype ?? (inferred.allBoolean ? "bool" : "float64");
  if (shape !== undefined && sizeOf(shape) !== flat.length) {
    throw new ShapeError(
      `${op}: expected shape ${formatShape(shape)} to match ${count(flat.length, "element")}, got ${count(sizeOf(shape), "element")}`,
    );
  }
  const out = shape ?? inferred.shape;
  return new Tensor(target, out, convertData(op, target, flat, out));
}

/** A rank-0 tensor holding `value` (an int32 value for int32; dtype default float64). */
export const scalar = checkArity("scalar", 1, 2, (value: number, dtype: DType = "float64"): Tensor => {
  if (typeof value !== "number") throw new ArgumentError(`scalar: expected a number, got ${describeValue(value)}`);
  const data = allocate("scalar", dtype, 1);
  if (!fitsDType(dtype, value)) throw valueError("scalar", dtype, value, 0, []);
  data[0] = storedValue(dtype, value);
  return new Tensor(dtype, [], data);
});

/** A tensor of `shape` filled with `value` (an integer in the int32 range for int32; dtype default float64). */
export const full = checkArity(
  "full",
  2,
  3,
  (shape: readonly number[], value: number, dtype: DType = "float64"): Tensor => filled("full", shape, value, dtype),
);

function filled(op: string, shape: readonly number[], value: number | boolean, dtype: DType): Tensor {
  const checked = checkShape(op, shape);
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new ArgumentError(`${op}: expected a number fill value, got ${describeValue(value)}`);
  }
  const data = allocate(op, assertDType(op, dtype), sizeOf(checked));
  const v = Number(value);
  if (!fitsDType(dtype, v)) throw new DTypeError(`${op}: expected a fill value of ${INT32_VALUES}, got ${formatValue(v)}`);
  // fresh storage is already zero (and left untouched, a huge zeros() costs no memory until written)
  if (v !== 0) data.fill(storedValue(dtype, v));
  return new Tensor(dtype, checked, data);
}

/** A tensor of `shape` filled with zeros. */
export const zeros = checkArity(
  "zeros",
  1,
  2,
  (shape: readonly number[], dtype: DType = "float64"): Tensor => filled("zeros", shape, 0, dtype),
);

/** A tensor of `shape` filled with ones. */
export const ones = checkArity(
  "ones",
  1,
  2,
  (shape: readonly number[], dtype: DType = "float64"): Tensor => filled("ones", shape, 1, dtype),
);

/**
 * `arange(stop)`, `arange(start, stop, step?, dtype?)`: evenly spaced values in [start, stop).
 * With an int32 `dtype` every value must be an int32 (integer start and step, …).
 */
export const arange = checkArity("arange", 1, 4, (start: number, stop?: number, step = 1, dtype: DType = "float64"): Tensor => {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  for (const [name, v] of [
    ["start", start],
    ["stop", stop],
    ["step", step],
  ] as const) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ArgumentError(`arange: expected a finite number ${name}, got ${describeValue(v)}`);
    }
  }
  if (step === 0) throw new ArgumentError("arange: expected a non-zero step, got 0");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate("arange", assertDType("arange", dtype), n);
  for (let i = 0; i < n; i++) {
    const v = start + i * step;
    if (!fitsDType(dtype, v)) throw valueError("arange", dtype, v, i, [n]);
    data[i] = storedValue(dtype, v);
  }
  return new Tensor(dtype, [n], data);
});

/** `num` evenly spaced values from start to stop, both included (int32 values must be integers). */
export const linspace = checkArity("linspace", 3, 4, (start: number, stop: number, num: number, dtype: DType = "float64"): Tensor => {
  for (const [name, v] of [
    ["start", start],
    ["stop", stop],
  ] as const) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ArgumentError(`linspace: expected a finite number ${name}, got ${describeValue(v)}`);
    }
  }
  if (!Number.isInteger(num) || num < 0) {
    throw new ArgumentError(`linspace: expected a non-negative integer count, got ${describeValue(num)}`);
  }
  const data = allocate("linspace", assertDType("linspace", dtype), num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) {
    const v = i === num - 1 && num > 1 ? stop : start + i * step;
    if (!fitsDType(dtype, v)) throw valueError("linspace", dtype, v, i, [num]);
    data[i] = storedValue(dtype, v);
  }
  return new Tensor(dtype, [num], data);
});

/** The n×m identity (m defaults to n). */
export const eye = checkArity("eye", 1, 3, (n: number, m: number = n, dtype: DType = "float64"): Tensor => {
  const shape = checkShape("eye", [n, m]);
  const data = allocate("eye", assertDType("eye", dtype), sizeOf(shape));
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return new Tensor(dtype, shape, data);
});

/** The error for reading a tensor whose buffer was detached (donated or transferred). */
function detached(t: Tensor): ArgumentError {
  return new ArgumentError(
    `data: expected a tensor with readable data, got ${t.dtype}${formatShape(t.shape)} whose buffer was detached: it was donated ` +
      "to a compiled call (jit(f, { donate })) or transferred, and can no longer be read",
  );
}
