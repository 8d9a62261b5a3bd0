import { add, crossEntropy, matmul, setBackend, type Tensor, tanh, tensor, withBackend } from "@chainrule/ir";
import { resetWasmBackend, useWasmBackend, wasmBackendInfo } from "@chainrule/wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { valueAndGrad } from "./engine.js";
import { parameter, variable, type Variable } from "./imperative/variable.js";

// The reverse engine and the imperative API with ir's eager ops on @chainrule/wasm's backend: a
// small MLP whose matmuls (forward A·W, backward ct·Wᵀ and xᵀ·ct read transposed in place) run on
// the GEMM kernels. In float64 the gradients are bit for bit those on ir's JavaScript backend.
type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };
const seeded = (shape: number[], seed: number, dtype: "float32" | "float64") => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, (_, i) => Math.sin(i * 0.71 + seed) / 4);
  return tensor(dtype === "float32" ? Float32Array.from(data) : Float64Array.from(data), { shape });
};
const model = (dtype: "float32" | "float64") => ({
  params: { w1: seeded([100, 64], 1, dtype), b1: seeded([64], 2, dtype), w2: seeded([64, 10], 3, dtype), b2: seeded([10], 4, dtype) },
  x: seeded([32, 100], 5, dtype),
  labels: tensor(
    Int32Array.from({ length: 32 }, (_, i) => (i * 7) % 10),
    { shape: [32] },
  ),
});
const loss = (p: Params, x: Tensor, labels: Tensor) => crossEntropy(add(matmul(tanh(add(matmul(x, p.w1), p.b1)), p.w2), p.b2), labels);
const flat = (p: Params) => [p.w1, p.b1, p.w2, p.b2].flatMap((t) => Array.from(t.data));

beforeAll(() => {
  expect(useWasmBackend({ minElements: 256, minMatmulWork: 1024 })).toBe(true);
});
afterAll(() => {
  setBackend("js");
  resetWasmBackend();
});

describe("reverse on the WebAssembly backend", () => {
  it("float64 MLP gradients are bit for bit those of the JavaScript backend; the matmuls ran on the kernels", () => {
    const { params, x, labels } = model("float64");
    const before = wasmBackendInfo().ran.matmul;
    const [l, g] = valueAndGrad(loss, 0)(params, x, labels) as [Tensor, Params];
    // x·w1 and h·w2 forward; ct·w1ᵀ is not needed (x is no parameter), ct·w2ᵀ, xᵀ·ct and hᵀ·ct backward
    expect(wasmBackendInfo().ran.matmul - before).toBeGreaterThanOrEqual(4);
    const [lj, gj] = withBackend("js", () => valueAndGrad(loss, 0)(params, x, labels)) as [Tensor, Params];
    expect(l.item()).toBe(lj.item());
    expect(flat(g)).toEqual(flat(gj));
  });

  it("float32 MLP gradients agree with the JavaScript backend within float32 rounding", () => {
    const { params, x, labels } = model("float32");
    const [, g] = valueAndGrad(loss, 0)(params, x, labels) as [Tensor, Params];
    const [, gj] = withBackend("js", () => valueAndGrad(loss, 0)(params, x, labels)) as [Tensor, Params];
    const a = flat(g);
    const b = flat(gj);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1e-3 + Math.abs(b[i]!)));
    expect(worst).toBeLessThan(1e-4);
  });

  it("the imperative API's backward() gives the same float64 gradients on both backends", () => {
    const { params, x, labels } = model("float64");
    const run = () => {
      const p = { w1: parameter(params.w1), b1: parameter(params.b1), w2: parameter(params.w2), b2: parameter(params.b2) };
      (loss(p, variable(x), labels) as Variable).backward();
      return [p.w1.grad!, p.b1.grad!, p.w2.grad!, p.b2.grad!].flatMap((t) => Array.from(t.data));
    };
    const before = wasmBackendInfo().ran.matmul;
    const onKernels = run();
    expect(wasmBackendInfo().ran.matmul - before).toBeGreaterThanOrEqual(4);
    expect(onKernels).toEqual(withBackend("js", run));
  });
});
