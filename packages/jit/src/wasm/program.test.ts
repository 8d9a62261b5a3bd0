import { add, crossEntropy, exp, log, matmul, mul, sub, sum, tanh, tensor, traceWith, transpose, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { interpreter } from "../ad.js";
import { compileGraph } from "../compile.js";
import { optimize, toProgram } from "../optimize.js";
import { wasmFeatures } from "@chainrule/wasm";
import { kernelProgramFor } from "./config.js";
import { compileKernelProgram } from "./program.js";

type Fn = (...xs: Tensor[]) => Tensor | Tensor[];

function seededTensor(shape: number[], dtype: "float32" | "float64", seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.61 + seed) * 0.8;
  return tensor(data, { shape });
}

/**
 * Runs `f` through the kernels (1 and 2 threads) and, as the reference, eagerly through ir's
 * kernels (and through the JavaScript code generator when `viaJs`).
 */
function both(
  f: Fn,
  args: Tensor[],
  viaJs = false,
): { js: unknown[]; kernels: unknown[]; threads: unknown[]; source: string; usedThreads: number } {
  const graph = traceWith({}, ((xs: Tensor[]) => f(...xs)) as never, args);
  const raw = args.map((a) => (a.rank === 0 ? a.data[0]! : a.data));
  const eager = f(...args);
  const js = viaJs
    ? (compileGraph(graph, { kernels: false }).run(...raw) as unknown[])
    : (Array.isArray(eager) ? eager : [eager]).map((t) => (t.rank === 0 ? t.item() : t.data));
  const program = optimize(toProgram(graph));
  const k1 = compileKernelProgram(program)!;
  const k2 = compileKernelProgram(optimize(toProgram(graph)), { threads: 2 })!;
  const kernels = k1.run(...raw);
  // twice: resident buffers must not leak state between calls
  const again = k1.run(...raw);
  expect(again).toEqual(kernels);
  return { js, kernels, threads: k2.run(...raw), source: k1.source, usedThreads: k2.threads };
}

function maxError(a: unknown[], b: unknown[]): number {
  let worst = 0;
  a.forEach((x, i) => {
    const y = b[i];
    const xs = typeof x === "number" ? [x] : Array.from(x as ArrayLike<number>);
    const ys = typeof y === "number" ? [y] : Array.from(y as ArrayLike<number>);
    if (xs.length !== ys.length) worst = Infinity;
    xs.forEach((v, j) => {
      const e = Math.abs(v - ys[j]!) / (1 + Math.abs(v));
      if (!(e <= worst)) worst = Number.isNaN(e) ? (Number.isNaN(v) && Number.isNaN(ys[j]!) ? worst : Infinity) : e;
    });
  });
  return worst;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [0, 4, 3],
  [3, 0, 2],
  [2, 3, 0],
  [5, 7, 3],
  [9, 13, 17],
  [33, 65, 7],
  [64, 10, 128],
  [16, 130, 40],
];

describe("programs on WebAssembly kernels agree with the JavaScript code generator", () => {
  it("the host has SIMD (kernels are tested, not skipped)", () => expect(wasmFeatures().simd).toBe(true));
  for (const dtype of ["float32", "float64"] as const) {
    const tol = dtype === "float32" ? 2e-5 : 1e-12;
    it(`${dtype} matmul A·B, Aᵀ·B, A·Bᵀ, Aᵀ·Bᵀ over odd and degenerate shapes`, () => {
      for (const [m, n, k] of SHAPES) {
        const a = seededTensor([m, k], dtype, 1),
          b = seededTensor([k, n], dtype, 2);
        const at = seededTensor([k, m], dtype, 3),
          bt = seededTensor([n, k], dtype, 4);
        const cases: [Fn, Tensor[]][] = [
          [(x, y) => matmul(x!, y!), [a, b]],
          [(x, y) => matmul(transpose(x!), y!), [at, b]],
          [(x, y) => matmul(x!, transpose(y!)), [a, bt]],
          [(x, y) => matmul(transpose(x!), transpose(y!)), [at, bt]],
        ];
        cases.forEach(([f, args], c) => {
          const r = both(f, args);
          expect({ m, n, k, c, err: maxError(r.js, r.kernels) <= tol }).toEqual({ m, n, k, c, err: true });
          expect(r.threads).toEqual(r.kernels);
        });
      }
    });
    it(`${dtype} batched matmul (batch 0, 1, 3; one side broadcast)`, () => {
      for (const batch of [0, 1, 3]) {
        const a = seededTensor([batch, 5, 6], dtype, 1),
          b = seededTensor([batch, 6, 7], dtype, 2),
          w = seededTensor([6, 7], dtype, 3);
        for (const [f, args] of [
          [(x: Tensor, y: Tensor) => matmul(x, y), [a, b]],
          [(x: Tensor, y: Tensor) => matmul(x, y), [a, w]],
          [(x: Tensor, y: Tensor) => matmul(x, transpose(y, [0, 2, 1])), [a, seededTensor([batch, 7, 6], dtype, 5)]],
        ] as [Fn, Tensor[]][]) {
          const r = both(f, args);
          expect(maxError(r.js, r.kernels)).toBeLessThanOrEqual(tol);
        }
      }
    });
    it(`${dtype} fused chains, reductions and reference steps around a matmul`, () => {
      const f: Fn = (x, w, bias) => {
        const h = tanh(add(matmul(x!, w!), bias!));
        const e = exp(sub(h, 0.5));
        return [sum(mul(e, h)), sum(h, 0), sum(e, 1), log(add(mul(h, h), 1))];
      };
      const r = both(f, [seededTensor([12, 20], dtype, 1), seededTensor([20, 9], dtype, 2), seededTensor([9], dtype, 3)]);
      expect(maxError(r.js, r.kernels)).toBeLessThanOrEqual(dtype === "float32" ? 1e-5 : 1e-12);
      expect(r.threads).toEqual(r.kernels);
    });
  }
  it("a GEMM epilogue waits for operands whose group finishes later (regression: fast-check seed 7)", () => {
    // u = exp(v) starts a group that z joins after the matmul; y = m + u is the matmul's epilogue
    const f: Fn = (x, w, v) => {
      const u = exp(v!);
      const m = matmul(x!, w!);
      const z = mul(u, 2);
      const y = add(m, u);
      return [y, z];
    };
    const r = both(f, [seededTensor([8, 8], "float32", 1), seededTensor([8, 8], "float32", 2), seededTensor([8], "float32", 3)]);
    expect(r.source).not.toMatch(/epilogue/); // u is not ready when the GEMM runs
    expect(maxError(r.js, r.kernels)).toBeLessThanOrEqual(1e-6);
  });
  it("the MLP training step (784-128-10, batch 64, float32) matches, on one thread and two", () => {
    const loss = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, x: Tensor, labels: Tensor) =>
      crossEntropy(add(matmul(tanh(add(matmul(x, w1), b1)), w2), b2), labels);
    const step: Fn = (w1, b1, w2, b2, x, labels) => {
      const [l, g] = interpreter.valueAndGrad(loss, [0, 1, 2, 3])(w1!, b1!, w2!, b2!, x!, labels!);
      return [l, ...[w1!, b1!, w2!, b2!].map((p, i) => sub(p, mul(0.01, g[i]!)))];
    };
    const labels = tensor(
      Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 10),
      { shape: [64] },
    );
    const args = [
      seededTensor([784, 128], "float32", 1),
      seededTensor([128], "float32", 2),
      seededTensor([128, 10], "float32", 3),
      seededTensor([10], "float32", 4),
      seededTensor([64, 784], "float32", 5),
      labels,
    ];
    const graph = traceWith({}, ((xs: Tensor[]) => step(...xs)) as never, args);
    expect(kernelProgramFor(optimize(toProgram(graph)), {})).toBeDefined();
    const r = both(step, args, true);
    expect(maxError(r.js, r.kernels)).toBeLessThanOrEqual(1e-5);
    expect(r.threads).toEqual(r.kernels);
    if (wasmFeatures().sharedMemory) expect(r.usedThreads).toBe(2);
    // every matmul ran as a kernel, transposes folded (no reference transpose or matmul)
    expect(r.source).not.toMatch(/= (matmul|transpose)\(.*\[reference/);
    expect(r.source).toMatch(/Aᵀ·B/);
  }, 60_000);
});
