/**
 * Params as plain JSON data, to save them beside the optimizer state. Tensor leaves become
 * `{ "$tensor": dtype, "shape": […], "data": […] }`; numbers, arrays and objects stay as they are.
 * JSON keeps every finite float64 (and float32) value exactly; the values JSON cannot hold are the
 * strings "-0", "NaN", "Infinity", "-Infinity" (as in ir's graph JSON), so a round trip is bit-identical.
 */
import { ArgumentError, DTYPES, flatten, Tensor, tensor, unflatten, type DType } from "@chainrule/ir";
import { describeValue } from "./leaves.js";
import type { Json } from "./optimizer.js";
import { isPlainObject, show } from "./validate.js";

type JsonNumber = number | "-0" | "NaN" | "Infinity" | "-Infinity";

function encodeNumber(v: number): JsonNumber {
  if (Object.is(v, -0)) return "-0";
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const FLOAT32_MAX = 3.4028234663852886e38;

/** One number of a leaf or of a tensor of `dtype`, checked to fit that dtype exactly (no truncation, no wrap, no overflow). */
function decodeNumber(v: unknown, path: string, dtype: DType = "float64"): number {
  let x: number;
  if (typeof v === "number") x = v;
  else if (v === "-0" || v === "NaN" || v === "Infinity" || v === "-Infinity") x = v === "-0" ? -0 : Number(v);
  else
    throw new ArgumentError(
      `treeFromJSON: expected a number (or "-0", "NaN", "Infinity", "-Infinity") at ${path}, got ${describeValue(v)}`,
    );
  if (dtype === "int32" && !(Number.isInteger(x) && x >= INT32_MIN && x <= INT32_MAX && !Object.is(x, -0))) {
    throw new ArgumentError(`treeFromJSON: expected an int32 (an integer in [-2^31, 2^31 - 1]) at ${path}, got ${show(v)}`);
  }
  if (dtype === "bool" && x !== 0 && x !== 1) throw new ArgumentError(`treeFromJSON: expected a bool (0 or 1) at ${path}, got ${show(v)}`);
  if (dtype === "float32" && Number.isFinite(x) && Math.abs(x) > FLOAT32_MAX) {
    // Math.fround would round it to ±Infinity: a value no float32 tensor can hold was not written by treeToJSON
    throw new ArgumentError(`treeFromJSON: expected a float32 (|x| ≤ ${FLOAT32_MAX} or a non-finite string) at ${path}, got ${show(v)}`);
  }
  return x;
}

/** Plain JSON data for a pytree of numbers and Tensors. */
export function treeToJSON(tree: unknown): Json {
  const { leaves, def } = flatten(tree, "treeToJSON", "tree");
  const encoded = leaves.map((leaf) =>
    leaf instanceof Tensor
      ? { $tensor: leaf.dtype, shape: leaf.shape.slice(), data: Array.from(leaf.data, encodeNumber) }
      : encodeNumber(leaf),
  );
  return unflatten(def, encoded) as Json;
}

/** Deeper documents are refused (the decoder recurses; a stack overflow is no error message). */
export const MAX_TREE_DEPTH = 1000;

function decodeTensor(value: Record<string, unknown>, path: string): Tensor {
  const fields = Object.keys(value);
  const extra = fields.find((k) => k !== "$tensor" && k !== "shape" && k !== "data");
  if (extra !== undefined) {
    throw new ArgumentError(
      `treeFromJSON: expected an encoded tensor { $tensor, shape, data } at ${path}, got an extra field ${JSON.stringify(extra)}`,
    );
  }
  const dtype = value["$tensor"];
  if (typeof dtype !== "string" || !(DTYPES as readonly string[]).includes(dtype)) {
    throw new ArgumentError(`treeFromJSON: expected ${path}.$tensor to be a dtype (${DTYPES.join(", ")}), got ${show(dtype)}`);
  }
  const shape = value["shape"];
  if (!Array.isArray(shape) || shape.length > 64 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ArgumentError(`treeFromJSON: expected ${path}.shape to be at most 64 integers ≥ 0, got ${show(shape)}`);
  }
  const data = value["data"];
  const size = shape.reduce((n: number, d: number) => n * d, 1);
  if (!Array.isArray(data) || data.length !== size) {
    throw new ArgumentError(
      `treeFromJSON: expected ${path}.data to be an array of ${size} numbers (shape [${shape.join(", ")}]), got ${show(data)}`,
    );
  }
  const values = data.map((v, i) => decodeNumber(v, `${path}.data[${i}]`, dtype as DType));
  return tensor(values, { shape, dtype: dtype as DType });
}

/**
 * The pytree that `treeToJSON` encoded. Every value is checked against what `treeToJSON` writes:
 * int32 data must be integers in range and bool data 0 or 1 (never truncated or wrapped), float32
 * data within float32's range, encoded tensors exactly { $tensor, shape, data } with data of the
 * shape's size, and nesting at most `MAX_TREE_DEPTH` deep. Object keys, `__proto__`,
 * `constructor` and `prototype` included, become plain own data properties of plain objects (as
 * ir's `unflatten` builds them): a `__proto__` key never replaces the prototype of the result.
 */
export function treeFromJSON<T = unknown>(data: Json): T {
  const decode = (value: unknown, path: string, depth: number): unknown => {
    if (depth > MAX_TREE_DEPTH)
      throw new ArgumentError(`treeFromJSON: expected nesting at most ${MAX_TREE_DEPTH} deep, got deeper at ${path}`);
    if (typeof value === "number" || value === null) return value;
    if (typeof value === "string") return decodeNumber(value, path);
    if (Array.isArray(value)) return value.map((v, i) => decode(v, `${path}[${i}]`, depth + 1));
    if (isPlainObject(value)) {
      if (Object.hasOwn(value, "$tensor")) return decodeTensor(value, path);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        // defineProperty, not assignment: `out["__proto__"] = v` would set the prototype
        Object.defineProperty(out, k, {
          value: decode(v, `${path}.${k}`, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    throw new ArgumentError(`treeFromJSON: expected numbers, arrays, objects or encoded tensors at ${path}, got ${show(value)}`);
  };
  return decode(data, "tree", 0) as T;
}
