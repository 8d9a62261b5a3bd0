import { matmul, tanh, tensor, traceWith, transpose, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { optimize, toProgram } from "../optimize.js";
import { kernelInfo, startThreads } from "./config.js";
import { wasmFeatures, threadsAvailable, threadStats } from "@chainrule/wasm";
import { compileKernelProgram } from "./program.js";

function program(f: (a: Tensor, b: Tensor) => Tensor, a: Tensor, b: Tensor, threads: number) {
  const graph = traceWith({}, ((xs: Tensor[]) => f(xs[0]!, xs[1]!)) as never, [a, b]);
  return compileKernelProgram(optimize(toProgram(graph)), { threads })!;
}

function data(n: number, seed: number, dtype: "float32" | "float64"): Float32Array | Float64Array {
  const out = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.13 + seed);
  return out;
}

describe("two threads", () => {
  it("are available here (workers and shared memory), so the two-thread path is what runs", () => {
    expect(wasmFeatures().sharedMemory && threadsAvailable()).toBe(true);
  });
  it("startThreads() resolves true once the worker runs; kernelInfo() reports two threads and no reasons", async () => {
    expect(await startThreads()).toBe(true);
    const info = kernelInfo();
    expect(info.threads).toBe(true);
    expect(info.threadsReady).toBe(true);
    expect(info.threadsUnavailable).toBeUndefined();
    expect(info.kernelsUnavailable).toBeUndefined();
  });
  it("give bit-identical results to one thread over many interleaved calls of several programs", () => {
    const cases = [
      { f: (a: Tensor, b: Tensor) => matmul(a, b), m: 70, n: 130, k: 90, dtype: "float32" as const },
      { f: (a: Tensor, b: Tensor) => tanh(matmul(transpose(a), b)), m: 65, n: 77, k: 96, dtype: "float32" as const },
      { f: (a: Tensor, b: Tensor) => matmul(a, transpose(b)), m: 64, n: 72, k: 100, dtype: "float64" as const },
    ];
    const built = cases.map(({ f, m, n, k, dtype }, c) => {
      const transA = c === 1,
        transB = c === 2;
      const a = tensor(data(m * k, c, dtype), { shape: transA ? [k, m] : [m, k] });
      const b = tensor(data(k * n, c + 9, dtype), { shape: transB ? [n, k] : [k, n] });
      const one = program(f, a, b, 1),
        two = program(f, a, b, 2);
      expect(two.threads).toBe(2);
      expect(two.source).toMatch(/2 threads/);
      return { one, two, a, b };
    });
    const posted = threadStats.posted,
      blocks = threadStats.workerBlocks;
    for (let r = 0; r < 60; r++) {
      for (const { one, two, a, b } of built) {
        // fresh inputs each round: stale data on either thread would show
        a.data[r % a.data.length] = r * 0.01;
        const want = one.run(a.data, b.data)[0] as Float32Array;
        const got = two.run(a.data, b.data)[0] as Float32Array;
        expect(got).toEqual(want);
      }
    }
    expect(threadStats.posted - posted).toBe(180);
    // the worker ran some of the blocks (it spins between the back-to-back jobs)
    expect(threadStats.workerBlocks).toBeGreaterThan(blocks);
  }, 60_000);
});
