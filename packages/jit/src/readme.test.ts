import { expect, it } from "vitest";
import { add, mul, sub, type Tensor } from "@chainrule/ir";
import { grad } from "./index.js";

// Keeps the README's listing honest: this is the code the JIT generates for the seed gradient.
it("README: generated code for grad((x + y)(x − y), [0, 1])", () => {
  const g = grad((x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y)), [0, 1]);
  expect(g(3, 2)).toEqual([6, -4]);
  expect(g.source).toBe(README_LISTING);
});

const README_LISTING = `"use strict";
return function compiled(x0, x1) {
  const v2 = (x0 + x1); // v2: add
  const v3 = (x0 - x1); // v3: sub
  const v8 = (-v2); // v8: neg
  const v9 = (v2 + v3); // v9: add
  const v10 = (v8 + v3); // v10: add
  return [v9, v10];
};`;
