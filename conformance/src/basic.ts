/** The seed example, grad of (x + y)(x − y) at (3, 2) = [6, -4], and the basic API shapes. */
import { add, mul, sub, type Tensor } from "@chainrule/ir";
import { loose } from "./checkgrads.js";
import type { Case } from "./cases.js";
import { expectClose } from "./expect.js";

const seedF = (x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y));

export const basicCases: Case[] = [
  {
    group: "seed",
    name: "grad of (x + y)(x − y) at (3, 2) is [6, -4] (JS numbers)",
    run: ({ engine }) => {
      const g = loose(engine).grad(seedF, [0, 1])(3, 2) as unknown;
      if (!Array.isArray(g) || g.length !== 2 || typeof g[0] !== "number" || typeof g[1] !== "number") {
        throw new Error(`grad(f, [0, 1])(3, 2): expected an array of two JS numbers, got ${String(g)}`);
      }
      expectClose("grad(f, [0, 1])(3, 2)", g, [6, -4], 0, 0);
    },
  },
  {
    group: "seed",
    name: "valueAndGrad of (x + y)(x − y) at (3, 2) is [5, 6]",
    run: ({ engine }) => {
      const [v, g] = loose(engine).valueAndGrad(seedF)(3, 2);
      if (typeof v !== "number" || typeof g !== "number")
        throw new Error(`valueAndGrad(f)(3, 2): expected JS numbers, got ${String(v)}, ${String(g)}`);
      expectClose("valueAndGrad(f)(3, 2)", [v, g], [5, 6], 0, 0);
    },
  },
];
