import { Random, tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { finiteDifference } from "./checkgrads.js";
import { flat } from "./tree.js";

describe("finiteDifference", () => {
  it("matches the closed-form derivative of a cubic to 1e-9", () => {
    const f = (x: { data: ArrayLike<number> }) => x.data[0]! ** 3;
    const x = flat([tensor(1.5)]);
    const d = finiteDifference((t) => f(t), x, [Float64Array.of(1)], 1e-3);
    expect(Math.abs(d[0]! - 3 * 1.5 ** 2)).toBeLessThan(1e-9);
    expect(new Random(1).nextFloat()).toBeGreaterThanOrEqual(0);
  });
});
