import { NanError, tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { clipByGlobalNorm, clipByValue, globalNorm, sgd, withClipping } from "./index.js";

describe("clipping", () => {
  it("globalNorm is the L2 norm over all leaves", () => {
    expect(globalNorm({ a: tensor([3]), b: [4] })).toBe(5);
  });
  it("clipByGlobalNorm scales by maxNorm / (‖g‖ + 1e-6) when above, keeps the structure", () => {
    const clipped = clipByGlobalNorm({ a: tensor([3, 0]), b: 4 }, 1);
    const c = 1 / (5 + 1e-6);
    expect(Array.from(clipped.a.data)).toEqual([3 * c, 0]);
    expect(clipped.b).toBe(4 * c);
    const small = { a: tensor([0.3]) };
    expect(clipByGlobalNorm(small, 1)).toBe(small); // below the limit: unchanged
  });
  it("float32 grads stay float32", () => {
    const g = clipByGlobalNorm([tensor([30, 40], { dtype: "float32" })], 5) as Tensor[];
    expect(g[0]!.dtype).toBe("float32");
    expect(g[0]!.data[0]).toBe(Math.fround(30 * (5 / (50 + 1e-6))));
  });
  it("clipByValue clamps to [−v, v]", () => {
    const [t] = clipByValue([tensor([-3, 0.5, 2])], 1);
    expect(Array.from(t!.data)).toEqual([-1, 0.5, 1]);
  });
  it("withClipping clips before the optimizer sees the gradient", () => {
    const opt = withClipping(sgd({ lr: 1 }), { maxValue: 0.5 });
    const state = opt.init(1);
    expect(opt.update(10, state, 1).params).toBe(0.5);
    const byNorm = withClipping(sgd({ lr: 1 }), { maxNorm: 1 });
    const p = byNorm.update([3, 4], byNorm.init([0, 0]), [0, 0]).params;
    expect(p[0]).toBeCloseTo(-0.6, 6);
    expect(p[1]).toBeCloseTo(-0.8, 6);
  });
  it("bad input", () => {
    expect(() => clipByValue([Number.NaN], 1)).toThrow(NanError);
    expect(() => clipByGlobalNorm([1], -1)).toThrow("clipByGlobalNorm: expected maxNorm to be a finite number ≥ 0, got -1");
    expect(() => withClipping(sgd({ lr: 1 }), {})).toThrow("withClipping: expected maxNorm and/or maxValue, got neither");
  });
});
