/**
 * The math family (issue 17): inverse trigonometric and hyperbolic functions, special functions
 * (erf, erfc, erfinv, lgamma, polygamma), rounding, log2/log10/exp2/cbrt and the float
 * remainders. Primitives where a composite of existing ones would lose accuracy or be far slower;
 * the rest of the family (rsqrt, logaddexp, copysign, the predicates and logic ops) are
 * composites in math-ops.ts. Scalar special functions live once in ../special.ts.
 */
import type { Empty } from "../primitives.js";
import { ArgumentError, formatValue } from "../errors.js";
import { SPECIAL } from "../special.js";
import { allocate } from "../dtype.js";
import { Tensor } from "../tensor.js";
import {
  binary,
  binaryKernel,
  binaryShape,
  elementwiseBatch,
  unary,
  unaryConstant,
  unaryShape,
  ZERO_DERIVATIVE,
  type BinaryLoop,
  type Definitions,
  type PrimitiveDef,
  type UnaryLoop,
} from "./define.js";
import { times } from "./math.js";

/** Unary float → float (floor, ceil, round, trunc have derivative 0). */
export interface MathUnaryParams {
  asin: Empty;
  acos: Empty;
  atan: Empty;
  sinh: Empty;
  cosh: Empty;
  asinh: Empty;
  acosh: Empty;
  atanh: Empty;
  erf: Empty;
  erfc: Empty;
  /** The inverse of erf on (−1, 1). */
  erfinv: Empty;
  /** log|Γ(x)|. */
  lgamma: Empty;
  log2: Empty;
  log10: Empty;
  exp2: Empty;
  cbrt: Empty;
  floor: Empty;
  ceil: Empty;
  /** Round half to even. */
  round: Empty;
  trunc: Empty;
}

/** Binary float with NumPy broadcasting. */
export interface MathBinaryParams {
  /** C's fmod: the sign of the dividend. */
  fmod: Empty;
  /** Python's %: the sign of the divisor. */
  remainder: Empty;
  /** √(a² + b²) without overflow. */
  hypot: Empty;
  /** floor(a / b) as NumPy's floor_divide (derivative 0). */
  floorDivide: Empty;
}

export interface MathParams extends MathUnaryParams, MathBinaryParams {
  /** ψ⁽ⁿ⁾(x), the n-th derivative of digamma (n ≥ 0); digamma is n = 0. */
  polygamma: { n: number };
}

const LN2 = Math.LN2;
const LN10 = Math.LN10;
const TWO_OVER_SQRT_PI = 1.1283791670955126;
const HALF_SQRT_PI = 0.886226925452758;

function map(f: (v: number) => number): UnaryLoop {
  return (x, out) => {
    for (let i = 0; i < out.length; i++) out[i] = f(x[i]!);
  };
}

function map2(f: (a: number, b: number) => number): BinaryLoop {
  return (a, sa, b, sb, out) => {
    for (let i = 0; i < out.length; i++) out[i] = f(a[i * sa]!, b[i * sb]!);
  };
}

/** A float primitive with derivative 0 (rounding). */
function rounding<P extends keyof MathUnaryParams>(name: P, f: (v: number) => number): PrimitiveDef<P> {
  return unaryConstant(name, { domain: "float", loop: map(f) });
}

/**
 * The largest order n of polygamma: n! overflows float64 beyond 170, so higher orders are ±∞ or
 * NaN, and the recurrence's work grows with n (an unbounded n from bad input would hang).
 */
export const MAX_POLYGAMMA_ORDER = 170;

/** polygamma(n, ·): derivative polygamma(n + 1, ·). Written by hand for its param n. */
const POLYGAMMA: PrimitiveDef<"polygamma"> = {
  name: "polygamma",
  arity: 1,
  params: { n: "int" },
  shape: (avals, params) => {
    if (!Number.isInteger(params.n) || params.n < 0 || params.n > MAX_POLYGAMMA_ORDER) {
      throw new ArgumentError(`polygamma: expected n to be an integer in [0, ${MAX_POLYGAMMA_ORDER}], got ${formatValue(params.n)}`);
    }
    return unaryShape("polygamma", "float")(avals, params);
  },
  kernel: ([x], { n }, out) => {
    const data = allocate("polygamma", out.dtype, x!.size);
    for (let i = 0; i < data.length; i++) data[i] = SPECIAL.polygamma(n, x!.data[i]!);
    return new Tensor(out.dtype, out.shape, data);
  },
  // d ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁺¹⁾(x) dx
  jvp: (dx, { x, params }, ops) => (dx[0] == null ? null : times(ops, dx[0], ops.math.polygamma(params.n + 1, x[0]!))),
  // x̄ = ȳ · ψ⁽ⁿ⁺¹⁾(x)
  vjp: { saves: "inputs", vjp: (ct, node, _needs, m) => [times(m, ct, m.polygamma(node.params.n + 1, node.x[0]!))] },
  batch: elementwiseBatch("polygamma"),
};

export const MATH: Definitions<keyof MathParams> = {
  asin: unary("asin", {
    domain: "float",
    saves: "inputs",
    // asin′ = 1/√(1 − x²)
    d: (m, [x]) => m.div(1, m.sqrt(m.sub(1, m.mul(x!, x!)))),
    loop: map(Math.asin),
  }),
  acos: unary("acos", {
    domain: "float",
    saves: "inputs",
    // acos′ = −1/√(1 − x²)
    d: (m, [x]) => m.div(-1, m.sqrt(m.sub(1, m.mul(x!, x!)))),
    loop: map(Math.acos),
  }),
  atan: unary("atan", {
    domain: "float",
    saves: "inputs",
    // atan′ = 1/(1 + x²)
    d: (m, [x]) => m.div(1, m.add(m.mul(x!, x!), 1)),
    loop: map(Math.atan),
  }),
  sinh: unary("sinh", {
    domain: "float",
    saves: "inputs",
    // sinh′ = cosh
    d: (m, [x]) => m.cosh(x!),
    loop: map(Math.sinh),
  }),
  cosh: unary("cosh", {
    domain: "float",
    saves: "inputs",
    // cosh′ = sinh
    d: (m, [x]) => m.sinh(x!),
    loop: map(Math.cosh),
  }),
  asinh: unary("asinh", {
    domain: "float",
    saves: "inputs",
    // asinh′ = 1/√(x² + 1)
    d: (m, [x]) => m.div(1, m.sqrt(m.add(m.mul(x!, x!), 1))),
    loop: map(Math.asinh),
  }),
  acosh: unary("acosh", {
    domain: "float",
    saves: "inputs",
    // acosh′ = 1/(√(x − 1)·√(x + 1))   (factored: accurate near 1)
    d: (m, [x]) => m.div(1, m.mul(m.sqrt(m.sub(x!, 1)), m.sqrt(m.add(x!, 1)))),
    loop: map(Math.acosh),
  }),
  atanh: unary("atanh", {
    domain: "float",
    saves: "inputs",
    // atanh′ = 1/(1 − x²)
    d: (m, [x]) => m.div(1, m.sub(1, m.mul(x!, x!))),
    loop: map(Math.atanh),
  }),
  erf: unary("erf", {
    domain: "float",
    saves: "inputs",
    // erf′ = (2/√π)·e^{−x²}
    d: (m, [x]) => m.mul(m.exp(m.neg(m.mul(x!, x!))), TWO_OVER_SQRT_PI),
    loop: map(SPECIAL.erf),
  }),
  erfc: unary("erfc", {
    domain: "float",
    saves: "inputs",
    // erfc′ = −(2/√π)·e^{−x²}
    d: (m, [x]) => m.mul(m.exp(m.neg(m.mul(x!, x!))), -TWO_OVER_SQRT_PI),
    loop: map(SPECIAL.erfc),
  }),
  erfinv: unary("erfinv", {
    domain: "float",
    saves: "output",
    // erfinv′(x) = (√π/2)·e^{erfinv(x)²} = (√π/2)·e^{y²}
    d: (m, _x, y) => m.mul(m.exp(m.mul(y, y)), HALF_SQRT_PI),
    loop: map(SPECIAL.erfinv),
  }),
  lgamma: unary("lgamma", {
    domain: "float",
    saves: "inputs",
    // (log|Γ|)′ = ψ = polygamma(0, x)
    d: (m, [x]) => m.polygamma(0, x!),
    loop: map(SPECIAL.lgamma),
  }),
  log2: unary("log2", {
    domain: "float",
    saves: "inputs",
    // log₂′ = 1/(x·ln 2)
    d: (m, [x]) => m.div(1 / LN2, x!),
    loop: map(Math.log2),
  }),
  log10: unary("log10", {
    domain: "float",
    saves: "inputs",
    // log₁₀′ = 1/(x·ln 10)
    d: (m, [x]) => m.div(1 / LN10, x!),
    loop: map(Math.log10),
  }),
  exp2: unary("exp2", {
    domain: "float",
    saves: "output",
    // (2ˣ)′ = 2ˣ·ln 2 = y·ln 2
    d: (m, _x, y) => m.mul(y, LN2),
    loop: map((v) => 2 ** v),
  }),
  cbrt: unary("cbrt", {
    domain: "float",
    saves: "output",
    // (∛x)′ = 1/(3·∛x²) = 1/(3y²)   (+∞ at 0)
    d: (m, _x, y) => m.div(1 / 3, m.mul(y, y)),
    loop: map(Math.cbrt),
  }),
  // floor′ = ceil′ = round′ = trunc′ = 0
  floor: rounding("floor", Math.floor),
  ceil: rounding("ceil", Math.ceil),
  round: rounding("round", SPECIAL.roundHalfEven),
  trunc: rounding("trunc", Math.trunc),
  polygamma: POLYGAMMA,
  fmod: binary("fmod", {
    domain: "float",
    saves: "inputs and output",
    // fmod(a, b) = a − q·b with q = trunc(a/b) = round((a − y)/b): ∂ = (1, −q)
    da: () => 1,
    db: (m, [a, b], y) => m.neg(m.round(m.div(m.sub(a!, y), b!))),
    loop: (a, sa, b, sb, out) => {
      for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! % b[i * sb]!;
    },
  }),
  remainder: binary("remainder", {
    domain: "float",
    saves: "inputs and output",
    // remainder(a, b) = a − q·b with q = floor(a/b) = round((a − y)/b): ∂ = (1, −q)
    da: () => 1,
    db: (m, [a, b], y) => m.neg(m.round(m.div(m.sub(a!, y), b!))),
    loop: map2(SPECIAL.remainder),
  }),
  hypot: binary("hypot", {
    domain: "float",
    saves: "inputs and output",
    // ∂ hypot(a, b) = (a, b)/y, taken as 0 at the origin (a subgradient, as for abs)
    da: (m, [a], y) => m.where(m.eq(y, 0), 0, m.div(a!, y)),
    db: (m, [, b], y) => m.where(m.eq(y, 0), 0, m.div(b!, y)),
    loop: map2(Math.hypot),
  }),
  // floorDivide′ = 0 (piecewise constant)
  floorDivide: {
    name: "floorDivide",
    arity: 2,
    params: {},
    shape: binaryShape("floorDivide", "float"),
    kernel: binaryKernel("floorDivide", map2(SPECIAL.floorDivide)),
    ...ZERO_DERIVATIVE,
    batch: elementwiseBatch("floorDivide"),
  },
};
