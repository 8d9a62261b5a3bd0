import { add, matmul, Random, transpose, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { jit } from "../index.js";
import { ArenaPlan } from "@chainrule/wasm";
import { instantiate, kernelModule } from "@chainrule/wasm";
import { broadcastCopy, copyFunction, copyKey, transposeAxes, transposeCopy, type TransposeSpec } from "./transpose.js";

/** The kernel's output against a naive loop: out[i] = in[Σ_d idx_d · inStride(perm[d])] over the output's row-major indices. */
function check(shape: number[], perm: number[], size: 4 | 8): void {
  const spec: TransposeSpec = { size, shape, perm };
  const count = shape.reduce((a, b) => a * b, 1);
  const plan = new ArenaPlan();
  const src = plan.reserve(count * size, 16),
    dst = plan.reserve(count * size, 16);
  const arena = plan.create(false);
  const copy = transposeCopy(spec);
  const f = instantiate(
    kernelModule(copyKey(copy), false, () => [copyFunction(copy, "k")]),
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

  it("broadcasts: [1, C, 1, 1] → [N, C, H, W] reads C with stride 1 and repeats it (stride 0), merged axes", () => {
    expect(broadcastCopy(4, [1, 3, 1, 1], [2, 3, 4, 5])).toEqual({ size: 4, sizes: [2, 3, 20], strides: [0, 1, 0] });
    expect(broadcastCopy(4, [5], [3, 4, 5])).toEqual({ size: 4, sizes: [12, 5], strides: [0, 1] });
    const plan = new ArenaPlan();
    const src = plan.reserve(12),
      dst = plan.reserve(2 * 3 * 4 * 5 * 4);
    const arena = plan.create(false);
    const copy = broadcastCopy(4, [1, 3, 1, 1], [2, 3, 4, 5]);
    instantiate(
      kernelModule(copyKey(copy), false, () => [copyFunction(copy, "k")]),
      arena.memory,
    )["k"]!(src, dst);
    arena.f32(src, 3).set([1.5, -2, 7]);
    instantiate(
      kernelModule(copyKey(copy), false, () => [copyFunction(copy, "k")]),
      arena.memory,
    )["k"]!(src, dst);
    const out = arena.f32(dst, 120);
    for (let i = 0; i < 120; i++) expect(out[i]).toBe([1.5, -2, 7][Math.floor(i / 20) % 3]);
  });

  it("merges axes adjacent in both layouts: a conv gradient's [N, C, H, W] → [C, N, H, W] copies rows of H·W", () => {
    expect(transposeAxes({ size: 4, shape: [32, 16, 14, 14], perm: [1, 0, 2, 3] })).toEqual({
      sizes: [16, 32, 196],
      strides: [196, 3136, 1],
    });
  });

  it("a channel bias [1, C, 1, 1] added to [N, C, H, W] runs in a fused SIMD kernel (the broadcast materialized by a copy)", () => {
    const r = new Random(4);
    const x = r.normal([4, 8, 10, 16], { dtype: "float32" });
    const b = r.normal([1, 8, 1, 1], { dtype: "float32" });
    const w = r.normal([16, 16], { dtype: "float32" });
    const f = (a: Tensor, c: Tensor, m: Tensor) => add(matmul(a, m), c);
    const g = jit(f);
    const got = g(x, b, w).data;
    const want = jit(f, { kernels: false })(x, b, w).data;
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(want[i]!)));
    expect(g.source).toMatch(/= copy float32 .*\[wasm\]/);
    expect(g.source).not.toContain("[reference");
  });

  it("runs in compiled programs for a transpose no consumer folds (the JavaScript lowering's values, within f32 GEMM rounding)", () => {
    const r = new Random(2);
    const x = r.normal([6, 5, 40], { dtype: "float32" });
    const w = r.normal([40, 30], { dtype: "float32" });
    const f = (a: Tensor, b: Tensor) => add(transpose(matmul(a, b), [2, 0, 1]), 1);
    const g = jit(f);
    const got = g(x, w).data;
    const want = jit(f, { kernels: false })(x, w).data;
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(want[i]!)));
    expect(g.source).toContain("= copy float32 [6,5,30] transposed by [2,0,1]");
  });
});
