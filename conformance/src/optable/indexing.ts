/** Per-op table rows: strided slices, N-d dot, takeAlongAxis and functional index updates (at). */
import * as ir from "@chainrule/ir";
import { Tensor, tensor } from "@chainrule/ir";
import type { Case } from "../cases.js";
import { loose, type LooseEngine } from "../checkgrads.js";
import { expectClose } from "../expect.js";
import { anyReal, halfGrid, map, type Gen, type OpRow } from "../optable.js";

const int32 = (values: number[], shape: number[] = [values.length]) => new Tensor("int32", shape, Int32Array.from(values));

/**
 * Distinct odd multiples of 0.25 (a shuffled ramp, ±0.02): never equal to each other nor to a
 * halfGrid value, so the winners of at(…).min/max are unique and at least 0.19 clear of a tie.
 */
const distinctQuarters: Gen = (shape, rng) => {
  const t = map(shape, rng, (u) => u);
  const order = Array.from(t.data as ArrayLike<number>)
    .map((u, i) => [u, i] as const)
    .sort((a, b) => a[0] - b[0]);
  order.forEach(([, i], rank) => (t.data[i] = rank * 0.5 + 0.25 - 2 + (rng.nextFloat() - 0.5) * 0.04));
  return t;
};

/** |v| in [0.5, 1.5] with a random sign: products of repeated updates stay well scaled. */
const scale: Gen = (shape, rng) => map(shape, rng, (u) => (u < 0.5 ? -1 : 1) * (0.5 + 2 * Math.abs(u - 0.5)));

function slices(): OpRow[] {
  return [
    {
      name: "slice(x, [0, 1], [end, end], [2, 2])",
      primitive: false,
      fn: (x) => ir.slice(x!, [0, 1], undefined, [2, 2]),
      domain: [anyReal],
      shapes: [[[5, 4]], [[2, 5]]],
    },
    {
      name: "slice(x, [1], [-1], [3])",
      primitive: false,
      fn: (x) => ir.slice(x!, [1], [-1], [3]),
      domain: [anyReal],
      shapes: [[[8]], [[5]]],
    },
    {
      name: "slice(x, [last, 0], [start, end], [-2, 1]) (negative step)",
      primitive: false,
      fn: (x) => ir.slice(x!, [undefined, 0], undefined, [-2, 1]),
      domain: [anyReal],
      shapes: [[[5, 2]], [[4, 3]]],
    },
  ];
}

function dots(): OpRow[] {
  return [
    {
      name: "dot (N-d: last axis of a with the second-to-last of b)",
      primitive: false,
      fn: ir.dot,
      domain: [anyReal, anyReal],
      shapes: [
        [
          [2, 3, 4],
          [4, 2],
        ],
        [
          [2, 3],
          [2, 3, 2],
        ],
        [
          [2, 2, 3],
          [2, 3, 2],
        ],
        [[2, 2, 3], [3]],
        [[3], [2, 3, 2]],
      ],
    },
  ];
}

function takeAlongAxisRows(): OpRow[] {
  return [
    {
      name: "takeAlongAxis(x, [[0, -1, 0], [2, 1, 1]], axis 1) (repeated, negative)",
      primitive: false,
      fn: (x) => ir.takeAlongAxis(x!, int32([0, -1, 0, 2, 1, 1], [2, 3]), 1),
      domain: [anyReal],
      shapes: [[[2, 4]], [[1, 3]]],
    },
    {
      name: "takeAlongAxis(x, [[2], [0], [2]], axis 0) (broadcast)",
      primitive: false,
      fn: (x) => ir.takeAlongAxis(x!, int32([2, 0, 2], [3, 1]), 0),
      domain: [anyReal],
      shapes: [[[3, 2]], [[4, 1]]],
    },
  ];
}

function updates(): OpRow[] {
  const repeated = () => int32([2, 0, 2]);
  return [
    {
      name: "at(x, [2, 0, 2]).set(v) (the last write wins)",
      primitive: false,
      fn: (x, v) => ir.at(x!, repeated()).set(v!),
      domain: [anyReal, anyReal],
      shapes: [
        [[4], [3]],
        [
          [3, 2],
          [3, 2],
        ],
        [[3, 2], [2]],
      ],
    },
    {
      name: "at(x, [1, {step: 2}]).set(v)",
      primitive: false,
      fn: (x, v) => ir.at(x!, [1, { step: 2 }]).set(v!),
      domain: [anyReal, anyReal],
      shapes: [
        [[3, 4], [2]],
        [[2, 3], []],
      ],
    },
    {
      name: "at(x, [[2, 0, 2], {start: 1}]).add(v) (repeated)",
      primitive: false,
      fn: (x, v) => ir.at(x!, [repeated(), { start: 1 }]).add(v!),
      domain: [anyReal, anyReal],
      shapes: [
        [
          [3, 3],
          [3, 2],
        ],
        [[3, 2], [1]],
      ],
    },
    {
      name: "at(x, [2, 0, 2]).mul(v) (repeated)",
      primitive: false,
      fn: (x, v) => ir.at(x!, repeated()).mul(v!),
      domain: [anyReal, scale],
      shapes: [
        [[4], [3]],
        [
          [3, 2],
          [3, 2],
        ],
      ],
    },
    {
      name: "at(x, [2, 0, 2]).max(v) (repeated, no ties)",
      primitive: false,
      fn: (x, v) => ir.at(x!, repeated()).max(v!),
      domain: [halfGrid, distinctQuarters],
      shapes: [
        [[4], [3]],
        [
          [3, 2],
          [3, 2],
        ],
      ],
    },
    {
      name: "at(x, [[1, -1], 0]).min(v)",
      primitive: false,
      fn: (x, v) => ir.at(x!, [int32([1, -1]), 0]).min(v!),
      domain: [halfGrid, distinctQuarters],
      shapes: [
        [[3, 2], [2]],
        [[4, 3], []],
      ],
    },
  ];
}

export function indexRows(): OpRow[] {
  return [...slices(), ...dots(), ...takeAlongAxisRows(), ...updates()];
}

// ── conventions of the index updates (hand-computed gradients, every engine) ─────────────────

const X = () => tensor([1, 2, 3, 4]);
const W = tensor([1, 2, 3, 4]);

/** The gradients of ⟨f(x, v), w⟩ with respect to x and v, and the jvp along (dx, dv). */
function gradients(e: LooseEngine, f: (x: Tensor, v: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor[] {
  return e.grad((a: Tensor, b: Tensor) => ir.sum(ir.mul(f(a, b), W)), [0, 1])(x, v) as Tensor[];
}

/** Cases pinning what at(…) does with repeated indices, ties and zeros (docs/ops.md). */
export function indexConventionCases(): Case[] {
  const c = (name: string, run: (e: LooseEngine) => void): Case => ({
    group: "conventions",
    name,
    features: ["conventions"],
    run: (ctx) => run(loose(ctx.engine)),
  });
  const repeated = new Tensor("int32", [3], Int32Array.of(2, 0, 2));
  return [
    c("at(x, [2, 0, 2]).set(v): the last write wins, x̄ is zero where written, the overwritten update gets 0", (e) => {
      const f = (x: Tensor, v: Tensor) => ir.at(x, repeated).set(v);
      expectClose("at([1, 2, 3, 4], [2, 0, 2]).set([10, 20, 30])", f(X(), tensor([10, 20, 30])), [20, 2, 30, 4], 0, 0);
      const [gx, gv] = gradients(e, f, X(), tensor([10, 20, 30]));
      expectClose("x̄ of ⟨at(x, [2, 0, 2]).set(v), [1, 2, 3, 4]⟩", gx!, [0, 2, 0, 4], 0, 0);
      expectClose("v̄ of the same", gv!, [0, 1, 3], 0, 0);
      const [, t] = e.jvp(f, [X(), tensor([10, 20, 30])], [tensor([1, 1, 1, 1]), tensor([5, 6, 7])]);
      expectClose("jvp of at(x, [2, 0, 2]).set(v) along (1, [5, 6, 7])", t, [6, 1, 7, 1], 0, 0);
    }),
    c("at(x, [2, 0, 2]).add(v): repeated indices accumulate, v̄ = gathered ȳ", (e) => {
      const f = (x: Tensor, v: Tensor) => ir.at(x, repeated).add(v);
      expectClose("at([1, 2, 3, 4], [2, 0, 2]).add([10, 20, 30])", f(X(), tensor([10, 20, 30])), [21, 2, 43, 4], 0, 0);
      const [gx, gv] = gradients(e, f, X(), tensor([10, 20, 30]));
      expectClose("x̄", gx!, [1, 2, 3, 4], 0, 0);
      expectClose("v̄", gv!, [3, 1, 3], 0, 0);
    }),
    c("at(x, [2, 0, 2]).mul(v): the product rule over every update of a cell, exact with a zero update", (e) => {
      const f = (x: Tensor, v: Tensor) => ir.at(x, repeated).mul(v);
      expectClose("at([1, 2, 3, 4], [2, 0, 2]).mul([2, 5, 3])", f(X(), tensor([2, 5, 3])), [5, 2, 18, 4], 0, 0);
      const [gx, gv] = gradients(e, f, X(), tensor([2, 5, 3]));
      expectClose("x̄ (w · product of the cell's updates)", gx!, [5, 2, 18, 4], 0, 0);
      expectClose("v̄ (w · x · the other updates of the cell)", gv!, [27, 1, 18], 0, 0);
      const [gx0, gv0] = gradients(e, f, X(), tensor([0, 5, 3]));
      expectClose("x̄ with a zero update", gx0!, [5, 2, 0, 4], 0, 0);
      expectClose("v̄ with a zero update (no division by it)", gv0!, [27, 1, 0], 0, 0);
    }),
    c("at(x, i).max/min(v): the derivative goes to the winner; k tied winners get 1/k each", (e) => {
      const f = (x: Tensor, v: Tensor) => ir.at(x, repeated).max(v);
      expectClose("at([1, 2, 3, 4], [2, 0, 2]).max([5, 0, 5])", f(X(), tensor([5, 0, 5])), [1, 2, 5, 4], 0, 0);
      const [gx, gv] = gradients(e, f, X(), tensor([5, 0, 5]));
      expectClose("x̄ (x wins cell 0, loses cell 2)", gx!, [1, 2, 0, 4], 0, 0);
      expectClose("v̄ (two tied updates share cell 2)", gv!, [1.5, 0, 1.5], 0, 1e-15);
      const g = (x: Tensor, v: Tensor) => ir.at(x, 1).min(v);
      const [hx, hv] = gradients(e, g, X(), tensor(2));
      expectClose("x̄ of ⟨at(x, 1).min(2), w⟩ (x ties v: ½)", hx!, [1, 1, 3, 4], 0, 1e-15);
      expectClose("v̄ of the same", hv!, 1, 0, 1e-15);
    }),
  ];
}
