/**
 * The per-op table, in the style of JAX's grad_test_spec: one row per user-facing op of ir
 * (primitives and composites) with its arity, input domain, shapes (scalar, vector, matrix,
 * batched, broadcasting pairs, size-1 dims), dtypes, derivative order and tolerance. Each row and
 * shape becomes checks of the primal against the eager reference, jvp against finite differences,
 * the vjp dot-product test (recursively to the row's order), and agreement of grad, valueAndGrad,
 * vjp, jacobian, hessian and hvp with each other and with finite differences.
 */
import * as ir from "@chainrule/ir";
import { Random, Tensor, tensor } from "@chainrule/ir";
import { checkGrads, finiteDifference, loose } from "./checkgrads.js";
import type { Case, Context } from "./cases.js";
import { ConformanceError, expectClose } from "./expect.js";
import { dotAll, flat, treeValues, values } from "./tree.js";
import { activationCases, activationRows } from "./optable/activations.js";
// family: convolution and pooling (issue 18)
import { convCases } from "./conv-property.js";
import { convRows } from "./optable/conv.js";
import { indexRows } from "./optable/indexing.js";
import { mathRows } from "./optable/math.js";
import { reductionRows } from "./optable/reductions.js";
import { shapeRows } from "./optable/shapes.js";

export type OpFn = (...xs: Tensor[]) => Tensor;
export type Shape = readonly number[];
/** Makes the inputs of one row for the given shapes (inside the op's domain). */
export type Gen = (shape: Shape, rng: Random) => Tensor;

export interface OpRow {
  readonly name: string;
  /** True when the op is one primitive of ir. */
  readonly primitive: boolean;
  /** The op on its differentiable arguments (non-differentiable ones are closed over). */
  readonly fn: OpFn;
  /** One generator per argument: keeps inputs inside the op's domain and away from kinks. */
  readonly domain: readonly Gen[];
  readonly shapes: readonly (readonly Shape[])[];
  /** Derivative order checked (default 2; 3 when every argument is a scalar). */
  readonly order?: number;
  readonly rtol?: number;
  readonly atol?: number;
  /** Also checked in float32 (default true). */
  readonly float32?: boolean;
}

// ── domains ────────────────────────────────────────────────────────────────────────────────

export const uniform =
  (lo: number, hi: number): Gen =>
  (shape, rng) =>
    rng.uniform(shape, { low: lo, high: hi });
export const map = (shape: Shape, rng: Random, f: (u: number, i: number) => number): Tensor => {
  const t = rng.uniform(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = f(t.data[i]!, i);
  return t;
};
/** Anywhere in [-2, 2]. */
export const anyReal = uniform(-2, 2);
export const positive = uniform(0.3, 3);
/** |x| in [0.3, 2] with a random sign: away from the kinks of abs, relu, sign and the pole of 1/x. */
export const awayFromZero: Gen = (shape, rng) => map(shape, rng, (u) => (u < 0.5 ? -1 : 1) * (0.3 + 3.4 * Math.abs(u - 0.5)));
/** Odd multiples of 0.25 (±0.05) and multiples of 0.5 (±0.05): operands of maximum never tie. */
export const quarterGrid: Gen = (shape, rng) => map(shape, rng, (u) => Math.floor(u * 8 - 4) * 0.5 + 0.25 + (rng.nextFloat() - 0.5) * 0.1);
export const halfGrid: Gen = (shape, rng) => map(shape, rng, (u) => Math.floor(u * 8 - 4) * 0.5 + (rng.nextFloat() - 0.5) * 0.1);
/** Distinct values (a shuffled ramp with spacing 0.3): reductions to the max never tie. */
export const distinct: Gen = (shape, rng) => {
  const t = rng.uniform(shape);
  const order = Array.from(t.data as ArrayLike<number>)
    .map((u, i) => [u, i] as const)
    .sort((a, b) => a[0] - b[0]);
  order.forEach(([, i], rank) => (t.data[i] = rank * 0.3 - 1 + rng.nextFloat() * 0.05));
  return t;
};
/** Away from the clip bounds ±0.5. */
export const awayFromBounds: Gen = (shape, rng) =>
  map(shape, rng, (u) => {
    const x = u * 3 - 1.5;
    return Math.abs(Math.abs(x) - 0.5) < 0.1 ? x + 0.25 : x;
  });

// ── shapes ─────────────────────────────────────────────────────────────────────────────────

export const UNARY: Shape[][] = [[[]], [[5]], [[2, 3]], [[2, 1, 3]]];
export const BINARY: Shape[][] = [
  [[], []],
  [[4], [4]],
  [
    [2, 3],
    [2, 3],
  ],
  [[2, 3], [3]],
  [
    [2, 1],
    [1, 3],
  ],
  [[], [2, 3]],
  [
    [2, 1, 3],
    [4, 1],
  ],
];
export const MATRIX: Shape[][] = [[[5]], [[2, 3]], [[2, 3, 2]]];

export function bool(shape: Shape): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    "bool",
    shape.slice(),
    Uint8Array.from({ length: n }, (_, i) => ((i * 7 + 3) % 3 === 0 ? 1 : 0)),
  );
}

export function broadcast(a: Shape, b: Shape): Shape {
  return ir.broadcastShapes("test", a, b);
}

export const unary = (name: string, fn: OpFn, domain: Gen, primitive = true, extra: Partial<OpRow> = {}): OpRow => ({
  name,
  primitive,
  fn,
  domain: [domain],
  shapes: UNARY,
  ...extra,
});
export const binary = (name: string, fn: OpFn, a: Gen, b: Gen, primitive = true, extra: Partial<OpRow> = {}): OpRow => ({
  name,
  primitive,
  fn,
  domain: [a, b],
  shapes: BINARY,
  ...extra,
});

/** The table. Ops without a derivative (comparisons, argmax, oneHot) are checked in their own cases. */
export function opRows(): OpRow[] {
  return [
    unary("neg", ir.neg, anyReal),
    unary("exp", ir.exp, anyReal),
    unary("log", ir.log, positive),
    unary("log1p", ir.log1p, uniform(-0.5, 2)),
    unary("expm1", ir.expm1, anyReal),
    unary("sin", ir.sin, anyReal),
    unary("cos", ir.cos, anyReal),
    unary("tanh", ir.tanh, anyReal),
    unary("sqrt", ir.sqrt, positive),
    unary("abs", ir.abs, awayFromZero),
    unary("sign", ir.sign, awayFromZero),
    unary("square", ir.square, anyReal, false),
    unary("reciprocal", ir.reciprocal, awayFromZero, false),
    unary("tan", ir.tan, uniform(-1.1, 1.1), false),
    unary("sigmoid", ir.sigmoid, anyReal, false),
    unary("relu", ir.relu, awayFromZero, false),
    unary("clip(x, -0.5, 0.5)", (x) => ir.clip(x, -0.5, 0.5), awayFromBounds, false),
    binary("add", ir.add, anyReal, anyReal),
    binary("sub", ir.sub, anyReal, anyReal),
    binary("mul", ir.mul, anyReal, anyReal),
    binary("div", ir.div, anyReal, awayFromZero),
    binary("pow", ir.pow, positive, uniform(-1.5, 1.5)),
    // b > 0 keeps the points off atan2's branch cut (the negative b axis) and its pole at the origin
    binary("atan2", ir.atan2, anyReal, positive),
    binary("mulNoNan", ir.mulNoNan, anyReal, anyReal),
    binary("maximum", ir.maximum, quarterGrid, halfGrid),
    binary("minimum", ir.minimum, quarterGrid, halfGrid),
    {
      name: "where(c, a, b)",
      primitive: true,
      fn: (a, b) => ir.where(bool(broadcast(a!.shape, b!.shape)), a!, b!),
      domain: [anyReal, anyReal],
      shapes: [
        [[], []],
        [
          [2, 3],
          [2, 3],
        ],
        [[2, 3], [3]],
        [
          [2, 1],
          [1, 3],
        ],
      ],
    },
    { name: "sum()", primitive: true, fn: (x) => ir.sum(x!), domain: [anyReal], shapes: MATRIX },
    { name: "sum(axis 0)", primitive: true, fn: (x) => ir.sum(x!, 0), domain: [anyReal], shapes: MATRIX },
    { name: "sum(axis -1, keepdims)", primitive: true, fn: (x) => ir.sum(x!, -1, true), domain: [anyReal], shapes: MATRIX },
    { name: "sum(axes [0, 2])", primitive: true, fn: (x) => ir.sum(x!, [0, 2]), domain: [anyReal], shapes: [[[2, 3, 2]], [[1, 2, 3]]] },
    { name: "mean(axis 0)", primitive: false, fn: (x) => ir.mean(x!, 0), domain: [anyReal], shapes: MATRIX },
    { name: "mean()", primitive: false, fn: (x) => ir.mean(x!), domain: [anyReal], shapes: MATRIX },
    { name: "variance(axis -1)", primitive: false, fn: (x) => ir.variance(x!, -1), domain: [anyReal], shapes: MATRIX },
    { name: "max()", primitive: true, fn: (x) => ir.max(x!), domain: [distinct], shapes: MATRIX },
    { name: "max(axis -1, keepdims)", primitive: true, fn: (x) => ir.max(x!, -1, true), domain: [distinct], shapes: MATRIX },
    { name: "min(axis 0)", primitive: false, fn: (x) => ir.min(x!, 0), domain: [distinct], shapes: MATRIX },
    { name: "logsumexp(axis -1)", primitive: false, fn: (x) => ir.logsumexp(x!, -1), domain: [anyReal], shapes: MATRIX },
    { name: "logsumexp()", primitive: false, fn: (x) => ir.logsumexp(x!), domain: [anyReal], shapes: MATRIX },
    { name: "softmax(axis -1)", primitive: false, fn: (x) => ir.softmax(x!), domain: [anyReal], shapes: MATRIX },
    { name: "softmax(axis 0)", primitive: false, fn: (x) => ir.softmax(x!, 0), domain: [anyReal], shapes: [[[2, 3]]] },
    { name: "logSoftmax(axis -1)", primitive: false, fn: (x) => ir.logSoftmax(x!), domain: [anyReal], shapes: MATRIX },
    {
      name: "crossEntropy(logits, class indices)",
      primitive: false,
      fn: (z) => ir.crossEntropy(z!, tensor(z!.shape[0] === 2 ? [2, 0] : [1, 0, 2], { dtype: "int32" })),
      domain: [anyReal],
      shapes: [[[2, 3]], [[3, 4]]],
    },
    {
      name: "crossEntropy(logits, probabilities)",
      primitive: false,
      fn: (z, p) => ir.crossEntropy(z!, p!),
      domain: [anyReal, uniform(0, 1)],
      shapes: [
        [
          [2, 3],
          [2, 3],
        ],
      ],
    },
    {
      name: "mse",
      primitive: false,
      fn: (p, t) => ir.mse(p!, t!),
      domain: [anyReal, anyReal],
      shapes: [
        [[4], [4]],
        [
          [2, 3],
          [2, 3],
        ],
      ],
    },
    { name: "reshape(-1)", primitive: true, fn: (x) => ir.reshape(x!, [-1]), domain: [anyReal], shapes: [[[2, 3]], [[2, 1, 3]]] },
    { name: "reshape([3, 2])", primitive: true, fn: (x) => ir.reshape(x!, [3, 2]), domain: [anyReal], shapes: [[[2, 3]], [[6]]] },
    { name: "transpose()", primitive: true, fn: (x) => ir.transpose(x!), domain: [anyReal], shapes: [[[2, 3]], [[2, 3, 2]]] },
    { name: "transpose([1, 0, 2])", primitive: true, fn: (x) => ir.transpose(x!, [1, 0, 2]), domain: [anyReal], shapes: [[[2, 3, 2]]] },
    {
      name: "broadcastTo([2, 3])",
      primitive: true,
      fn: (x) => ir.broadcastTo(x!, [2, 3]),
      domain: [anyReal],
      shapes: [[[]], [[3]], [[2, 1]], [[1, 3]]],
    },
    { name: "expandDims(1)", primitive: false, fn: (x) => ir.expandDims(x!, 1), domain: [anyReal], shapes: [[[2, 3]], [[4]]] },
    { name: "squeeze()", primitive: false, fn: (x) => ir.squeeze(x!), domain: [anyReal], shapes: [[[2, 1, 3]], [[1, 4]]] },
    {
      name: "slice([0, 1], [2, -1])",
      primitive: true,
      fn: (x) => ir.slice(x!, [0, 1], [2, -1]),
      domain: [anyReal],
      shapes: [[[2, 4]], [[3, 3]]],
    },
    { name: "slice([-2], [undefined])", primitive: true, fn: (x) => ir.slice(x!, [-2]), domain: [anyReal], shapes: [[[5]]] },
    {
      name: "concat(axis 0)",
      primitive: true,
      fn: (a, b) => ir.concat([a!, b!], 0),
      domain: [anyReal, anyReal],
      shapes: [
        [[2], [3]],
        [
          [1, 3],
          [2, 3],
        ],
      ],
    },
    {
      name: "concat(axis 1)",
      primitive: true,
      fn: (a, b) => ir.concat([a!, b!], 1),
      domain: [anyReal, anyReal],
      shapes: [
        [
          [2, 1],
          [2, 3],
        ],
      ],
    },
    {
      name: "stack(axis 1)",
      primitive: false,
      fn: (a, b) => ir.stack([a!, b!], 1),
      domain: [anyReal, anyReal],
      shapes: [
        [[3], [3]],
        [
          [2, 2],
          [2, 2],
        ],
      ],
    },
    {
      name: "take(x, [2, 0, 2], axis 0) (repeated indices)",
      primitive: true,
      fn: (x) => ir.take(x!, [2, 0, 2], 0),
      domain: [anyReal],
      shapes: [[[3]], [[3, 2]]],
    },
    { name: "take(x, [[1, -1]], axis 1)", primitive: true, fn: (x) => ir.take(x!, [[1, 2]], 1), domain: [anyReal], shapes: [[[2, 3]]] },
    {
      name: "matmul",
      primitive: true,
      fn: ir.matmul,
      domain: [anyReal, anyReal],
      shapes: [
        [
          [2, 3],
          [3, 2],
        ],
        [
          [2, 2, 3],
          [2, 3, 2],
        ],
        [
          [2, 2, 3],
          [3, 2],
        ],
        [
          [2, 1, 2, 2],
          [3, 2, 2],
        ],
        [[3], [3, 2]],
        [[2, 3], [3]],
        [[3], [3]],
      ],
    },
    {
      name: "dot",
      primitive: false,
      fn: ir.dot,
      domain: [anyReal, anyReal],
      shapes: [
        [[3], [3]],
        [
          [2, 3],
          [3, 2],
        ],
        [[], [3]],
      ],
    },
    { name: "outer", primitive: false, fn: ir.outer, domain: [anyReal, anyReal], shapes: [[[3], [2]]] },
    // a smooth composite mixing many ops, as a model would
    {
      name: "layer: tanh(x·W + b) then logsumexp",
      primitive: false,
      fn: (x, w, b) => ir.logsumexp(ir.tanh(ir.add(ir.matmul(x!, w!), b!)), -1),
      domain: [anyReal, anyReal, anyReal],
      shapes: [[[2, 3], [3, 2], [2]]],
    },
    // the op families of issue 17, each in its own file
    ...mathRows(),
    ...reductionRows(),
    ...activationRows(),
    ...shapeRows(),
    ...indexRows(),
    // family: convolution and pooling (issue 18)
    ...convRows(),
  ];
}

// ── checks ─────────────────────────────────────────────────────────────────────────────────

function shapeLabel(shapes: readonly Shape[]): string {
  return shapes.map((s) => `f64[${s.join(",")}]`).join(", ");
}

function makeArgs(row: OpRow, shapes: readonly Shape[], seed: number): Tensor[] {
  const rng = new Random(seed);
  return shapes.map((s, i) => row.domain[i]!(s, rng));
}

function orderOf(row: OpRow, shapes: readonly Shape[]): number {
  return row.order ?? (shapes.every((s) => s.length === 0) ? 3 : 2);
}

function weights(shape: Shape, seed: number): Tensor {
  return new Random(seed + 7).normal(shape);
}

function castAll(xs: readonly Tensor[], dtype: "float32" | "float64"): Tensor[] {
  return xs.map((x) => ir.astype(x, dtype));
}

/** jvp/vjp/valueAndGrad primal outputs equal the eager reference; jvp/vjp to the row's order. */
function checkRow(ctx: Context, row: OpRow, shapes: readonly Shape[]): void {
  const e = loose(ctx.engine);
  const args = makeArgs(row, shapes, ctx.seed);
  const reference = row.fn(...args);
  const zerosT = args.map((a) => ir.zeros(a.shape));
  const [yJ] = e.jvp(row.fn, args, zerosT);
  expectClose(`${row.name}: jvp's primal output vs the eager reference`, yJ, reference, 1e-12, 1e-14);
  const [yV] = e.vjp(row.fn, ...args);
  expectClose(`${row.name}: vjp's primal output vs the eager reference`, yV, reference, 1e-12, 1e-14);
  if (!(yJ instanceof Tensor) || yJ.dtype !== reference.dtype || yJ.shape.join() !== reference.shape.join()) {
    throw new ConformanceError(`${row.name}: expected jvp's primal output to be a Tensor ${reference.typeString()}, got ${String(yJ)}`);
  }
  const order = orderOf(row, shapes);
  checkGrads(ctx.engine, row.fn, args, {
    order,
    seed: ctx.seed,
    ...(row.rtol ? { rtol: row.rtol } : {}),
    ...(row.atol ? { atol: row.atol } : {}),
  });
}

/** grad, valueAndGrad, vjp, jacobian, hessian and hvp agree with each other and with finite differences. */
function checkTransforms(ctx: Context, row: OpRow, shapes: readonly Shape[]): void {
  const e = loose(ctx.engine);
  const args = makeArgs(row, shapes, ctx.seed);
  const n = args.length;
  const out = row.fn(...args);
  const w = weights(out.shape, ctx.seed);
  const s = (...xs: Tensor[]) => ir.sum(ir.mul(row.fn(...xs), w));
  const all = args.map((_, i) => i);
  const rtol = 1e-9;
  const atol = 1e-11;
  const g = e.grad(s, all)(...args);
  const [value, g2] = e.valueAndGrad(s, all)(...args);
  expectClose(`${row.name}: valueAndGrad's value vs the eager reference`, value, s(...args), rtol, atol);
  expectClose(`${row.name}: valueAndGrad's gradient vs grad`, g2, g, rtol, atol);
  const [, pullback] = e.vjp(row.fn, ...args);
  expectClose(`${row.name}: vjp(f)(w) vs grad of ⟨f, w⟩`, pullback(w), g, rtol, atol);
  args.forEach((x, i) => {
    const gi = g[i]!;
    if (!(gi instanceof Tensor) || gi.shape.join() !== x.shape.join()) {
      throw new ConformanceError(
        `${row.name}: expected the gradient for argument ${i} to have shape [${x.shape.join(", ")}], got ${String(gi)}`,
      );
    }
    const gOne = e.grad(s, i)(...args);
    expectClose(`${row.name}: grad(f, ${i}) vs grad(f, [0..${n - 1}])[${i}]`, gOne, gi, rtol, atol);
  });
  // grad against finite differences along a random direction
  const x = flat(args);
  const rng = new Random(ctx.seed + 11);
  const u = args.map((a) => values(rng.normal(a.shape)));
  const fd = finiteDifference(s, x, u, 1e-3)[0]!;
  expectClose(`${row.name}: ⟨grad, u⟩ vs finite difference of ⟨f, w⟩ along u`, [dotAll(g.map(values), u)], [fd], 1e-6, 1e-8);
  // jacobian: J contracted with w over the output axes is the gradient; J·u is the jvp
  args.forEach((a, i) => {
    const J = e.jacobian(row.fn, i)(...args);
    const want = [...out.shape, ...a.shape];
    if (!(J instanceof Tensor) || J.shape.join() !== want.join()) {
      throw new ConformanceError(`${row.name}: expected jacobian(f, ${i}) of shape [${want.join(", ")}], got ${String(J)}`);
    }
    const jv = values(J);
    const m = out.size;
    const k = a.size;
    const wv = values(w);
    const uv = u[i]!;
    const jtw = new Float64Array(k);
    const ju = new Float64Array(m);
    for (let r = 0; r < m; r++)
      for (let c = 0; c < k; c++) {
        jtw[c] = jtw[c]! + jv[r * k + c]! * wv[r]!;
        ju[r] = ju[r]! + jv[r * k + c]! * uv[c]!;
      }
    expectClose(`${row.name}: jacobian(f, ${i})ᵀ·w vs the gradient`, jtw, values(g[i]!), 1e-9, 1e-11);
    const tangents = args.map((b, l) => (l === i ? new Tensor("float64", b.shape.slice(), Float64Array.from(uv)) : ir.zeros(b.shape)));
    const [, t] = e.jvp(row.fn, args, tangents);
    expectClose(`${row.name}: jacobian(f, ${i})·u vs jvp`, ju, treeValues(t), 1e-9, 1e-11);
  });
}

function checkHessian(ctx: Context, row: OpRow, shapes: readonly Shape[]): void {
  const e = loose(ctx.engine);
  const args = makeArgs(row, shapes, ctx.seed);
  const out = row.fn(...args);
  const w = weights(out.shape, ctx.seed);
  const s = (...xs: Tensor[]) => ir.sum(ir.mul(row.fn(...xs), w));
  const a = args[0]!;
  const k = a.size;
  const H = e.hessian(s, 0)(...args);
  const want = [...a.shape, ...a.shape];
  if (!(H instanceof Tensor) || H.shape.join() !== want.join()) {
    throw new ConformanceError(`${row.name}: expected hessian(f, 0) of shape [${want.join(", ")}], got ${String(H)}`);
  }
  const hv = values(H);
  const transposed = new Float64Array(k * k);
  for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) transposed[c * k + r] = hv[r * k + c]!;
  expectClose(`${row.name}: hessian is symmetric`, hv, transposed, 1e-8, 1e-10);
  const rng = new Random(ctx.seed + 13);
  const v = values(rng.normal(a.shape));
  const Hv = new Float64Array(k);
  for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) Hv[r] = Hv[r]! + hv[r * k + c]! * v[c]!;
  const tangents = args.map((b, l) => (l === 0 ? new Tensor("float64", b.shape.slice(), Float64Array.from(v)) : ir.zeros(b.shape)));
  const hvp = e.hvp(s, args, tangents) as Tensor[];
  expectClose(`${row.name}: hvp (argument 0) vs hessian·v`, values(hvp[0]!), Hv, 1e-8, 1e-10);
  // hessian·v against finite differences of the engine's gradient
  const grad0 = (...xs: Tensor[]) => e.grad(s, 0)(...xs);
  const fd = finiteDifference(
    grad0,
    flat(args),
    args.map((b, l) => (l === 0 ? v : new Float64Array(b.size))),
    1e-3,
  );
  expectClose(`${row.name}: hessian·v vs finite differences of grad`, Hv, fd, 1e-6, 1e-8);
}

function checkFloat32(ctx: Context, row: OpRow, shapes: readonly Shape[]): void {
  const e = loose(ctx.engine);
  const args64 = makeArgs(row, shapes, ctx.seed);
  const args32 = castAll(args64, "float32");
  const reference = row.fn(...args32);
  const out64 = row.fn(...args64);
  const w = weights(out64.shape, ctx.seed);
  const w32 = ir.astype(w, "float32");
  const s = (...xs: Tensor[]) => ir.sum(ir.mul(row.fn(...xs), xs[0]!.dtype === "float32" ? w32 : w));
  const [y] = e.vjp(row.fn, ...args32);
  if (!(y instanceof Tensor) || y.dtype !== "float32")
    throw new ConformanceError(`${row.name}: expected a float32 output for float32 inputs, got ${String(y)}`);
  expectClose(`${row.name}: float32 primal vs the float32 eager reference`, y, reference, 1e-6, 1e-6);
  const all = args32.map((_, i) => i);
  const g32 = e.grad(s, all)(...args32) as Tensor[];
  g32.forEach((g, i) => {
    if (!(g instanceof Tensor) || g.dtype !== "float32")
      throw new ConformanceError(`${row.name}: expected a float32 gradient for float32 argument ${i}, got ${String(g)}`);
  });
  const g64 = e.grad(s, all)(...args64);
  expectClose(`${row.name}: float32 gradient vs float64 gradient`, g32, g64, 1e-3, 1e-4);
}

export function opCases(): Case[] {
  const cases: Case[] = [];
  for (const row of opRows()) {
    const kind = row.primitive ? "primitive" : "composite";
    row.shapes.forEach((shapes, k) => {
      const label = `${row.name} (${kind}) ${shapeLabel(shapes)}`;
      const order = orderOf(row, shapes);
      cases.push({
        group: "per-op",
        name: `${label}: primal = eager, jvp vs FD, vjp dot-product test, to order ${order}`,
        ...(order >= 3 ? { features: ["order3" as const] } : {}),
        run: (ctx) => checkRow(ctx, row, shapes),
      });
      cases.push({
        group: "per-op transformations",
        name: `${label}: grad, valueAndGrad, vjp, jacobian agree with each other and FD`,
        run: (ctx) => checkTransforms(ctx, row, shapes),
      });
      cases.push({
        group: "per-op hessian",
        name: `${label}: hessian symmetric, = hvp, = FD of grad`,
        features: ["hessian"],
        run: (ctx) => checkHessian(ctx, row, shapes),
      });
      if (row.float32 !== false && k === Math.min(1, row.shapes.length - 1)) {
        cases.push({
          group: "per-op float32",
          name: `${row.name} f32${shapeLabel(shapes).replace(/f64/g, "")}: float32 in, float32 out, gradient ≈ float64 gradient`,
          features: ["float32"],
          run: (ctx) => checkFloat32(ctx, row, shapes),
        });
      }
    });
  }
  // issue 17's op families: their own cases (kink conventions, integer outputs)
  cases.push(...activationCases());
  // family: convolution and pooling (issue 18): the stride/padding/dilation/groups property
  cases.push(...convCases());
  return cases;
}
