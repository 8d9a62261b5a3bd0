/** Per-op table rows: elementwise math, predicates and logic, gelu. */
import * as ir from "@chainrule/ir";
import { tensor, type Tensor } from "@chainrule/ir";
import type { Case } from "../cases.js";
import { ConformanceError, expectClose } from "../expect.js";
import { loose } from "../checkgrads.js";
import { values } from "../tree.js";
import { anyReal, awayFromZero, binary, map, positive, uniform, unary, type Gen, type OpRow } from "../optable.js";

/** |a| in [3.1, 3.5] and |b| in [1.2, 1.5] with random signs: |a/b| in (2.07, 2.92), off the jumps of fmod and remainder. */
const dividend: Gen = (shape, rng) => map(shape, rng, (u, i) => (i % 2 === 0 ? 1 : -1) * (3.1 + 0.4 * u));
const divisor: Gen = (shape, rng) => map(shape, rng, (u, i) => (i % 3 === 0 ? -1 : 1) * (1.2 + 0.3 * u));

export function mathRows(): OpRow[] {
  return [
    // |x| < 0.8 keeps asin, acos, atanh and erfinv off their poles at ±1
    unary("asin", ir.asin, uniform(-0.8, 0.8)),
    unary("acos", ir.acos, uniform(-0.8, 0.8)),
    unary("atan", ir.atan, anyReal),
    unary("sinh", ir.sinh, anyReal),
    unary("cosh", ir.cosh, anyReal),
    unary("asinh", ir.asinh, anyReal),
    // x > 1.2: off acosh's pole at 1
    unary("acosh", ir.acosh, uniform(1.2, 3)),
    unary("atanh", ir.atanh, uniform(-0.8, 0.8)),
    unary("erf", ir.erf, anyReal),
    unary("erfc", ir.erfc, anyReal),
    unary("erfinv", ir.erfinv, uniform(-0.8, 0.8)),
    unary("lgamma", ir.lgamma, positive),
    // between the poles at −3 and −2 (log|Γ|, as SciPy)
    unary("lgamma (negative non-integers)", ir.lgamma, uniform(-2.8, -2.2)),
    unary("digamma", ir.digamma, positive),
    unary("digamma (negative non-integers)", ir.digamma, uniform(-1.8, -1.2)),
    unary("polygamma(1, x)", (x) => ir.polygamma(1, x!), positive),
    unary("log2", ir.log2, positive),
    unary("log10", ir.log10, positive),
    unary("exp2", ir.exp2, anyReal),
    unary("rsqrt", ir.rsqrt, positive, false),
    unary("cbrt", ir.cbrt, awayFromZero),
    binary("fmod", ir.fmod, dividend, divisor),
    binary("remainder", ir.remainder, dividend, divisor),
    // away from the origin, where hypot has its kink
    binary("hypot", ir.hypot, awayFromZero, awayFromZero),
    binary("logaddexp", ir.logaddexp, anyReal, anyReal, false),
    binary("copysign", ir.copysign, awayFromZero, awayFromZero, false),
    unary("nanToNum", (x) => ir.nanToNum(x!), anyReal, false),
    unary("gelu", (x) => ir.gelu(x!), anyReal, false),
    unary("gelu(approximate)", (x) => ir.gelu(x!, { approximate: true }), anyReal, false),
  ];
}

/**
 * Ops without a derivative, checked here instead of in the table (as argmax is): the predicates and
 * logic ops (bool outputs), floor/ceil/round/trunc/floorDivide (derivative 0, pinned also at their
 * jumps), and nanToNum's derivative at non-finite points.
 */
export function mathCases(): Case[] {
  const c = (name: string, run: (e: ReturnType<typeof loose>) => void): Case => ({
    group: "comparisons, argmax, oneHot, casts",
    name,
    run: (ctx) => run(loose(ctx.engine)),
  });
  const special = () => tensor([1.5, Number.NaN, Number.POSITIVE_INFINITY, -2, Number.NEGATIVE_INFINITY]);
  const asNumbers = (t: Tensor) => Array.from(values(ir.astype(t, "float64")));
  return [
    c("isnan, isinf, isfinite under a transformation: same masks as eager, zero derivative through them", (e) => {
      for (const [name, op] of [
        ["isnan", ir.isnan],
        ["isinf", ir.isinf],
        ["isfinite", ir.isfinite],
      ] as const) {
        const mask = asNumbers(op(special()));
        const [y] = e.vjp((t: Tensor) => ir.astype(op(t), "float64"), special());
        expectClose(`${name} primal under vjp`, y, mask, 0, 0);
        const x = tensor([0.5, -1.5, 2]);
        const f = (t: Tensor) => ir.sum(ir.mul(t, ir.astype(ir.logicalNot(op(t)), "float64")));
        expectClose(`grad(sum(x·¬${name}(x)))`, e.grad(f)(x), asNumbers(ir.logicalNot(op(x))), 0, 0);
      }
    }),
    c("logicalAnd, logicalOr, logicalXor, logicalNot under a transformation: truth tables, numbers truthy when non-zero", (e) => {
      const a = tensor([0, 0, 2, -0.5]);
      const b = tensor([0, 3, 0, 1]);
      const tables = [
        ["logicalAnd", ir.logicalAnd, [0, 0, 0, 1]],
        ["logicalOr", ir.logicalOr, [0, 1, 1, 1]],
        ["logicalXor", ir.logicalXor, [0, 1, 1, 0]],
      ] as const;
      for (const [name, op, expected] of tables) {
        const [y] = e.vjp((s: Tensor, t: Tensor) => ir.mul(ir.astype(op(s, t), "float64"), ir.add(s, t)), a, b);
        expectClose(
          `${name}(a, b)·(a + b) primal under vjp`,
          y,
          expected.map((v, i) => v * (a.data[i]! + b.data[i]!)),
          0,
          0,
        );
      }
      const [n] = e.vjp((s: Tensor) => ir.astype(ir.logicalNot(s), "float64"), a);
      expectClose("logicalNot primal under vjp", n, [1, 1, 0, 0], 0, 0);
    }),
    c("nanToNum: derivative 1 where x is finite, 0 at NaN and ±∞", (e) => {
      const g = e.grad((t: Tensor) => ir.sum(ir.mul(ir.nanToNum(t, { nan: 0, posinf: 7, neginf: -7 }), 3)))(special());
      expectClose("grad(sum(3·nanToNum(x)))", g, [3, 0, 0, 3, 0], 0, 0);
      const [y] = e.vjp((t: Tensor) => ir.nanToNum(t), special());
      const values64 = Array.from(values(y as Tensor));
      if (values64[2] !== Number.MAX_VALUE || values64[4] !== -Number.MAX_VALUE || values64[1] !== 0) {
        throw new ConformanceError(`nanToNum defaults: expected [1.5, 0, MAX_VALUE, -2, -MAX_VALUE], got [${values64.join(", ")}]`);
      }
    }),
    c("floor, ceil, round, trunc, floorDivide: derivative 0, round half to even", (e) => {
      const x = tensor([-2.5, -0.5, 0.5, 1.5, 2.5, 2.7]);
      const [y] = e.vjp((t: Tensor) => ir.round(t), x);
      expectClose("round primal under vjp", y, [-2, -0, 0, 2, 2, 3], 0, 0);
      for (const [name, op] of [
        ["floor", ir.floor],
        ["ceil", ir.ceil],
        ["round", ir.round],
        ["trunc", ir.trunc],
        ["floorDivide(x, 0.7)", (t: Tensor) => ir.floorDivide(t, 0.7)],
      ] as const) {
        expectClose(`grad(sum(${name}))`, e.grad((t: Tensor) => ir.sum(op(t)))(x), [0, 0, 0, 0, 0, 0], 0, 0);
        const [y2, tangent] = e.jvp((t: Tensor) => op(t), [x], [ir.ones([6])]);
        expectClose(`jvp of ${name}: primal`, y2, op(x), 0, 0);
        expectClose(`jvp of ${name}: tangent`, tangent, [0, 0, 0, 0, 0, 0], 0, 0);
      }
    }),
  ];
}
