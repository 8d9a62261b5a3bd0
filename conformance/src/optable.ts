/** The per-op table (JAX grad_test_spec style). */
import { cos, exp, log, mul, sin, tanh, add, sub, div, Random, Tensor } from "@chainrule/ir";
import { checkGrads } from "./checkgrads.js";
import type { Case } from "./cases.js";

type OpFn = (...xs: Tensor[]) => Tensor;

interface OpRow {
  readonly name: string;
  readonly fn: OpFn;
  readonly domain: readonly (readonly [number, number])[];
  readonly shapes: readonly (readonly number[])[][];
  readonly order: number;
}

const ROWS: OpRow[] = [
  { name: "sin", fn: sin, domain: [[-2, 2]], shapes: [[[]], [[4]]], order: 2 },
  { name: "cos", fn: cos, domain: [[-2, 2]], shapes: [[[]], [[4]]], order: 2 },
  { name: "exp", fn: exp, domain: [[-2, 2]], shapes: [[[]], [[4]]], order: 2 },
  { name: "log", fn: log, domain: [[0.3, 3]], shapes: [[[]], [[4]]], order: 2 },
  { name: "tanh", fn: tanh, domain: [[-2, 2]], shapes: [[[]], [[4]]], order: 2 },
  { name: "add", fn: add, domain: [[-2, 2], [-2, 2]], shapes: [[[], []], [[2, 3], [3]]], order: 2 },
  { name: "sub", fn: sub, domain: [[-2, 2], [-2, 2]], shapes: [[[], []], [[2, 3], [3]]], order: 2 },
  { name: "mul", fn: mul, domain: [[-2, 2], [-2, 2]], shapes: [[[], []], [[2, 3], [3]]], order: 2 },
  { name: "div", fn: div, domain: [[-2, 2], [0.5, 2]], shapes: [[[], []], [[2, 3], [3]]], order: 2 },
];

function sample(shape: readonly number[], [lo, hi]: readonly [number, number], rng: Random): Tensor {
  return rng.uniform(shape, { low: lo, high: hi });
}

export function opCases(): Case[] {
  const cases: Case[] = [];
  for (const row of ROWS) {
    for (const shapes of row.shapes) {
      cases.push({
        group: "per-op",
        name: `${row.name} ${shapes.map((s) => `[${s.join(",")}]`).join(" ")}`,
        run: ({ engine, seed }) => {
          const rng = new Random(seed);
          const args = shapes.map((s, i) => sample(s, row.domain[i]!, rng));
          checkGrads(engine, row.fn, args, { order: row.order, seed });
        },
      });
    }
  }
  return cases;
}
