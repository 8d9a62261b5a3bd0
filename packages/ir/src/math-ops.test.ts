/**
 * The math family's ops (issue 17): values against Math, NumPy's documented behaviour and
 * mpmath (hard-coded), dtypes, errors, the predicates and logic ops, gelu, and the derivative
 * rules against high-precision references (engines test the rules themselves in conformance).
 */
import { describe, expect, it } from "vitest";
import * as ir from "./index.js";
import { DEFINITIONS, NUMBER_MATH, scalar, tensor, TENSOR_MATH, tensorTangents, type Tensor } from "./index.js";

const list = (t: Tensor) => Array.from(t.data as ArrayLike<number>);
const f64 = (values: number[]) => tensor(values);

function expectRelative(got: number, want: number, rtol: number): void {
  const error = Math.abs(got - want);
  if (!(error <= rtol * Math.abs(want))) throw new Error(`expected ${want}, got ${got} (relative error ${error / Math.abs(want)})`);
}

describe("elementwise math: values", () => {
  it("inverse trigonometric and hyperbolic functions are Math's", () => {
    const x = f64([-0.75, -0.2, 0, 0.4, 0.9]);
    for (const [op, f] of [
      [ir.asin, Math.asin],
      [ir.acos, Math.acos],
      [ir.atan, Math.atan],
      [ir.sinh, Math.sinh],
      [ir.cosh, Math.cosh],
      [ir.asinh, Math.asinh],
      [ir.atanh, Math.atanh],
    ] as const) {
      expect(list(op(x))).toEqual(list(x).map(f));
    }
    expect(list(ir.acosh(f64([1, 1.5, 10])))).toEqual([1, 1.5, 10].map(Math.acosh));
    expect(ir.asin(2).item()).toBeNaN();
  });

  it("log2, log10, exp2, cbrt are exact where NumPy's are: log2(8) = 3, log10(1000) = 3, exp2(10) = 1024, cbrt(−27) = −3", () => {
    expect(ir.log2(8).item()).toBe(3);
    expect(ir.log10(1000).item()).toBe(3);
    expect(ir.exp2(10).item()).toBe(1024);
    expect(ir.exp2(-1).item()).toBe(0.5);
    expect(ir.cbrt(-27).item()).toBe(-3);
    expect(ir.rsqrt(4).item()).toBe(0.5);
  });

  it("floor, ceil, trunc, and round half to even (round(2.5) = 2, round(−0.5) = −0)", () => {
    const x = f64([-2.5, -1.7, -0.5, 0.5, 1.5, 2.5, 2.7]);
    expect(list(ir.floor(x))).toEqual([-3, -2, -1, 0, 1, 2, 2]);
    expect(list(ir.ceil(x))).toEqual([-2, -1, -0, 1, 2, 3, 3]);
    expect(list(ir.trunc(x))).toEqual([-2, -1, -0, 0, 1, 2, 2]);
    expect(list(ir.round(x))).toEqual([-2, -2, -0, 0, 2, 2, 3]);
    expect(Object.is(ir.round(-0.5).item(), -0)).toBe(true);
  });

  it("fmod has the sign of the dividend, remainder the sign of the divisor; floorDivide pairs with remainder", () => {
    const a = f64([7, -7, 7, -7, 5.5]);
    const b = f64([3, 3, -3, -3, 2]);
    expect(list(ir.fmod(a, b))).toEqual([1, -1, 1, -1, 1.5]);
    expect(list(ir.remainder(a, b))).toEqual([1, 2, -2, -1, 1.5]);
    expect(list(ir.floorDivide(a, b))).toEqual([2, -3, -3, 2, 2]);
    // NumPy: 1 // 0.1 = 9, 1 % 0.1 = 0.09999999999999995
    expect(ir.floorDivide(1, 0.1).item()).toBe(9);
    expect(ir.remainder(1, 0.1).item()).toBe(0.09999999999999995);
  });

  it("hypot never overflows or underflows; logaddexp is stable and exact at infinities", () => {
    expect(ir.hypot(3e300, 4e300).item()).toBe(5e300);
    expect(ir.hypot(3e-300, 4e-300).item()).toBeCloseTo(5e-300, 310);
    expect(ir.hypot(-3, 4).item()).toBe(5);
    expectRelative(ir.logaddexp(1000, 999).item(), 1000.3132616875182, 1e-15);
    expectRelative(ir.logaddexp(-1000, -1001).item(), -999.6867383124818, 1e-15);
    expect(ir.logaddexp(-Infinity, -Infinity).item()).toBe(-Infinity);
    expect(ir.logaddexp(Infinity, Infinity).item()).toBe(Infinity);
    expect(ir.logaddexp(Infinity, 3).item()).toBe(Infinity);
    expect(ir.logaddexp(-Infinity, 3).item()).toBe(3);
    expectRelative(ir.logaddexp(0, 0).item(), Math.LN2, 1e-15);
  });

  it("copysign handles signed zeros and infinities like NumPy", () => {
    expect(list(ir.copysign(f64([1, 1, -2, 3, 0, -0]), f64([-0, 0, 5, -Infinity, -1, 1])))).toEqual([-1, 1, 2, -3, -0, 0]);
    expect(Object.is(ir.copysign(0, -0).item(), -0)).toBe(true);
    expect(Object.is(ir.copysign(-0, 2).item(), 0)).toBe(true);
  });

  it("special functions through the ops: erf, erfc, erfinv, lgamma, digamma, polygamma", () => {
    expect(ir.erf(1).item()).toBeCloseTo(0.8427007929497149, 15);
    expect(ir.erfc(5).item()).toBeCloseTo(1.537459794428035e-12, 25);
    expect(ir.erfinv(0.5).item()).toBeCloseTo(0.4769362762044699, 15);
    expectRelative(ir.lgamma(0.5).item(), Math.log(Math.sqrt(Math.PI)), 1e-14);
    expectRelative(ir.digamma(1).item(), -0.5772156649015329, 1e-15);
    expectRelative(ir.polygamma(1, 1).item(), Math.PI ** 2 / 6, 1e-15);
    expect(ir.lgamma(f64([0, -1])).toArray()).toEqual([Infinity, Infinity]);
  });

  it("float32 in, float32 out; int32 and bool become float64", () => {
    const x32 = tensor([0.5, 1.5], { dtype: "float32" });
    for (const op of [ir.asin, ir.erf, ir.erfinv, ir.lgamma, ir.digamma, ir.round, ir.exp2, ir.cbrt]) expect(op(x32).dtype).toBe("float32");
    expect(ir.erf(x32).data[0]).toBe(Math.fround(0.5204998778130465));
    expect(ir.floor(tensor([1, 2], { dtype: "int32" })).dtype).toBe("float64");
    expect(ir.hypot(x32, x32).dtype).toBe("float32");
  });

  it("errors name the op: wrong argument counts, a bad polygamma order", () => {
    expect(() => (ir.erf as (...a: unknown[]) => unknown)()).toThrow(/^erf: /);
    expect(() => (ir.fmod as (...a: unknown[]) => unknown)(1)).toThrow(/^fmod: /);
    expect(() => ir.polygamma(-1, 2)).toThrow(ir.ArgumentError);
    expect(() => ir.polygamma(1.5, 2)).toThrow(/^polygamma: expected n to be an integer in \[0, 170\], got number 1.5/);
    // an unbounded order would run the recurrence ~n times per element (1e10: a hang)
    expect(() => ir.polygamma(1e10, 2)).toThrow(/^polygamma: expected n to be an integer in \[0, 170\], got number 10000000000/);
    expect(() => ir.bind("polygamma", [ir.tensor([2])], { n: 171 })).toThrow(/^polygamma: expected n to be an integer in \[0, 170\]/);
    expect(() => ir.hypot(f64([1, 2]), f64([1, 2, 3]))).toThrow(ir.ShapeError);
  });
});

describe("predicates and logic", () => {
  const special = () => f64([1.5, Number.NaN, Infinity, -2, -Infinity, 0]);

  it("isnan, isinf, isfinite give bool masks; int32 and bool are finite", () => {
    expect(ir.isnan(special()).dtype).toBe("bool");
    expect(list(ir.isnan(special()))).toEqual([0, 1, 0, 0, 0, 0]);
    expect(list(ir.isinf(special()))).toEqual([0, 0, 1, 0, 1, 0]);
    expect(list(ir.isfinite(special()))).toEqual([1, 0, 0, 1, 0, 1]);
    const ints = tensor([1, 2], { dtype: "int32" });
    expect(list(ir.isfinite(ints))).toEqual([1, 1]);
    expect(list(ir.isnan(ints))).toEqual([0, 0]);
    expect(list(ir.isinf(tensor([true, false])))).toEqual([0, 0]);
  });

  it("nanToNum: defaults 0 and ± the dtype's largest finite value; replacements as options", () => {
    expect(list(ir.nanToNum(special()))).toEqual([1.5, 0, Number.MAX_VALUE, -2, -Number.MAX_VALUE, 0]);
    const x32 = ir.astype(special(), "float32");
    expect(list(ir.nanToNum(x32))).toEqual([1.5, 0, 3.4028234663852886e38, -2, -3.4028234663852886e38, 0]);
    expect(list(ir.nanToNum(special(), { nan: -1, posinf: 9, neginf: -9 }))).toEqual([1.5, -1, 9, -2, -9, 0]);
    expect(() => ir.nanToNum(special(), { nan: "0" } as never)).toThrow(/^nanToNum: expected nan to be a number/);
    expect(() => ir.nanToNum(special(), { inf: 1 } as never)).toThrow(/^nanToNum: expected options among nan, posinf, neginf/);
  });

  it("logicalAnd, logicalOr, logicalXor, logicalNot: truth tables with broadcasting, numbers truthy when non-zero", () => {
    const a = tensor([true, true, false, false]);
    const b = tensor([true, false, true, false]);
    expect(list(ir.logicalAnd(a, b))).toEqual([1, 0, 0, 0]);
    expect(list(ir.logicalOr(a, b))).toEqual([1, 1, 1, 0]);
    expect(list(ir.logicalXor(a, b))).toEqual([0, 1, 1, 0]);
    expect(list(ir.logicalNot(a))).toEqual([0, 0, 1, 1]);
    expect(list(ir.logicalAnd(f64([0, 2, Number.NaN, -1]), 1))).toEqual([0, 1, 1, 1]);
    expect(ir.logicalOr(tensor([[0], [1]]), f64([0, 0, 3])).shape).toEqual([2, 3]);
    expect(ir.logicalNot(0).dtype).toBe("bool");
  });
});

describe("gelu", () => {
  it("exact: x·Φ(x) against mpmath, accurate far into the negative tail", () => {
    expectRelative(ir.gelu(1).item(), 0.8413447460685429, 1e-15);
    expectRelative(ir.gelu(0.5).item(), 0.34573123063700656, 1e-15);
    expectRelative(ir.gelu(-3).item(), -0.0040496940948902835, 1e-14);
    expectRelative(ir.gelu(-10).item(), -7.619853024160526e-23, 1e-13);
  });

  it("approximate: the tanh form against mpmath", () => {
    expectRelative(ir.gelu(1, { approximate: true }).item(), 0.8411919906082767, 1e-15);
    expectRelative(ir.gelu(-3, { approximate: true }).item(), -0.0036373920817730186, 1e-13);
    expect(() => ir.gelu(1, { approximate: "yes" } as never)).toThrow(/^gelu: expected approximate to be a boolean/);
    expect(() => ir.gelu(1, { exact: true } as never)).toThrow(/^gelu: expected options among approximate/);
  });
});

describe("derivative rules against high-precision references (mpmath)", () => {
  const partial = (p: "erfinv" | "lgamma" | "erf", x: number, y: number) =>
    DEFINITIONS[p].elementwise!.partials[0](NUMBER_MATH, [x], y) as number;
  const polygammaTangent = (n: number, x: number) => {
    const t = DEFINITIONS.polygamma.jvp([scalar(1)], { x: [scalar(x)], y: scalar(0), params: { n } }, tensorTangents(TENSOR_MATH));
    return (t as Tensor).item();
  };

  it("erfinv′ = (√π/2)·e^{erfinv²} to 1e-12 relative; erf′ = (2/√π)·e^{−x²}", () => {
    for (const [x, want] of [
      [0.3, 0.9545203588405493],
      [0.9, 3.428042811451841],
      [0.999, 198.93951776442475],
    ] as const) {
      expectRelative(partial("erfinv", x, ir.erfinv(x).item()), want, 1e-12);
    }
    expectRelative(partial("erf", 1, 0), (2 / Math.sqrt(Math.PI)) * Math.exp(-1), 1e-15);
  });

  it("lgamma′ = digamma, digamma′ = trigamma, trigamma′ = polygamma(2): to 1e-12 relative", () => {
    expectRelative(partial("lgamma", 1, 0), -0.5772156649015329, 1e-15);
    expectRelative(partial("lgamma", 2.5, 0), 0.7031566406452432, 1e-13);
    expectRelative(partial("lgamma", -1.3, 0), 2.8825405488661673, 1e-13);
    expectRelative(polygammaTangent(0, 1), Math.PI ** 2 / 6, 1e-15);
    expectRelative(polygammaTangent(0, 7.3), 0.1467957681314271, 1e-13);
    expectRelative(polygammaTangent(0, -0.5), 8.934802200544679, 1e-13);
    expectRelative(polygammaTangent(1, 2.5), -0.2362040516417274, 1e-13);
    expectRelative(polygammaTangent(2, 5.5), 0.015690592675882818, 1e-12);
  });

  it("rounding and floorDivide have derivative 0: no rule runs (ZERO_DERIVATIVE)", () => {
    for (const p of ["floor", "ceil", "round", "trunc", "floorDivide"] as const) {
      expect(DEFINITIONS[p].vjp.vjp).toBeNull();
      expect(DEFINITIONS[p].jvp([scalar(1)], { x: [scalar(1.5)], y: scalar(1), params: {} }, tensorTangents(TENSOR_MATH))).toBeNull();
    }
  });
});
