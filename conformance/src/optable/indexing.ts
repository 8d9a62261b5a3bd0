/** Per-op table rows: strided slices, N-d dot, takeAlongAxis and functional index updates (at). */
import * as ir from "@chainrule/ir";
import { Tensor } from "@chainrule/ir";
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
      shapes: [[[3, 4], [2]], [[2, 3], []]],
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
      shapes: [[[3, 2], [2]], [[4, 3], []]],
    },
  ];
}

export function indexRows(): OpRow[] {
  return [...slices(), ...dots(), ...takeAlongAxisRows(), ...updates()];
}
