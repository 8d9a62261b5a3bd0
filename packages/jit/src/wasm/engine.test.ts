import { ArgumentError, add, crossEntropy, matmul, mul, sub, sum, tanh, tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { compileStats, configureKernels, grad, jit, kernelInfo, valueAndGrad } from "../index.js";

function seeded(shape: number[], dtype: "float32" | "float64", seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37 + seed) * 0.5;
  return tensor(data, { shape });
}

function close(a: Tensor | number, b: Tensor | number, tol: number): void {
  const xs = typeof a === "number" ? [a] : Array.from(a.data);
  const ys = typeof b === "number" ? [b] : Array.from(b.data);
  expect(xs.length).toBe(ys.length);
  let worst = 0;
  xs.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - ys[i]!) / (1 + Math.abs(x)))));
  expect(worst).toBeLessThanOrEqual(tol);
}

const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, labels: Tensor) =>
  crossEntropy(add(matmul(tanh(add(matmul(x, w1), b1)), w2), b2), labels);
const step = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, labels: Tensor) => {
  const [l, g] = valueAndGrad(loss, [0, 1, 2, 3])(w1, b1, w2, b2, x, labels);
  return [l, ...[w1, b1, w2, b2].map((p, i) => sub(p, mul(0.01, g[i]!)))];
};

describe("the JIT runs matmul-heavy programs on WebAssembly kernels", () => {
  it("kernels are available here and reported", () => {
    const info = kernelInfo();
    expect(info.simd).toBe(true);
    expect(info.config.enabled).toBe(true);
  });
  for (const threads of [1, 2]) {
    it(`a jitted MLP training step (784-128-10, batch 64, f32) matches kernels: false (${threads} thread${threads > 1 ? "s" : ""})`, () => {
      const labels = tensor(
        Int32Array.from({ length: 64 }, (_, i) => (i * 3) % 10),
        { shape: [64] },
      );
      const args = [
        seeded([784, 128], "float32", 1),
        seeded([128], "float32", 2),
        seeded([128, 10], "float32", 3),
        seeded([10], "float32", 4),
        seeded([64, 784], "float32", 5),
        labels,
      ] as const;
      const fast = jit(step, { threads });
      const plain = jit(step, { kernels: false });
      const a = fast(...args);
      const b = plain(...args);
      expect(fast.source).toMatch(/^\/\/ WebAssembly kernels/);
      expect(plain.source).not.toMatch(/WebAssembly/);
      // the kernels print as WebAssembly text, one module per kernel, headed by its cache key
      const wat = fast.wat!;
      expect(wat).toMatch(/^;; gemm:float32:64x\d+x784:/m); // x·w1 (column blocks on two threads)
      expect(wat.match(/^\(module/gm)!.length).toBeGreaterThan(4);
      expect(wat).toMatch(/f32x4\.(mul|relaxed_madd)/);
      expect(wat).toMatch(/\(import "env" "memory" \(memory \d+( \d+ shared)?\)\)/);
      expect(plain.wat).toBeUndefined();
      a.forEach((t, i) => close(t, b[i]!, 2e-5));
      // a second call reuses the compiled kernels and resident buffers
      const again = fast(...args);
      again.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(a[i]!.data)));
    }, 60_000);
  }
  it("grad through batched and transposed matmuls, f64, agrees with kernels off and the process switch", () => {
    const f = (a: Tensor, b: Tensor) => sum(tanh(matmul(matmul(a, b), b)));
    const a = seeded([3, 20, 30], "float64", 1),
      b = seeded([30, 30], "float64", 2);
    const on = grad(f, [0, 1])(a, b);
    const off = grad(f, [0, 1], { kernels: false })(a, b);
    on.forEach((t, i) => close(t, off[i]!, 1e-12));
    const before = configureKernels({ enabled: false });
    try {
      const g = grad(f, [0, 1]);
      const switched = g(a, b);
      expect(g.source).not.toMatch(/WebAssembly/);
      on.forEach((t, i) => close(t, switched[i]!, 1e-12));
    } finally {
      configureKernels(before);
    }
  });
  it("small work keeps the generated JavaScript (no kernels for scalar or elementwise programs)", () => {
    const g = grad((x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y)), [0, 1]);
    expect(g(3, 2)).toEqual([6, -4]);
    expect(g.source).not.toMatch(/WebAssembly/);
    const small = jit((p: Tensor, q: Tensor) => matmul(p, q));
    small(seeded([4, 4], "float64", 1), seeded([4, 4], "float64", 2));
    expect(small.source).not.toMatch(/WebAssembly/);
    expect(compileStats().compiles).toBeGreaterThan(0);
  });
  it("bad settings are errors naming the setting", () => {
    expect(() => configureKernels({ threads: 0 })).toThrow(
      /configureKernels: expected threads to be an integer ≥ 1 \(two are used at most\), got number 0/,
    );
    expect(() => configureKernels({ fma: "yes" as never })).toThrow(/configureKernels: expected fma to be a boolean, got string "yes"/);
    expect(() => configureKernels({ minMatmulWork: -5 })).toThrow(
      /configureKernels: expected minMatmulWork to be an integer ≥ 0, got number -5/,
    );
    expect(() => configureKernels({ thread: 2 } as never)).toThrow(
      /configureKernels: expected settings among enabled, threads, fma, minMatmulWork, everyProgram, got "thread"/,
    );
    expect(kernelInfo().config.threads).toBe(1); // a refused patch changes nothing
    const f = (a: Tensor, b: Tensor) => matmul(a, b);
    expect(() => jit(f, { threads: 2.5 })).toThrow(/jit: expected threads to be an integer ≥ 1 \(two are used at most\), got number 2.5/);
    expect(() => jit(f, { threads: -1 })).toThrow(ArgumentError);
    expect(() => jit(f, { kernels: "yes" as never })).toThrow(/jit: expected kernels to be a boolean, got/);
    expect(() => grad((a: Tensor) => sum(f(a, a)), 0, { threads: 0 })).toThrow(/grad: expected threads to be an integer ≥ 1/);
    expect(kernelInfo().config.threads).toBe(1);
  });
});
