import { describe, expect, it } from "vitest";
import { asSegments, compareSegments } from "./check.js";

describe("compareSegments", () => {
  const expected = [[1, -2, 3], [100]];

  it("accepts answers within the tolerance of each segment's scale", () => {
    const outcome = compareSegments([[1, -2, 3 + 1e-10], [100 + 1e-8]], expected, 1e-9);
    expect(outcome.ok).toBe(true);
    expect(outcome.relativeError).toBeGreaterThan(0);
  });

  it("rejects a wrong value, naming the output and index", () => {
    const outcome = compareSegments([[1, 2, 3], [100]], expected, 1e-9);
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/output 0\[1\]: expected -2, got 2/);
  });

  it("judges each segment at its own scale (a small gradient is not hidden by a large loss)", () => {
    const outcome = compareSegments([[1], [1e-3 * 1.1]], [[1], [1e-3]], 1e-3);
    expect(outcome.ok).toBe(false);
  });

  it("rejects NaN, wrong lengths and a missing output", () => {
    expect(compareSegments([[1, NaN, 3], [100]], expected, 1).ok).toBe(false);
    expect(compareSegments([[1, -2], [100]], expected, 1).message).toMatch(/expected 3 values, got 2/);
    expect(compareSegments([[1, -2, 3]], expected, 1).message).toMatch(/expected 2 output/);
  });

  it("asSegments takes numbers, typed arrays and nested lists", () => {
    expect(asSegments(5)).toEqual([[5]]);
    expect(asSegments([6, -4])).toEqual([[6, -4]]);
    const t = new Float32Array([1, 2]);
    expect(asSegments(t)[0]).toBe(t);
    expect(asSegments([[1], t]).length).toBe(2);
    expect(() => asSegments({ a: 1 })).toThrow(/asSegments: expected numbers/);
  });
});
