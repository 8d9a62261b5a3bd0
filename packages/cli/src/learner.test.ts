import type { Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { compileExpression } from "./compile.js";
import { adjointSum, forwardRows, localPartials, reverseRows, tangentSum } from "./learner.js";

/** Tangent and adjoint marks: x with a combining dot above (U+0307) or macron (U+0304). */
const D = "\u0307";
const B = "\u0304";

const fnOf = (source: string) => {
  const e = compileExpression(source);
  return { fn: e.fn as (...args: Tensor[]) => Tensor, variables: e.variables };
};

describe("the learner's chain-rule sums (shared by explain and the playground)", () => {
  const { fn, variables } = fnOf("(x + y) * (x - y)");
  const back = reverseRows(fn, [3, 2], variables);
  const rows = forwardRows(fn, [3, 2], variables, back);
  const partials = localPartials(back);
  const row = (name: string) => rows.find((r) => r.node === name)!;

  it("local partials of the seed at (3, 2): ∂f/∂a = b = 1, ∂f/∂b = a = 5, ∂b/∂y = −1", () => {
    expect(partials.get("f")?.get("a")).toEqual([1]);
    expect(partials.get("f")?.get("b")).toEqual([5]);
    expect(partials.get("b")?.get("y")).toEqual([-1]);
    expect(partials.get("a")?.get("x")).toEqual([1]);
  });

  it("each tangent from its inputs' tangents, per direction", () => {
    expect(tangentSum(row("x"), 0, rows, partials)).toEqual({ symbolic: `seed: x${D}`, numeric: "1" });
    expect(tangentSum(row("a"), 0, rows, partials)).toEqual({ symbolic: `∂a/∂x·x${D} + ∂a/∂y·y${D}`, numeric: "1·1 + 1·0" });
    // ∂f/∂y = b·(tangent of a) + a·(tangent of b) = 1·1 + 5·(−1) = −4
    expect(tangentSum(row("f"), 1, rows, partials)).toEqual({ symbolic: `∂f/∂a·a${D} + ∂f/∂b·b${D}`, numeric: "1·1 + 5·(-1)" });
  });

  it("each adjoint as the sum over its uses", () => {
    const adjoints = new Map(back.map((r) => [r.node, r.adjoint]));
    const x = back.find((r) => r.node === "x")!;
    expect(adjointSum(x, adjoints)).toEqual({ symbolic: `a${B}·∂a/∂x + b${B}·∂b/∂x`, numeric: "1·1 + 5·1" });
    expect(adjointSum(back.find((r) => r.isOutput)!, adjoints).numeric).toBe("1");
  });

  it("a custom direction: the tangent along (1, 1) is ∂f/∂x + ∂f/∂y = 6 − 4 = 2", () => {
    const along = forwardRows(fn, [3, 2], variables, back, [1, 1]);
    expect(along.map((r) => [r.node, r.tangents])).toEqual([
      ["x", [1]],
      ["y", [1]],
      ["a", [2]],
      ["b", [0]],
      ["f", [2]],
    ]);
  });

  it("a node using one input twice gets one term, the uses summed: x·x at x = 3 gives ∂f/∂x·ẋ = 6·1", () => {
    const sq = fnOf("x * x");
    const b = reverseRows(sq.fn, [3], sq.variables);
    const r = forwardRows(sq.fn, [3], sq.variables, b);
    const f = r.find((q) => q.isOutput)!;
    expect(tangentSum(f, 0, r, localPartials(b))).toEqual({ symbolic: `∂f/∂x·x${D}`, numeric: "6·1" });
  });

  it("constants have tangent 0 and are left out: 2 * x", () => {
    const lin = fnOf("2 * x");
    const b = reverseRows(lin.fn, [5], lin.variables);
    const r = forwardRows(lin.fn, [5], lin.variables, b);
    const f = r.find((q) => q.isOutput)!;
    expect(f.inputs).toEqual(["2", "x"]);
    expect(tangentSum(f, 0, r, localPartials(b))).toEqual({ symbolic: `∂f/∂x·x${D}`, numeric: "2·1" });
  });
});
