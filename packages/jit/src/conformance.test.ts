import { describeConformance } from "@chainrule/conformance";
import { exp, greater, mul, sum, where, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { engine } from "./index.js";

// The JIT traces: a branch on a traced value throws a ConcretizationError suggesting where(...).
// Values a function closes over are baked into its compiled graph (as in JAX's jit); a changed
// closed-over value is not seen until the signature changes: pass changing values as arguments.
describeConformance(engine, {
  controlFlow: "throws",
  skip: { closures: "jit bakes closed-over values into the compiled graph (pass values that change as arguments)" },
});

describe("the where trap, pinned for the jit", () => {
  it("grad is NaN (0·∞ in the backward pass); jvp (forward mode) selects the branch's tangent: 1", () => {
    const trap = (x: Tensor) => sum(where(greater(x, 0), x, exp(mul(x, 1000))));
    expect(engine.grad(trap)(1)).toBeNaN();
    expect(engine.valueAndGrad(trap)(1)).toEqual([1, Number.NaN]);
    expect(engine.jvp(trap, [1], [1])[1]).toBe(1);
  });
});
