/**
 * vmap with the forward engine: the export, a customJvp function's rule kept under vmap (it runs
 * once on the whole batch), and jvp/jacobian of and under vmap against a loop.
 */
import { describe, expect, it } from "vitest";
import * as ir from "@chainrule/ir";
import { customJvp, exp, mul, sum, take, tensor, type Tensor } from "@chainrule/ir";
import { jacobian, jvp, vmap } from "./index.js";

const close = (got: Tensor, want: readonly number[]) => Array.from(got.data).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));

describe("vmap under the forward engine", () => {
  it("is ir's vmap", () => {
    expect(vmap).toBe(ir.vmap);
  });

  it("a customJvp function keeps its rule under vmap: the rule runs once for the whole batch", () => {
    let calls = 0;
    // a deliberately non-standard rule (3 × the true tangent), to see that it is the one used
    const f = customJvp(
      (x: Tensor) => exp(x),
      ([x], [t]) => {
        calls++;
        return [exp(x!), mul(mul(exp(x!), t!), 3)];
      },
    );
    const xs = tensor([0, 0.5, 1]);
    const [y, t] = jvp(vmap(f), [xs], [tensor([1, 1, 2])]) as [Tensor, Tensor];
    close(y, [1, Math.exp(0.5), Math.E]);
    close(t, [3, 3 * Math.exp(0.5), 6 * Math.E]);
    expect(calls).toBe(1);
  });

  it("jacobian of vmap(f) is block diagonal; vmap(jacobian(f)) = a loop of Jacobians", () => {
    const f = (x: Tensor) => mul(x, sum(mul(x, x)));
    const xs = tensor([
      [1, 2],
      [0.5, -1],
    ]);
    const J = jacobian(vmap(f))(xs) as Tensor;
    expect(J.shape).toEqual([2, 2, 2, 2]);
    const blocks = vmap(jacobian(f))(xs) as Tensor;
    for (const j of [0, 1]) {
      const alone = jacobian(f)(take(xs, j, 0)) as Tensor;
      close(take(blocks, j, 0), Array.from(alone.data));
      close(take(take(J, j, 0), j, 1), Array.from(alone.data));
      close(take(take(J, j, 0), 1 - j, 1), [0, 0, 0, 0]);
    }
  });
});
