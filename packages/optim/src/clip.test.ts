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
  it("no overflow or underflow: the norm is scaled by max |g| first (1e200 and 1e-200)", () => {
    expect(globalNorm({ w: tensor([1e200, 1e200]) }) / 1e200).toBeCloseTo(Math.SQRT2, 14);
    expect(globalNorm({ w: tensor([1e-200, 1e-200]) }) / 1e-200).toBeCloseTo(Math.SQRT2, 14);
    expect(globalNorm([3e300, tensor([4e300])])).toBe(5e300);
    expect(globalNorm({ w: tensor([0, 0]) })).toBe(0);
    // used to zero the gradient: ‖g‖ overflowed to Infinity and the coefficient to 0
    const big = clipByGlobalNorm({ w: tensor([1e200, 1e200]) }, 1);
    expect(big.w.data[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(big.w.data[1]).toBeCloseTo(Math.SQRT1_2, 12);
    // past the largest double: the true norm is √2·1.5e308, the clipped gradient still has norm 2
    const huge = clipByGlobalNorm([1.5e308, -1.5e308], 2) as number[];
    expect(huge[0]).toBeCloseTo(Math.SQRT2, 12);
    expect(huge[1]).toBeCloseTo(-Math.SQRT2, 12);
    // tiny gradients are below any limit: unchanged (their norm is not 0 either)
    const tiny = { w: tensor([1e-200, -1e-200]) };
    expect(clipByGlobalNorm(tiny, 1)).toBe(tiny);
    const f32 = clipByGlobalNorm([tensor([3e38, 3e38], { dtype: "float32" })], 1) as Tensor[];
    expect(f32[0]!.data[0]).toBeCloseTo(Math.SQRT1_2, 6);
  });
  it("bad input", () => {
    expect(() => clipByValue([Number.NaN], 1)).toThrow(NanError);
    expect(() => clipByGlobalNorm([1], -1)).toThrow("clipByGlobalNorm: expected maxNorm to be a finite number ≥ 0, got -1");
    expect(() => withClipping(sgd({ lr: 1 }), {})).toThrow("withClipping: expected maxNorm and/or maxValue, got neither");
  });
});
