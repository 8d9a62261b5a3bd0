/**
 * Every primitive's reverse rule (ir's definitions, run by this engine's tape) against central
 * finite differences (float64), on several shapes including broadcasting, at order 1 (gradient)
 * and order 2 (Hessian-vector products), plus the dot-product test ⟨u, Jᵀv⟩ = ⟨Ju, v⟩ tying this
 * engine's jvp to its vjp.
 */
import * as ir from "@chainrule/ir";
import { bind, DEFINITIONS, PRIMITIVES, Random, Tensor, type Primitive } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad, hvp, jvp, vjp } from "./index.js";

type Fn = (...xs: Tensor[]) => Tensor;

interface Row {
  /** Which primitive(s) the row exercises. */
  readonly prims: readonly Primitive[];
  readonly name: string;
  readonly fn: Fn;
  /** Input shapes, one list per shape variant. */
  readonly shapes: readonly (readonly number[][])[];
  /** Input domain: values drawn from [low, high], optionally away from zero by `gap`. */
  readonly low?: number;
  readonly high?: number;
  /** Make the inputs pairwise distinct (max, maximum, …): a spread-out permutation. */
  readonly distinct?: boolean;
  /** Skip the second-order check (piecewise-linear functions have a zero Hessian anyway). */
  readonly firstOrderOnly?: boolean;
  /** Digits of agreement with finite differences (default 5; float32 round trips need fewer). */
  readonly digits?: number;
  /** Where finite differences do not apply (stopGradient): the expected gradient of Σ w·fn. */
  readonly expected?: (weights: Tensor, ...xs: Tensor[]) => Tensor[];
}

const idx = (values: number[], shape = [values.length]) => new Tensor("int32", shape, Int32Array.from(values));

const BINARY_SHAPES: number[][][] = [
  [[], []],
  [[3], [3]],
  [[2, 3], [3]],
  [
    [2, 1],
    [1, 3],
  ],
  [[], [2, 3]],
  [
    [4, 1, 2],
    [3, 1],
  ],
];

const ROWS: Row[] = [
  { prims: ["neg"], name: "neg", fn: (x) => ir.neg(x), shapes: [[[]], [[2, 3]]] },
  { prims: ["exp"], name: "exp", fn: (x) => ir.exp(x), shapes: [[[]], [[2, 3]]] },
  { prims: ["log"], name: "log", fn: (x) => ir.log(x), shapes: [[[]], [[2, 3]]], low: 0.5, high: 3 },
  { prims: ["log1p"], name: "log1p", fn: (x) => ir.log1p(x), shapes: [[[]], [[5]]], low: -0.5, high: 2 },
  { prims: ["expm1"], name: "expm1", fn: (x) => ir.expm1(x), shapes: [[[]], [[5]]] },
  { prims: ["sin"], name: "sin", fn: (x) => ir.sin(x), shapes: [[[]], [[2, 2]]] },
  { prims: ["cos"], name: "cos", fn: (x) => ir.cos(x), shapes: [[[]], [[2, 2]]] },
  { prims: ["tanh"], name: "tanh", fn: (x) => ir.tanh(x), shapes: [[[]], [[3, 2]]] },
  { prims: ["sqrt"], name: "sqrt", fn: (x) => ir.sqrt(x), shapes: [[[]], [[4]]], low: 0.5, high: 4 },
  { prims: ["abs"], name: "abs", fn: (x) => ir.abs(x), shapes: [[[]], [[6]]], low: 0.2, high: 2, firstOrderOnly: true },
  { prims: ["abs"], name: "abs (negative side)", fn: (x) => ir.abs(x), shapes: [[[6]]], low: -2, high: -0.2, firstOrderOnly: true },
  { prims: ["sign", "mul"], name: "x · sign(x)", fn: (x) => ir.mul(x, ir.sign(x)), shapes: [[[6]]], low: 0.2, high: 2 },
  { prims: ["add"], name: "add", fn: (x, y) => ir.add(x, y), shapes: BINARY_SHAPES },
  { prims: ["sub"], name: "sub", fn: (x, y) => ir.sub(x, y), shapes: BINARY_SHAPES },
  { prims: ["mul"], name: "mul", fn: (x, y) => ir.mul(x, y), shapes: BINARY_SHAPES },
  { prims: ["mul"], name: "x · x (one value used twice)", fn: (x) => ir.mul(ir.mul(x, x), ir.sin(x)), shapes: [[[]], [[3]], [[2, 3]]] },
  { prims: ["div"], name: "div", fn: (x, y) => ir.div(x, y), shapes: BINARY_SHAPES, low: 0.5, high: 2 },
  { prims: ["pow"], name: "pow", fn: (x, y) => ir.pow(x, y), shapes: BINARY_SHAPES, low: 0.5, high: 2 },
  { prims: ["atan2"], name: "atan2", fn: (x, y) => ir.atan2(x, y), shapes: BINARY_SHAPES, low: 0.5, high: 2 },
  { prims: ["mulNoNan"], name: "mulNoNan", fn: (x, y) => ir.mulNoNan(x, y), shapes: BINARY_SHAPES },
  { prims: ["maximum"], name: "maximum", fn: (x, y) => ir.maximum(x, y), shapes: BINARY_SHAPES, distinct: true, firstOrderOnly: true },
  { prims: ["minimum"], name: "minimum", fn: (x, y) => ir.minimum(x, y), shapes: BINARY_SHAPES, distinct: true, firstOrderOnly: true },
  {
    prims: ["where", "greater", "greaterEqual", "less", "lessEqual", "equal", "notEqual"],
    name: "where with comparisons",
    fn: (x, y) => {
      const c = ir.where(ir.greater(x, y), ir.mul(x, y), ir.where(ir.lessEqual(x, 0), ir.sin(y), ir.exp(x)));
      const d = ir.where(ir.notEqual(x, y), c, ir.where(ir.equal(x, y), x, y));
      return ir.where(ir.greaterEqual(x, -5), ir.where(ir.less(y, 10), d, x), y);
    },
    shapes: [
      [[6], [6]],
      [[2, 3], [3]],
      [
        [2, 1],
        [1, 3],
      ],
    ],
    low: -2,
    high: 2,
    distinct: true,
  },
  {
    prims: ["cast"],
    name: "cast f64 → f32 → f64",
    fn: (x) => ir.astype(ir.mul(ir.astype(x, "float32"), 1), "float64"),
    shapes: [[[3]]],
    firstOrderOnly: true,
    digits: 2,
  },
  { prims: ["reduceSum"], name: "sum over all axes", fn: (x) => ir.sum(ir.mul(x, x)), shapes: [[[2, 3, 4]]] },
  { prims: ["reduceSum"], name: "sum over axes 0 and 2", fn: (x) => ir.sum(ir.mul(x, x), [0, 2]), shapes: [[[2, 3, 4]]] },
  { prims: ["reduceSum"], name: "sum keepdims", fn: (x) => ir.mul(ir.sum(x, 1, true), x), shapes: [[[2, 3]]] },
  {
    prims: ["reduceMax"],
    name: "max over axis 1",
    fn: (x) => ir.max(ir.mul(x, x), 1),
    shapes: [[[3, 4]], [[2, 3, 2]]],
    low: 0.1,
    high: 3,
    distinct: true,
  },
  { prims: ["reduceMax"], name: "max over all", fn: (x) => ir.max(x), shapes: [[[5]]], distinct: true, firstOrderOnly: true },
  { prims: ["argmax"], name: "take at argmax", fn: (x) => ir.mul(ir.take(x, ir.argmax(x)), x), shapes: [[[5]]], distinct: true },
  {
    // float indices are checked to be integers (a checkIndices node on the traced index)
    prims: ["checkIndices"],
    name: "take at a float index",
    fn: (x) => ir.mul(ir.take(x, ir.astype(ir.argmax(x), "float64")), x),
    shapes: [[[5]]],
    distinct: true,
  },
  { prims: ["reshape"], name: "reshape", fn: (x) => ir.mul(ir.reshape(x, [3, 2]), ir.reshape(x, [3, 2])), shapes: [[[2, 3]]] },
  { prims: ["transpose"], name: "transpose", fn: (x) => ir.mul(ir.transpose(x, [2, 0, 1]), 2), shapes: [[[2, 3, 4]]] },
  {
    prims: ["broadcastTo"],
    name: "broadcastTo",
    fn: (x) => ir.mul(ir.broadcastTo(x, [4, 2, 3]), ir.reshape(ir.arange(24), [4, 2, 3])),
    shapes: [[[2, 1]], [[3]], [[]]],
  },
  { prims: ["slice"], name: "slice", fn: (x) => ir.mul(ir.slice(x, [1, 0], [3, 2]), ir.slice(x, [0, 1], [2, 3])), shapes: [[[3, 3]]] },
  { prims: ["pad"], name: "pad", fn: (x) => ir.mul(ir.pad(x, [1, 0], [2, 1]), ir.pad(ir.mul(x, x), [0, 1], [3, 0])), shapes: [[[2, 3]]] },
  {
    prims: ["concat"],
    name: "concat",
    fn: (x, y) => ir.mul(ir.concat([x, y, x], 1), ir.concat([y, x, y], 1)),
    shapes: [
      [
        [2, 2],
        [2, 2],
      ],
    ],
  },
  { prims: ["gather"], name: "take (gather) with repeats", fn: (x) => ir.mul(ir.take(x, idx([2, 0, 2, -1]), 1), 3), shapes: [[[2, 3]]] },
  {
    prims: ["scatterAdd"],
    name: "scatterAdd",
    fn: (u) =>
      ir.mul(
        bind("scatterAdd", [u, idx([1, 0, 1])], { axis: 0, size: 4 }),
        bind("scatterAdd", [ir.sin(u), idx([3, 3, 0])], { axis: 0, size: 4 }),
      ),
    shapes: [[[3, 2]]],
  },
  // family: indexing (issue 17, ops-index): repeated indices; updates well apart so min/max never tie
  {
    prims: ["scatterMul"],
    name: "scatterMul (repeated indices)",
    fn: (x, u) => bind("scatterMul", [x, ir.sin(u), idx([1, 0, 1])], { axis: 0 }),
    shapes: [
      [
        [3, 2],
        [3, 2],
      ],
    ],
  },
  {
    prims: ["scatterMin", "scatterMax"],
    name: "scatterMin and scatterMax",
    fn: (x, u) =>
      ir.add(
        bind("scatterMax", [x, ir.add(u, idx([0, 3, 6], [3, 1])), idx([2, 0, 2])], { axis: 0 }),
        bind("scatterMin", [ir.mul(x, 2), ir.sub(u, 5), idx([1, -1, 1])], { axis: 0 }),
      ),
    shapes: [
      [
        [4, 2],
        [3, 2],
      ],
    ],
  },
  {
    prims: ["matmul"],
    name: "matmul",
    fn: (a, b) => ir.matmul(a, b),
    shapes: [
      [
        [2, 3],
        [3, 4],
      ],
      [
        [2, 2, 3],
        [3, 2],
      ],
      [[3], [3, 2]],
      [[2, 3], [3]],
      [
        [1, 2, 3],
        [4, 3, 2],
      ],
    ],
  },
  {
    prims: ["matmul"],
    name: "matmul of a product",
    fn: (a, b) => ir.matmul(ir.mul(a, a), ir.sin(b)),
    shapes: [
      [
        [2, 3],
        [3, 2],
      ],
    ],
  },
  // family: reductions, scans and sorting (issue 17)
  { prims: ["linearScan"], name: "cumsum", fn: (x) => ir.mul(ir.cumsum(x, 0), x), shapes: [[[4]], [[3, 2]]] },
  { prims: ["linearScan"], name: "cumprod", fn: (x) => ir.cumprod(x, -1), shapes: [[[4]], [[2, 3]]] },
  {
    prims: ["linearScan"],
    name: "linearScan in reverse, coefficients broadcast",
    fn: (a, b) => bind("linearScan", [ir.sin(a), ir.mul(b, b)], { axis: 1, reverse: 1 }),
    shapes: [
      [
        [2, 1],
        [2, 3],
      ],
      [
        [1, 3],
        [2, 3],
      ],
    ],
  },
  // family: convolution and pooling (issue 18)
  {
    prims: ["conv"],
    name: "conv (stride, padding, dilation, groups)",
    fn: (x, w) =>
      ir.sin(bind("conv", [x, w], { strides: [2, 1], padding: [1, 0, 0, 1], lhsDilation: [1, 1], rhsDilation: [1, 2], groups: 2 })),
    shapes: [
      [
        [1, 2, 4, 3],
        [2, 1, 2, 2],
      ],
    ],
  },
  {
    prims: ["reduceWindowMax", "selectAndScatterAdd", "reduceWindowSum", "reduceWindowSumTranspose"],
    name: "maxPool and avgPool (overlapping windows, padding)",
    fn: (x) =>
      ir.add(
        ir.sum(ir.sin(ir.maxPool(x, 2, { stride: 1, padding: [[0, 1], 1] }))),
        ir.sum(ir.square(ir.avgPool(x, [2, 3], { padding: 1 }))),
      ),
    shapes: [[[1, 2, 3, 4]]],
    distinct: true,
  },
  {
    prims: ["selectAndGatherAdd"],
    name: "selectAndGatherAdd (maxPool's JVP, reverse-differentiated)",
    fn: (t, x) => ir.sin(bind("selectAndGatherAdd", [t, x], { window: [2, 2], strides: [1, 2], padding: [0, 1, 1, 0] })),
    shapes: [
      [
        [3, 4],
        [3, 4],
      ],
    ],
    distinct: true,
  },
  { prims: ["argcummax"], name: "cummax", fn: (x) => ir.mul(ir.cummax(x), x), shapes: [[[5]], [[2, 3]]], distinct: true },
  { prims: ["argsort"], name: "sort", fn: (x) => ir.mul(ir.sort(x, 0), ir.sin(x)), shapes: [[[5]], [[3, 2]]], distinct: true },
  {
    prims: ["stopGradient"],
    name: "stopGradient",
    fn: (x) => ir.add(ir.mul(ir.stopGradient(x), x), ir.stopGradient(ir.exp(x))),
    shapes: [[[3]]],
    // d/dx Σ w·(sg(x)·x + sg(eˣ)) = w·x: the stopped factors are constants
    expected: (w, x) => [ir.mul(w, x!)],
    firstOrderOnly: true,
  },
  // the math family
  { prims: ["asin"], name: "asin", fn: (x) => ir.asin(x), shapes: [[[]], [[5]]], low: -0.8, high: 0.8 },
  { prims: ["acos"], name: "acos", fn: (x) => ir.acos(x), shapes: [[[]], [[5]]], low: -0.8, high: 0.8 },
  { prims: ["atan"], name: "atan", fn: (x) => ir.atan(x), shapes: [[[]], [[5]]] },
  { prims: ["sinh"], name: "sinh", fn: (x) => ir.sinh(x), shapes: [[[]], [[5]]] },
  { prims: ["cosh"], name: "cosh", fn: (x) => ir.cosh(x), shapes: [[[]], [[5]]] },
  { prims: ["asinh"], name: "asinh", fn: (x) => ir.asinh(x), shapes: [[[]], [[5]]] },
  { prims: ["acosh"], name: "acosh", fn: (x) => ir.acosh(x), shapes: [[[]], [[5]]], low: 1.2, high: 3 },
  { prims: ["atanh"], name: "atanh", fn: (x) => ir.atanh(x), shapes: [[[]], [[5]]], low: -0.8, high: 0.8 },
  { prims: ["erf"], name: "erf", fn: (x) => ir.erf(x), shapes: [[[]], [[5]]] },
  { prims: ["erfc"], name: "erfc", fn: (x) => ir.erfc(x), shapes: [[[]], [[5]]] },
  { prims: ["erfinv"], name: "erfinv", fn: (x) => ir.erfinv(x), shapes: [[[]], [[5]]], low: -0.8, high: 0.8 },
  { prims: ["lgamma", "polygamma"], name: "lgamma", fn: (x) => ir.lgamma(x), shapes: [[[]], [[5]]], low: 0.3, high: 3 },
  { prims: ["polygamma"], name: "digamma", fn: (x) => ir.digamma(x), shapes: [[[]], [[5]]], low: 0.3, high: 3 },
  { prims: ["log2"], name: "log2", fn: (x) => ir.log2(x), shapes: [[[]], [[5]]], low: 0.5, high: 3 },
  { prims: ["log10"], name: "log10", fn: (x) => ir.log10(x), shapes: [[[]], [[5]]], low: 0.5, high: 3 },
  { prims: ["exp2"], name: "exp2", fn: (x) => ir.exp2(x), shapes: [[[]], [[5]]] },
  { prims: ["cbrt"], name: "cbrt", fn: (x) => ir.cbrt(x), shapes: [[[]], [[5]]], low: 0.5, high: 3 },
  {
    prims: ["floor", "ceil", "round", "trunc", "floorDivide"],
    name: "x · (floor + ceil + round + trunc + floorDivide(x, 3))",
    fn: (x) => ir.mul(x, ir.add(ir.add(ir.add(ir.floor(x), ir.ceil(x)), ir.add(ir.round(x), ir.trunc(x))), ir.floorDivide(x, 3))),
    shapes: [[[]], [[5]]],
    low: 1.1,
    high: 1.4,
  },
  // a in [3.6, 3.7], b in [1, 1.1]: a/b in (3.27, 3.7), off the jumps
  { prims: ["fmod"], name: "fmod", fn: (x, y) => ir.fmod(ir.add(x, 2.6), y), shapes: BINARY_SHAPES, low: 1, high: 1.1 },
  { prims: ["remainder"], name: "remainder", fn: (x, y) => ir.remainder(ir.add(x, 2.6), y), shapes: BINARY_SHAPES, low: 1, high: 1.1 },
  { prims: ["hypot"], name: "hypot", fn: (x, y) => ir.hypot(x, y), shapes: BINARY_SHAPES, low: 0.5, high: 2 },
];

function randomInputs(rng: Random, shapes: readonly number[][], row: Row): Tensor[] {
  const low = row.low ?? -1.5;
  const high = row.high ?? 1.5;
  let counter = 0;
  const total = shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  const perm = Array.from({ length: total }, (_, i) => i);
  for (let i = total - 1; i > 0; i--) {
    const j = Math.floor(rng.nextFloat() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      data[i] = row.distinct ? low + ((high - low) * (perm[counter++]! + 0.5)) / total : low + (high - low) * rng.nextFloat();
    }
    return new Tensor("float64", shape, data);
  });
}

function randomLike(rng: Random, t: Tensor): Tensor {
  const data = new Float64Array(t.size);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextNormal();
  return new Tensor("float64", t.shape, data);
}

function dot(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i]! * b.data[i]!;
  return s;
}

function axpy(x: Tensor, v: Tensor, h: number): Tensor {
  const data = new Float64Array(x.size);
  for (let i = 0; i < data.length; i++) data[i] = x.data[i]! + h * v.data[i]!;
  return new Tensor("float64", x.shape, data);
}

/** A scalar loss from the row's function: Σ w · fn(xs) with fixed random weights. */
function lossOf(row: Row, weights: Tensor): (...xs: Tensor[]) => Tensor {
  return (...xs) => ir.sum(ir.mul(row.fn(...xs), weights));
}

const H = 1e-5;

describe("VJP rule table", () => {
  it("has a rule for every primitive, and each declares what it saves", () => {
    for (const prim of PRIMITIVES) {
      const rule = DEFINITIONS[prim].vjp;
      expect(rule, prim).toBeDefined();
      expect(["nothing", "inputs", "output", "inputs and output"]).toContain(rule.saves);
    }
  });

  it("is exercised by the table below for every primitive", () => {
    const covered = new Set(ROWS.flatMap((r) => r.prims));
    expect(PRIMITIVES.filter((p) => !covered.has(p))).toEqual([]);
  });
});

describe.each(ROWS)("gradient of $name", (row) => {
  it.each(row.shapes.map((s, i) => [JSON.stringify(s), i] as const))("matches finite differences for shapes %s", (_label, variant) => {
    const rng = new Random(17 + variant);
    const shapes = row.shapes[variant]! as number[][];
    const xs = randomInputs(rng, shapes, row);
    const out = row.fn(...xs);
    const weights = randomLike(rng, out);
    const loss = lossOf(row, weights);
    const all = xs.map((_, i) => i);
    const grads = grad(loss, all)(...xs);
    if (row.expected !== undefined) {
      row.expected(weights, ...xs).forEach((e, i) => expect(Array.from(grads[i]!.data)).toEqual(Array.from(e.data)));
    }
    grads.forEach((g, i) => {
      if (row.expected !== undefined) return;
      expect(g.shape).toEqual(xs[i]!.shape);
      const v = randomLike(rng, xs[i]!);
      const plus = xs.slice();
      const minus = xs.slice();
      plus[i] = axpy(xs[i]!, v, H);
      minus[i] = axpy(xs[i]!, v, -H);
      const fd = (loss(...plus).item() - loss(...minus).item()) / (2 * H);
      expect(dot(g, v)).toBeCloseTo(fd, row.digits ?? 5);
    });

    // dot-product test: ⟨u, Jᵀw⟩ = ⟨Ju, w⟩
    const us = xs.map((x) => randomLike(rng, x));
    const [, tangent] = jvp(row.fn, xs, us);
    const [, pullback] = vjp(row.fn, ...xs);
    const cts = pullback(weights);
    const left = cts.reduce((s, c, i) => s + dot(c, us[i]!), 0);
    expect(left).toBeCloseTo(dot(tangent, weights), row.digits === undefined ? 9 : 6);

    if (!row.firstOrderOnly) {
      // order 2: H·v against finite differences of the gradient
      const vs = xs.map((x) => randomLike(rng, x));
      const hv = hvp(loss, xs, vs);
      const gPlus = grad(loss, all)(...xs.map((x, i) => axpy(x, vs[i]!, H)));
      const gMinus = grad(loss, all)(...xs.map((x, i) => axpy(x, vs[i]!, -H)));
      hv.forEach((h, i) => {
        for (let k = 0; k < h.size; k++) {
          const fd = (gPlus[i]!.data[k]! - gMinus[i]!.data[k]!) / (2 * H);
          expect(h.data[k]).toBeCloseTo(fd, 4);
        }
      });
    }
  });
});

describe("derivatives at the singular point 0", () => {
  it("log, sqrt and reciprocal: grad∘grad∘grad gives the one-sided limits ±∞ (div's rule never forms y·y, so no 0·∞ appears)", () => {
    const limits: [string, Fn, number[]][] = [
      ["log", ir.log, [Infinity, -Infinity, Infinity]],
      ["sqrt", ir.sqrt, [Infinity, -Infinity, Infinity]],
      ["reciprocal", ir.reciprocal, [-Infinity, Infinity, -Infinity]],
    ];
    for (const [name, f, want] of limits) {
      const g1 = grad(f) as Fn;
      const g2 = grad(g1) as Fn;
      const g3 = grad(g2) as Fn;
      expect(
        [g1, g2, g3].map((g) => g(0 as never) as unknown as number),
        name,
      ).toEqual(want);
    }
  });
});
