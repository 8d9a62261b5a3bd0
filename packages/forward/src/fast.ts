/**
 * Typed-array tangent kernels for elementwise primitives when every operand is concrete (the
 * innermost level: plain numbers flowing). They compute exactly what the rules in rules.ts
 * compute, in one loop over the k stacked directions, without creating intermediate tensors —
 * this keeps the per-operation overhead of scalar code small (W1). Binary ops take the fast path
 * when each operand is full-size or a single element; other broadcasts use the generic rule.
 */
import { evalPrimitive, sizeOf, Tensor, Tracer, type Aval, type Primitive, type TypedArray } from "@chainrule/ir";
import type { Tangent } from "./rules.js";

/** Returns [primal, tangent] or undefined when the generic rule should run instead. */
export type FastRule = (x: readonly Tensor[], dx: readonly Tangent[], out: Aval, k: number, params: never) => [Tensor, Tensor] | undefined;

function allocate(dtype: Aval["dtype"], size: number): TypedArray {
  return dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
}

/** t · f with 0 · ±∞ = 0 · NaN = 0 (the NaN-safe product of rules.ts `scale`). */
function safe(t: number, f: number): number {
  const v = t * f;
  return v === v ? v : t === 0 ? 0 : v;
}

type UnaryFactor = (x: TypedArray, y: TypedArray, f: Float64Array) => void;

function unaryFast(prim: Primitive, factor: UnaryFactor): FastRule {
  return (x, dx, out, k) => {
    if (out.dtype !== "float64" && out.dtype !== "float32") return undefined;
    const input = x[0]!;
    const y = evalPrimitive(prim, [input], {} as never, out);
    const n = input.size;
    const f = new Float64Array(n);
    factor(input.data, y.data, f);
    const t = dx[0]!.data;
    const r = allocate(out.dtype, k * n);
    for (let j = 0, o = 0; j < k; j++) for (let i = 0; i < n; i++, o++) r[o] = safe(t[o]!, f[i]!);
    return [y, new Tensor(out.dtype, [k, ...out.shape], r)];
  };
}

type BinaryFactors = (
  a: TypedArray,
  sa: number,
  b: TypedArray,
  sb: number,
  y: TypedArray,
  n: number,
) => [TypedArray, number, TypedArray, number];

/**
 * A binary rule: `factors` gives, per output element, the derivative with respect to each
 * operand as (array, stride); `undefined` factors mean ±1 (add/sub).
 */
function binaryFast(prim: Primitive, factors: BinaryFactors | undefined, signB = 1): FastRule {
  return (x, dx, out, k) => {
    if (out.dtype !== "float64" && out.dtype !== "float32") return undefined;
    const a = x[0]!;
    const b = x[1]!;
    const n = sizeOf(out.shape);
    const na = a.size;
    const nb = b.size;
    if ((na !== n && na !== 1) || (nb !== n && nb !== 1)) return undefined;
    const y = evalPrimitive(prim, [a, b], {} as never, out);
    const sa = na === 1 ? 0 : 1;
    const sb = nb === 1 ? 0 : 1;
    const ta = dx[0] === null ? undefined : dx[0]!.data;
    const tb = dx[1] === null ? undefined : dx[1]!.data;
    const r = allocate(out.dtype, k * n);
    if (sa === 1 && sb === 1 && ta !== undefined && tb !== undefined) {
      // the common case: two full operands, both with tangents
      const m = k * n;
      if (factors === undefined) {
        if (signB === 1) for (let o = 0; o < m; o++) r[o] = ta[o]! + tb[o]!;
        else for (let o = 0; o < m; o++) r[o] = ta[o]! - tb[o]!;
      } else {
        const [fa, , fb] = factors(a.data, sa, b.data, sb, y.data, n);
        for (let j = 0, o = 0; j < k; j++) for (let i = 0; i < n; i++, o++) r[o] = safe(ta[o]!, fa[i]!) + safe(tb[o]!, fb[i]!);
      }
    } else if (factors === undefined) {
      for (let j = 0, o = 0; j < k; j++) {
        const ja = j * na;
        const jb = j * nb;
        if (ta !== undefined && tb !== undefined) for (let i = 0; i < n; i++, o++) r[o] = ta[ja + i * sa]! + signB * tb[jb + i * sb]!;
        else if (ta !== undefined) for (let i = 0; i < n; i++, o++) r[o] = ta[ja + i * sa]!;
        else for (let i = 0; i < n; i++, o++) r[o] = signB * tb![jb + i * sb]!;
      }
    } else {
      const [fa, sfa, fb, sfb] = factors(a.data, sa, b.data, sb, y.data, n);
      for (let j = 0, o = 0; j < k; j++) {
        const ja = j * na;
        const jb = j * nb;
        if (ta !== undefined && tb !== undefined) {
          for (let i = 0; i < n; i++, o++) r[o] = safe(ta[ja + i * sa]!, fa[i * sfa]!) + safe(tb[jb + i * sb]!, fb[i * sfb]!);
        } else if (ta !== undefined) {
          for (let i = 0; i < n; i++, o++) r[o] = safe(ta[ja + i * sa]!, fa[i * sfa]!);
        } else {
          for (let i = 0; i < n; i++, o++) r[o] = safe(tb![jb + i * sb]!, fb[i * sfb]!);
        }
      }
    }
    return [y, new Tensor(out.dtype, [k, ...out.shape], r)];
  };
}

/** Weights of maximum (sign 1) or minimum (sign −1): 1 where a wins, ½ at a tie, 0 where it loses. */
function extremumFactors(sign: 1 | -1): BinaryFactors {
  return (a, sa, b, sb, _y, n) => {
    const fa = new Float64Array(n);
    const fb = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = a[i * sa]!;
      const v = b[i * sb]!;
      const w = sign * (u - v) > 0 ? 1 : u === v ? 0.5 : 0;
      fa[i] = w;
      fb[i] = 1 - w;
    }
    return [fa, 1, fb, 1];
  };
}

/** Σ over trailing axes of `[rows, inner]` data: one sum per row. */
function rowSums(t: TypedArray, rows: number, inner: number, r: TypedArray): void {
  for (let j = 0, o = 0; j < rows; j++) {
    let acc = 0;
    for (let i = 0; i < inner; i++, o++) acc += t[o]!;
    r[j] = acc;
  }
}

/**
 * Elementwise primitives, plus reduceSum over trailing axes and slices along the first axis
 * (Rosenbrock-like code); every other primitive, or another layout, always uses its rule.
 */
export const FAST_RULES: Partial<Record<Primitive, FastRule>> = {
  neg: (x, dx, out, k) => {
    if (out.dtype !== "float64" && out.dtype !== "float32") return undefined;
    const y = evalPrimitive("neg", [x[0]!], {}, out);
    const t = dx[0]!.data;
    const r = allocate(out.dtype, t.length);
    for (let i = 0; i < t.length; i++) r[i] = -t[i]!;
    return [y, new Tensor(out.dtype, [k, ...out.shape], r)];
  },
  exp: unaryFast("exp", (_x, y, f) => f.set(y)),
  log: unaryFast("log", (x, _y, f) => {
    for (let i = 0; i < f.length; i++) f[i] = 1 / x[i]!;
  }),
  log1p: unaryFast("log1p", (x, _y, f) => {
    for (let i = 0; i < f.length; i++) f[i] = 1 / (x[i]! + 1);
  }),
  expm1: unaryFast("expm1", (_x, y, f) => {
    for (let i = 0; i < f.length; i++) f[i] = y[i]! + 1;
  }),
  sin: unaryFast("sin", (x, _y, f) => {
    for (let i = 0; i < f.length; i++) f[i] = Math.cos(x[i]!);
  }),
  cos: unaryFast("cos", (x, _y, f) => {
    for (let i = 0; i < f.length; i++) f[i] = -Math.sin(x[i]!);
  }),
  tanh: unaryFast("tanh", (_x, y, f) => {
    for (let i = 0; i < f.length; i++) f[i] = 1 - y[i]! * y[i]!;
  }),
  sqrt: unaryFast("sqrt", (_x, y, f) => {
    for (let i = 0; i < f.length; i++) f[i] = 0.5 / y[i]!;
  }),
  abs: unaryFast("abs", (x, _y, f) => {
    for (let i = 0; i < f.length; i++) f[i] = Math.sign(x[i]!);
  }),
  add: binaryFast("add", undefined, 1),
  sub: binaryFast("sub", undefined, -1),
  mul: binaryFast("mul", (a, sa, b, sb) => [b, sb, a, sa]),
  div: binaryFast("div", (_a, _sa, b, sb, y, n) => {
    const fa = new Float64Array(n);
    const fb = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = b[i * sb]!;
      fa[i] = 1 / v;
      fb[i] = -(y[i]! / v);
    }
    return [fa, 1, fb, 1];
  }),
  pow: binaryFast("pow", (a, sa, b, sb, y, n) => {
    const fa = new Float64Array(n);
    const fb = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = a[i * sa]!;
      const v = b[i * sb]!;
      fa[i] = v === 0 ? 0 : v * u ** (v - 1);
      fb[i] = u === 0 ? 0 : Math.log(u) * y[i]!;
    }
    return [fa, 1, fb, 1];
  }),
  maximum: binaryFast("maximum", extremumFactors(1)),
  // Σ over trailing axes: each of the k·outer rows of the tangent is summed
  reduceSum: (x, dx, out, k, params: { axes: number[] }) => {
    const input = x[0]!;
    const rank = input.rank;
    const axes = params.axes;
    if (out.dtype !== "float64" && out.dtype !== "float32") return undefined;
    for (let i = 0; i < axes.length; i++) if (axes[i] !== rank - axes.length + i) return undefined;
    const y = evalPrimitive("reduceSum", [input], params, out);
    const inner = input.size / Math.max(1, y.size) || 0;
    const rows = k * y.size;
    const r = allocate(out.dtype, rows);
    if (inner > 0) rowSums(dx[0]!.data, rows, inner, r);
    return [y, new Tensor(out.dtype, [k, ...out.shape], r)];
  },
  // a slice of the first axis only: one contiguous block per direction
  slice: (x, dx, out, k, params: { begin: number[]; end: number[] }) => {
    const input = x[0]!;
    const shape = input.shape;
    for (let i = 1; i < shape.length; i++) if (params.begin[i] !== 0 || params.end[i] !== shape[i]) return undefined;
    if (shape.length === 0) return undefined;
    const y = evalPrimitive("slice", [input], params, out);
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
  minimum: binaryFast("minimum", extremumFactors(-1)),
};

const SCALAR_SHAPE: readonly number[] = Object.freeze([]) as readonly number[];

/**
 * float64 scalars (W1's case): the primal and the k tangents in one switch, straight from the
 * dual inputs, no intermediate arrays. Returns undefined for anything else (tracer primals or
 * tangents, other dtypes, primitives it does not cover, no tangent at all).
 */
export function scalarFast(
  prim: Primitive,
  inputs: readonly { readonly primal: Tensor; readonly tangent: Tangent }[],
  k: number,
  tangentShape: readonly number[],
): [Tensor, Tensor] | undefined {
  const n = inputs.length;
  if (n > 2) return undefined;
  const xa = inputs[0]!;
  if (xa.primal instanceof Tracer || xa.primal.dtype !== "float64" || xa.tangent instanceof Tracer) return undefined;
  const a = xa.primal.data[0]!;
  const ta = xa.tangent === null ? undefined : xa.tangent.data;
  let tb: TypedArray | undefined;
  let y: number;
  let fa: number;
  let fb = 0;
  if (n === 1) {
    switch (prim) {
      case "neg":
        y = -a;
        fa = -1;
        break;
      case "exp":
        y = Math.exp(a);
        fa = y;
        break;
      case "log":
        y = Math.log(a);
        fa = 1 / a;
        break;
      case "sin":
        y = Math.sin(a);
        fa = Math.cos(a);
        break;
      case "cos":
        y = Math.cos(a);
        fa = -Math.sin(a);
        break;
      case "tanh":
        y = Math.tanh(a);
        fa = 1 - y * y;
        break;
      case "sqrt":
        y = Math.sqrt(a);
        fa = 0.5 / y;
        break;
      default:
        return undefined;
    }
  } else {
    const xb = inputs[1]!;
    if (xb.primal instanceof Tracer || xb.tangent instanceof Tracer) return undefined;
    const b = xb.primal.data[0]!;
    tb = xb.tangent === null ? undefined : xb.tangent.data;
    switch (prim) {
      case "add":
        y = a + b;
        fa = 1;
        fb = 1;
        break;
      case "sub":
        y = a - b;
        fa = 1;
        fb = -1;
        break;
      case "mul":
        y = a * b;
        fa = b;
        fb = a;
        break;
      case "div":
        y = a / b;
        fa = 1 / b;
        fb = -(y / b);
        break;
      default:
        return undefined;
    }
  }
  if (ta === undefined && tb === undefined) return undefined;
  const value = new Float64Array(1);
  value[0] = y;
  const r = new Float64Array(k);
  if (ta !== undefined && tb !== undefined) for (let j = 0; j < k; j++) r[j] = safe(ta[j]!, fa) + safe(tb[j]!, fb);
  else if (ta !== undefined) for (let j = 0; j < k; j++) r[j] = safe(ta[j]!, fa);
  else for (let j = 0; j < k; j++) r[j] = safe(tb![j]!, fb);
  return [new Tensor("float64", SCALAR_SHAPE, value), new Tensor("float64", tangentShape, r)];
}
