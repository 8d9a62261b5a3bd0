/**
 * f32x4 transcendentals for kernels: exp, log, tanh and sigmoid by range reduction and minimax
 * polynomials (Cephes' single-precision coefficients), in plain SIMD (no FMA, so the results do
 * not depend on relaxed SIMD). Special values are exact: NaN → NaN, exp(−∞) = 0, exp(+∞) = +∞,
 * log(±0) = −∞, log(x < 0) = NaN, log(+∞) = +∞, tanh(±0) = ±0, tanh(±∞) = ±1; subnormal inputs
 * and results are handled. Error bounds in float32 ulps of the exact value (`ULP_BOUND`) are
 * checked by math32.test.ts over every 997th float32 of both signs (every 61st with
 * CHAINRULE_DEEP=1); worst cases seen: exp 0.94, log 0.76, tanh 1.22, sigmoid 2.11 ulp.
 *
 * Each function takes the argument in a v128 local and leaves the result on the stack.
 */
import type { Instr } from "./module.js";

/** Maximum error in float32 ulps, checked by math32.test.ts over dense samples of each domain. */
export const ULP_BOUND = { exp: 2, log: 2, tanh: 2, sigmoid: 3 } as const;

export type Math32 = keyof typeof ULP_BOUND;

/** Allocates v128 locals for temporaries. */
export interface Scratch {
  v128(): number;
}

const c = (v: number): Instr => ["v128.const", "f32x4", v];
const ci = (v: number): Instr => ["v128.const", "i32x4", v];
const get = (l: number): Instr => ["local.get", l];
const set = (l: number): Instr => ["local.set", l];
const tee = (l: number): Instr => ["local.tee", l];

/** Horner: p(z) = (((k0 z + k1) z + k2) …), z in local `z`. */
function horner(z: number, ks: readonly number[]): Instr[] {
  const out: Instr[] = [c(ks[0]!)];
  for (let i = 1; i < ks.length; i++) out.push(get(z), ["f32x4.mul"], c(ks[i]!), ["f32x4.add"]);
  return out;
}

const EXP_P = [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/** e^x. */
export function exp32(x: number, s: Scratch): Instr[] {
  const xc = s.v128(),
    n = s.v128(),
    r = s.v128(),
    z = s.v128(),
    ni = s.v128();
  return [
    // clamp: below −104 the result rounds to 0, above 89 to +∞. pmin/pmax (one instruction each,
    // unlike min/max) keep their first operand when a comparison is false, so NaN propagates
    get(x),
    c(89),
    ["f32x4.pmin"],
    c(-104),
    ["f32x4.pmax"],
    set(xc),
    // n = round(x / ln 2), to nearest even: adding 1.5·2²³ leaves the integer in the low mantissa
    // bits (exact for |n| < 2²²), whose bits minus those of 1.5·2²³ are n as an int32
    get(xc),
    c(Math.LOG2E),
    ["f32x4.mul"],
    c(12582912),
    ["f32x4.add"],
    tee(ni),
    c(12582912),
    ["f32x4.sub"],
    set(n),
    get(ni),
    ci(0x4b400000),
    ["i32x4.sub"],
    set(ni),
    // r = x − n·ln 2 (ln 2 split in two for exactness)
    get(xc),
    get(n),
    c(0.693359375),
    ["f32x4.mul"],
    ["f32x4.sub"],
    get(n),
    c(-2.1219444e-4),
    ["f32x4.mul"],
    ["f32x4.sub"],
    set(r),
    get(r),
    get(r),
    ["f32x4.mul"],
    set(z),
    // e^r = 1 + r + r²·p(r)
    ...horner(r, EXP_P),
    get(z),
    ["f32x4.mul"],
    get(r),
    ["f32x4.add"],
    c(1),
    ["f32x4.add"],
    // × 2^n as 2^(n>>1) · 2^(n − (n>>1)): both factors are normal floats for n in [−150, 128]
    get(ni),
    ["i32.const", 1],
    ["i32x4.shr_s"],
    tee(r),
    ci(127),
    ["i32x4.add"],
    ["i32.const", 23],
    ["i32x4.shl"],
    ["f32x4.mul"],
    get(ni),
    get(r),
    ["i32x4.sub"],
    ci(127),
    ["i32x4.add"],
    ["i32.const", 23],
    ["i32x4.shl"],
    ["f32x4.mul"],
  ];
}

const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
  3.3333331174e-1,
];

/** ln x. */
export function log32(x: number, s: Scratch): Instr[] {
  const xs = s.v128(),
    e = s.v128(),
    m = s.v128(),
    z = s.v128(),
    y = s.v128(),
    small = s.v128(),
    t = s.v128();
  return [
    // subnormals: scale by 2^23 first (and subtract 23 from the exponent)
    get(x),
    c(1.17549435e-38),
    ["f32x4.lt"],
    set(small),
    get(x),
    c(8388608),
    ["f32x4.mul"],
    get(x),
    get(small),
    ["v128.bitselect"],
    set(xs),
    // e = exponent − 126, m = mantissa in [0.5, 1)
    get(xs),
    ["i32.const", 23],
    ["i32x4.shr_u"],
    ci(126),
    ["i32x4.sub"],
    ci(23),
    get(small),
    ["v128.and"],
    ["i32x4.sub"],
    ["f32x4.convert_i32x4_s"],
    set(e),
    get(xs),
    ci(0x807fffff | 0),
    ["v128.and"],
    ci(0x3f000000),
    ["v128.or"],
    set(m),
    // if m < √½: m = 2m, e −= 1; then x = m − 1 in [√½ − 1, √2 − 1)
    get(m),
    c(Math.SQRT1_2),
    ["f32x4.lt"],
    set(t),
    get(e),
    c(1),
    get(t),
    ["v128.and"],
    ["f32x4.sub"],
    set(e),
    get(m),
    get(m),
    get(t),
    ["v128.and"],
    ["f32x4.add"],
    c(1),
    ["f32x4.sub"],
    set(m),
    get(m),
    get(m),
    ["f32x4.mul"],
    set(z),
    // y = x·z·p(x) − 2.12194440e−4·e − z/2;  ln = x + y + 0.693359375·e
    ...horner(m, LOG_P),
    get(m),
    ["f32x4.mul"],
    get(z),
    ["f32x4.mul"],
    get(e),
    c(-2.1219444e-4),
    ["f32x4.mul"],
    ["f32x4.add"],
    get(z),
    c(0.5),
    ["f32x4.mul"],
    ["f32x4.sub"],
    set(y),
    get(m),
    get(y),
    ["f32x4.add"],
    get(e),
    c(0.693359375),
    ["f32x4.mul"],
    ["f32x4.add"],
    set(y),
    // special values: +∞ → +∞, 0 → −∞, x < 0 → NaN, NaN → NaN
    c(Infinity),
    get(y),
    get(x),
    c(Infinity),
    ["f32x4.eq"],
    ["v128.bitselect"],
    set(y),
    c(-Infinity),
    get(y),
    get(x),
    c(0),
    ["f32x4.eq"],
    ["v128.bitselect"],
    set(y),
    c(NaN),
    get(y),
    get(x),
    c(0),
    ["f32x4.lt"],
    get(x),
    get(x),
    ["f32x4.ne"],
    ["v128.or"],
    ["v128.bitselect"],
  ];
}

const TANH_P = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];

/** tanh x: a polynomial for |x| < 0.625, else sign(x)·(1 − 2/(e^{2|x|} + 1)). */
export function tanh32(x: number, s: Scratch): Instr[] {
  const ax = s.v128(),
    z = s.v128(),
    small = s.v128(),
    big = s.v128(),
    two = s.v128();
  return [
    get(x),
    ["f32x4.abs"],
    tee(ax),
    c(0.625),
    ["f32x4.lt"],
    set(small),
    get(x),
    get(x),
    ["f32x4.mul"],
    set(z),
    // small branch: x + x·z·p(z)
    ...horner(z, TANH_P),
    get(z),
    ["f32x4.mul"],
    get(x),
    ["f32x4.mul"],
    get(x),
    ["f32x4.add"],
    set(z),
    // large branch: 1 − 2/(e^{2|x|} + 1), with the sign of x
    get(ax),
    get(ax),
    ["f32x4.add"],
    set(two),
    ...exp32(two, s),
    c(1),
    ["f32x4.add"],
    set(big),
    c(1),
    c(2),
    get(big),
    ["f32x4.div"],
    ["f32x4.sub"],
    set(big),
    // both branches have the sign of x (so tanh(−0) = −0): or in its sign bit
    get(z),
    get(big),
    get(small),
    ["v128.bitselect"],
    get(x),
    ci(0x80000000 | 0),
    ["v128.and"],
    ["v128.or"],
  ];
}

/** With t = e^{−|x|} (never overflows): 1/(1 + t) for x ≥ 0, t/(1 + t) for x < 0. */
export function sigmoid32(x: number, s: Scratch): Instr[] {
  const t = s.v128(),
    q = s.v128(),
    nx = s.v128();
  return [
    get(x),
    ["f32x4.abs"],
    ["f32x4.neg"],
    set(nx),
    ...exp32(nx, s),
    set(t),
    c(1),
    get(t),
    ["f32x4.add"],
    set(q),
    // numerator: t where x < 0, else 1 (NaN: t is NaN, and so is the quotient)
    get(t),
    c(1),
    get(x),
    c(0),
    ["f32x4.lt"],
    ["v128.bitselect"],
    get(q),
    ["f32x4.div"],
  ];
}

export const MATH32: Record<Math32, (x: number, s: Scratch) => Instr[]> = { exp: exp32, log: log32, tanh: tanh32, sigmoid: sigmoid32 };
