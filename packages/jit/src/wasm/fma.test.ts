// Relaxed-SIMD FMA is behind a flag in Node 20: this file turns the flag on for its own process
// (vitest runs each test file in its own fork) and checks detection and the FMA GEMM kernels.
import { setFlagsFromString } from "node:v8";
import { describe, expect, it } from "vitest";

setFlagsFromString("--experimental-wasm-relaxed-simd");

describe("relaxed-SIMD FMA", () => {
  it("is detected when the host validates it, and FMA GEMM kernels agree with the reference", async () => {
    const { ArenaPlan, gemmFunction, gemmKey, gemmScratchBytes, instantiate, kernelModule, wasmFeatures } = await import("@chainrule/wasm");
    expect(wasmFeatures().relaxedFma).toBe(true);
    for (const dtype of ["float32", "float64"] as const) {
      for (const [m, n, k, transA, transB] of [
        [9, 13, 17, false, false],
        [33, 10, 64, true, false],
        [5, 7, 3, false, true],
        [1, 1, 1, false, false],
      ] as const) {
        const spec = { dtype, m, n, k, transA, transB, fma: true };
        const size = dtype === "float32" ? 4 : 8;
        const plan = new ArenaPlan();
        const a = plan.reserve(m * k * size),
          b = plan.reserve(k * n * size),
          c = plan.reserve(m * n * size),
          s = plan.reserve(gemmScratchBytes(spec));
        const arena = plan.create(false);
        const A = dtype === "float32" ? arena.f32(a, m * k) : arena.f64(a, m * k);
        const B = dtype === "float32" ? arena.f32(b, k * n) : arena.f64(b, k * n);
        A.forEach((_, i) => (A[i] = Math.sin(i + 1)));
        B.forEach((_, i) => (B[i] = Math.cos(i + 2)));
        instantiate(
          kernelModule(gemmKey(spec), false, () => [gemmFunction(spec)]),
          arena.memory,
        )["gemm"]!(a, b, c, s);
        const C = dtype === "float32" ? arena.f32(c, m * n) : arena.f64(c, m * n);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let p = 0; p < k; p++) sum += (transA ? A[p * m + i]! : A[i * k + p]!) * (transB ? B[j * k + p]! : B[p * n + j]!);
            expect(Math.abs(C[i * n + j]! - sum)).toBeLessThanOrEqual((dtype === "float32" ? 1e-5 : 1e-13) * (1 + Math.abs(sum)));
          }
        }
      }
    }
  });
  it("two threads (float64 FMA uses 3×3 tiles, so blocks of 12 columns) agree bit for bit with one, and with the reference", async () => {
    const { matmul, tanh, tensor, traceWith, transpose } = await import("@chainrule/ir");
    const { optimize, toProgram } = await import("../optimize.js");
    const { compileKernelProgram } = await import("./program.js");
    type T = import("@chainrule/ir").Tensor;
    for (const dtype of ["float64", "float32"] as const) {
      for (const [m, n, k, transA, transB] of [
        [70, 131, 90, false, false],
        [65, 77, 96, true, false],
        [64, 50, 100, false, true],
      ] as const) {
        const fill = (length: number, g: (i: number) => number) => {
          const out = dtype === "float32" ? new Float32Array(length) : new Float64Array(length);
          for (let i = 0; i < length; i++) out[i] = g(i);
          return out;
        };
        const a = tensor(
          fill(m * k, (i) => Math.sin(i * 0.13 + 1)),
          { shape: transA ? [k, m] : [m, k] },
        );
        const b = tensor(
          fill(k * n, (i) => Math.cos(i * 0.07 + 2)),
          { shape: transB ? [n, k] : [k, n] },
        );
        const f = (x: T, y: T) => tanh(matmul(transA ? transpose(x) : x, transB ? transpose(y) : y));
        const graph = traceWith({}, ((xs: T[]) => f(xs[0]!, xs[1]!)) as never, [a, b]);
        const one = compileKernelProgram(optimize(toProgram(graph)), { threads: 1 })!;
        const two = compileKernelProgram(optimize(toProgram(graph)), { threads: 2 })!;
        expect(one.source).toMatch(/FMA/);
        expect(two.source).toMatch(/2 threads/);
        const want = one.run(a.data, b.data)[0] as Float64Array;
        expect(two.run(a.data, b.data)[0]).toEqual(want);
        const A = a.data,
          B = b.data;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let sum = 0;
            for (let p = 0; p < k; p++) sum += (transA ? A[p * m + i]! : A[i * k + p]!) * (transB ? B[j * k + p]! : B[p * n + j]!);
            expect(Math.abs(want[i * n + j]! - Math.tanh(sum))).toBeLessThanOrEqual(dtype === "float32" ? 1e-5 : 1e-12);
          }
        }
      }
    }
  }, 60_000);
});
