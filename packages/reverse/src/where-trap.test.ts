/**
 * The where trap (docs/choosing-an-engine.md): where(x > 0, x, exp(1000x)) at x = 1 selects x, but
 * the unselected branch overflows. What this engine gives is pinned here; the conformance suite
 * holds every engine to "1 or NaN, the same in grad, valueAndGrad and vjp", and to the
 * double-where idiom giving 1 everywhere.
 */
import { exp, greater, mul, sum, where, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { engine } from "./index.js";

describe("the where trap, pinned for the reverse engine", () => {
  it("grad is NaN (the unselected branch's zero cotangent meets exp's ∞); jvp (transposed pullback) selects: 1", () => {
    const trap = (x: Tensor) => sum(where(greater(x, 0), x, exp(mul(x, 1000))));
    expect(engine.grad(trap)(1)).toBeNaN();
    expect(engine.valueAndGrad(trap)(1)).toEqual([1, Number.NaN]);
    expect(engine.jvp(trap, [1], [1])[1]).toBe(1);
  });
});
