/**
 * Numeric helpers on pytrees of numbers and tensors, all in float64 and all eager (plain loops on
 * typed arrays — never engine ops — so the checker cannot share a bug with what it checks).
 */
import { flatten, type Random, Tensor, unflatten, type TreeDef } from "@chainrule/ir";

export type Leaf = number | Tensor;

export interface FlatTree {
  readonly leaves: Leaf[];
  readonly def: TreeDef;
}

export function flat(tree: unknown, what = "value"): FlatTree {
  const { leaves, def } = flatten(tree, "conformance", what);
  return { leaves, def };
}

export function rebuild(def: TreeDef, leaves: readonly Leaf[]): unknown {
  return unflatten(def, leaves);
}

/** The elements of a leaf as float64 numbers (a number is one element). */
export function values(leaf: unknown): Float64Array {
  if (typeof leaf === "number") return Float64Array.of(leaf);
  if (leaf instanceof Tensor) return Float64Array.from(leaf.data as ArrayLike<number>);
  throw new TypeError(`conformance: expected a number or Tensor leaf, got ${String(leaf)}`);
}

export function shapeOf(leaf: Leaf): readonly number[] {
  return typeof leaf === "number" ? [] : leaf.shape;
}

/** All elements of a tree, concatenated in flatten order. */
export function treeValues(tree: unknown): Float64Array {
  const parts = flat(tree).leaves.map(values);
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let k = 0;
  for (const p of parts) {
    out.set(p, k);
    k += p.length;
  }
  return out;
}

/** A leaf like `like` with the given float64 values (keeping a number a number, a dtype its dtype). */
export function withValues(like: Leaf, data: ArrayLike<number>): Leaf {
  if (typeof like === "number") return data[0]!;
  const out = new Tensor(like.dtype, like.shape.slice(), allocateLike(like, data.length));
  for (let i = 0; i < data.length; i++) out.data[i] = data[i]!;
  return out;
}

function allocateLike(like: Tensor, n: number) {
  switch (like.dtype) {
    case "float32":
      return new Float32Array(n);
    case "int32":
      return new Int32Array(n);
    case "bool":
      return new Uint8Array(n);
    default:
      return new Float64Array(n);
  }
}

/** `x + t·v` on trees of the same structure (leaf by leaf). */
export function axpy(x: FlatTree, t: number, v: readonly Float64Array[]): unknown {
  return rebuild(
    x.def,
    x.leaves.map((leaf, i) => {
      const a = values(leaf);
      const b = v[i]!;
      const out = new Float64Array(a.length);
      for (let j = 0; j < a.length; j++) out[j] = a[j]! + t * b[j]!;
      return withValues(leaf, out);
    }),
  );
}

/** Standard normal directions, one array per leaf. */
export function randomDirections(like: readonly Leaf[], rng: Random): Float64Array[] {
  return like.map((leaf) => {
    const n = values(leaf).length;
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = rng.nextNormal();
    return d;
  });
}

export function dotAll(a: readonly Float64Array[], b: readonly Float64Array[]): number {
  let s = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    for (let j = 0; j < x.length; j++) s += x[j]! * y[j]!;
  });
  return s;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

export interface Mismatch {
  /** Element index (flattened over the whole tree) with the worst excess error. */
  readonly index: number;
  readonly got: number;
  readonly expected: number;
  readonly error: number;
  readonly tolerance: number;
}

/**
 * Compares `got` to `expected` element by element with
 * `|gotᵢ − expectedᵢ| ≤ atol + rtol·max(|expectedᵢ|, |gotᵢ|, 0.01·scale)`, where `scale` is the
 * largest finite magnitude in either array (so entries far below the others are not held to a
 * tighter bound than rounding allows), NaN equal to NaN and ±∞ equal only to the same infinity.
 * Returns the worst offending element, or undefined.
 */
export function compare(got: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): Mismatch | undefined {
  if (got.length !== expected.length) {
    return { index: -1, got: got.length, expected: expected.length, error: Infinity, tolerance: 0 };
  }
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    if (Number.isFinite(expected[i]!)) scale = Math.max(scale, Math.abs(expected[i]!));
    if (Number.isFinite(got[i]!)) scale = Math.max(scale, Math.abs(got[i]!));
  }
  let worst: Mismatch | undefined;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const e = expected[i]!;
    const magnitude = Math.max(Number.isFinite(e) ? Math.abs(e) : 0, Number.isFinite(g) ? Math.abs(g) : 0, 0.01 * scale);
    const tolerance = atol + rtol * magnitude;
    let error: number;
    if (Number.isNaN(e) || Number.isNaN(g)) error = Number.isNaN(e) && Number.isNaN(g) ? 0 : Infinity;
    else if (!Number.isFinite(e) || !Number.isFinite(g)) error = e === g ? 0 : Infinity;
    else error = Math.abs(g - e);
    if (error > tolerance && (worst === undefined || error - tolerance > worst.error - worst.tolerance)) {
      worst = { index: i, got: g, expected: e, error, tolerance };
    }
  }
  return worst;
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
}

/** Leaf path names for a tree of arguments ("args[0]", "args[1].w", …). */
export function leafPaths(def: TreeDef, prefix = "args"): string[] {
  const out: string[] = [];
  const walk = (d: TreeDef, path: string) => {
    switch (d.kind) {
      case "number":
      case "tensor":
        out.push(path);
        break;
      case "none":
        break;
      case "array":
        d.children.forEach((c, i) => walk(c, `${path}[${i}]`));
        break;
      case "object":
        d.children.forEach((c, i) => walk(c, `${path}.${d.keys[i]}`));
        break;
    }
  };
  walk(def, prefix);
  return out;
}
