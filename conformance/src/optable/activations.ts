/**
 * Per-op table rows: activations and losses (issue 17, family "activations": ops-nn). Inputs stay
 * away from each op's kinks; the value of the derivative at a kink (the documented convention)
 * and stability at huge inputs are pinned by `activationCases`.
 */
import * as ir from "@chainrule/ir";
import { type Tensor, tensor } from "@chainrule/ir";
import type { Case } from "../cases.js";
import { loose, type LooseEngine } from "../checkgrads.js";
import { expectClose } from "../expect.js";
import { anyReal, awayFromZero, type Gen, map, type OpRow, type Shape, unary, UNARY, uniform } from "../optable.js";

/** Uniform in [lo, hi], pushed at least `gap` away from each of `kinks` (kinks further apart than 2·gap). */
const awayFrom =
  (lo: number, hi: number, kinks: readonly number[], gap = 0.2): Gen =>
  (shape, rng) =>
    map(shape, rng, (u) => {
      let x = lo + u * (hi - lo);
      for (const k of kinks) if (Math.abs(x - k) < gap) x = x >= k ? k + gap : k - gap;
      return x;
    });

const PAIRS: Shape[][] = [
  [[], []],
  [[4], [4]],
  [
    [2, 3],
    [2, 3],
  ],
];

/** A loss of (a, b) as a table row over pairs of one shape. */
function loss(name: string, fn: (a: Tensor, b: Tensor) => Tensor, a: Gen, b: Gen): OpRow {
  return { name, primitive: false, fn: (x, y) => fn(x!, y!), domain: [a, b], shapes: PAIRS };
}

export function activationRows(): OpRow[] {
  // targets in [−0.05, 0.05] and predictions ≥ 0.2 away from ±δ keep |pred − target| off the kink at δ
  const smallTarget = uniform(-0.05, 0.05);
  return [
    unary("softplus", ir.softplus, anyReal, false),
    unary("softplus (wide range)", ir.softplus, uniform(-25, 25), false, { shapes: [[[6]]] }),
    unary("logSigmoid", ir.logSigmoid, anyReal, false),
    unary("silu", ir.silu, anyReal, false),
    unary("elu", (x) => ir.elu(x!), awayFromZero, false),
    unary("elu({ alpha: 0.5 })", (x) => ir.elu(x!, { alpha: 0.5 }), awayFromZero, false),
    unary("leakyRelu", (x) => ir.leakyRelu(x!), awayFromZero, false),
    unary("leakyRelu({ negativeSlope: 0.2 })", (x) => ir.leakyRelu(x!, { negativeSlope: 0.2 }), awayFromZero, false),
    unary("softsign", ir.softsign, awayFromZero, false),
    unary("relu6", ir.relu6, awayFrom(-2, 8, [0, 6]), false),
    unary("hardTanh", (x) => ir.hardTanh(x!), awayFrom(-2, 2, [-1, 1]), false),
    unary("hardTanh({ min: -0.5, max: 2 })", (x) => ir.hardTanh(x!, { min: -0.5, max: 2 }), awayFrom(-2, 3, [-0.5, 2]), false, {
      shapes: UNARY.slice(1),
    }),
    loss("binaryCrossEntropy (mean)", ir.binaryCrossEntropy, anyReal, uniform(0, 1)),
    loss("binaryCrossEntropy (none)", (z, y) => ir.binaryCrossEntropy(z, y, { reduction: "none" }), uniform(-4, 4), uniform(0, 1)),
    loss("binaryCrossEntropy (sum)", (z, y) => ir.binaryCrossEntropy(z, y, { reduction: "sum" }), anyReal, uniform(0, 1)),
    loss("huberLoss (mean)", ir.huberLoss, awayFrom(-3, 3, [-1, 1]), smallTarget),
    loss("huberLoss (none)", (p, t) => ir.huberLoss(p, t, { reduction: "none" }), awayFrom(-3, 3, [-1, 1]), smallTarget),
    loss(
      "huberLoss({ delta: 2, reduction: sum })",
      (p, t) => ir.huberLoss(p, t, { delta: 2, reduction: "sum" }),
      awayFrom(-4, 4, [-2, 2]),
      smallTarget,
    ),
  ];
}

// ── the kink conventions and stability (docs/ops.md, "Activations and losses") ─────────────

/** The n-th derivative of a scalar function at x, by nested grad. */
function derivative(e: LooseEngine, f: (x: Tensor) => Tensor, n: number, x: number): unknown {
  let g: (x: never) => unknown = f as never;
  for (let i = 0; i < n; i++) g = e.grad(g) as never;
  return (g as (x: number) => unknown)(x);
}

interface Kink {
  readonly what: string;
  readonly f: (x: Tensor) => Tensor;
  readonly order: number;
  readonly at: number;
  readonly expected: number;
}

const KINKS: readonly Kink[] = [
  { what: "softplus′(0) = ½", f: ir.softplus, order: 1, at: 0, expected: 0.5 },
  { what: "softplus″(0) = ¼", f: ir.softplus, order: 2, at: 0, expected: 0.25 },
  { what: "logSigmoid′(0) = ½", f: ir.logSigmoid, order: 1, at: 0, expected: 0.5 },
  { what: "elu′(0) = α = 1", f: ir.elu, order: 1, at: 0, expected: 1 },
  { what: "elu″(0) = α = 1 (the x ≤ 0 side)", f: ir.elu, order: 2, at: 0, expected: 1 },
  { what: "elu′(0) = α = 2 with { alpha: 2 }", f: (x) => ir.elu(x, { alpha: 2 }), order: 1, at: 0, expected: 2 },
  { what: "leakyRelu′(0) = 0.01 (the x ≤ 0 side, like relu′(0) = 0)", f: ir.leakyRelu, order: 1, at: 0, expected: 0.01 },
  { what: "softsign′(0) = 1", f: ir.softsign, order: 1, at: 0, expected: 1 },
  { what: "relu6′(0) = 0", f: ir.relu6, order: 1, at: 0, expected: 0 },
  { what: "relu6′(6) = 0", f: ir.relu6, order: 1, at: 6, expected: 0 },
  { what: "hardTanh′(−1) = 0", f: ir.hardTanh, order: 1, at: -1, expected: 0 },
  { what: "hardTanh′(1) = 0", f: ir.hardTanh, order: 1, at: 1, expected: 0 },
  { what: "huberLoss′ at d = δ = 1 is δ", f: (x) => ir.huberLoss(x, 0), order: 1, at: 1, expected: 1 },
  { what: "huberLoss″ at d = δ = 1 is 1 (the quadratic side)", f: (x) => ir.huberLoss(x, 0), order: 2, at: 1, expected: 1 },
  { what: "huberLoss′ at d = −δ = −2 is −δ", f: (x) => ir.huberLoss(x, 0, { delta: 2 }), order: 1, at: -2, expected: -2 },
  {
    what: "∂ binaryCrossEntropy(z, 0.25)/∂z at z = 0 is σ(0) − y",
    f: (z) => ir.binaryCrossEntropy(z, 0.25),
    order: 1,
    at: 0,
    expected: 0.25,
  },
  // no overflow, and no 0 · ∞ from an unselected branch, at huge inputs
  { what: "softplus′(1000) = 1", f: ir.softplus, order: 1, at: 1000, expected: 1 },
  { what: "softplus′(−1000) = 0", f: ir.softplus, order: 1, at: -1000, expected: 0 },
  { what: "logSigmoid′(−1000) = 1", f: ir.logSigmoid, order: 1, at: -1000, expected: 1 },
  { what: "elu′(1000) = 1", f: ir.elu, order: 1, at: 1000, expected: 1 },
  { what: "silu′(−1000) = 0", f: ir.silu, order: 1, at: -1000, expected: 0 },
  { what: "∂ binaryCrossEntropy(z, 1)/∂z at z = −1000 is −1", f: (z) => ir.binaryCrossEntropy(z, 1), order: 1, at: -1000, expected: -1 },
];

export function activationCases(): Case[] {
  return [
    {
      group: "conventions",
      name: "activations and losses at their kinks (relu6′(0) = 0, elu′(0) = α, leakyRelu′(0) = slope, …) and at huge inputs",
      features: ["conventions"],
      run: (ctx) => {
        const e = loose(ctx.engine);
        for (const k of KINKS) {
          expectClose(`${k.what} (grad)`, derivative(e, k.f, k.order, k.at), k.expected, 1e-12, 1e-15);
        }
        // the same conventions through jvp and on a vector
        expectClose("jvp(relu6, [[0, 3, 6]], [[1, 1, 1]])", e.jvp(ir.relu6, [tensor([0, 3, 6])], [tensor([1, 1, 1])])[1], [0, 1, 0], 0, 0);
        const grad = e.grad((x: Tensor) => ir.sum(ir.leakyRelu(x, { negativeSlope: 0.2 })))(tensor([-1, 0, 2]));
        expectClose("grad(sum∘leakyRelu(slope 0.2))([−1, 0, 2])", grad, [0.2, 0.2, 1], 1e-15, 0);
      },
    },
  ];
}
