import { avgPool, maxPool, Random, relu, sin, sum, type Tensor } from "@chainrule/ir";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureKernels, grad, jit, jvp } from "../index.js";
import { poolPlan } from "./pool.js";

const f32 = (r: Random, shape: number[]) => r.normal(shape, { dtype: "float32" });

describe("pooling in compiled kernel programs (windows tabulated at compile time)", () => {
  // pooling alone does not make a program worth the kernels: every program runs on them here
  beforeAll(() => configureKernels({ everyProgram: true }));
  afterAll(() => configureKernels({ everyProgram: false }));

  it("tabulates one plane: N and C (window 1, stride 1, no padding) are planes; a clipped window has fewer cells", () => {
    const plan = poolPlan([2, 3, 4, 5], [2, 3, 2, 3], [1, 1, 2, 2], [1, 1, 2, 2], [0, 0, 0, 0, 0, 0, 0, 1])!;
    expect(plan.planes).toBe(6);
    expect(plan.planeIn).toBe(20);
    expect(plan.planeOut).toBe(6);
    // output (0, 2) covers columns 4 and 5 of rows 0 and 1; column 5 is padding
    expect(Array.from(plan.cell.slice(plan.start[2]!, plan.start[3]!))).toEqual([4, 9]);
    expect(plan.full).toBe(4);
  });

  const cases: [string, (x: Tensor) => Tensor][] = [
    ["maxPool 2×2", (x) => maxPool(x, 2)],
    ["maxPool 3×3 stride 2, same padding (overlapping, clipped windows)", (x) => maxPool(x, 3, { stride: 2, padding: "same" })],
    ["maxPool of a ReLU (tied zeros share the gradient)", (x) => maxPool(relu(x), [2, 3], { stride: [2, 1] })],
    ["avgPool 2×2 with padding, padded cells not counted", (x) => avgPool(x, 2, { padding: 1, countIncludePad: false })],
  ];
  for (const [label, pool] of cases) {
    it(`${label}: values, gradient and jvp equal ir's loops bitwise`, () => {
      const r = new Random(9);
      const x = f32(r, [4, 8, 12, 14]);
      const loss = (a: Tensor) => sum(sin(pool(a)));
      const k = jit(pool, { kernels: true });
      expect(Array.from(k(x).data)).toEqual(Array.from(pool(x).data));
      const g = jit(grad(loss), { kernels: true });
      const e = jit(grad(loss), { kernels: false });
      expect(Array.from((g(x) as Tensor).data)).toEqual(Array.from((e(x) as Tensor).data));
      expect(g.source).toContain("tabulated windows");
      const v = f32(r, [4, 8, 12, 14]);
      const tangent = (a: Tensor, b: Tensor) => jvp(pool, [a], [b])[1];
      const onKernels = jit(tangent, { kernels: true });
      expect(Array.from(onKernels(x, v).data)).toEqual(Array.from(jit(tangent, { kernels: false })(x, v).data));
      expect(onKernels.source).toContain("tabulated windows");
    });
  }
});
