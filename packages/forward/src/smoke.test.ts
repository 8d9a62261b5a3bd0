import { describe, expect, it } from "vitest";
import { add, mul, sub } from "@chainrule/ir";
import { grad } from "./index.js";
describe("smoke", () => {
  it("seed", () => {
    const f = (x: any, y: any) => mul(add(x, y), sub(x, y));
    expect(grad(f, [0, 1])(3, 2)).toEqual([6, -4]);
  });
});
