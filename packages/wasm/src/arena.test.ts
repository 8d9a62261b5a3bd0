import { describe, expect, it } from "vitest";
import { ArenaPlan } from "./arena.js";

describe("ArenaPlan", () => {
  it("starts every buffer on a 64-byte cache line, never at address 0, padded past partial vectors", () => {
    const plan = new ArenaPlan();
    const sizes = [4, 12, 64, 100, 0, 4096, 17];
    const at = sizes.map((b) => plan.reserve(b));
    for (const a of at) expect(a % 64).toBe(0);
    expect(at[0]).toBeGreaterThan(0);
    at.slice(1).forEach((a, i) => expect(a).toBeGreaterThanOrEqual(at[i]! + Math.max(16, Math.ceil(sizes[i]! / 16) * 16)));
  });

  it("keeps the requested gap (two threads' scratch areas 128 bytes apart) and the padding", () => {
    const plan = new ArenaPlan();
    const first = plan.reserve(1000, 16);
    const second = plan.reserve(1000, 0, 128);
    expect(second - (first + 1024)).toBeGreaterThanOrEqual(128);
    expect(second % 64).toBe(0);
  });
});
