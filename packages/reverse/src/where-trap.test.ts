/**
 * The where trap (docs/choosing-an-engine.md): where(x > 0, x, exp(1000x)) at x = 1 selects x, but
 * the unselected branch overflows. Every engine gives 1 (ir's convention: a (co)tangent times a
 * derivative factor is mulNoNan, so 0 · ∞ = 0); the conformance suite holds every engine to it.
 */
import { exp, greater, mul, sum, where, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { engine } from "./index.js";

describe("the where trap, pinned for the reverse engine", () => {
  it("grad, valueAndGrad and jvp select the branch: the zero cotangent meets exp's ∞ as mulNoNan (0 · ∞ = 0), so 1, not NaN", () => {
    const trap = (x: Tensor) => sum(where(greater(x, 0), x, exp(mul(x, 1000))));
    expect(engine.grad(trap)(1)).toBe(1);
    expect(engine.valueAndGrad(trap)(1)).toEqual([1, 1]);
    expect(engine.jvp(trap, [1], [1])[1]).toBe(1);
  });
});
