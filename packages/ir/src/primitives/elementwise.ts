/**
 * Elementwise primitives: float math, arithmetic with NumPy broadcasting, selection and casts.
 * Each smooth one is its loop plus its derivative as a function of the input x and the output y
 * (for binary ones: its two partials), written once; `unary`/`binary` (define.ts) turn that into
 * the JVP (dx · d), the VJP (ȳ · d, summed back over broadcast axes) and the batching rule, and the
 * engines' scalar fast paths run the same partials on JS numbers.
 */
import { isFloat, type DType } from "../dtype.js";
import { DTypeError } from "../errors.js";
import type { Empty } from "../primitives.js";
import { broadcastShapes } from "../shape.js";
import { castKernel, stopGradientKernel, whereKernel } from "../kernels.js";
import {
  binary,
  elementwiseBatch,
  linearJvp,
  requireSameDtype,
  tieWeight,
  unary,
  unaryConstant,
  ZERO_DERIVATIVE,
  type Definitions,
} from "./define.js";

/** Unary elementwise, float → float (neg, abs, sign also int32). */
export interface UnaryParams {
  neg: Empty;
  exp: Empty;
  log: Empty;
  log1p: Empty;
  expm1: Empty;
  sin: Empty;
  cos: Empty;
  tanh: Empty;
  sqrt: Empty;
  abs: Empty;
  sign: Empty;
}

/** Binary elementwise with NumPy broadcasting, operands of one dtype (div, pow, atan2 float only). */
export interface BinaryParams {
  add: Empty;
  sub: Empty;
  mul: Empty;
  div: Empty;
  pow: Empty;
  maximum: Empty;
  minimum: Empty;
  /** atan2(a, b): the angle of the point (b, a), in [−π, π]. */
  atan2: Empty;
  /** a · b, except 0 where that is NaN because a or b is 0 (0 · ±∞, 0 · NaN): the (co)tangent product. */
  mulNoNan: Empty;
}

export interface ElementwiseParams extends UnaryParams, BinaryParams {
  /** where(cond: bool, a, b), all three broadcast together. */
  where: Empty;
  cast: { dtype: DType };
  /** Identity whose derivative is zero. */
  stopGradient: Empty;
}

export const ELEMENTWISE: Definitions<keyof ElementwiseParams> = {
  neg: unary("neg", {
    domain: "numeric",
    saves: "nothing",
    // d(−x)/dx = −1
    d: () => -1,
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = -x[i]!;
    },
  }),
  exp: unary("exp", {
    domain: "float",
    saves: "output",
    // (eˣ)′ = eˣ = y
    d: (_m, _x, y) => y,
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.exp(x[i]!);
    },
  }),
  log: unary("log", {
    domain: "float",
    saves: "inputs",
    // (log x)′ = 1/x
    d: (m, [x]) => m.div(1, x!),
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.log(x[i]!);
    },
  }),
  log1p: unary("log1p", {
    domain: "float",
    saves: "inputs",
    // (log(1 + x))′ = 1/(1 + x)
    d: (m, [x]) => m.div(1, m.add(x!, 1)),
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.log1p(x[i]!);
    },
  }),
  expm1: unary("expm1", {
    domain: "float",
    saves: "output",
    // (eˣ − 1)′ = eˣ = y + 1
    d: (m, _x, y) => m.add(y, 1),
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.expm1(x[i]!);
    },
  }),
  sin: unary("sin", {
    domain: "float",
    saves: "inputs",
    // sin′ = cos
    d: (m, [x]) => m.cos(x!),
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.sin(x[i]!);
    },
  }),
  cos: unary("cos", {
    domain: "float",
    saves: "inputs",
    // cos′ = −sin
    d: (m, [x]) => m.neg(m.sin(x!)),
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.cos(x[i]!);
    },
  }),
  tanh: unary("tanh", {
    domain: "float",
    saves: "output",
    // tanh′ = 1 − tanh² = 1 − y²
    d: (m, _x, y) => m.sub(1, m.mul(y, y)),
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.tanh(x[i]!);
    },
  }),
  sqrt: unary("sqrt", {
    domain: "float",
    saves: "output",
    // (√x)′ = 1/(2√x) = 0.5/y   (+∞ at 0)
    d: (m, _x, y) => m.div(0.5, y),
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.sqrt(x[i]!);
    },
  }),
  abs: unary("abs", {
    domain: "numeric",
    saves: "inputs",
    // |x|′ = sign(x)   (0 at the kink x = 0)
    d: (m, [x]) => m.sign(x!),
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.abs(x[i]!);
    },
  }),
  // sign′ = 0
  sign: unaryConstant("sign", {
    domain: "numeric",
    loop: (x, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.sign(x[i]!);
    },
  }),
  add: binary("add", {
    domain: "numeric",
    saves: "nothing",
    // ∂(a + b) = (1, 1)
    da: () => 1,
    db: () => 1,
    loop: (a, sa, b, sb, out) => {
      for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! + b[i * sb]!;
    },
  }),
  sub: binary("sub", {
    domain: "numeric",
    saves: "nothing",
    // ∂(a − b) = (1, −1)
    da: () => 1,
    db: () => -1,
    loop: (a, sa, b, sb, out) => {
      for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! - b[i * sb]!;
    },
  }),
  mul: binary("mul", {
    domain: "numeric",
    saves: "inputs",
    // ∂(a·b) = (b, a)
    da: (_m, [, b]) => b!,
    db: (_m, [a]) => a!,
    loop: (a, sa, b, sb, out) => {
      for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! * b[i * sb]!;
    },
  }),
  div: binary("div", {
    domain: "float",
    saves: "inputs and output",
    // ∂(a/b) = (1/b, −(a/b)/b)
    da: (m, [, b]) => m.div(1, b!),
    db: (m, [, b], y) => m.neg(m.div(y, b!)),
    loop: (a, sa, b, sb, out) => {
      for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! / b[i * sb]!;
    },
  }),
  pow: binary("pow", {
    domain: "float",
    saves: "inputs",
    // ∂(aᵇ)/∂a = b·aᵇ⁻¹, 0 at a = b = 0 (aᵇ ≡ 1 along b = 0). Written so its own derivatives are
    // right: along b it is smooth where a ≠ 0 (∂²(aᵇ)/∂a∂b = 1/a at b = 0) and flat where a = 0
    // (taken as 0 there, the limit for b > 1); every branch runs on safe inputs (double where).
    da: (m, [a, b]) => {
      const aZero = m.eq(a!, 0);
      const away = m.mul(b!, m.pow(m.where(aZero, 1, a!), m.sub(b!, 1)));
      const atZero = m.mul(m.stopGradient(b!), m.pow(a!, m.sub(m.where(m.eq(b!, 0), 1, b!), 1)));
      return m.where(aZero, m.where(m.eq(b!, 0), 0, atZero), away);
    },
    // ∂(aᵇ)/∂b = aᵇ·log a, 0 at a = 0 (as JAX), with aᵇ recomputed on a safe base
    db: (m, [a, b]) => {
      const aZero = m.eq(a!, 0);
      const safe = m.where(aZero, 1, a!);
      return m.where(aZero, 0, m.mul(m.pow(safe, b!), m.log(safe)));
    },
    loop: (a, sa, b, sb, out) => {
      for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! ** b[i * sb]!;
    },
  }),
  maximum: binary("maximum", {
    domain: "numeric",
    saves: "inputs",
    // ∂ max(a, b) = (w, 1 − w), w = 1 where a > b, ½ at a tie, 0 where a < b
    da: (m, [a, b]) => tieWeight(m, m.gt(a!, b!), m.eq(a!, b!), a!),
    db: (m, [a, b]) => m.sub(1, tieWeight(m, m.gt(a!, b!), m.eq(a!, b!), a!)),
    loop: (a, sa, b, sb, out) => {
      for (let i = 0; i < out.length; i++) {
        const x = a[i * sa]!;
        const y = b[i * sb]!;
        out[i] = x !== x || y !== y ? NaN : x > y ? x : y;
      }
    },
  }),
  minimum: binary("minimum", {
    domain: "numeric",
    saves: "inputs",
    // ∂ min(a, b) = (w, 1 − w), w = 1 where a < b, ½ at a tie, 0 where a > b
    da: (m, [a, b]) => tieWeight(m, m.lt(a!, b!), m.eq(a!, b!), a!),
    db: (m, [a, b]) => m.sub(1, tieWeight(m, m.lt(a!, b!), m.eq(a!, b!), a!)),
    loop: (a, sa, b, sb, out) => {
      for (let i = 0; i < out.length; i++) {
        const x = a[i * sa]!;
        const y = b[i * sb]!;
        out[i] = x !== x || y !== y ? NaN : x < y ? x : y;
      }
    },
  }),
  atan2: binary("atan2", {
    domain: "float",
    saves: "inputs",
    // ∂ atan2(a, b) = (b, −a) / (a² + b²)   (NaN at the origin, like JAX)
    da: (m, [a, b]) => m.div(b!, m.add(m.mul(a!, a!), m.mul(b!, b!))),
    db: (m, [a, b]) => m.neg(m.div(a!, m.add(m.mul(a!, a!), m.mul(b!, b!)))),
    loop: (a, sa, b, sb, out) => {
      for (let i = 0; i < out.length; i++) out[i] = Math.atan2(a[i * sa]!, b[i * sb]!);
    },
  }),
  mulNoNan: binary("mulNoNan", {
    domain: "numeric",
    saves: "inputs",
    // ∂ mulNoNan(a, b) = (b, a), each product again zero-safe (bilinear, like mul)
    da: (_m, [, b]) => b!,
    db: (_m, [a]) => a!,
    loop: (a, sa, b, sb, out) => {
      for (let i = 0; i < out.length; i++) {
        const x = a[i * sa]!;
        const y = b[i * sb]!;
        const v = x * y;
        out[i] = v === v || (x !== 0 && y !== 0) ? v : 0;
      }
    },
  }),
  where: {
    name: "where",
    arity: 3,
    params: {},
    shape: ([cond, a, b]) => {
      if (cond!.dtype !== "bool") throw new DTypeError(`where: expected a bool condition, got ${cond!.dtype}`);
      const dtype = requireSameDtype("where", [a!, b!]);
      return { shape: broadcastShapes("where", broadcastShapes("where", cond!.shape, a!.shape), b!.shape), dtype };
    },
    kernel: whereKernel,
    // d where(c, a, b) = where(c, da, db)
    jvp: linearJvp("where", [1, 2]),
    // ā = Σ_broadcast where(c, ȳ, 0), b̄ = Σ_broadcast where(c, 0, ȳ)
    vjp: {
      saves: "inputs",
      vjp: (ct, { x }, needs, m) => [
        null,
        needs & 2 ? m.unbroadcast(m.where(x[0]!, ct, 0), x[1]!.shape) : null,
        needs & 4 ? m.unbroadcast(m.where(x[0]!, 0, ct), x[2]!.shape) : null,
      ],
    },
    batch: elementwiseBatch("where"),
  },
  cast: {
    name: "cast",
    arity: 1,
    params: { dtype: "dtype" },
    shape: ([x], { dtype }) => ({ shape: x!.shape, dtype }),
    kernel: castKernel,
    // d cast(x) = cast(dx) between float dtypes; 0 into int32/bool
    jvp: (dx, { params }, ops) => (dx[0] == null || !isFloat(params.dtype) ? null : ops.apply("cast", [dx[0]], params)),
    // x̄ = ȳ cast back to x's float dtype; an integer input gets no cotangent
    vjp: {
      saves: "inputs",
      vjp: (ct, { x }, _needs, m) => [isFloat(x[0]!.dtype) ? m.bind("cast", [ct], { dtype: x[0]!.dtype }) : null],
    },
    batch: elementwiseBatch("cast"),
  },
  // d stopGradient(x) = 0
  stopGradient: {
    name: "stopGradient",
    arity: 1,
    params: {},
    shape: ([x]) => x!,
    kernel: stopGradientKernel,
    ...ZERO_DERIVATIVE,
    batch: elementwiseBatch("stopGradient"),
  },
};
