/**
 * vmap with the reverse engine: the export, custom rules kept under vmap (a customVjp function's
 * fwd and bwd run once on the whole batch, the shared input's cotangent summed over it), and the
 * gradient of and under vmap against a loop.
 */
import { describe, expect, it } from "vitest";
import * as ir from "@chainrule/ir";
import { cos, customVjp, mul, sin, sum, take, tensor, type Tensor } from "@chainrule/ir";
import { backward, grad, parameter, vmap, vmapFallbacks } from "./index.js";

const close = (got: Tensor, want: readonly number[]) => Array.from(got.data).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));

describe("vmap under the reverse engine", () => {
  it("is ir's vmap", () => {
    expect(vmap).toBe(ir.vmap);
    expect(vmapFallbacks).toBe(ir.vmapFallbacks);
  });

  it("a customVjp function keeps its rule under vmap: fwd and bwd run once for the whole batch", () => {
    let fwdCalls = 0;
    let bwdCalls = 0;
    // a deliberately non-standard rule (twice the true derivative), to see that it is the one used
    const f = customVjp(
      (x: Tensor) => sin(x),
      (x: Tensor) => {
        fwdCalls++;
        return [sin(x), cos(x)];
      },
      (c: Tensor, ct: Tensor) => {
        bwdCalls++;
        return [mul(mul(ct, c), 2)];
      },
    );
    const xs = tensor([0.1, 0.7, 1.3]);
    const g = grad((x: Tensor) => sum(vmap(f)(x)))(xs) as Tensor;
    close(
      g,
      [0.1, 0.7, 1.3].map((x) => 2 * Math.cos(x)),
    );
    expect([fwdCalls, bwdCalls]).toEqual([1, 1]);
  });

  it("the cotangent of an input shared by the batch sums over it (customVjp with a residual pytree)", () => {
    const scale = customVjp(
      (x: Tensor, w: Tensor) => mul(x, w),
      (x: Tensor, w: Tensor) => [mul(x, w), { x, w }],
      (r: { x: Tensor; w: Tensor }, ct: Tensor) => [mul(ct, r.w), mul(ct, r.x)],
    );
    const xs = tensor([1, 2, 3]);
    const w = tensor(0.5);
    const [gx, gw] = grad((x: Tensor, v: Tensor) => sum(vmap(scale, { inAxes: [0, null] })(x, v)), [0, 1])(xs, w) as Tensor[];
    close(gx!, [0.5, 0.5, 0.5]);
    close(gw!, [6]);
  });

  it("vmap(grad(f)) = a loop of grads, grad(vmap(f)) = the stacked gradients", () => {
    const f = (x: Tensor) => sum(mul(sin(x), x));
    const xs = tensor([
      [0.1, 0.2],
      [0.3, -0.4],
      [1.5, 2],
    ]);
    const perRow = vmap(grad(f))(xs) as Tensor;
    const loop = [0, 1, 2].flatMap((j) => Array.from((grad(f)(take(xs, j, 0)) as Tensor).data));
    close(perRow, loop);
    close(grad((x: Tensor) => sum(vmap(f)(x)))(xs) as Tensor, loop);
  });

  it("the imperative API: per-example losses by vmap over closed-over parameters, then backward() on their sum", () => {
    const w = parameter(tensor([0.5, -0.5]));
    const xs = tensor([
      [1, 2],
      [3, 4],
      [5, 7],
    ]);
    // loss_j = (w·x_j)²: ∂/∂w Σ_j loss_j = Σ_j 2 (w·x_j) x_j
    const losses = vmap((x: Tensor) => ir.square(sum(mul(w, x))))(xs) as Tensor;
    close(losses, [0.25, 0.25, 1]);
    backward(sum(losses));
    close(w.grad!, [2 * (-0.5 * 1 - 0.5 * 3 - 1 * 5), 2 * (-0.5 * 2 - 0.5 * 4 - 1 * 7)]);
  });
});
