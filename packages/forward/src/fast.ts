/**
 * Typed-array fast paths for concrete operands (the innermost level: plain numbers flowing),
 * which keep the per-operation overhead of scalar and small-tensor code low (W1). There is no
 * derivative math here: the elementwise paths run ir's own partials (`definition.elementwise`) —
 * on JS numbers (`NUMBER_MATH`) for float64 scalars, on tensors (`FUSING_MATH`) otherwise — and
 * only fuse the k tangent products and their sum into one loop; fast.test.ts checks them against
 * the generic path for every elementwise primitive. reduceSum over trailing axes and slices along
 * the first axis are layout-only shortcuts of those primitives' batching rules.
 */
import {
  DEFINITIONS,
  evalPrimitive,
  fuse,
  fusedSum,
  FUSING_MATH,
  isPending,
  isScalarArith,
  mulNoNanScalar,
  NUMBER_MATH,
  plainFactor,
  scalarArith,
  sizeOf,
  Tensor,
  Tracer,
  type Aval,
  type Elementwise,
  type Primitive,
  type ScalarArith,
  type TypedArray,
} from "@chainrule/ir";
import type { Tangent } from "./tangents.js";

/** Returns [primal, tangent] or undefined when the generic path should run instead. */
export type FastRule = (x: readonly Tensor[], dx: readonly Tangent[], out: Aval, k: number, params: never) => [Tensor, Tensor] | undefined;

function allocate(dtype: Aval["dtype"], size: number): TypedArray {
  return dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
}

/** t · f as ir's `times` computes it (the shortcuts for ±1, else mulNoNan: 0 · ∞ = 0). */
function times(t: number, f: number): number {
  return f === 1 ? t : f === -1 ? -t : mulNoNanScalar(t, f);
}

/** One operand's tangent term: its k stacked tangents `t` (stride `st` over the n outputs) times a factor. */
interface Term {
  readonly t: TypedArray;
  /** A constant factor, or one per output element. */
  readonly f: number | TypedArray;
  readonly size: number;
  readonly st: number;
}

/** r = ta · ca over the k directions (ca a plain constant: finite, non-zero). */
function scaledByConstant(r: TypedArray, a: Term, ca: number, k: number, n: number): void {
  const [ta, sa, sta] = [a.t, a.size, a.st];
  // float32: the constant as a float32 scalar, as the generic path's mul takes it
  const c = r instanceof Float32Array ? Math.fround(ca) : ca;
  for (let j = 0, o = 0; j < k; j++) for (let e = 0; e < n; e++, o++) r[o] = ta[j * sa + e * sta]! * c;
}

/** r = ta · ca + tb · cb over the k directions (plain constants: add and sub). */
function sumOfScaled(r: TypedArray, a: Term, ca: number, b: Term, cb: number, k: number, n: number): void {
  const [ta, sa, sta] = [a.t, a.size, a.st];
  const [tb, sb, stb] = [b.t, b.size, b.st];
  if (r instanceof Float32Array) {
    // float32: each product rounded, then the sum, as the generic path's mul and add kernels do
    const [fa, fb] = [Math.fround(ca), Math.fround(cb)];
    for (let j = 0, o = 0; j < k; j++) {
      for (let e = 0; e < n; e++, o++) r[o] = Math.fround(ta[j * sa + e * sta]! * fa) + Math.fround(tb[j * sb + e * stb]! * fb);
    }
    return;
  }
  for (let j = 0, o = 0; j < k; j++) for (let e = 0; e < n; e++, o++) r[o] = ta[j * sa + e * sta]! * ca + tb[j * sb + e * stb]! * cb;
}

/**
 * r = mulNoNan(ta, fa) (+ mulNoNan(tb, fb)) over the k directions, factors per element. Plain
 * products first, watching for a NaN or ±∞ (v − v is NaN only then); the zero guard, a branch
 * per element, runs only in the rare pass that needs it. Products are written inline: a helper
 * returning a double would box it on every element.
 */
function productTerms(r: TypedArray, a: Term, fa: TypedArray, b: Term | undefined, fb: TypedArray | undefined, k: number, n: number): void {
  const [ta, sa, sta] = [a.t, a.size, a.st];
  let watch = 0;
  if (b === undefined || fb === undefined) {
    for (let j = 0, o = 0; j < k; j++) {
      for (let e = 0; e < n; e++, o++) {
        const v = ta[j * sa + e * sta]! * fa[e]!;
        r[o] = v;
        watch += v - v;
      }
    }
    if (watch === watch) return;
    for (let j = 0, o = 0; j < k; j++) {
      for (let e = 0; e < n; e++, o++) {
        const u = ta[j * sa + e * sta]!;
        const f = fa[e]!;
        const v = u * f;
        r[o] = v === v || (u !== 0 && f !== 0) ? v : 0;
      }
    }
    return;
  }
  const [tb, sb, stb] = [b.t, b.size, b.st];
  if (r instanceof Float32Array) return productTerms32(r, a, fa, b, fb, k, n);
  for (let j = 0, o = 0; j < k; j++) {
    for (let e = 0; e < n; e++, o++) {
      const v = ta[j * sa + e * sta]! * fa[e]!;
      const z = tb[j * sb + e * stb]! * fb[e]!;
      r[o] = v + z;
      watch += v - v + (z - z);
    }
  }
  if (watch === watch) return;
  for (let j = 0, o = 0; j < k; j++) {
    for (let e = 0; e < n; e++, o++) {
      const u = ta[j * sa + e * sta]!;
      const f = fa[e]!;
      const v = u * f;
      const w = tb[j * sb + e * stb]!;
      const g = fb[e]!;
      const z = w * g;
      r[o] = (v === v || (u !== 0 && f !== 0) ? v : 0) + (z === z || (w !== 0 && g !== 0) ? z : 0);
    }
  }
}

/**
 * The two-term products into float32: each product rounded to float32 before the sum (as the
 * generic path's mulNoNan and add kernels store them), so the result is bitwise theirs.
 */
function productTerms32(r: Float32Array, a: Term, fa: TypedArray, b: Term, fb: TypedArray, k: number, n: number): void {
  const [ta, sa, sta] = [a.t, a.size, a.st];
  const [tb, sb, stb] = [b.t, b.size, b.st];
  for (let j = 0, o = 0; j < k; j++) {
    for (let e = 0; e < n; e++, o++) {
      const u = ta[j * sa + e * sta]!;
      const f = fa[e]!;
      const v = u * f;
      const w = tb[j * sb + e * stb]!;
      const g = fb[e]!;
      const z = w * g;
      r[o] = Math.fround(v === v || (u !== 0 && f !== 0) ? v : 0) + Math.fround(z === z || (w !== 0 && g !== 0) ? z : 0);
    }
  }
}

/** A factor as one value per output element (a constant repeated), for the per-element loop. */
function perElement(f: number | TypedArray, n: number): TypedArray {
  return typeof f === "number" ? new Float64Array(n).fill(f) : f;
}

/** r[j·n + e] = a's term (+ b's term) for the k directions, in one pass. */
function writeTerms(r: TypedArray, a: Term, b: Term | undefined, k: number, n: number): void {
  const fa = a.f;
  const fb = b?.f;
  if (typeof fa === "number" && plainFactor(fa)) {
    if (b === undefined) return scaledByConstant(r, a, fa, k, n);
    if (typeof fb === "number" && plainFactor(fb)) return sumOfScaled(r, a, fa, b, fb, k, n);
  }
  productTerms(r, a, perElement(fa, n), b, fb === undefined ? undefined : perElement(fb, n), k, n);
}

/**
 * An elementwise float primitive on concrete operands, each full-size or one element: ir's
 * partials on the primal tensors, then each output tangent Σᵢ dxᵢ · ∂ᵢ in one pass over the k
 * directions (products as ir's `times` makes them).
 */
function elementwiseFast(prim: Primitive, info: Elementwise): FastRule {
  return (x, dx, out, k) => {
    if (out.dtype !== "float64" && out.dtype !== "float32") return undefined;
    const n = sizeOf(out.shape);
    for (const operand of x) if (operand.size !== n && operand.size !== 1) return undefined;
    const y = evalPrimitive(prim, x, {} as never, out);
    const terms: Term[] = [];
    for (let i = 0; i < x.length; i++) {
      const t = dx[i];
      if (t === null || t === undefined) continue;
      // a factor of several operations is computed in one fused loop when large (FUSING_MATH)
      const f = info.partials[i]!(FUSING_MATH, x, y);
      const size = x[i]!.size;
      terms.push({ t: t.data, f: typeof f === "number" ? f : f.size !== n ? f.data[0]! : f.data, size, st: size === n ? 1 : 0 });
    }
    if (terms.length === 0) return undefined;
    const r = allocate(out.dtype, k * n);
    writeTerms(r, terms[0]!, terms[1], k, n);
    return [y, new Tensor(out.dtype, [k, ...out.shape], r)];
  };
}

/** The full sum of a lazy value, in its fused loop, as a tensor of type `out`. */
function fusedScalar(x: Tensor, out: Aval): Tensor {
  const r = allocate(out.dtype, 1);
  r[0] = fusedSum(x as Parameters<typeof fusedSum>[0]);
  return new Tensor(out.dtype, out.shape, r);
}

/** Σ over trailing axes of `[rows, inner]` data: one sum per row (float32 rounds at each step, as the eager kernel does). */
function rowSums(t: TypedArray, rows: number, inner: number, r: TypedArray): void {
  if (r instanceof Float32Array) {
    for (let j = 0, o = 0; j < rows; j++) {
      let acc = 0;
      for (let i = 0; i < inner; i++, o++) acc = Math.fround(acc + t[o]!);
      r[j] = acc;
    }
    return;
  }
  for (let j = 0, o = 0; j < rows; j++) {
    let acc = 0;
    for (let i = 0; i < inner; i++, o++) acc += t[o]!;
    r[j] = acc;
  }
}

const ELEMENTWISE_FAST = Object.fromEntries(
  (Object.keys(DEFINITIONS) as Primitive[]).flatMap((p) => {
    const info = DEFINITIONS[p].elementwise;
    return info === undefined ? [] : [[p, elementwiseFast(p, info)]];
  }),
) as Partial<Record<Primitive, FastRule>>;

/** Every elementwise float primitive, plus reduceSum over trailing axes and slices along the first axis. */
export const FAST_RULES: Partial<Record<Primitive, FastRule>> = {
  ...ELEMENTWISE_FAST,
  // Σ over trailing axes: each of the k·outer rows of the tangent is summed
  reduceSum: (x, dx, out, k, params: { axes: number[] }) => {
    const input = x[0]!;
    const rank = input.rank;
    const axes = params.axes;
    if (out.dtype !== "float64" && out.dtype !== "float32") return undefined;
    for (let i = 0; i < axes.length; i++) if (axes[i] !== rank - axes.length + i) return undefined;
    // a fused (lazy) operand's full sum runs inside its loop (the kernel's order: the same bits)
    const y = isPending(input) && sizeOf(out.shape) === 1 ? fusedScalar(input, out) : evalPrimitive("reduceSum", [input], params, out);
    const inner = input.size / Math.max(1, y.size) || 0;
    const rows = k * y.size;
    const t = dx[0]!;
    if (rows === 1 && isPending(t)) return [y, fusedScalar(t, { dtype: out.dtype, shape: [1, ...out.shape] })];
    const r = allocate(out.dtype, rows);
    if (inner > 0) rowSums(t.data, rows, inner, r);
    return [y, new Tensor(out.dtype, [k, ...out.shape], r)];
  },
  // a slice of the first axis only: one contiguous block per direction
  slice: (x, dx, out, k, params: { begin: number[]; end: number[] }) => {
    const input = x[0]!;
    const shape = input.shape;
    for (let i = 1; i < shape.length; i++) if (params.begin[i] !== 0 || params.end[i] !== shape[i]) return undefined;
    if (shape.length === 0) return undefined;
    // a lazy block of the operand where ir's fusion takes slices (one contiguous block: k = 1 for the tangents)
    const y = fuse("slice", [input], params) ?? evalPrimitive("slice", [input], params, out);
    if (k === 1) {
      const lazy = fuse("slice", [dx[0]!], { begin: [0, ...params.begin], end: [1, ...params.end] });
      if (lazy !== undefined) return [y, lazy];
    }
    const size = input.size;
    const inner = size / shape[0]! || 0;
    const from = params.begin[0]! * inner;
    const to = params.end[0]! * inner;
    const m = to - from;
    const t = dx[0]!.data;
    const r = t instanceof Float32Array ? new Float32Array(k * m) : new Float64Array(k * m);
    for (let j = 0; j < k; j++) r.set(t.subarray(j * size + from, j * size + to), j * m);
    return [y, new Tensor(out.dtype, [k, ...out.shape], r)];
  },
};

const SCALAR_SHAPE: readonly number[] = Object.freeze([]) as readonly number[];
/** The elementwise form of each primitive that has one (a Map: one lookup per operation). */
const ELEMENTWISE_INFO = new Map<Primitive, Elementwise>(
  (Object.keys(DEFINITIONS) as Primitive[]).flatMap((p) => {
    const info = DEFINITIONS[p].elementwise;
    return info === undefined ? [] : [[p, info] as const];
  }),
);
/** The scalar operands handed to the partials (reused: partials never keep their arguments). */
const XS1 = [0];
const XS2 = [0, 0];

/**
 * float64 scalars (W1's case): the primal by the primitive's own loop and the k tangents from
 * ir's partials on JS numbers, straight from the dual inputs, no intermediate tensors. Returns
 * undefined for anything else (tracer primals or tangents, other dtypes, primitives without
 * elementwise partials, no tangent at all).
 */
export function scalarFast(
  prim: Primitive,
  inputs: readonly { readonly primal: Tensor; readonly tangent: Tangent }[],
  k: number,
  tangentShape: readonly number[],
): [Tensor, Tensor] | undefined {
  if (isScalarArith(prim)) return scalarArithFast(prim, inputs, k, tangentShape);
  const info = ELEMENTWISE_INFO.get(prim);
  if (info === undefined) return undefined;
  const xa = inputs[0]!;
  if (xa.primal instanceof Tracer || xa.primal.dtype !== "float64" || xa.tangent instanceof Tracer) return undefined;
  const ta = xa.tangent === null ? undefined : xa.tangent.data;
  const value = new Float64Array(1);
  let tb: TypedArray | undefined;
  let xs: number[];
  if (info.arity === 1) {
    info.loop(xa.primal.data, value);
    xs = XS1;
    xs[0] = xa.primal.data[0]!;
  } else {
    const xb = inputs[1]!;
    if (xb.primal instanceof Tracer || xb.primal.dtype !== "float64" || xb.tangent instanceof Tracer) return undefined;
    tb = xb.tangent === null ? undefined : xb.tangent.data;
    info.loop(xa.primal.data, 0, xb.primal.data, 0, value);
    xs = XS2;
    xs[0] = xa.primal.data[0]!;
    xs[1] = xb.primal.data[0]!;
  }
  if (ta === undefined && tb === undefined) return undefined;
  const y = value[0]!;
  const r = new Float64Array(k);
  if (ta !== undefined) {
    const fa = info.partials[0](NUMBER_MATH, xs, y);
    for (let j = 0; j < k; j++) r[j] = times(ta[j]!, fa);
  }
  if (tb !== undefined) {
    const fb = info.partials[1]!(NUMBER_MATH, xs, y);
    if (ta !== undefined) for (let j = 0; j < k; j++) r[j] = r[j]! + times(tb[j]!, fb);
    else for (let j = 0; j < k; j++) r[j] = times(tb[j]!, fb);
  }
  return [new Tensor("float64", SCALAR_SHAPE, value), new Tensor("float64", tangentShape, r)];
}

const ARITH = new Float64Array(3);

/** add, sub, mul, neg on float64 scalars: ir's written-out `scalarArith` (value and partials in one call). */
function scalarArithFast(
  prim: ScalarArith,
  inputs: readonly { readonly primal: Tensor; readonly tangent: Tangent }[],
  k: number,
  tangentShape: readonly number[],
): [Tensor, Tensor] | undefined {
  const xa = inputs[0]!;
  const xb = prim === "neg" ? xa : inputs[1]!;
  if (xa.primal instanceof Tracer || xa.primal.dtype !== "float64" || xa.tangent instanceof Tracer) return undefined;
  if (xb.primal instanceof Tracer || xb.primal.dtype !== "float64" || xb.tangent instanceof Tracer) return undefined;
  const ta = xa.tangent === null ? undefined : xa.tangent.data;
  const tb = prim === "neg" || xb.tangent === null ? undefined : xb.tangent.data;
  if (ta === undefined && tb === undefined) return undefined;
  scalarArith(prim, xa.primal.data[0]!, xb.primal.data[0]!, ARITH);
  const fa = ARITH[1]!;
  const fb = ARITH[2]!;
  const value = new Float64Array(1);
  value[0] = ARITH[0]!;
  const r = new Float64Array(k);
  // t · f as ir's `times` (mulNoNan; exact for ±1), written inline so no double is boxed
  if (ta !== undefined && tb !== undefined) {
    for (let j = 0; j < k; j++) {
      const u = ta[j]!;
      const w = tb[j]!;
      const p = u * fa;
      const q = w * fb;
      r[j] = (p === p || (u !== 0 && fa !== 0) ? p : 0) + (q === q || (w !== 0 && fb !== 0) ? q : 0);
    }
  } else {
    const t = ta ?? tb!;
    const f = ta !== undefined ? fa : fb;
    for (let j = 0; j < k; j++) {
      const u = t[j]!;
      const p = u * f;
      r[j] = p === p || (u !== 0 && f !== 0) ? p : 0;
    }
  }
  return [new Tensor("float64", SCALAR_SHAPE, value), new Tensor("float64", tangentShape, r)];
}
