/**
 * Params as plain JSON data, to save them beside the optimizer state. Tensor leaves become
 * `{ "$tensor": dtype, "shape": […], "data": […] }`; numbers, arrays and objects stay as they are.
 * JSON keeps every finite float64 (and float32) value exactly; the values JSON cannot hold are the
 * strings "-0", "NaN", "Infinity", "-Infinity" (as in ir's graph JSON), so a round trip is bit-identical.
 */
import { ArgumentError, flatten, isFloat, Tensor, tensor, unflatten, type DType } from "@chainrule/ir";
import { describeValue } from "./leaves.js";
import type { Json } from "./optimizer.js";

type JsonNumber = number | "-0" | "NaN" | "Infinity" | "-Infinity";

function encodeNumber(v: number): JsonNumber {
  if (Object.is(v, -0)) return "-0";
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
}

function decodeNumber(v: unknown, path: string): number {
  if (typeof v === "number") return v;
  if (v === "-0") return -0;
  if (v === "NaN" || v === "Infinity" || v === "-Infinity") return Number(v);
  throw new ArgumentError(`treeFromJSON: expected a number (or "-0", "NaN", "Infinity", "-Infinity") at ${path}, got ${describeValue(v)}`);
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

function isEncodedTensor(value: unknown): value is { $tensor: DType; shape: number[]; data: number[] } {
  return value !== null && typeof value === "object" && !Array.isArray(value) && "$tensor" in value;
}

/** The pytree that `treeToJSON` encoded. */
export function treeFromJSON<T = unknown>(data: Json): T {
  const decode = (value: unknown, path: string): unknown => {
    if (typeof value === "number" || value === null) return value;
    if (typeof value === "string") return decodeNumber(value, path);
    if (Array.isArray(value)) return value.map((v, i) => decode(v, `${path}[${i}]`));
    if (isEncodedTensor(value)) {
      const dtype = value.$tensor;
      if (typeof dtype !== "string" || !Array.isArray(value.shape) || !Array.isArray(value.data)) {
        throw new ArgumentError(`treeFromJSON: expected { $tensor, shape, data } at ${path}, got ${describeValue(value)}`);
      }
      const t = tensor(
        value.data.map((v, i) => decodeNumber(v, `${path}.data[${i}]`)),
        { shape: value.shape, dtype },
      );
      if (!isFloat(t.dtype) && t.dtype !== "int32" && t.dtype !== "bool") throw new ArgumentError(`treeFromJSON: unknown dtype at ${path}`);
      return t;
    }
    if (typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = decode(v, `${path}.${k}`);
      return out;
    }
    throw new ArgumentError(`treeFromJSON: expected numbers, arrays, objects or encoded tensors, got ${describeValue(value)} at ${path}`);
  };
  return decode(data, "tree") as T;
}
