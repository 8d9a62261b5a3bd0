import { add, mul, sin, sub, tensor, type TensorLike } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { formatForwardTrace, traceForward } from "./index.js";

const f = (x: TensorLike, y: TensorLike) => mul(add(x, y), sub(x, y));
const row = (t: ReturnType<typeof traceForward>, name: string) => {
  const step = t.steps.find((s) => s.name === name)!;
  return { op: step.op, inputs: step.inputs, value: step.value, tangent: step.tangent };
};

describe("traceForward: the seed's forward-pass table", () => {
  it("with respect to x at (3, 2): a = 5, ȧ = 1; b = 1, ḃ = 1; f = 5, ḟ = 6", () => {
    const t = traceForward(f, [3, 2], 0);
    expect(t.steps.map((s) => s.name)).toEqual(["x", "y", "a", "b", "c"]);
    expect(row(t, "x")).toEqual({ op: "input", inputs: [], value: 3, tangent: 1 });
    expect(row(t, "y")).toEqual({ op: "input", inputs: [], value: 2, tangent: 0 });
    expect(row(t, "a")).toEqual({ op: "add", inputs: ["x", "y"], value: 5, tangent: 1 });
    expect(row(t, "b")).toEqual({ op: "sub", inputs: ["x", "y"], value: 1, tangent: 1 });
    expect(row(t, "c")).toEqual({ op: "mul", inputs: ["a", "b"], value: 5, tangent: 6 });
    expect(t.output).toBe("c");
    expect([t.value, t.tangent]).toEqual([5, 6]);
  });

  it("with respect to y: ḟ = −4; both directions at once", () => {
    expect(traceForward(f, [3, 2], 1).tangent).toBe(-4);
    const both = traceForward(f, [3, 2], [0, 1], { names: ["x", "y"] });
    expect(both.tangents).toEqual([6, -4]);
    expect(both.steps.find((s) => s.name === "b")!.tangents).toEqual([1, -1]);
  });

  it("prints the table", () => {
    const text = formatForwardTrace(traceForward(f, [3, 2], 0));
    expect(text).toBe(
      [
        "name  op         value  tangent",
        "x     input      3      1",
        "y     input      2      0",
        "a     add(x, y)  5      1",
        "b     sub(x, y)  1      1",
        "c     mul(a, b)  5      6",
      ].join("\n"),
    );
  });

  it("records constants and tensors, with explicit tangents", () => {
    const g = (x: TensorLike) => mul(sin(x), 2);
    const t = traceForward(g, [tensor([0, 1])], { tangents: [tensor([1, 1])] });
    expect(t.steps.map((s) => s.op)).toEqual(["input", "sin", "constant", "mul"]);
    expect(t.tangent).toEqual([2, 2 * Math.cos(1)]);
  });

  it("rejects bad directions", () => {
    expect(() => traceForward(f, [3, 2], 2)).toThrow(/traceForward: expected a direction index in \[0, 1\], got number 2/);
    expect(() => traceForward(f, [tensor([1, 2]), 2], 0)).toThrow(/expected argument 0 to be a scalar/);
    expect(() => traceForward(f, [3, 2], { tangents: [1] })).toThrow(/expected 2 tangents/);
  });
});
