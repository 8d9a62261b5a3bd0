/**
 * Eager elementwise fusion in forward mode: on large concrete operands the primal of an
 * elementwise primitive and its one-direction tangent are lazy values computed in fused loops
 * (ir's fusion.ts). Fusion must not change a single bit: every result here is compared with the
 * same computation run with fusion off (`setFusion({ enabled: false })`), which is forward mode's
 * unfused path, itself checked against independent references elsewhere (rules.test.ts, the
 * conformance suite).
 */
import {
  abs,
  add,
  atan2,
  cos,
  cosh,
  div,
  exp,
  fusionStatus,
  LazyTensor,
  log,
  maximum,
  mean,
  minimum,
  mul,
  neg,
  pow,
  resetFusionStats,
  setFusion,
  sin,
  sinh,
  slice,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  Tensor,
  type DType,
} from "@chainrule/ir";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createEngine, engine } from "./index.js";

/** The fast-check seed (CHAINRULE_SEED to replay one), printed in the test names. */
const SEED = Number(process.env.CHAINRULE_SEED ?? Date.now() % 2147483647);

afterEach(() => {
  setFusion({ enabled: true, minSize: 4096 });
});

/** Each element as a string, so NaN equals NaN and −0 differs from 0 (a bitwise comparison up to NaN payloads). */
function bits(t: unknown): string[] {
  if (Array.isArray(t)) return t.flatMap((x) => bits(x));
  const data = t instanceof Tensor ? Array.from(t.data) : [t as number];
  return data.map((v) => (Object.is(v, -0) ? "-0" : String(v)));
}

/** `f` run with fusion off (the unfused path), settings restored after. */
function unfused<T>(f: () => T): T {
  const previous = setFusion({ enabled: false });
  try {
    return f();
  } finally {
    setFusion(previous);
  }
}

function vector(n: number, dtype: DType, at: (i: number) => number): Tensor {
  const data = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = at(i);
  return new Tensor(dtype, [n], data);
}

/** W2: Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², as the benchmark writes it. */
function rosenbrock(x: Tensor): Tensor {
  const n = x.shape[0]!;
  const head = slice(x, [0], [n - 1]);
  const tail = slice(x, [1]);
  const t = sub(tail, mul(head, head));
  const u = sub(1, head);
  return sum(add(mul(100, mul(t, t)), mul(u, u)));
}

describe("forward mode fuses the W2 jvp", () => {
  const n = 5000; // above the default threshold (4096 elements)

  it.each(["float64", "float32"] as const)("%s: bitwise the unfused jvp, in a few fused loops, outputs plain", (dtype) => {
    const x = vector(n, dtype, (i) => Math.sin(i) * 1.5);
    const v = vector(n, dtype, (i) => Math.cos(3 * i));
    resetFusionStats();
    const [y, dy] = engine.jvp(rosenbrock, [x], [v]);
    const status = fusionStatus();
    const [y0, dy0] = unfused(() => engine.jvp(rosenbrock, [x], [v]));
    expect(bits([y, dy])).toEqual(bits([y0, dy0]));
    // the primal and the tangent are each one fused sum; nothing else is computed on its own
    expect(status.lazy).toBeGreaterThanOrEqual(10);
    expect(status.fusedSums).toBe(2);
    expect(status.materialized).toBeLessThanOrEqual(2);
    // and a naive loop agrees with the value (a check of the sum, not only of fusion against itself)
    let total = 0;
    for (let i = 0; i + 1 < n; i++) {
      const a = x.data[i]!;
      const b = x.data[i + 1]!;
      total += 100 * (b - a * a) ** 2 + (1 - a) ** 2;
    }
    expect(y.item()).toBeCloseTo(total, dtype === "float32" ? -1 : 6);
    expect(Object.getPrototypeOf(y)).toBe(Tensor.prototype);
    expect(Object.getPrototypeOf(dy)).toBe(Tensor.prototype);
  });

  it("a vector output and its tangent come back computed, as plain tensors", () => {
    const x = vector(n, "float64", (i) => i / n);
    const v = vector(n, "float64", () => 1);
    const f = (a: Tensor) => mul(exp(a), sin(a));
    const [y, dy] = engine.jvp(f, [x], [v]);
    expect(y).not.toBeInstanceOf(LazyTensor);
    expect(dy).not.toBeInstanceOf(LazyTensor);
    for (const i of [0, 1234, n - 1]) {
      const a = x.data[i]!;
      expect(y.data[i]).toBe(Math.exp(a) * Math.sin(a));
      // d(eᵃ sin a) = eᵃ sin a + eᵃ cos a
      expect(dy.data[i]).toBeCloseTo(Math.exp(a) * (Math.sin(a) + Math.cos(a)), 12);
    }
  });

  it("fusion off: nothing is made lazy", () => {
    const x = vector(n, "float64", (i) => Math.sin(i));
    resetFusionStats();
    unfused(() => engine.jvp(rosenbrock, [x], [x]));
    expect(fusionStatus().lazy).toBe(0);
  });
});

// ── random elementwise chains (fast-check) ─────────────────────────────────────────────────

type Unary = (a: Tensor) => Tensor;
type Binary = (a: Tensor, b: Tensor) => Tensor;

/** Steps of several primitives each, kept mostly inside their domains (NaN would still compare equal). */
const UNARY: Record<string, Unary> = {
  neg: (a) => neg(a),
  exp: (a) => exp(tanh(a)),
  log: (a) => log(add(abs(a), 0.5)),
  sin: (a) => sin(a),
  cos: (a) => mul(cos(a), 2.5),
  sqrt: (a) => sqrt(add(square(a), 1e-3)),
  sinh: (a) => sinh(mul(a, 0.3)),
  cosh: (a) => cosh(sub(a, 0.1)),
  square: (a) => square(a),
  scaled: (a) => sub(mul(3, a), 1),
  // a full sum broadcast back: a size-1 operand in the fused loops
  centered: (a) => sub(a, mean(a)),
};
const BINARY: Record<string, Binary> = {
  add: (a, b) => add(a, b),
  sub: (a, b) => sub(a, b),
  mul: (a, b) => mul(a, b),
  div: (a, b) => div(a, add(square(b), 1)),
  pow: (a, b) => pow(add(abs(a), 0.25), tanh(b)),
  maximum: (a, b) => maximum(a, b),
  minimum: (a, b) => minimum(a, b),
  atan2: (a, b) => atan2(a, b),
};

interface Step {
  readonly op: string;
  readonly a: number;
  readonly b: number;
}

const steps = fc.array(fc.record({ op: fc.constantFrom(...Object.keys(UNARY), ...Object.keys(BINARY)), a: fc.nat(), b: fc.nat() }), {
  minLength: 1,
  maxLength: 12,
});

/** The chain on inputs x, y (and a constant c): each step takes earlier values; returns Σ last and the last value. */
function chain(program: readonly Step[], c: Tensor): (x: Tensor, y: Tensor) => Tensor[] {
  return (x, y) => {
    const values: Tensor[] = [x, y, c];
    for (const { op, a, b } of program) {
      const u = values[a % values.length]!;
      const w = values[b % values.length]!;
      values.push(op in UNARY ? UNARY[op]!(u) : BINARY[op]!(u, w));
    }
    const last = values[values.length - 1]!;
    return [sum(last), last];
  };
}

describe(`random elementwise chains: the fused jvp is bitwise the unfused one (fast-check seed ${SEED})`, () => {
  it.each(["float64", "float32"] as const)("%s, every size fused (minSize 1)", (dtype) => {
    setFusion({ minSize: 1 });
    resetFusionStats();
    fc.assert(
      fc.property(steps, fc.integer({ min: 2, max: 40 }), fc.boolean(), (program, n, zeroY) => {
        const x = vector(n, dtype, (i) => Math.sin(i + n));
        const y = vector(n, dtype, (i) => Math.cos(2 * i) - 0.3);
        const c = vector(n, dtype, (i) => 0.5 + i / n);
        const tx = vector(n, dtype, (i) => Math.cos(i) + 0.5);
        const ty = vector(n, dtype, (i) => (zeroY ? 0 : i % 3) - 1);
        const f = chain(program, c);
        const fused = engine.jvp(f, [x, y], [tx, ty]);
        const reference = unfused(() => engine.jvp(f, [x, y], [tx, ty]));
        expect(bits(fused)).toEqual(bits(reference));
      }),
      { seed: SEED, numRuns: 60 },
    );
    // the fused runs did fuse
    expect(fusionStatus().lazy).toBeGreaterThan(60);
  });

  it("float64 at the default threshold (n above 4096)", () => {
    fc.assert(
      fc.property(steps, (program) => {
        const n = 4500;
        const x = vector(n, "float64", (i) => Math.sin(i));
        const y = vector(n, "float64", (i) => Math.cos(i) * 2);
        const c = vector(n, "float64", (i) => 1 + (i % 7) / 7);
        const f = chain(program, c);
        const fused = engine.jvp(f, [x, y], [y, x]);
        const reference = unfused(() => engine.jvp(f, [x, y], [y, x]));
        expect(bits(fused)).toEqual(bits(reference));
      }),
      { seed: SEED, numRuns: 8 },
    );
  });
});

describe("several directions per pass (k > 1: the primal fuses, the tangents take the typed-array paths)", () => {
  const f = (a: Tensor) => sum(mul(exp(mul(a, 0.1)), sin(a)));
  const x = vector(24, "float64", (i) => i / 5 - 2);

  it("jacfwd, grad and hessian agree with the unfused ones bitwise and with hand-computed derivatives", () => {
    setFusion({ minSize: 1 });
    const chunked = createEngine({ chunkSize: 5 });
    const g = chunked.grad(f)(x) as Tensor;
    const h = chunked.hessian(f)(x) as Tensor;
    const j = chunked.jacfwd((a: Tensor) => mul(exp(mul(a, 0.1)), sin(a)))(x) as Tensor;
    const off = unfused(() => [chunked.grad(f)(x), chunked.hessian(f)(x), chunked.jacfwd((a: Tensor) => mul(exp(mul(a, 0.1)), sin(a)))(x)]);
    expect(bits([g, h, j])).toEqual(bits(off));
    for (let i = 0; i < 24; i++) {
      const a = x.data[i]!;
      const e = Math.exp(0.1 * a);
      // d/da e^{a/10} sin a = e^{a/10}(sin a / 10 + cos a); second derivative e^{a/10}((0.01 − 1) sin a + 0.2 cos a)
      expect(g.data[i]).toBeCloseTo(e * (Math.sin(a) / 10 + Math.cos(a)), 12);
      expect(j.data[i * 24 + i]).toBeCloseTo(e * (Math.sin(a) / 10 + Math.cos(a)), 12);
      expect(h.data[i * 24 + i]).toBeCloseTo(e * (-0.99 * Math.sin(a) + 0.2 * Math.cos(a)), 10);
      expect(h.data[i * 24 + ((i + 1) % 24)]).toBe(0);
    }
  });
});
