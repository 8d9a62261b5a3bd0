/**
 * Params and gradients as flat lists of leaves. Optimizer math runs on the leaves' typed arrays
 * (params are concrete Tensors between steps); results are rebuilt with the params' structure,
 * dtypes and shapes: a JS number stays a number, a float32 Tensor stays float32.
 */
import {
  ArgumentError,
  describeTree,
  DTypeError,
  flatten,
  formatShape,
  isFloat,
  NanError,
  sameStructure,
  ShapeError,
  Tensor,
  tensor,
  unflatten,
  type DType,
  type TreeDef,
} from "@chainrule/ir";

/** One parameter leaf: its values (read-only view), dtype and shape, and whether it was a JS number. */
export interface Leaf {
  readonly values: ArrayLike<number>;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly isNumber: boolean;
  readonly path: string;
}

export interface FlatTree {
  readonly def: TreeDef;
  readonly leaves: Leaf[];
}

/** Paths of the leaves of `def` in flatten order (`params.w`, `params[1].b`, …). */
export function leafPaths(def: TreeDef, root: string): string[] {
  const out: string[] = [];
  const walk = (d: TreeDef, path: string): void => {
    if (d.kind === "number" || d.kind === "tensor") out.push(path);
    else if (d.kind === "array") d.children.forEach((c, i) => walk(c, `${path}[${i}]`));
    else if (d.kind === "object") d.children.forEach((c, i) => walk(c, `${path}.${d.keys[i]!}`));
  };
  walk(def, root);
  return out;
}

/** Flattens params: every leaf must be a JS number or a concrete float Tensor. */
export function flattenParams(op: string, params: unknown): FlatTree {
  const { leaves, def } = flatten(params, op, "params");
  const paths = leafPaths(def, "params");
  return {
    def,
    leaves: leaves.map((leaf, i) => {
      const path = paths[i]!;
      if (typeof leaf === "number") {
        if (!Number.isFinite(leaf)) throw new NanError(`${op}: expected finite params, got ${leaf} at ${path}`);
        return { values: [leaf], dtype: "float64", shape: [], isNumber: true, path };
      }
      if (!isFloat(leaf.dtype)) throw new DTypeError(`${op}: expected float params (float64 or float32), got ${leaf.dtype} at ${path}`);
      return { values: leaf.data, dtype: leaf.dtype, shape: leaf.shape, isNumber: false, path };
    }),
  };
}

/** Flattens grads and checks them against the params: same structure, same shapes, finite values. */
export function flattenGrads(op: string, grads: unknown, params: FlatTree): ArrayLike<number>[] {
  const { leaves, def } = flatten(grads, op, "grads");
  if (!sameStructure(params.def, def)) {
    throw new ArgumentError(`${op}: expected grads with the structure of params ${describeTree(params.def)}, got ${describeTree(def)}`);
  }
  return leaves.map((leaf, i) => {
    const param = params.leaves[i]!;
    const path = param.path.replace(/^params/, "grads");
    let values: ArrayLike<number>;
    if (typeof leaf === "number") {
      if (param.shape.length !== 0) {
        throw new ShapeError(`${op}: expected a gradient of shape ${formatShape(param.shape)} at ${path}, got a number`);
      }
      values = [leaf];
    } else {
      if (!(leaf instanceof Tensor)) throw new ArgumentError(`${op}: expected a number or Tensor at ${path}`);
      if (
        leaf.size !== param.values.length ||
        leaf.shape.length !== param.shape.length ||
        leaf.shape.some((d, k) => d !== param.shape[k])
      ) {
        throw new ShapeError(`${op}: expected a gradient of shape ${formatShape(param.shape)} at ${path}, got ${formatShape(leaf.shape)}`);
      }
      values = leaf.data;
    }
    for (let k = 0; k < values.length; k++) {
      const v = values[k]!;
      if (!Number.isFinite(v)) {
        const where = param.shape.length === 0 ? path : `${path} (element ${k})`;
        throw new NanError(`${op}: expected finite gradients, got ${v} at ${where}`);
      }
    }
    return values;
  });
}

/** Rounds to the storage precision of `dtype`: float32 values are kept exactly as float32 stores them. */
export function rounder(dtype: DType): (x: number) => number {
  return dtype === "float32" ? Math.fround : (x: number) => x;
}

/** Rebuilds params of the original structure from new leaf values (numbers stay numbers, dtypes kept). */
export function rebuild<P>(flat: FlatTree, values: readonly ArrayLike<number>[]): P {
  const leaves = flat.leaves.map((leaf, i) => {
    const v = values[i]!;
    if (leaf.isNumber) return v[0]!;
    const data = leaf.dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v);
    return tensor(data, { shape: leaf.shape, dtype: leaf.dtype });
  });
  return unflatten(flat.def, leaves) as P;
}

/** Checks a learning rate (or any hyperparameter that must be a finite number ≥ 0). */
export function checkNonNegative(op: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ArgumentError(
      `${op}: expected ${name} to be a finite number ≥ 0, got ` +
        `${typeof value === "number" ? value : (JSON.stringify(value) ?? String(value))}`,
    );
  }
  return value;
}

/** Checks a hyperparameter in [0, 1) (betas, alpha, …) or [0, 1] when `closed`. */
export function checkUnit(op: string, name: string, value: unknown, closed = false): number {
  const ok = typeof value === "number" && value >= 0 && (closed ? value <= 1 : value < 1);
  if (!ok)
    throw new ArgumentError(
      `${op}: expected ${name} in [0, 1${closed ? "]" : ")"}, got ` +
        `${typeof value === "number" ? value : (JSON.stringify(value) ?? String(value))}`,
    );
  return value as number;
}

/** Short description of a value for error messages (ir's). */
export { describeValue } from "@chainrule/ir";
