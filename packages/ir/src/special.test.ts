/**
 * The scalar special functions against independent references: closed forms (Γ(½) = √π,
 * ψ(1) = −γ, ψ′(1) = π²/6, …) and values computed with mpmath at 30 digits (hard-coded here).
 */
import { describe, expect, it } from "vitest";
import { SPECIAL, SPECIAL_SOURCE } from "./special.js";

const EULER_GAMMA = 0.5772156649015329;
const { erf, erfc, erfinv, lgamma, polygamma, roundHalfEven, floorDivide, remainder } = SPECIAL;

/** |got − want| ≤ rtol·|want|. */
function expectRelative(got: number, want: number, rtol: number): void {
  const error = Math.abs(got - want);
  if (!(error <= rtol * Math.abs(want))) throw new Error(`expected ${want}, got ${got} (relative error ${error / Math.abs(want)})`);
}

describe("erf, erfc, erfinv", () => {
  it("erf and erfc match mpmath to 1e-14 relative, erfc far into its tail", () => {
    const erfs: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [1.9, 0.9927904292352575],
      [2.5, 0.999593047982555],
      [-3, -0.9999779095030014],
      [5, 0.9999999999984626],
    ];
    for (const [x, want] of erfs) expectRelative(erf(x), want, 1e-15);
    const erfcs: [number, number][] = [
      [0.1, 0.887537083981715],
      [1, 0.15729920705028513],
      [2.5, 0.0004069520174449589],
      [5, 1.537459794428035e-12],
      [10, 2.088487583762545e-45],
      [26, 5.663192408856143e-296],
      [-1.5, 1.9661051464753108],
    ];
    for (const [x, want] of erfcs) expectRelative(erfc(x), want, 1e-14);
  });

  it("erf is odd, keeps −0, and saturates; erfc(±∞) = 0 and 2; NaN stays NaN", () => {
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(-0.7)).toBe(-erf(0.7));
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erfc(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
    expect(erf(Number.NaN)).toBeNaN();
    expect(erfc(Number.NaN)).toBeNaN();
  });

  it("erfinv matches mpmath to 1e-14 relative (1e-10 demanded), also next to ±1", () => {
    const cases: [number, number][] = [
      [0.001, 0.0008862271574665521],
      [0.3, 0.2724627147267544],
      [0.5, 0.4769362762044699],
      [0.9, 1.1630871536766743],
      [0.999, 2.3267537655135246],
      [-0.7, -0.7328690779592167],
      [0.999999999, 4.320005388105362],
    ];
    for (const [x, want] of cases) expectRelative(erfinv(x), want, 1e-14);
  });

  it("erfinv inverts erf (round trips) and has its limits: ±∞ at ±1, NaN outside [−1, 1]", () => {
    // far out, erf(y) rounds to within 1 ulp of 1, which bounds any inverse: 1e-10 there
    for (const y of [-3.5, -1.2, -0.3, 1e-9, 0.05, 0.8, 1.7, 2.9]) expectRelative(erfinv(erf(y)), y, Math.abs(y) > 2.5 ? 1e-10 : 1e-13);
    expect(erfinv(1)).toBe(Infinity);
    expect(erfinv(-1)).toBe(-Infinity);
    expect(erfinv(1.0000001)).toBeNaN();
    expect(erfinv(Number.NaN)).toBeNaN();
    expect(Object.is(erfinv(-0), -0)).toBe(true);
  });
});

describe("lgamma and polygamma", () => {
  it("lgamma: closed forms and mpmath values, negative non-integers as log|Γ| (SciPy)", () => {
    expectRelative(lgamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-14);
    expect(lgamma(1)).toBe(0);
    expect(lgamma(2)).toBe(0);
    expectRelative(lgamma(5), Math.log(24), 1e-14);
    // Γ(−½) = −2√π
    expectRelative(lgamma(-0.5), Math.log(2 * Math.sqrt(Math.PI)), 1e-14);
    const cases: [number, number][] = [
      [1.5, -0.12078223763524522],
      [3.7, 1.428072326665388],
      [12.5, 18.734347511936445],
      [100.25, 360.28455963776423],
      [1e-8, 18.42068073818021],
      [-2.5, -0.056243716497674054],
      [-10.1, -13.0209732710115],
    ];
    for (const [x, want] of cases) expectRelative(lgamma(x), want, 1e-13);
  });

  it("lgamma: +∞ at the poles and at ±∞, NaN stays NaN", () => {
    for (const x of [0, -1, -2, -50, Infinity, -Infinity]) expect(lgamma(x)).toBe(Infinity);
    expect(lgamma(Number.NaN)).toBeNaN();
  });

  it("digamma = polygamma(0, ·): ψ(1) = −γ, ψ(½) = −γ − 2 ln 2, and mpmath values to 1e-13", () => {
    expectRelative(polygamma(0, 1), -EULER_GAMMA, 1e-15);
    expectRelative(polygamma(0, 0.5), -EULER_GAMMA - 2 * Math.LN2, 1e-15);
    const cases: [number, number][] = [
      [0.1, -10.423754940411076],
      [2.5, 0.7031566406452432],
      [7.3, 1.9178203356379862],
      [20, 2.970523992242149],
      [1e4, 9.210290371142849],
      [-0.5, 0.03648997397857652],
      [-1.3, 2.8825405488661673],
      [-10.2, 6.694638450417517],
    ];
    for (const [x, want] of cases) expectRelative(polygamma(0, x), want, 1e-13);
  });

  it("trigamma: ψ′(1) = π²/6, ψ′(½) = π²/2, and mpmath values; higher orders too", () => {
    expectRelative(polygamma(1, 1), Math.PI ** 2 / 6, 1e-15);
    expectRelative(polygamma(1, 0.5), Math.PI ** 2 / 2, 1e-15);
    // ψ″(1) = −2ζ(3)
    expectRelative(polygamma(2, 1), -2 * 1.2020569031595942, 1e-14);
    const cases: [number, number, number][] = [
      [1, 0.1, 101.43329915079275],
      [1, 2.5, 0.49035775610023485],
      [1, 7.3, 0.1467957681314271],
      [1, 20, 0.05127082293520312],
      [1, -0.5, 8.934802200544679],
      [1, -1.3, 14.53687624413708],
      [2, 0.1, -2001.8614573783436],
      [2, 2.5, -0.2362040516417274],
      [2, 30, -0.0011487652037286],
      [2, -1.3, 68.54941347116214],
      [3, 0.7, 25.879149678427737],
      [3, 5.5, 0.015690592675882818],
      [3, -2.6, 283.53838059773574],
    ];
    for (const [n, x, want] of cases) expectRelative(polygamma(n, x), want, 1e-12);
  });

  it("polygamma at the poles: +∞ for odd n (both sides agree), NaN for even n", () => {
    expect(polygamma(1, 0)).toBe(Infinity);
    expect(polygamma(3, -2)).toBe(Infinity);
    expect(polygamma(0, -1)).toBeNaN();
    expect(polygamma(2, 0)).toBeNaN();
    expect(polygamma(0, Infinity)).toBe(Infinity);
    expect(polygamma(1, Infinity)).toBe(0);
  });
});

describe("rounding and remainders", () => {
  it("roundHalfEven: ties to even, signed zeros kept (NumPy's round)", () => {
    const cases: [number, number][] = [
      [0.5, 0],
      [1.5, 2],
      [2.5, 2],
      [-2.5, -2],
      [-3.5, -4],
      [2.4999999999999996, 2],
      [2.6, 3],
      [1e300, 1e300],
    ];
    for (const [x, want] of cases) expect(roundHalfEven(x)).toBe(want);
    expect(Object.is(roundHalfEven(-0.5), -0)).toBe(true);
    expect(Object.is(roundHalfEven(-0.3), -0)).toBe(true);
  });

  it("floorDivide and remainder as NumPy: 1 // 0.1 = 9, the sign of the divisor, a = q·b + r", () => {
    expect(floorDivide(1, 0.1)).toBe(9);
    expect(remainder(1, 0.1)).toBeCloseTo(0.09999999999999995, 17);
    expect([floorDivide(7, 2), floorDivide(-7, 2), floorDivide(7, -2), floorDivide(-7, -2)]).toEqual([3, -4, -4, 3]);
    expect([remainder(7, 2), remainder(-7, 2), remainder(7, -2), remainder(-7, -2)]).toEqual([1, 1, -1, -1]);
    expect(Object.is(remainder(0, -3), -0)).toBe(true);
    expect(Object.is(floorDivide(-0.5, 3), -1)).toBe(true);
    expect(Object.is(floorDivide(0.5, -3), -1)).toBe(true);
    expect(Object.is(floorDivide(0, -3), -0)).toBe(true);
    expect(floorDivide(1, 0)).toBe(Infinity);
    expect(remainder(1, 0)).toBeNaN();
    expect(remainder(-1, Infinity)).toBe(Infinity);
    expect(floorDivide(-1, Infinity)).toBe(-1);
  });
});

describe("SPECIAL_SOURCE", () => {
  it("evaluates, on its own, to the same functions (what the JIT embeds in standalone modules)", () => {
    const copy = new Function(`return ${SPECIAL_SOURCE};`)() as typeof SPECIAL;
    for (const x of [-2.5, 0.3, 1.7, 7]) {
      expect(copy.erf(x)).toBe(erf(x));
      expect(copy.lgamma(x)).toBe(lgamma(x));
      expect(copy.polygamma(1, x)).toBe(polygamma(1, x));
    }
    expect(copy.erfinv(0.4)).toBe(erfinv(0.4));
  });
});
