import { add, matmul, Random, transpose, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { jit } from "../index.js";
import { ArenaPlan } from "./arena.js";
import { instantiate, kernelModule } from "./kernels.js";
import { transposeAxes, transposeFunction, transposeKey, type TransposeSpec } from "./transpose.js";

/** The kernel's output against a naive loop: out[i] = in[Σ_d idx_d · inStride(perm[d])] over the output's row-major indices. */
function check(shape: number[], perm: number[], size: 4 | 8): void {
  const spec: TransposeSpec = { size, shape, perm };
  const count = shape.reduce((a, b) => a * b, 1);
  const plan = new ArenaPlan();
  const src = plan.reserve(count * size, 16),
    dst = plan.reserve(count * size, 16);
  const arena = plan.create(false);
  const f = instantiate(
    kernelModule(transposeKey(spec), false, () => [transposeFunction(spec, "k")]),
    arena.memory,
  )["k"]!;
  const view = (at: number) => (size === 4 ? arena.i32(at, count) : arena.f64(at, count));
  const input = view(src);
  for (let i = 0; i < count; i++) input[i] = size === 4 ? (i * 7919) | 0 : i + 0.5;
  view(dst).fill(-1);
  f(src, dst);
  const out = view(dst);
  const inStrides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const outShape = perm.map((p) => shape[p]!);
  for (let i = 0; i < count; i++) {
    let rest = i,
      from = 0;
    for (let d = outShape.length - 1; d >= 0; d--) {
      from += (rest % outShape[d]!) * inStrides[perm[d]!]!;
      rest = Math.floor(rest / outShape[d]!);
    }
    if (out[i] !== input[from]) throw new Error(`transpose ${JSON.stringify(shape)} by ${JSON.stringify(perm)}: element ${i}`);
  }
}

describe("wasm transpose kernels", () => {
  const cases: [number[], number[]][] = [
    [
      [3, 4],
      [1, 0],
    ],
    [[5], [0]],
    [
      [2, 3, 4],
      [2, 0, 1],
    ],
    [
      [4, 3, 7, 5],
      [1, 0, 2, 3],
    ],
    [
      [2, 1, 3, 5],
      [3, 1, 2, 0],
    ],
    [
      [6, 2, 3, 4, 2],
      [2, 1, 0, 3, 4],
    ],
    [
      [2, 3, 0, 4],
      [3, 2, 1, 0],
    ],
    [
      [1, 1, 1],
      [2, 0, 1],
    ],
  ];
  for (const [shape, perm] of cases)
    for (const size of [4, 8] as const)
      it(`${JSON.stringify(shape)} by ${JSON.stringify(perm)}, ${size}-byte elements, equals a naive loop`, () => check(shape, perm, size));

  it("merges axes adjacent in both layouts: a conv gradient's [N, C, H, W] → [C, N, H, W] copies rows of H·W", () => {
    expect(transposeAxes({ size: 4, shape: [32, 16, 14, 14], perm: [1, 0, 2, 3] })).toEqual({
      sizes: [16, 32, 196],
      strides: [196, 3136, 1],
    });
  });

  it("runs in compiled programs for a transpose no consumer folds (same values as the JavaScript lowering, within f32 GEMM rounding)", () => {
    const r = new Random(2);
    const x = r.normal([6, 5, 40], { dtype: "float32" });
    const w = r.normal([40, 30], { dtype: "float32" });
    const f = (a: Tensor, b: Tensor) => add(transpose(matmul(a, b), [2, 0, 1]), 1);
    const g = jit(f);
    const got = g(x, w).data;
    const want = jit(f, { kernels: false })(x, w).data;
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(want[i]!)));
    expect(g.source).toContain("= transpose float32 [6,5,30] by [2,0,1]");
  });
});
