/** The written-out scalar arithmetic agrees with the definitions it stands in for, bit for bit. */
import { describe, expect, it } from "vitest";
import { DEFINITIONS } from "../primitives.js";
import { NUMBER_MATH } from "./math.js";
import { isScalarArith, scalarArith, type ScalarArith } from "./scalar-arith.js";

const VALUES = [0, -0, 1, -1, 2.5, -3.75, 1e-300, 1e300, Number.MAX_VALUE, Infinity, -Infinity, Number.NaN, Math.PI];

describe("scalarArith matches each definition's loop and partials", () => {
  const covered: ScalarArith[] = ["add", "sub", "mul", "neg"];

  it("covers exactly the primitives isScalarArith names", () => {
    for (const prim of Object.keys(DEFINITIONS) as (keyof typeof DEFINITIONS)[]) {
      expect(isScalarArith(prim), prim).toBe((covered as string[]).includes(prim));
    }
  });

  for (const prim of covered) {
    it(`${prim}: value and partials on ${VALUES.length}² pairs of special and ordinary numbers`, () => {
      const info = DEFINITIONS[prim].elementwise!;
      const out = new Float64Array(3);
      const value = new Float64Array(1);
      for (const a of VALUES) {
        for (const b of VALUES) {
          scalarArith(prim, a, b, out);
          if (info.arity === 1) info.loop(Float64Array.of(a), value);
          else info.loop(Float64Array.of(a), 0, Float64Array.of(b), 0, value);
          expect(Object.is(out[0], value[0]), `${prim}(${a}, ${b})`).toBe(true);
          const xs = info.arity === 1 ? [a] : [a, b];
          info.partials.forEach((partial, i) => {
            expect(Object.is(out[i + 1], partial(NUMBER_MATH, xs, value[0]!)), `∂${i} ${prim}(${a}, ${b})`).toBe(true);
          });
        }
      }
    });
  }
});
