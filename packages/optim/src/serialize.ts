/**
 * Params as plain JSON data, to save them beside the optimizer state. Tensor leaves become
 * `{ "$tensor": dtype, "shape": […], "data": […] }`; numbers, arrays and objects stay as they are.
 * JSON keeps every float64 (and float32) value exactly, so a round trip is bit-identical.
 */
import { ArgumentError, flatten, isFloat, Tensor, tensor, unflatten, type DType } from "@chainrule/ir";
import { describeValue } from "./leaves.js";
import type { Json } from "./optimizer.js";

/** Plain JSON data for a pytree of numbers and Tensors (non-finite values are refused: JSON cannot hold them). */
export function treeToJSON(tree: unknown): Json {
  const { leaves, def } = flatten(tree, "treeToJSON", "tree");
  const encoded = leaves.map((leaf, i) => {
    const values = typeof leaf === "number" ? [leaf] : Array.from(leaf.data);
    if (values.some((v) => !Number.isFinite(v))) throw new ArgumentError(`treeToJSON: expected finite values (JSON has no NaN/Infinity), got a non-finite value in leaf ${i}`);
    return leaf instanceof Tensor ? { $tensor: leaf.dtype, shape: leaf.shape.slice(), data: values } : leaf;
  });
  return unflatten(def, encoded) as Json;
}

function isEncodedTensor(value: unknown): value is { $tensor: DType; shape: number[]; data: number[] } {
  return value !== null && typeof value === "object" && !Array.isArray(value) && "$tensor" in value;
}

/** The pytree that `treeToJSON` encoded. */
export function treeFromJSON<T = unknown>(data: Json): T {
  const decode = (value: unknown, path: string): unknown => {
    if (typeof value === "number" || value === null) return value;
    if (Array.isArray(value)) return value.map((v, i) => decode(v, `${path}[${i}]`));
    if (isEncodedTensor(value)) {
      const dtype = value.$tensor;
      if (typeof dtype !== "string" || !Array.isArray(value.shape) || !Array.isArray(value.data)) {
        throw new ArgumentError(`treeFromJSON: expected { $tensor, shape, data } at ${path}, got ${describeValue(value)}`);
      }
      const t = tensor(value.data, { shape: value.shape, dtype });
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
