/**
 * Scalar special functions, written once: ir's eager kernels call them, and the JIT's generated
 * JavaScript calls the very same functions as its runtime helper `rt_special` (compiled code gets
 * this object; standalone modules from `emitModule` embed `SPECIAL_SOURCE`, the source text of
 * the factory below). The factory is self-contained — it reads nothing but its own locals and
 * `Math` — so its text runs anywhere.
 *
 * Algorithms (float64; each checked against mpmath in special.test.ts):
 * - erf: the series erf x = 2/√π·e^{−x²}·Σ 2ᵏx^{2k+1}/(1·3···(2k+1)) (positive terms, no
 *   cancellation) for |x| < 2; beyond, 1 − erfc.
 * - erfc: 1 − erf for x < 2; beyond, the Laplace continued fraction
 *   erfc x = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up, with e^{−x²}
 *   split as e^{−h²}·e^{−(x−h)(x+h)} (h = x rounded to 1/16) so x² adds no rounding error.
 * - erfinv: Giles' single-precision approximation (2010), then Halley steps on erf (on erfc
 *   beyond |x| > ½, where 1 − |x| is exact).
 * - lgamma = log|Γ|: Stirling's series for x ≥ 10, the recurrence Γ(x+1) = xΓ(x) below, the
 *   reflection Γ(x)Γ(1−x) = π/sin(πx) for x < 0.
 * - polygamma ψ⁽ⁿ⁾ (digamma: n = 0): the asymptotic series for x ≥ 15 + n, the recurrence
 *   ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x+1) − (−1)ⁿn!/x^{n+1} below, and for x < 0 the reflection
 *   (−1)ⁿψ⁽ⁿ⁾(1−x) − ψ⁽ⁿ⁾(x) = πⁿ⁺¹·Qₙ(cot πx), Q₀(c) = c, Qₖ₊₁ = −(1 + c²)·Qₖ′.
 * - roundHalfEven, floorDivide (NumPy's divmod: 1 // 0.1 = 9), remainder (sign of the divisor).
 */

/** The scalar special functions (see the file header for the algorithms). */
export interface SpecialFunctions {
  erf(x: number): number;
  erfc(x: number): number;
  erfinv(x: number): number;
  /** log|Γ(x)|; +∞ at the poles (non-positive integers). */
  lgamma(x: number): number;
  /** ψ⁽ⁿ⁾(x), the n-th derivative of digamma; at the poles +∞ for odd n, NaN for even n. */
  polygamma(n: number, x: number): number;
  /** Round half to even (NumPy's round). */
  roundHalfEven(x: number): number;
  /** floor(a / b) as NumPy computes it (from fmod, so 1 // 0.1 = 9). */
  floorDivide(a: number, b: number): number;
  /** a − b·floor(a/b) with the sign of b (Python's and NumPy's %). */
  remainder(a: number, b: number): number;
}

/** Builds the special functions. Self-contained: its source text is embedded by the JIT. */
export function specialFunctions(): SpecialFunctions {
  const SQRT_PI = 1.772453850905516;
  const TWO_OVER_SQRT_PI = 1.1283791670955126;
  const LOG_PI = 1.1447298858494002;
  const HALF_LOG_TWO_PI = 0.9189385332046728;
  // B₂, B₄, …, B₁₈
  const BERNOULLI = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798];

  /** e^{−x²} without the rounding error of x². */
  function expMinusSquare(x: number): number {
    const h = Math.round(x * 16) / 16;
    return Math.exp(-h * h) * Math.exp(-(x - h) * (x + h));
  }

  function erfSeries(x: number): number {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let k = 1; k < 200; k++) {
      term *= (2 * x2) / (2 * k + 1);
      sum += term;
      if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }

  /** erfc(x) for x ≥ 2: the continued fraction, bottom-up. */
  function erfcFraction(x: number): number {
    if (x > 27) return 0; // erfc underflows from x ≈ 26.6 on
    const terms = Math.ceil(20 + 400 / (x * x));
    let f = x;
    for (let k = terms; k >= 1; k--) f = x + k / 2 / f;
    return expMinusSquare(x) / (SQRT_PI * f);
  }

  function erf(x: number): number {
    if (x !== x) return NaN;
    const a = Math.abs(x);
    if (a < 2) return erfSeries(x);
    const v = 1 - erfcFraction(a);
    return x < 0 ? -v : v;
  }

  function erfc(x: number): number {
    if (x !== x) return NaN;
    if (x < 2) return x > -2 ? 1 - erfSeries(x) : 2 - erfcFraction(-x);
    return erfcFraction(x);
  }

  /** Giles' approximation of erfinv (about 1e-7 relative), refined below. */
  function erfinvGuess(x: number): number {
    let w = -Math.log((1 - x) * (1 + x));
    let p: number;
    if (w < 5) {
      w -= 2.5;
      p = 2.81022636e-8;
      p = 3.43273939e-7 + p * w;
      p = -3.5233877e-6 + p * w;
      p = -4.39150654e-6 + p * w;
      p = 0.00021858087 + p * w;
      p = -0.00125372503 + p * w;
      p = -0.00417768164 + p * w;
      p = 0.246640727 + p * w;
      p = 1.50140941 + p * w;
    } else {
      w = Math.sqrt(w) - 3;
      p = -0.000200214257;
      p = 0.000100950558 + p * w;
      p = 0.00134934322 + p * w;
      p = -0.00367342844 + p * w;
      p = 0.00573950773 + p * w;
      p = -0.0076224613 + p * w;
      p = 0.00943887047 + p * w;
      p = 1.00167406 + p * w;
      p = 2.83297682 + p * w;
    }
    return p * x;
  }

  function erfinv(x: number): number {
    if (!(x >= -1 && x <= 1)) return NaN;
    if (x === 1) return Infinity;
    if (x === -1) return -Infinity;
    if (x === 0) return x;
    const a = Math.abs(x);
    let y = erfinvGuess(a);
    for (let step = 0; step < 6; step++) {
      // f = erf(y) − a, on erfc where a is near 1 (1 − a is exact for a ≥ ½)
      const f = a > 0.5 ? 1 - a - erfc(y) : erf(y) - a;
      const u = f / (TWO_OVER_SQRT_PI * expMinusSquare(y));
      const next = y - u / (1 + y * u); // Halley: f″ = −2y·f′
      const done = Math.abs(next - y) <= 1e-16 * next;
      y = next;
      if (done) break;
    }
    return x < 0 ? -y : y;
  }

  /** sin(πx) and cos(πx) from x reduced to [−½, ½] (exact), so large |x| loses nothing. */
  function reduced(x: number): number {
    return x - Math.round(x);
  }

  function stirling(x: number): number {
    const r = 1 / x;
    const r2 = r * r;
    let series = 0;
    for (let k = BERNOULLI.length; k >= 1; k--) series = series * r2 + BERNOULLI[k - 1]! / (2 * k * (2 * k - 1));
    return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + series * r;
  }

  function lgamma(x: number): number {
    if (x !== x) return NaN;
    if (x === Infinity || x === -Infinity) return Infinity;
    if (x === 1 || x === 2) return 0;
    if (x <= 0 && x === Math.floor(x)) return Infinity;
    if (x < 0) return LOG_PI - Math.log(Math.abs(Math.sin(Math.PI * reduced(x)))) - lgamma(1 - x);
    if (x >= 10) return stirling(x);
    let product = 1;
    let z = x;
    while (z < 10) product *= z++;
    return stirling(z) - Math.log(product);
  }

  function factorial(n: number): number {
    let f = 1;
    for (let k = 2; k <= n; k++) f *= k;
    return f;
  }

  /** ψ⁽ⁿ⁾(x) for x ≥ 15 + n: the asymptotic series. */
  function polygammaAsymptotic(n: number, x: number): number {
    const r = 1 / x;
    const r2 = r * r;
    if (n === 0) {
      let series = 0;
      for (let k = BERNOULLI.length; k >= 1; k--) series = series * r2 + BERNOULLI[k - 1]! / (2 * k);
      return Math.log(x) - 0.5 * r - series * r2;
    }
    // (−1)^{n+1}·[(n−1)!/xⁿ + n!/(2x^{n+1}) + Σₖ B₂ₖ·(2k+n−1)!/((2k)!·x^{2k+n})]
    let sum = 0;
    let coefficient = factorial(n - 1); // (2k+n−1)!/(2k)! at k = 0
    let power = r ** n;
    sum = coefficient * power + (factorial(n) / 2) * power * r;
    for (let k = 1; k <= BERNOULLI.length; k++) {
      coefficient *= ((2 * k + n - 2) * (2 * k + n - 1)) / ((2 * k - 1) * (2 * k));
      power *= r2;
      sum += BERNOULLI[k - 1]! * coefficient * power;
    }
    return n % 2 === 1 ? sum : -sum;
  }

  /** dⁿ/dxⁿ cot(πx) = πⁿ·Qₙ(cot πx): the coefficients of Qₙ, by Qₖ₊₁ = −(1 + c²)·Qₖ′. */
  function cotDerivative(n: number, x: number): number {
    let q = [0, 1];
    for (let k = 0; k < n; k++) {
      const d = q.slice(1).map((v, i) => v * (i + 1));
      const next = new Array<number>(d.length + 2).fill(0);
      d.forEach((v, i) => {
        next[i] = next[i]! - v;
        next[i + 2] = next[i + 2]! - v;
      });
      q = next;
    }
    const t = Math.PI * reduced(x);
    const c = Math.cos(t) / Math.sin(t);
    let value = 0;
    for (let i = q.length - 1; i >= 0; i--) value = value * c + q[i]!;
    return Math.PI ** n * value;
  }

  function polygamma(n: number, x: number): number {
    if (x !== x) return NaN;
    if (x === Infinity) return n === 0 ? Infinity : 0;
    if (x === -Infinity) return NaN;
    if (x <= 0 && x === Math.floor(x)) return n % 2 === 1 ? Infinity : NaN;
    const sign = n % 2 === 0 ? 1 : -1;
    if (x < 0) return sign * polygamma(n, 1 - x) - Math.PI * cotDerivative(n, x);
    const threshold = 15 + n;
    let shift = 0;
    const nFactorial = factorial(n);
    let z = x;
    while (z < threshold) {
      shift += nFactorial / z ** (n + 1);
      z += 1;
    }
    return polygammaAsymptotic(n, z) - sign * shift;
  }

  function roundHalfEven(x: number): number {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }

  function floorDivide(a: number, b: number): number {
    if (b === 0) return a / b;
    const mod = a % b;
    let div = (a - mod) / b;
    if (mod !== 0 && b < 0 !== mod < 0) div -= 1;
    if (div === 0) {
      const q = a / b;
      return q < 0 || 1 / q < 0 ? -0 : 0;
    }
    const floored = Math.floor(div);
    return div - floored > 0.5 ? floored + 1 : floored;
  }

  function remainder(a: number, b: number): number {
    const mod = a % b;
    if (mod === 0) return b < 0 ? -0 : 0;
    return b < 0 !== mod < 0 ? mod + b : mod;
  }

  return { erf, erfc, erfinv, lgamma, polygamma, roundHalfEven, floorDivide, remainder };
}

/** The special functions (ir's eager kernels and the JIT's compiled code call these). */
export const SPECIAL: SpecialFunctions = Object.freeze(specialFunctions());

/** Source text of an expression evaluating to the special functions, for standalone generated modules. */
export const SPECIAL_SOURCE = `(${specialFunctions.toString()})()`;
