import { describeConformance } from "@chainrule/conformance";
import { exp, greater, mul, sum, where, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { createEngine, engine } from "./index.js";

// Every derivative here is forward mode (grad and vjp too), and forward mode of a customVjp function
// is an error (its bwd need not be linear): the customVjp cases expect reverse mode. The cases on
// the forward-mode error itself run.
const skip = { customVjp: "every transformation of the forward engine is forward mode (customVjp functions raise ForwardModeError)" };

describeConformance(engine, { skip });

// chunk size 2 and the rules without the typed-array kernels: gradients, Jacobians and Hessians
// take several passes, and every rule runs on concrete values too
describeConformance(createEngine({ chunkSize: 2, fastKernels: false }), { graphs: 10, skip });

describe("the where trap, pinned for the forward engine", () => {
  it("grad and jvp select the branch's tangent: the overflowing unselected branch does not reach the result (1, not NaN)", () => {
    const trap = (x: Tensor) => sum(where(greater(x, 0), x, exp(mul(x, 1000))));
    expect(engine.grad(trap)(1)).toBe(1);
    expect(engine.jvp(trap, [1], [1])[1]).toBe(1);
    expect(engine.valueAndGrad(trap)(1)).toEqual([1, 1]);
  });
});
