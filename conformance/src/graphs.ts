/**
 * Random well-shaped graphs (fast-check). A program — input shapes and a list of steps, each
 * picking an op and operands by index — is traced into an ir `Graph` (plain data, tens to
 * hundreds of nodes) mixing elementwise ops, broadcasting, reductions, reshape/transpose/slice,
 * concat, gather and matmul. Every step keeps values inside the domains of the ops that follow:
 * log, sqrt, pow and div only see arguments shifted away from their singularities; values stay
 * bounded (no step squares a magnitude: products go through tanh first), so finite differences
 * stay accurate; ops with kinks (abs, relu, maximum, max) are left to the per-op table and the
 * convention cases. The graph runs under any engine through `toFunction`.
 */
import * as ir from "@chainrule/ir";
import { graphToText, Random, Tensor, toFunction, traceWith, type Graph } from "@chainrule/ir";
import fc from "fast-check";
import { checkGrads, finiteDifference, loose } from "./checkgrads.js";
import { dotAll, flat, values } from "./tree.js";
import type { Case, Context } from "./cases.js";
import { ConformanceError, expectClose } from "./expect.js";

export interface Step {
  readonly op: number;
  readonly a: number;
  readonly b: number;
  readonly p: number;
}

export interface Program {
  readonly inputs: readonly number[];
  readonly steps: readonly Step[];
  readonly seed: number;
}

export const INPUT_SHAPES: readonly (readonly number[])[] = [[], [3], [4], [2, 3], [3, 2], [2, 1, 3], [1, 4], [2, 2, 2]];
const MAX_SIZE = 48;

export type Unit = (a: Tensor, pick: (filter: (t: Tensor) => boolean) => Tensor | undefined, p: number, rng: Random) => Tensor | undefined;

const axisOf = (t: Tensor, p: number) => p % t.rank;

function mask(shape: readonly number[], rng: Random): Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  return new Tensor(
    "bool",
    shape.slice(),
    Uint8Array.from({ length: n }, () => (rng.nextFloat() < 0.5 ? 1 : 0)),
  );
}

export function broadcastable(a: Tensor): (t: Tensor) => boolean {
  return (t) => {
    try {
      return ir.broadcastShapes("graph", a.shape, t.shape).reduce((x, y) => x * y, 1) <= MAX_SIZE;
    } catch {
      return false;
    }
  };
}

function swapLast(t: Tensor): Tensor {
  return ir.transpose(
    t,
    t.shape.map((_, i) => (i === t.rank - 2 ? t.rank - 1 : i === t.rank - 1 ? t.rank - 2 : i)),
  );
}

/** The op vocabulary: each unit returns undefined when it does not apply to its operand. */
export const UNITS: readonly (readonly [string, Unit])[] = [
  ["sin", (a) => ir.sin(a)],
  ["cos", (a) => ir.cos(a)],
  ["tanh", (a) => ir.tanh(a)],
  ["sigmoid", (a) => ir.sigmoid(a)],
  ["neg", (a) => ir.neg(a)],
  ["exp∘tanh", (a) => ir.exp(ir.tanh(a))],
  ["log(1.5 + tanh)", (a) => ir.log(ir.add(ir.tanh(a), 1.5))],
  ["sqrt(a² + 0.5)", (a) => ir.sqrt(ir.add(ir.square(a), 0.5))],
  ["log1p(a²)", (a) => ir.log1p(ir.square(a))],
  ["expm1(tanh/2)", (a) => ir.expm1(ir.mul(ir.tanh(a), 0.5))],
  [
    "pow(sigmoid a + 0.5, tanh b)",
    (a, pick) => {
      const b = pick(broadcastable(a)) ?? a;
      return ir.pow(ir.add(ir.sigmoid(a), 0.5), ir.tanh(b));
    },
  ],
  [
    "(a + b)/2",
    (a, pick) => {
      const b = pick(broadcastable(a));
      return b && ir.mul(ir.add(a, b), 0.5);
    },
  ],
  [
    "(a − b)/2",
    (a, pick) => {
      const b = pick(broadcastable(a));
      return b && ir.mul(ir.sub(a, b), 0.5);
    },
  ],
  [
    "tanh(a)·b",
    (a, pick) => {
      const b = pick(broadcastable(a));
      return b && ir.mul(ir.tanh(a), b);
    },
  ],
  [
    "a / (b² + 1)",
    (a, pick) => {
      const b = pick(broadcastable(a));
      return b && ir.div(a, ir.add(ir.square(b), 1));
    },
  ],
  [
    "where(mask, a, b)",
    (a, pick, _p, rng) => {
      const b = pick(broadcastable(a));
      return b && ir.where(mask(ir.broadcastShapes("where", a.shape, b.shape), rng), a, b);
    },
  ],
  ["mean(axis)", (a, _pick, p) => (a.rank === 0 ? undefined : ir.mean(a, axisOf(a, p)))],
  ["sum(axis, keepdims)/n", (a, _pick, p) => (a.rank === 0 ? undefined : ir.div(ir.sum(a, axisOf(a, p), true), a.shape[axisOf(a, p)]!))],
  [
    "logsumexp(axis) − log n",
    (a, _pick, p) => (a.rank === 0 ? undefined : ir.sub(ir.logsumexp(a, axisOf(a, p)), Math.log(a.shape[axisOf(a, p)]!))),
  ],
  ["variance(tanh a, axis)", (a, _pick, p) => (a.rank === 0 ? undefined : ir.variance(ir.tanh(a), axisOf(a, p)))],
  ["softmax(axis)", (a, _pick, p) => (a.rank === 0 ? undefined : ir.softmax(a, axisOf(a, p)))],
  // family: reductions, scans and sorting (issue 17): the smooth ones (sort, cummax and topK switch at ties, which
  // broadcast copies make common here; the per-op table checks them on distinct inputs)
  ["cumsum(axis)", (a, _pick, p) => (a.rank === 0 ? undefined : ir.cumsum(a, axisOf(a, p)))],
  ["cumprod(tanh a, axis)", (a, _pick, p) => (a.rank === 0 ? undefined : ir.cumprod(ir.tanh(a), axisOf(a, p)))],
  ["logcumsumexp(axis)", (a, _pick, p) => (a.rank === 0 ? undefined : ir.logcumsumexp(a, axisOf(a, p)))],
  ["prod(tanh a, axis)", (a, _pick, p) => (a.rank === 0 ? undefined : ir.prod(ir.tanh(a), axisOf(a, p)))],
  [
    // a ramp keeps broadcast copies apart: std has a kink where every entry is equal
    "std(a + ramp, axis)",
    (a, _pick, p) => (a.rank === 0 ? undefined : ir.std(ir.add(a, ir.reshape(ir.arange(a.size), a.shape)), axisOf(a, p))),
  ],
  [
    "reshape",
    (a, _pick, p) => {
      const n = a.size;
      const options = [
        [n],
        [1, n],
        [n, 1],
        ...(n % 2 === 0
          ? [
              [2, n / 2],
              [n / 2, 2],
            ]
          : []),
        ...(n % 3 === 0 ? [[3, n / 3]] : []),
        ...(n % 4 === 0 ? [[2, 2, n / 4]] : []),
      ];
      return ir.reshape(a, options[p % options.length]!);
    },
  ],
  [
    "transpose",
    (a, _pick, p) => {
      if (a.rank < 2) return undefined;
      const perm = a.shape.map((_, i) => i);
      const i = p % a.rank;
      const j = (i + 1 + ((p >> 3) % (a.rank - 1))) % a.rank;
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      return ir.transpose(a, perm);
    },
  ],
  [
    "slice",
    (a, _pick, p) => {
      const axis = a.shape.findIndex((d, i) => d >= 2 && i >= p % Math.max(a.rank, 1));
      const ax = axis >= 0 ? axis : a.shape.findIndex((d) => d >= 2);
      if (ax < 0) return undefined;
      const dim = a.shape[ax]!;
      const begin = a.shape.map(() => 0);
      const end = a.shape.slice();
      begin[ax] = p % (dim - 1);
      end[ax] = begin[ax]! + 1 + ((p >> 2) % (dim - begin[ax]!));
      return ir.slice(a, begin, end);
    },
  ],
  ["expandDims", (a, _pick, p) => (a.rank >= 4 ? undefined : ir.expandDims(a, p % (a.rank + 1)))],
  ["broadcastTo [2, …]", (a) => (a.rank >= 4 || a.size * 2 > MAX_SIZE ? undefined : ir.broadcastTo(a, [2, ...a.shape]))],
  ["concat(a, tanh a)", (a, _pick, p) => (a.rank === 0 || a.size * 2 > MAX_SIZE ? undefined : ir.concat([a, ir.tanh(a)], axisOf(a, p)))],
  [
    "take (repeated indices)",
    (a, _pick, p, rng) => {
      if (a.rank === 0) return undefined;
      const axis = axisOf(a, p);
      const dim = a.shape[axis]!;
      const count = 1 + (p % 4);
      if ((a.size / dim) * count > MAX_SIZE) return undefined;
      const idx = Int32Array.from({ length: count }, () => Math.floor(rng.nextFloat() * dim));
      return ir.take(a, new Tensor("int32", [count], idx), axis);
    },
  ],
  [
    "matmul(a, W const)",
    (a, _pick, p, rng) => {
      if (a.rank === 0) return undefined;
      const k = a.shape[a.rank - 1]!;
      const n = 1 + (p % 3);
      if ((a.size / k) * n > MAX_SIZE) return undefined;
      return ir.matmul(a, rng.uniform([k, n], { low: -1 / k, high: 1 / k }));
    },
  ],
  [
    "gram: t·tᵀ / k with t = tanh a",
    (a) => {
      if (a.rank < 2) return undefined;
      const m = a.shape[a.rank - 2]!;
      if ((a.size / a.shape[a.rank - 1]!) * m > MAX_SIZE) return undefined;
      const t = ir.tanh(a);
      return ir.div(ir.matmul(t, swapLast(t)), a.shape[a.rank - 1]!);
    },
  ],
  [
    "matmul(tanh a, b)/k",
    (a, pick) => {
      if (a.rank < 1) return undefined;
      const k = a.shape[a.rank - 1]!;
      const b = pick((t) => t.rank === 2 && t.shape[0] === k && (a.size / k) * t.shape[1]! <= MAX_SIZE);
      return b && ir.div(ir.matmul(ir.tanh(a), b), k);
    },
  ],
  // issue 17, family "activations" (ops-nn): the smooth activations and losses
  ["softplus", (a) => ir.softplus(a)],
  ["silu", (a) => ir.silu(a)],
  ["logSigmoid", (a) => ir.logSigmoid(a)],
  [
    "binaryCrossEntropy(a, σ(b), none)",
    (a, pick) => {
      const b = pick((t) => ir.shapesEqual(t.shape, a.shape));
      return b && ir.binaryCrossEntropy(a, ir.sigmoid(b), { reduction: "none" });
    },
  ],
  // issue 17, family "shapes" (ops-nn)
  ["flip(axis)", (a, _pick, p) => (a.rank === 0 ? undefined : ir.flip(a, axisOf(a, p)))],
  ["roll(axis)", (a, _pick, p) => (a.rank === 0 ? undefined : ir.roll(a, 1 + ((p >> 3) % 3), axisOf(a, p)))],
  [
    "tile ×2 along an axis",
    (a, _pick, p) =>
      a.rank === 0 || a.size * 2 > MAX_SIZE
        ? undefined
        : ir.tile(
            a,
            a.shape.map((_, i) => (i === axisOf(a, p) ? 2 : 1)),
          ),
  ],
  ["repeat ×2 along an axis", (a, _pick, p) => (a.rank === 0 || a.size * 2 > MAX_SIZE ? undefined : ir.repeat(a, 2, axisOf(a, p)))],
  [
    "triu/tril(k)",
    (a, _pick, p) => {
      if (a.rank < 2) return undefined;
      const k = ((p >> 1) % 3) - 1;
      return p % 2 === 0 ? ir.tril(a, k) : ir.triu(a, k);
    },
  ],
  ["diagonal", (a, _pick, p) => (a.rank < 2 ? undefined : ir.diagonal(a, ((p >> 2) % 3) - 1, 0, -1))],
  ["swapaxes(0, -1)", (a) => (a.rank < 2 ? undefined : ir.swapaxes(a, 0, -1))],
  [
    "split in 2 (parts rejoined, one scaled)",
    (a, _pick, p) => {
      const axis = a.shape.findIndex((d, i) => d % 2 === 0 && d > 0 && i >= p % Math.max(a.rank, 1));
      if (axis < 0) return undefined;
      const [x, y] = ir.split(a, 2, axis) as [Tensor, Tensor];
      return ir.concat([ir.mul(y, 0.5), x], axis);
    },
  ],
  // family: indexing (issue 17, ops-index); at(…).min/max have kinks and stay in the per-op table
  [
    "slice with steps",
    (a, _pick, p) => {
      if (a.rank === 0) return undefined;
      const axis = axisOf(a, p);
      const steps = a.shape.map((_, i) => (i === axis ? [2, -1, -2, 3][(p >> 2) % 4]! : 1));
      return ir.slice(
        a,
        a.shape.map(() => undefined),
        undefined,
        steps,
      );
    },
  ],
  [
    "dot(tanh a, b)/k (N-d)",
    (a, pick) => {
      if (a.rank < 1) return undefined;
      const k = a.shape[a.rank - 1]!;
      const fits = (t: Tensor) => t.rank >= 2 && t.shape[t.rank - 2] === k && (a.size / k) * (t.size / k) <= MAX_SIZE;
      const b = pick(fits);
      return b && ir.div(ir.dot(ir.tanh(a), b), k);
    },
  ],
  [
    "takeAlongAxis (repeated, negative indices)",
    (a, _pick, p, rng) => {
      if (a.rank === 0) return undefined;
      const axis = axisOf(a, p);
      const dim = a.shape[axis]!;
      const shape = a.shape.map((d, i) => (i === axis ? 1 + (p % 3) : d));
      const n = shape.reduce((x, y) => x * y, 1);
      const idx = Int32Array.from({ length: n }, () => Math.floor(rng.nextFloat() * 2 * dim) - dim);
      return ir.takeAlongAxis(a, new Tensor("int32", shape, idx), axis);
    },
  ],
  [
    "at(a, i).set/add/mul(v) (repeated indices, v from b)",
    (a, pick, p, rng) => {
      if (a.rank === 0) return undefined;
      const count = 1 + (p % 3);
      const idx = new Tensor(
        "int32",
        [count],
        Int32Array.from({ length: count }, () => Math.floor(rng.nextFloat() * a.shape[0]!)),
      );
      const shape = [count, ...a.shape.slice(1)];
      const v = ir.broadcastTo(ir.tanh(ir.mean(pick(() => true) ?? a)), shape);
      const how = (p >> 2) % 3;
      const update = ir.at(a, idx);
      return how === 0 ? update.set(v) : how === 1 ? update.add(v) : update.mul(ir.add(ir.sigmoid(v), 0.5));
    },
  ],
  // the math family (issue 17): each squashed into its smooth domain, away from poles and kinks
  ["asin(0.9·tanh a)", (a) => ir.asin(ir.mul(ir.tanh(a), 0.9))],
  ["acos(0.9·tanh a)", (a) => ir.acos(ir.mul(ir.tanh(a), 0.9))],
  ["atanh(0.9·tanh a)", (a) => ir.atanh(ir.mul(ir.tanh(a), 0.9))],
  ["erfinv(0.9·tanh a)", (a) => ir.erfinv(ir.mul(ir.tanh(a), 0.9))],
  ["atan", (a) => ir.atan(a)],
  ["sinh∘tanh", (a) => ir.sinh(ir.tanh(a))],
  ["cosh∘tanh", (a) => ir.cosh(ir.tanh(a))],
  ["asinh", (a) => ir.asinh(a)],
  ["acosh(a² + 1.5)", (a) => ir.acosh(ir.add(ir.square(a), 1.5))],
  ["erf", (a) => ir.erf(a)],
  ["erfc", (a) => ir.erfc(a)],
  ["lgamma(a² + 0.5)", (a) => ir.lgamma(ir.add(ir.square(a), 0.5))],
  ["digamma(a² + 0.5)", (a) => ir.digamma(ir.add(ir.square(a), 0.5))],
  ["log2(a² + 0.5)", (a) => ir.log2(ir.add(ir.square(a), 0.5))],
  ["log10(a² + 0.5)", (a) => ir.log10(ir.add(ir.square(a), 0.5))],
  ["exp2∘tanh", (a) => ir.exp2(ir.tanh(a))],
  ["cbrt(a² + 0.5)", (a) => ir.cbrt(ir.add(ir.square(a), 0.5))],
  ["rsqrt(a² + 0.5)", (a) => ir.rsqrt(ir.add(ir.square(a), 0.5))],
  ["gelu", (a) => ir.gelu(a)],
  ["gelu(approximate)", (a) => ir.gelu(a, { approximate: true })],
  [
    "hypot(a, σ(b) + 0.5)",
    (a, pick) => {
      const b = pick(broadcastable(a)) ?? a;
      return ir.hypot(a, ir.add(ir.sigmoid(b), 0.5));
    },
  ],
  [
    "logaddexp(a, b)",
    (a, pick) => {
      const b = pick(broadcastable(a));
      return b && ir.logaddexp(a, b);
    },
  ],
  // family: convolution and pooling (issue 18): conv (bilinear, filters picked from the graph or constant), the
  // transposed conv and the average pools (linear); max pooling has kinks and stays in the per-op table
  [
    "conv1d(a as [N, C, W], b or W const, same)/k",
    (a, pick, p, rng) => {
      if (a.rank !== 3) return undefined;
      const [, c, width] = a.shape as [number, number, number];
      const fits = (t: Tensor) => t.rank === 3 && t.shape[1] === c && t.shape[2]! <= width && (a.size / c) * t.shape[0]! <= MAX_SIZE;
      const w = pick(fits) ?? (a.size * 2 <= MAX_SIZE * c ? rng.uniform([2, c, Math.min(2, width)], { low: -1, high: 1 }) : undefined);
      return w && ir.div(ir.conv1d(a, w, { padding: "same", stride: 1 + (p % 2) }), c * w.shape[2]!);
    },
  ],
  [
    "conv2d(a as [1, 1, H, W], W const 2×2, same)",
    (a, _pick, p, rng) => {
      if (a.rank !== 2) return undefined;
      const w = rng.uniform([1, 1, 2, 2], { low: -0.5, high: 0.5 });
      const y = ir.conv2d(ir.reshape(a, [1, 1, ...a.shape]), w, { padding: "same", dilation: [1, 1 + (p % 2)] });
      return ir.reshape(y, a.shape.slice());
    },
  ],
  [
    "convTranspose(a as [N, C, W], W const, stride 2)/k",
    (a, _pick, p, rng) => {
      if (a.rank !== 3 || a.size * 2 > MAX_SIZE) return undefined;
      const c = a.shape[1]!;
      const w = rng.uniform([c, 1, 2], { low: -1, high: 1 });
      return ir.div(ir.convTranspose(a, w, { stride: 2, outputPadding: p % 2 === 0 ? 0 : 1, padding: p % 2 }), c);
    },
  ],
  [
    "avgPool(a as [N, C, W], 2, stride 1, padding same)",
    (a, _pick, p) => (a.rank !== 3 ? undefined : ir.avgPool(a, 2, { stride: 1, padding: "same", countIncludePad: p % 2 === 0 })),
  ],
  ["adaptiveAvgPool(a as [N, C, W], 2)", (a) => (a.rank !== 3 ? undefined : ir.adaptiveAvgPool(a, 2))],
];

/** Builds the program's function on tensors (used to trace the graph), with `units` as the op vocabulary. */
export function programFunction(
  program: Program,
  units: readonly (readonly [string, Unit])[] = UNITS,
): (...xs: Tensor[]) => [Tensor, Tensor] {
  return (...xs) => {
    const rng = new Random(program.seed);
    const pool: Tensor[] = [...xs];
    for (const step of program.steps) {
      const a = pool[step.a % pool.length]!;
      const pick = (filter: (t: Tensor) => boolean) => {
        const candidates = pool.filter(filter);
        return candidates.length === 0 ? undefined : candidates[step.b % candidates.length];
      };
      const unit = units[step.op % units.length]![1];
      const out = unit(a, pick, step.p, rng);
      if (out !== undefined && out.size > 0 && out.size <= MAX_SIZE) pool.push(out);
    }
    // every value reaches the outputs, so no node goes unchecked
    const total = pool.reduce<Tensor>((s, t) => ir.add(s, ir.mean(t)), ir.scalar(0));
    return [pool[pool.length - 1]!, total];
  };
}

export function programInputs(program: Program): Tensor[] {
  const rng = new Random(program.seed ^ 0x5bd1e995);
  return program.inputs.map((i) => rng.uniform(INPUT_SHAPES[i % INPUT_SHAPES.length]!, { low: -2, high: 2 }));
}

/** The program as an ir Graph (plain data). */
export function buildGraph(program: Program): Graph {
  const inputs = programInputs(program);
  return traceWith({ names: inputs.map((_, i) => `x${i}`), name: "random graph" }, programFunction(program) as never, ...inputs);
}

const stepArb = fc.record({ op: fc.nat({ max: 1023 }), a: fc.nat({ max: 1023 }), b: fc.nat({ max: 1023 }), p: fc.nat({ max: 1023 }) });

/** fast-check arbitrary of programs with `minSteps`..`maxSteps` steps. */
export function programArbitrary(minSteps = 8, maxSteps = 48): fc.Arbitrary<Program> {
  return fc.record({
    inputs: fc.array(fc.nat({ max: INPUT_SHAPES.length - 1 }), { minLength: 1, maxLength: 3 }),
    steps: fc.array(stepArb, { minLength: minSteps, maxLength: maxSteps }),
    seed: fc.nat({ max: 0x7fffffff }),
  });
}

/**
 * Checks one graph on one engine: primal = eager evaluation, jvp vs FD and the vjp dot-product
 * test (to `order`), and grad/valueAndGrad of the scalar output against FD.
 */
export function checkGraph(ctx: Context, graph: Graph, inputs: readonly Tensor[], order = 1): void {
  const e = loose(ctx.engine);
  const f = toFunction(graph);
  const eager = f(...inputs);
  const [y] = e.vjp(f, ...inputs);
  expectClose("primal vs eager evaluation of the graph", y, eager, 1e-10, 1e-12);
  checkGrads(ctx.engine, f, inputs, { order, seed: ctx.seed });
  const s = (...xs: Tensor[]) => (f(...xs) as Tensor[])[1]!;
  const all = inputs.map((_, i) => i);
  const [value, g] = e.valueAndGrad(s, all)(...inputs);
  expectClose("valueAndGrad's value vs eager evaluation", value, (eager as Tensor[])[1], 1e-10, 1e-12);
  expectClose("grad vs valueAndGrad's gradient", e.grad(s, all)(...inputs), g, 1e-10, 1e-12);
  const rng = new Random(ctx.seed + 17);
  const u = inputs.map((x) => values(rng.normal(x.shape)));
  const fd = finiteDifference(s, flat(inputs), u, 1e-3)[0]!;
  expectClose("⟨grad, u⟩ vs finite difference of the scalar output", [dotAll(g.map(values), u)], [fd], 1e-6, 1e-8);
}

function graphCase(name: string, runs: (ctx: Context) => number, order: (ctx: Context) => number, seedOffset: number): Case {
  return {
    group: "random graphs",
    name,
    features: ["randomGraphs"],
    // deep mode: allow half a second per graph and order
    timeout: (ctx) => 60_000 + runs(ctx) * 500 * order(ctx) ** 2,
    run: (ctx) => {
      fc.assert(
        fc.property(programArbitrary(), (program) => {
          const graph = buildGraph(program);
          try {
            checkGraph(ctx, graph, programInputs(program), order(ctx));
          } catch (error) {
            throw new ConformanceError(
              `${(error as Error).name}: ${(error as Error).message}\non the graph (${graph.nodes.length} nodes):\n${graphToText(graph)}`,
            );
          }
        }),
        { numRuns: runs(ctx), seed: ctx.seed + seedOffset, includeErrorInReport: true },
      );
    },
  };
}

export function graphCases(): Case[] {
  return [
    graphCase(
      "random well-shaped graphs (fast-check; CHAINRULE_GRAPHS sets how many): primal = eager, jvp vs FD, vjp dot-product test, " +
        "grad/valueAndGrad vs FD",
      (ctx) => ctx.graphs,
      (ctx) => ctx.graphOrder,
      0,
    ),
    graphCase(
      "random well-shaped graphs at second order (a fifth as many): jvp and vjp of the derivatives, nested",
      (ctx) => Math.max(1, Math.ceil(ctx.graphs / 5)),
      (ctx) => Math.max(2, ctx.graphOrder),
      1,
    ),
  ];
}
