/** The scalar backward sweep gives bitwise the gradients of the tensor sweep, for every primitive it covers. */
import * as ir from "@chainrule/ir";
import { defineEngine, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad, reverseCore } from "./engine.js";
import { SCALAR_PRIMITIVES } from "./scalar.js";
import { reverseVjp } from "./tape.js";

// defineEngine over the same core: always the tensor sweep
const tensorPath = defineEngine(reverseCore);

type Fn = (x: Tensor, y: Tensor) => Tensor;
const CASES: Record<string, Fn> = {
  neg: (x) => ir.neg(x),
  exp: (x) => ir.exp(x),
  log: (x) => ir.log(x),
  log1p: (x) => ir.log1p(x),
  expm1: (x) => ir.expm1(x),
  sin: (x) => ir.sin(x),
  cos: (x) => ir.cos(x),
  tanh: (x) => ir.tanh(x),
  sqrt: (x) => ir.sqrt(x),
  abs: (x) => ir.abs(x),
  add: (x, y) => ir.add(x, y),
  sub: (x, y) => ir.sub(x, y),
  mul: (x, y) => ir.mul(ir.mul(x, y), ir.mul(x, x)),
  div: (x, y) => ir.div(x, y),
  pow: (x, y) => ir.pow(x, y),
  maximum: (x, y) => ir.maximum(x, y),
  minimum: (x, y) => ir.minimum(x, y),
  atan2: (x, y) => ir.atan2(x, y),
  mulNoNan: (x, y) => ir.mulNoNan(ir.mulNoNan(x, y), ir.sqrt(x)),
  // the math family
  asin: (x) => ir.asin(x),
  acos: (x) => ir.acos(x),
  atan: (x) => ir.atan(x),
  sinh: (x) => ir.sinh(x),
  cosh: (x) => ir.cosh(x),
  asinh: (x) => ir.asinh(x),
  acosh: (x) => ir.acosh(x),
  atanh: (x) => ir.atanh(x),
  erf: (x) => ir.erf(x),
  erfc: (x) => ir.erfc(x),
  erfinv: (x) => ir.erfinv(x),
  lgamma: (x) => ir.lgamma(x),
  log2: (x) => ir.log2(x),
  log10: (x) => ir.log10(x),
  exp2: (x) => ir.exp2(x),
  cbrt: (x) => ir.cbrt(x),
  fmod: (x, y) => ir.fmod(x, y),
  remainder: (x, y) => ir.remainder(x, y),
  hypot: (x, y) => ir.hypot(x, y),
};

const POINTS: [number, number][] = [
  [0.7, 1.3],
  [-1.2, 0.4],
  [2, 2],
  [0, 3],
  [0, 0],
  [-0, 1],
  [3, 0],
  [1e-300, -2],
  [NaN, 1],
  [Infinity, 2],
];

describe("scalar backward sweep", () => {
  it("covers exactly the primitives listed, and their tapes take the scalar sweep", () => {
    expect([...SCALAR_PRIMITIVES].sort()).toEqual(Object.keys(CASES).sort());
    for (const f of Object.values(CASES))
      expect(reverseVjp(([x, y]) => [f(x!, y!)], [ir.scalar(0.5), ir.scalar(2)]).trace.scalarTape).toBe(true);
    // a reduction, float32, or a non-scalar value turns it off
    expect(reverseVjp(([x]) => [ir.sum(ir.mul(x!, ir.tensor([1, 2])))], [ir.scalar(1)]).trace.scalarTape).toBe(false);
    expect(reverseVjp(([x]) => [ir.mul(x!, x!)], [ir.scalar(1, "float32")]).trace.scalarTape).toBe(false);
  });

  it.each(Object.keys(CASES))("%s agrees bitwise with the tensor sweep", (name) => {
    const f = CASES[name]!;
    for (const [x, y] of POINTS) {
      const fast = grad(f, [0, 1])(x, y);
      const slow = tensorPath.grad(f, [0, 1])(x, y);
      fast.forEach((g, i) =>
        expect(
          Object.is(g, slow[i]) || (Number.isNaN(g) && Number.isNaN(slow[i])),
          `${name} at (${x}, ${y}) input ${i}: ${g} vs ${slow[i]}`,
        ).toBe(true),
      );
    }
  });

  it("a chain with reuse and unused inputs", () => {
    const f = (x: Tensor, _y: Tensor, _z: Tensor) => {
      const a = ir.mul(ir.sin(x), x);
      return ir.add(ir.div(a, ir.exp(a)), ir.sub(a, ir.tanh(ir.mul(a, 3))));
    };
    expect(grad(f, [0, 1, 2])(0.3, 5, 1)).toEqual(tensorPath.grad(f, [0, 1, 2])(0.3, 5, 1));
  });
});
