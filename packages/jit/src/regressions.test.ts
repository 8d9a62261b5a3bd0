import { describe, expect, it } from "vitest";
import { sin, slice, sum, tensor, type Tensor } from "@chainrule/ir";
import { hessian } from "./index.js";

describe("regressions", () => {
  // A sliced value recomputed by its reader got an identifier from a negative operand id
  // (`a1_(-2)`), a SyntaxError in the generated code (found by conformance deep mode, order 2).
  it("compiles the Hessian of a function of a slice (recomputed producer with a synthetic operand)", () => {
    const f = (x: Tensor) => sum(sin(slice(x, [0], [1])));
    const h = hessian(f)(tensor([0.1, 0.2, 0.3]));
    expect(h.shape).toEqual([3, 3]);
    expect(Array.from(h.data, (v) => v + 0)).toEqual([-Math.sin(0.1), 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe("empty results", () => {
  // The code generator allocated at least one element for every kernel output, so a matmul with
  // an empty result came back with data of length 1 for shape [0, 4].
  it("a matmul with an empty result has empty data", async () => {
    const { matmul, ones, zeros } = await import("@chainrule/ir");
    const { jit } = await import("./index.js");
    const out = jit((a: Tensor, b: Tensor) => matmul(a, b))(zeros([0, 3]), ones([3, 4]));
    expect(out.shape).toEqual([0, 4]);
    expect(out.data.length).toBe(0);
  });
});
