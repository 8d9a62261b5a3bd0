import { allocate, assertDType, dtypeOfTypedArray, SHORT_DTYPE, type DType, type TypedArray } from "./dtype.js";
import { checkOneCopy } from "./copies.js";
import { ArgumentError, describeValue, ShapeError } from "./errors.js";
import { checkShape, formatShape, sizeOf, type Shape } from "./shape.js";

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
    throw new TypeError(
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

/** Copies `source` into fresh storage of `dtype` (bool storage holds only 0 and 1). */
function convertData(dtype: DType, source: ArrayLike<number>): TypedArray {
  const data = allocate(dtype, source.length);
  if (dtype === "bool") for (let i = 0; i < source.length; i++) data[i] = source[i] !== 0 ? 1 : 0;
  else if (dtype === "int32") for (let i = 0; i < source.length; i++) data[i] = Math.trunc(source[i]!);
  else if (source instanceof Float64Array || source instanceof Float32Array || source instanceof Int32Array || source instanceof Uint8Array)
    data.set(source);
  else for (let i = 0; i < source.length; i++) data[i] = source[i]!;
  return data;
}

/**
 * Creates a tensor from a number, a boolean, a (rectangular) nested array or a typed array.
 * The dtype defaults to float64 (bool for booleans; the array's own type for typed arrays).
 */
export function tensor(values: NestedArray | TypedArray | Tensor, options: TensorOptions = {}): Tensor {
  return createTensor("tensor", values, options);
}

/** `tensor()` with the calling op's name in its error messages. */
export function createTensor(op: string, values: unknown, options: TensorOptions = {}): Tensor {
  checkOneCopy(op);
  const dtype = options.dtype === undefined ? undefined : assertDType(op, options.dtype);
  if (values instanceof Tensor) {
    const target = dtype ?? values.dtype;
    const shape = options.shape ? checkShape(op, options.shape) : values.shape.slice();
    if (sizeOf(shape) !== values.size) {
      throw new ShapeError(`${op}: expected shape ${formatShape(shape)} to match ${values.size} elements, got ${sizeOf(shape)} elements`);
    }
    return new Tensor(target, shape, convertData(target, values.data));
  }
  const typedDtype = dtypeOfTypedArray(values);
  if (typedDtype !== undefined) {
    const source = values as TypedArray;
    const shape = options.shape ? checkShape(op, options.shape) : [source.length];
    if (sizeOf(shape) !== source.length) {
      throw new ShapeError(`${op}: expected shape ${formatShape(shape)} to match ${source.length} elements, got ${sizeOf(shape)} elements`);
    }
    const target = dtype ?? typedDtype;
    return new Tensor(target, shape, convertData(target, source));
  }
  if (values !== null && typeof values === "object" && !Array.isArray(values)) {
    throw new ArgumentError(`${op}: expected a number, boolean, nested array, typed array or Tensor, got ${describeValue(values)}`);
  }
  const flat: number[] = [];
  const inferred = readNested(op, values, flat);
  const target = dtype ?? (inferred.allBoolean ? "bool" : "float64");
  let shape = inferred.shape;
  if (options.shape) {
    shape = checkShape(op, options.shape);
    if (sizeOf(shape) !== flat.length) {
      throw new ShapeError(`${op}: expected shape ${formatShape(shape)} to match ${flat.length} elements, got ${sizeOf(shape)} elements`);
    }
  }
  return new Tensor(target, shape, convertData(target, flat));
}

/** A rank-0 tensor holding `value` (internal fast path: no checks). */
export function scalar(value: number, dtype: DType = "float64"): Tensor {
  const data = allocate(dtype, 1);
  data[0] = value;
  return new Tensor(dtype, [], data);
}

export function full(shape: readonly number[], value: number, dtype: DType = "float64"): Tensor {
  const checked = checkShape("full", shape);
  if (typeof value !== "number" && typeof value !== "boolean") {
    throw new ArgumentError(`full: expected a number fill value, got ${describeValue(value)}`);
  }
  const data = allocate(assertDType("full", dtype), sizeOf(checked));
  data.fill(dtype === "bool" ? (value ? 1 : 0) : Number(value));
  return new Tensor(dtype, checked, data);
}

export function zeros(shape: readonly number[], dtype: DType = "float64"): Tensor {
  return full(shape, 0, dtype);
}

export function ones(shape: readonly number[], dtype: DType = "float64"): Tensor {
  return full(shape, 1, dtype);
}

/** `arange(stop)`, `arange(start, stop, step?)`: evenly spaced values in [start, stop). */
export function arange(start: number, stop?: number, step = 1, dtype: DType = "float64"): Tensor {
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
  const data = allocate(assertDType("arange", dtype), n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  if (dtype === "bool") for (let i = 0; i < n; i++) data[i] = data[i] !== 0 ? 1 : 0;
  return new Tensor(dtype, [n], data);
}

/** `num` evenly spaced values from start to stop, both included. */
export function linspace(start: number, stop: number, num: number, dtype: DType = "float64"): Tensor {
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
  const data = allocate(assertDType("linspace", dtype), num);
  const step = num > 1 ? (stop - start) / (num - 1) : 0;
  for (let i = 0; i < num; i++) data[i] = i === num - 1 && num > 1 ? stop : start + i * step;
  return new Tensor(dtype, [num], data);
}

/** The n×m identity (m defaults to n). */
export function eye(n: number, m: number = n, dtype: DType = "float64"): Tensor {
  const shape = checkShape("eye", [n, m]);
  const data = allocate(assertDType("eye", dtype), n * m);
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return new Tensor(dtype, shape, data);
}

/** The error for reading a tensor whose buffer was detached (donated or transferred). */
function detached(t: Tensor): ArgumentError {
  return new ArgumentError(
    `data: expected a tensor with readable data, got ${t.dtype}${formatShape(t.shape)} whose buffer was detached: it was donated ` +
      "to a compiled call (jit(f, { donate })) or transferred, and can no longer be read",
  );
}
