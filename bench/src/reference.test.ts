// The hand-written baselines and the float64 references are what every implementation is checked
// against: here they are checked against central finite differences and against each other.
import { describe, expect, it } from "vitest";
import {
  gemmNT32,
  gemmTN32,
  gemmTNUnrolled32,
  handWrittenMlp,
  matmulIkj32,
  matmulIkj64,
  matmulUnrolled32,
  matmulUnrolled64,
  rosenbrock32,
  rosenbrock64,
  rosenbrockGrad32,
  rosenbrockGrad64,
  rosenbrockJvp64,
  seedGradient,
} from "./baselines.js";
import { conv3x3Forward32, handWrittenCnn } from "./baselines-cnn.js";
import { compareSegments } from "./check.js";
import { cnnInput, convInput, matmulInput, mlpInput, rosenbrockInput, uniform } from "./data.js";
import { cnnReference, cnnSegments, conv3x3Reference, convReference, matmulReference, mlpReference, mlpSegments } from "./reference.js";

function centralDifference(f: (x: Float64Array) => number, x: Float64Array, i: number, h = 1e-6): number {
  const plus = Float64Array.from(x);
  const minus = Float64Array.from(x);
  plus[i] = plus[i]! + h;
  minus[i] = minus[i]! - h;
  return (f(plus) - f(minus)) / (2 * h);
}

describe("W1 and W2 baselines", () => {
  it("seed gradient of (x+y)(x−y) at (3,2) is [6, −4]", () => {
    expect(seedGradient(3, 2)).toEqual([6, -4]);
  });

  it("Rosenbrock gradient matches finite differences; jvp is grad·v", () => {
    const { x, v } = rosenbrockInput(7, "float64") as { x: Float64Array; v: Float64Array };
    const g = rosenbrockGrad64(x);
    for (let i = 0; i < x.length; i++) expect(g[i]).toBeCloseTo(centralDifference(rosenbrock64, x, i), 4);
    const [f, df] = rosenbrockJvp64(x, v);
    expect(f).toBe(rosenbrock64(x));
    expect(df).toBeCloseTo(
      g.reduce((s, gi, i) => s + gi * v[i]!, 0),
      10,
    );
  });

  it("float32 versions agree with float64 on the same points", () => {
    const input = rosenbrockInput(50, "float32");
    const x32 = input.x as Float32Array;
    const x64 = Float64Array.from(x32);
    expect(compareSegments([[rosenbrock32(x32)]], [[rosenbrock64(x64)]], 1e-6).ok).toBe(true);
    expect(compareSegments([rosenbrockGrad32(x32)], [rosenbrockGrad64(x64)], 1e-6).ok).toBe(true);
  });
});

describe("W3 reference and hand-written MLP", () => {
  const input = mlpInput(3, 5, 4, 3);

  it("reference gradients match finite differences of the reference loss", () => {
    const params = {
      w1: Float64Array.from(input.w1),
      b1: Float64Array.from(input.b1),
      w2: Float64Array.from(input.w2),
      b2: Float64Array.from(input.b2),
    };
    const g = mlpReference(input, params);
    for (const name of ["w1", "b1", "w2", "b2"] as const) {
      for (let i = 0; i < params[name].length; i++) {
        const numeric = centralDifference((p) => mlpReference(input, { ...params, [name]: p }).loss, params[name], i);
        expect(g[name][i]).toBeCloseTo(numeric, 6);
      }
    }
  });

  it("hand-written float32 step (plain and unrolled) computes the reference gradients, then updates", () => {
    for (const unrolled of [false, true]) {
      const mlp = handWrittenMlp(input, unrolled);
      const { loss, grads } = mlp.lossAndGrads();
      const outcome = compareSegments(mlpSegments({ loss, ...grads }), mlpSegments(mlpReference(input)), 1e-5);
      expect(outcome.message).toBe("");
      const before = mlp.params.w1[0]!;
      const expectedAfter = Math.fround(before - input.learningRate * grads.w1[0]!);
      mlp.step();
      expect(mlp.params.w1[0]).toBe(expectedAfter);
    }
  });
});

describe("W4 and matmul kernels", () => {
  it("i-k-j and unrolled matmul equal the dot-product reference, also for sizes not divisible by 4", () => {
    for (const size of [8, 7]) {
      for (const dtype of ["float64", "float32"] as const) {
        const input = matmulInput(size, dtype);
        const expected = matmulReference(input);
        const kernels =
          dtype === "float64"
            ? [
                matmulIkj64(input.a as Float64Array, input.b as Float64Array, size, size, size),
                matmulUnrolled64(input.a as Float64Array, input.b as Float64Array, size, size, size),
              ]
            : [
                matmulIkj32(input.a as Float32Array, input.b as Float32Array, size, size, size),
                matmulUnrolled32(input.a as Float32Array, input.b as Float32Array, size, size, size),
              ];
        for (const c of kernels) expect(compareSegments([c], expected, 1e-6).message).toBe("");
      }
    }
  });

  it("transposed products: Aᵀ·B (plain, unrolled) and A·Bᵀ", () => {
    const r = 7;
    const m = 3;
    const n = 5;
    const a = Float32Array.from(uniform(r * m, -1, 1, 1));
    const b = Float32Array.from(uniform(r * n, -1, 1, 2));
    const expected = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) for (let q = 0; q < r; q++) expected[i * n + j] = expected[i * n + j]! + a[q * m + i]! * b[q * n + j]!;
    expect(compareSegments([gemmTN32(a, b, new Float32Array(m * n), r, m, n)], [expected], 1e-6).ok).toBe(true);
    expect(compareSegments([gemmTNUnrolled32(a, b, new Float32Array(m * n), r, m, n)], [expected], 1e-6).ok).toBe(true);
    // (Aᵀ)·(Bᵀ)ᵀ through gemmNT: rows of Aᵀ dotted with rows of Bᵀ
    const at = new Float32Array(m * r);
    const bt = new Float32Array(n * r);
    for (let q = 0; q < r; q++) for (let i = 0; i < m; i++) at[i * r + q] = a[q * m + i]!;
    for (let q = 0; q < r; q++) for (let j = 0; j < n; j++) bt[j * r + q] = b[q * n + j]!;
    expect(compareSegments([gemmNT32(at, bt, new Float32Array(m * n), m, r, n)], [expected], 1e-6).ok).toBe(true);
  });
});

describe("W5 / W6 references and hand-written CNN", () => {
  const input = cnnInput(3, 8, 2, 3, 4);

  it("the CNN reference's gradients match central differences of its loss (every parameter)", () => {
    const g = cnnReference(input);
    const keys = ["w1", "b1", "w2", "b2", "w3", "b3"] as const;
    for (const k of keys) {
      const base = Float64Array.from(input[k]);
      const lossAt = (p: Float64Array) => cnnReference(input, { ...input, [k]: p }).loss;
      // a few entries per parameter (max-pool and ReLU are piecewise linear: away from ties a small h is exact enough)
      for (const i of [0, Math.floor(base.length / 2), base.length - 1])
        expect(g[k][i]).toBeCloseTo(centralDifference(lossAt, base, i, 1e-5), 5);
    }
  });

  it("the 3×3 same conv reference equals a hand-computed case", () => {
    // x = 1..9 as a 3×3 image, w = 1 at the centre and 1 at the top-left tap: y[i, j] = x[i, j] + x[i − 1, j − 1]
    const x = Float64Array.from({ length: 9 }, (_, i) => i + 1);
    const w = new Float64Array(9);
    w[4] = 1;
    w[0] = 1;
    expect(Array.from(conv3x3Reference(x, 1, 1, 3, w, 1))).toEqual([1, 2, 3, 4, 6, 8, 7, 12, 14]);
  });

  it("the hand-written float32 CNN agrees with the reference (loss and every gradient)", () => {
    const { loss, grads } = handWrittenCnn(input).lossAndGrads();
    const outcome = compareSegments(cnnSegments({ loss, ...grads }), cnnSegments(cnnReference(input)), 1e-4);
    expect(outcome.message).toBe("");
    expect(outcome.ok).toBe(true);
  });

  it("the hand-written float32 conv agrees with the reference conv", () => {
    const conv = convInput(2, 3, 6);
    const y = new Float32Array(2 * 3 * 36);
    conv3x3Forward32(conv.x, conv.w, y, 2, 3, 3, 6);
    expect(compareSegments([y], convReference(conv), 1e-5).ok).toBe(true);
  });

  it("the hand-written step lowers the loss", () => {
    const trainer = handWrittenCnn(input);
    const first = trainer.step();
    for (let i = 0; i < 20; i++) trainer.step();
    expect(trainer.lossAndGrads().loss).toBeLessThan(first);
  });
});
