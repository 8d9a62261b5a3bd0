import * as ir from "@chainrule/ir";
/**
 * Every primitive's tangent rule (ir's definitions, on chunks of tangents) against central finite differences, on several shapes
 * (broadcasting included), with the typed-array kernels on and off, at order 1 (jvp, and the
 * chunked gradient path) and order 2 (forward over forward, which runs the rules on tracers).
 */
import {
  abs,
  add,
  bind,
  broadcastTo,
  castTo,
  concat,
  cos,
  div,
  exp,
  expm1,
  greater,
  log,
  log1p,
  matmul,
  max,
  maximum,
  minimum,
  mul,
  neg,
  pad,
  pow,
  Random,
  reshape,
  sign,
  sin,
  slice,
  sqrt,
  stopGradient,
  sub,
  sum,
  take,
  tanh,
  Tensor,
  tensor,
  transpose,
  where,
  argmax,
  avgPool,
  maxPool,
  cummax,
  cumprod,
  cumsum,
  sort,
  astype,
  atan2,
  DEFINITIONS,
  mulNoNan,
  PRIMITIVES,
} from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { createEngine } from "./index.js";

type Fn = (...xs: Tensor[]) => Tensor;
interface Case {
  readonly name: string;
  /** Shapes of the differentiated inputs. */
  readonly shapes: readonly (readonly number[])[];
  readonly fn: Fn;
  /** Domain of the inputs: uniform in [low, high] (optionally away from 0 by `gap`). */
  readonly low?: number;
  readonly high?: number;
  /** Skip the second-order check (kinks, piecewise-constant ops). */
  readonly firstOrderOnly?: boolean;
  /** Primal inputs with distinct values (max/min/reduceMax away from ties). */
  readonly distinct?: boolean;
  /** The tangent is identically zero (zero-derivative primitives). */
  readonly zero?: boolean;
  /** The exact tangent, where finite differences do not apply (stopGradient, float32 rounding). */
  readonly exact?: (xs: Tensor[], vs: Tensor[]) => number[];
}

const unaryShapes: number[][] = [[], [3], [2, 3]];
const binaryShapes: number[][][] = [
  [[], []],
  [[3], [3]],
  [[2, 3], [3]],
  [[3], [2, 3]],
  [
    [2, 1],
    [1, 3],
  ],
  [[], [2, 3]],
];

const cases: Case[] = [];
const unary = (name: string, fn: Fn, low = -2, high = 2, extra: Partial<Case> = {}) => {
  for (const shape of unaryShapes) cases.push({ name: `${name} ${JSON.stringify(shape)}`, shapes: [shape], fn, low, high, ...extra });
};
const binary = (name: string, fn: Fn, low = -2, high = 2, extra: Partial<Case> = {}) => {
  for (const [a, b] of binaryShapes)
    cases.push({ name: `${name} ${JSON.stringify(a)}·${JSON.stringify(b)}`, shapes: [a!, b!], fn, low, high, ...extra });
};

unary("neg", (x) => neg(x));
unary("exp", (x) => exp(x));
unary("log", (x) => log(x), 0.5, 3);
unary("log1p", (x) => log1p(x), -0.5, 2);
unary("expm1", (x) => expm1(x));
unary("sin", (x) => sin(x));
unary("cos", (x) => cos(x));
unary("tanh", (x) => tanh(x));
unary("sqrt", (x) => sqrt(x), 0.5, 3);
unary("abs", (x) => abs(x), 0.3, 2, { firstOrderOnly: true });
unary("abs (negative side)", (x) => abs(x), -2, -0.3, { firstOrderOnly: true });
unary("sign", (x) => sign(x), 0.3, 2, { zero: true });
binary("add", (a, b) => add(a, b));
binary("sub", (a, b) => sub(a, b));
binary("mul", (a, b) => mul(a, b));
binary("div", (a, b) => div(a, b), 0.5, 2);
binary("pow", (a, b) => pow(a, b), 0.5, 2);
binary("atan2", (a, b) => atan2(a, b), 0.5, 2);
binary("mulNoNan", (a, b) => mulNoNan(a, b));
binary("maximum", (a, b) => maximum(a, b), -2, 2, { distinct: true });
binary("minimum", (a, b) => minimum(a, b), -2, 2, { distinct: true });
binary("where", (a, b) => where(greater(a, 0.1), mul(a, b), sin(b)), -2, 2, { distinct: true });
cases.push(
  { name: "comparisons (greater)", shapes: [[3], [3]], fn: (a, b) => astype(greater(a!, b!), "float64"), distinct: true, zero: true },
  {
    name: "cast f64 → f32 → f64",
    shapes: [[2, 3]],
    fn: (x) => astype(mul(astype(x!, "float32"), 2), "float64"),
    exact: (_xs, [v]) => Array.from(v!.data, (t) => 2 * Math.fround(t)),
    firstOrderOnly: true,
  },
  { name: "reduceSum all", shapes: [[2, 3]], fn: (x) => sum(mul(x!, x!)) },
  { name: "reduceSum axis 0", shapes: [[2, 3]], fn: (x) => sum(sin(x!), 0) },
  { name: "reduceSum axis 1", shapes: [[2, 3, 2]], fn: (x) => sum(sin(x!), 1) },
  { name: "reduceMax all", shapes: [[2, 3]], fn: (x) => max(x!), distinct: true },
  { name: "reduceMax axis 1", shapes: [[2, 3]], fn: (x) => max(mul(x!, x!), 1), distinct: true, low: 0.2 },
  { name: "argmax (zero tangent)", shapes: [[4]], fn: (x) => astype(argmax(x!), "float64"), distinct: true, zero: true },
  { name: "reshape", shapes: [[2, 3]], fn: (x) => reshape(sin(x!), [3, 2]) },
  { name: "transpose", shapes: [[2, 3, 4]], fn: (x) => transpose(sin(x!), [2, 0, 1]) },
  { name: "broadcastTo", shapes: [[3, 1]], fn: (x) => broadcastTo(sin(x!), [2, 3, 4]) },
  { name: "slice axis 0", shapes: [[5]], fn: (x) => mul(slice(x!, [1], [4]), slice(x!, [0], [3])) },
  { name: "slice inner axis", shapes: [[3, 4]], fn: (x) => sin(slice(x!, [1, 1], [3, 3])) },
  { name: "pad", shapes: [[2, 3]], fn: (x) => pad(sin(x!), [1, 0], [0, 2]) },
  {
    name: "concat",
    shapes: [
      [2, 2],
      [2, 3],
    ],
    fn: (a, b) => concat([sin(a!), b!, tensor([[7], [8]])], 1),
  },
  { name: "gather", shapes: [[4, 2]], fn: (x) => take(sin(x!), tensor([3, 0, 0, 2], { dtype: "int32" }), 0) },
  {
    name: "scatterAdd",
    shapes: [[3, 2]],
    fn: (u) => bind("scatterAdd", [mul(u!, u!), tensor([1, 0, 1], { dtype: "int32" })], { axis: 0, size: 4 }),
  },
  // family: indexing (issue 17, ops-index)
  {
    name: "scatterMul (repeated indices)",
    shapes: [
      [3, 2],
      [3, 2],
    ],
    fn: (x, u) => bind("scatterMul", [x!, sin(u!), tensor([1, 0, 1], { dtype: "int32" })], { axis: 0 }),
  },
  {
    name: "scatterMax (updates win)",
    shapes: [
      [3, 2],
      [3, 2],
    ],
    fn: (x, u) => bind("scatterMax", [x!, add(u!, tensor([[0], [4], [8]])), tensor([1, 0, 1], { dtype: "int32" })], { axis: 0 }),
  },
  {
    name: "scatterMin (updates win)",
    shapes: [
      [3, 2],
      [3, 2],
    ],
    fn: (x, u) => bind("scatterMin", [x!, sub(u!, tensor([[4], [8], [12]])), tensor([2, 0, 2], { dtype: "int32" })], { axis: 0 }),
  },
  {
    name: "matmul",
    shapes: [
      [2, 3],
      [3, 4],
    ],
    fn: (a, b) => matmul(a!, b!),
  },
  {
    name: "matmul batched",
    shapes: [
      [2, 2, 3],
      [3, 2],
    ],
    fn: (a, b) => matmul(a!, b!),
  },
  {
    name: "matmul broadcast batch",
    shapes: [
      [2, 3],
      [4, 3, 2],
    ],
    fn: (a, b) => matmul(a!, b!),
  },
  // family: reductions, scans and sorting (issue 17)
  { name: "linearScan (cumsum)", shapes: [[3, 4]], fn: (x) => cumsum(sin(x!), 1) },
  { name: "linearScan (cumprod)", shapes: [[5]], fn: (x) => cumprod(x!) },
  {
    name: "linearScan reverse, coefficients broadcast",
    shapes: [
      [2, 1],
      [2, 3],
    ],
    fn: (a, b) => bind("linearScan", [sin(a!), mul(b!, b!)], { axis: 1, reverse: 1 }),
  },
  // family: convolution and pooling (issue 18)
  {
    name: "conv (stride, padding, dilation, groups)",
    shapes: [
      [1, 2, 4, 3],
      [2, 1, 2, 2],
    ],
    fn: (x, w) =>
      sin(bind("conv", [x!, w!], { strides: [2, 1], padding: [1, 0, 0, 1], lhsDilation: [1, 1], rhsDilation: [1, 2], groups: 2 })),
  },
  {
    name: "maxPool and avgPool (overlapping windows, padding)",
    shapes: [[1, 2, 3, 4]],
    fn: (x) =>
      add(
        maxPool(sin(x!), 2, { stride: 1, padding: [[0, 1], 1] }),
        avgPool(mul(x!, x!), 2, { stride: 1, padding: [[0, 1], 1], countIncludePad: false }),
      ),
    distinct: true,
  },
  {
    name: "selectAndScatterAdd and reduceWindowSumTranspose",
    shapes: [[2, 2]],
    fn: (s) =>
      add(
        bind(
          "selectAndScatterAdd",
          [
            sin(s!),
            tensor([
              [1, 5, 2],
              [4, 3, 6],
            ]),
          ],
          { window: [1, 2], strides: [1, 1], padding: [0, 0, 0, 0] },
        ),
        bind("reduceWindowSumTranspose", [mul(s!, s!)], { window: [1, 2], strides: [1, 1], padding: [0, 0, 0, 0], shape: [2, 3] }),
      ),
  },
  { name: "argcummax (cummax)", shapes: [[2, 4]], fn: (x) => cummax(x!), distinct: true },
  { name: "argsort (sort)", shapes: [[5]], fn: (x) => sort(mul(x!, x!)), distinct: true, low: 0.2 },
  { name: "stopGradient", shapes: [[3]], fn: (x) => mul(stopGradient(x!), 2), zero: true, exact: () => [0, 0, 0] },
  {
    name: "stopGradient beside a live path",
    shapes: [[3]],
    fn: (x) => mul(stopGradient(x!), x!),
    exact: ([x], [v]) => Array.from(x!.data, (t, i) => t * v!.data[i]!),
  },
);

// the math family
unary("asin", (x) => ir.asin(x), -0.8, 0.8);
unary("acos", (x) => ir.acos(x), -0.8, 0.8);
unary("atan", (x) => ir.atan(x));
unary("sinh", (x) => ir.sinh(x));
unary("cosh", (x) => ir.cosh(x));
unary("asinh", (x) => ir.asinh(x));
unary("acosh", (x) => ir.acosh(x), 1.2, 3);
unary("atanh", (x) => ir.atanh(x), -0.8, 0.8);
unary("erf", (x) => ir.erf(x));
unary("erfc", (x) => ir.erfc(x));
unary("erfinv", (x) => ir.erfinv(x), -0.8, 0.8);
unary("lgamma", (x) => ir.lgamma(x), 0.3, 3);
unary("digamma", (x) => ir.digamma(x), 0.3, 3);
unary("log2", (x) => ir.log2(x), 0.5, 3);
unary("log10", (x) => ir.log10(x), 0.5, 3);
unary("exp2", (x) => ir.exp2(x));
unary("cbrt", (x) => ir.cbrt(x), 0.5, 3);
for (const [name, op] of [
  ["floor", ir.floor],
  ["ceil", ir.ceil],
  ["round", ir.round],
  ["trunc", ir.trunc],
  ["floorDivide(x, 3)", (x: Tensor) => ir.floorDivide(x, 3)],
] as const) {
  unary(name, (x) => op(x), 1.1, 1.4, { zero: true });
}
// a in [3.6, 3.7], b in [1, 1.1]: a/b in (3.27, 3.7), off the jumps
binary("fmod", (a, b) => ir.fmod(ir.add(a, 2.6), b), 1, 1.1);
binary("remainder", (a, b) => ir.remainder(ir.add(a, 2.6), b), 1, 1.1);
binary("hypot", (a, b) => ir.hypot(a, b), 0.5, 2);

function randomInputs(rng: Random, c: Case): Tensor[] {
  const low = c.low ?? -2;
  const high = c.high ?? 2;
  return c.shapes.map((shape, i) => {
    const t = rng.uniform(shape, { low, high });
    // distinct values spaced apart: ties and near-ties stay out of finite differences
    if (c.distinct) for (let j = 0; j < t.size; j++) t.data[j] = low + ((j * 0.37 + i * 0.19 + 0.05) % 1) * (high - low);
    return t;
  });
}

function axpy(x: Tensor, a: number, v: Tensor): Tensor {
  const out = new Tensor(x.dtype, x.shape, x.data.slice());
  for (let i = 0; i < out.size; i++) out.data[i] = x.data[i]! + a * v.data[i]!;
  return out;
}

function centralDifference(fn: Fn, xs: Tensor[], vs: Tensor[], eps: number): Float64Array {
  const plus = fn(...xs.map((x, i) => axpy(x, eps, vs[i]!)));
  const minus = fn(...xs.map((x, i) => axpy(x, -eps, vs[i]!)));
  return Float64Array.from(plus.data, (p, i) => (p - minus.data[i]!) / (2 * eps));
}

function expectClose(got: Tensor, want: ArrayLike<number>, tol: number): void {
  expect(got.size).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got.data[i]!;
    const w = want[i]!;
    if (!(Math.abs(g - w) <= tol * (1 + Math.abs(w)))) expect.fail(`element ${i}: got ${g}, expected ${w} (tolerance ${tol})`);
  }
}

const variants = [
  { label: "typed-array kernels", engine: createEngine() },
  { label: "rules only", engine: createEngine({ fastKernels: false }) },
];

describe("JVP rules vs central finite differences", () => {
  for (const { label, engine } of variants) {
    describe(label, () => {
      for (const c of cases) {
        it(c.name, () => {
          const rng = new Random(7);
          const xs = randomInputs(rng, c);
          const vs = c.shapes.map((s) => rng.normal(s));
          const [y, dy] = engine.jvp(c.fn, xs, vs);
          // the primal is the eager value
          expectClose(y, c.fn(...xs).data, 1e-12);
          const fd = c.exact ? c.exact(xs, vs) : centralDifference(c.fn, xs, vs, 1e-6);
          if (c.zero) for (let i = 0; i < dy.size; i++) expect(dy.data[i]).toBe(0);
          expectClose(dy, fd, 1e-6);
          if (c.exact) return;

          // the chunked reverse-mode path: ⟨∇(w·f), v⟩ with two directions per pass
          const w = rng.normal(y.shape);
          const scalarized = (...inputs: Tensor[]) => sum(mul(c.fn(...inputs), w));
          const chunked = createEngine({ chunkSize: 2, fastKernels: label === "typed-array kernels" });
          const grads = chunked.grad(
            scalarized,
            xs.map((_, i) => i),
          )(...xs);
          let dot = 0;
          grads.forEach((g, i) => g.data.forEach((gv, j) => (dot += gv * vs[i]!.data[j]!)));
          const fdDot = centralDifference(scalarized, xs, vs, 1e-6)[0]!;
          expect(Math.abs(dot - fdDot)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(fdDot)));

          if (c.firstOrderOnly || c.zero) return;
          // order 2: d/dε of the tangent, by forward over forward vs finite differences of jvp
          const tangentAt = (...inputs: Tensor[]) => engine.jvp(c.fn, inputs, vs)[1];
          const [, second] = engine.jvp(tangentAt, xs, vs);
          expectClose(second, centralDifference(tangentAt, xs, vs, 1e-4), 1e-5);
        });
      }
    });
  }

  describe("order 3: grad(grad(grad(op))) vs finite differences of the second derivative", () => {
    const scalarOps: [string, (x: Tensor) => Tensor, number][] = [
      ["exp", (x) => exp(x), 0.3],
      ["log", (x) => log(x), 1.3],
      ["log1p", (x) => log1p(x), 0.4],
      ["expm1", (x) => expm1(x), 0.2],
      ["sin", (x) => sin(x), 0.7],
      ["cos", (x) => cos(x), 0.7],
      ["tanh", (x) => tanh(x), 0.4],
      ["sqrt", (x) => sqrt(x), 1.7],
      ["div", (x) => div(mul(x, x), add(x, 2)), 0.6],
      ["pow (both sides)", (x) => pow(add(x, 1), x), 0.8],
      ["maximum", (x) => maximum(mul(x, x), sin(x)), 0.9],
      ["matmul", (x) => sum(matmul(reshape(mul(x, tensor([1, 2])), [1, 2]), reshape(sin(mul(x, tensor([3, 4]))), [2, 1]))), 0.5],
    ];
    for (const { label, engine } of variants) {
      for (const [name, op, at] of scalarOps) {
        it(`${name} (${label})`, () => {
          const f = (x: Tensor) => op(x);
          const second = engine.grad(engine.grad(f)) as (x: number) => number;
          const third = (engine.grad(engine.grad(engine.grad(f))) as (x: number) => number)(at);
          const eps = 1e-4;
          const fd = (second(at + eps) - second(at - eps)) / (2 * eps);
          expect(Math.abs(third - fd)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(fd)));
        });
      }
    }
  });

  it("float32 inputs give float32 tangents", () => {
    const x = tensor([0.5, 1, 2], { dtype: "float32" });
    for (const { engine } of variants) {
      const [y, dy] = engine.jvp((t: Tensor) => mul(sin(t), t), [x], [tensor([1, 1, 1], { dtype: "float32" })]);
      expect(y.dtype).toBe("float32");
      expect(dy.dtype).toBe("float32");
      expectClose(
        dy,
        [0.5, 1, 2].map((v) => Math.sin(v) + v * Math.cos(v)),
        1e-6,
      );
    }
  });

  it("every primitive has a JVP rule in ir, and a batching rule wherever a rule applies a primitive to tangents", () => {
    for (const p of PRIMITIVES) expect(typeof DEFINITIONS[p].jvp, p).toBe("function");
    for (const p of ["add", "neg", "mulNoNan", "where", "cast", "reduceSum", "reshape", "transpose", "broadcastTo"] as const)
      expect(DEFINITIONS[p].batch, p).toBeTypeOf("function");
    for (const p of ["slice", "pad", "concat", "gather", "scatterAdd", "matmul"] as const)
      expect(DEFINITIONS[p].batch, p).toBeTypeOf("function");
    expect(castTo).toBeTypeOf("function");
  });
});
