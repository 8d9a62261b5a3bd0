/**
 * `FUSING_MATH`: `TENSOR_MATH` whose elementwise entries try eager fusion first (fusion.ts). On
 * large concrete float operands of one shape (up to leading 1s, plus size-1 values) an entry
 * returns a lazy value, so a rule's derivative factors and the (co)tangent products that use them
 * become one fused loop instead of a pass per operation; everywhere else (tracers, small or
 * broadcasting operands, other dtypes, fusion off) it is `TENSOR_MATH` itself. Fused results are
 * bitwise those of the unfused kernels, so a rule computes the same values either way.
 */
import { fuse } from "../fusion.js";
import { plainFactor, type TensorMath } from "./math.js";
import { TENSOR_MATH } from "./tensor-math.js";

export const FUSING_MATH: TensorMath = {
  ...TENSOR_MATH,
  add: (a, b) => fuse("add", [a, b]) ?? TENSOR_MATH.add(a, b),
  sub: (a, b) => fuse("sub", [a, b]) ?? TENSOR_MATH.sub(a, b),
  mul: (a, b) => fuse("mul", [a, b]) ?? TENSOR_MATH.mul(a, b),
  div: (a, b) => fuse("div", [a, b]) ?? TENSOR_MATH.div(a, b),
  neg: (a) => fuse("neg", [a]) ?? TENSOR_MATH.neg(a),
  pow: (a, b) => fuse("pow", [a, b]) ?? TENSOR_MATH.pow(a, b),
  exp: (a) => fuse("exp", [a]) ?? TENSOR_MATH.exp(a),
  log: (a) => fuse("log", [a]) ?? TENSOR_MATH.log(a),
  sin: (a) => fuse("sin", [a]) ?? TENSOR_MATH.sin(a),
  cos: (a) => fuse("cos", [a]) ?? TENSOR_MATH.cos(a),
  sign: (a) => fuse("sign", [a]) ?? TENSOR_MATH.sign(a),
  sqrt: (a) => fuse("sqrt", [a]) ?? TENSOR_MATH.sqrt(a),
  sinh: (a) => fuse("sinh", [a]) ?? TENSOR_MATH.sinh(a),
  cosh: (a) => fuse("cosh", [a]) ?? TENSOR_MATH.cosh(a),
  round: (a) => fuse("round", [a]) ?? TENSOR_MATH.round(a),
  // polygamma stays TENSOR_MATH's: its op checks the order n (a rule may ask for n + 1)
  // t · f: a plain product for a finite non-zero number f, else mulNoNan (0 · ∞ = 0)
  scale: (t, f) => fuse(plainFactor(f) ? "mul" : "mulNoNan", [t, f]) ?? TENSOR_MATH.scale(t, f),
};
