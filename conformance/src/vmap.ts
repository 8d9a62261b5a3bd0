/**
 * vmap (issue 19) composed with the engine's transformations: every engine must give, for the
 * mapped function, what a loop over the batch gives — grad of vmap, vmap of grad (per-example
 * gradients, the headline use), jvp and vjp of vmap, vmap of jvp, hessian and jacobian of a
 * vmapped function, vmap of vmap of grad — and the fast-check property that vmap of a random
 * graph equals stacking the graph over the batch, eagerly and under the engine's vjp.
 */
import * as ir from "@chainrule/ir";
import { graphToText, Random, Tensor, toFunction, vmap } from "@chainrule/ir";
import fc from "fast-check";
import type { Case, Context } from "./cases.js";
import { loose, type LooseEngine } from "./checkgrads.js";
import { ConformanceError, expectClose, expectTrue } from "./expect.js";
import { buildGraph, programArbitrary, programInputs } from "./graphs.js";

const K = 4;

/** Row j of a batched tensor. */
const row = (t: Tensor, j: number) => ir.take(t, j, 0);

/** A small MLP's loss on one example (x: [3], y: scalar): the per-example-gradient workload. */
function mlpLoss(params: { w1: Tensor; b1: Tensor; w2: Tensor }, x: Tensor, y: Tensor): Tensor {
  const h = ir.tanh(ir.add(ir.matmul(x, params.w1), params.b1));
  const out = ir.sum(ir.matmul(h, params.w2));
  return ir.square(ir.sub(out, y));
}

function setup(seed: number) {
  const rng = new Random(seed + 19);
  const params = {
    w1: rng.uniform([3, 5], { low: -0.8, high: 0.8 }),
    b1: rng.uniform([5], { low: -0.3, high: 0.3 }),
    w2: rng.uniform([5, 1], { low: -0.8, high: 0.8 }),
  };
  const xs = rng.uniform([K, 3], { low: -1.5, high: 1.5 });
  const ys = rng.uniform([K], { low: -1, high: 1 });
  return { rng, params, xs, ys };
}

const f = (x: Tensor) => ir.sum(ir.mul(ir.sin(x), ir.exp(ir.mul(x, 0.3))));
const g = (x: Tensor) => ir.tanh(ir.matmul(ir.reshape(x, [1, 3]), ir.reshape(ir.cos(x), [3, 1])));

function perExampleGradients(e: LooseEngine, params: ReturnType<typeof setup>["params"], xs: Tensor, ys: Tensor): void {
  const gradient = e.grad(mlpLoss) as (p: unknown, x: Tensor, y: Tensor) => Record<string, Tensor>;
  const batched = vmap(gradient, { inAxes: [null, 0, 0] })(params, xs, ys) as Record<string, Tensor>;
  for (let j = 0; j < K; j++) {
    const alone = gradient(params, row(xs, j), row(ys, j));
    for (const key of ["w1", "b1", "w2"]) {
      expectClose(`vmap(grad(loss))(…).${key}[${j}] vs grad(loss) of example ${j}`, row(batched[key]!, j), alone[key], 1e-10, 1e-12);
    }
  }
}

export function vmapCases(): Case[] {
  return [
    {
      group: "vmap",
      name: "per-example gradients: vmap(grad(loss), { inAxes: [null, 0, 0] }) of an MLP = a loop of grads (pytree params)",
      features: ["pytrees"],
      run: ({ engine, seed }) => {
        const { params, xs, ys } = setup(seed);
        perExampleGradients(loose(engine), params, xs, ys);
      },
    },
    {
      group: "vmap",
      name: "grad of vmap: grad(w ↦ mean of vmap(loss)(w, xs, ys)) = the mean of the per-example gradients",
      features: ["pytrees"],
      run: ({ engine, seed }) => {
        const e = loose(engine);
        const { params, xs, ys } = setup(seed);
        const batchLoss = (p: unknown) => ir.mean(vmap(mlpLoss, { inAxes: [null, 0, 0] })(p as never, xs, ys));
        const got = e.grad(batchLoss)(params) as Record<string, Tensor>;
        const gradient = e.grad(mlpLoss) as (p: unknown, x: Tensor, y: Tensor) => Record<string, Tensor>;
        for (const key of ["w1", "b1", "w2"]) {
          let total = ir.zeros(params[key as "w1"].shape);
          for (let j = 0; j < K; j++) total = ir.add(total, gradient(params, row(xs, j), row(ys, j))[key]!);
          expectClose(`grad of the batch loss .${key}`, got[key], ir.div(total, K), 1e-10, 1e-12);
        }
      },
    },
    {
      group: "vmap",
      name: "jvp and vjp of vmap(f) = the per-row jvps and vjps (a batched input, a shared one)",
      run: ({ engine, seed }) => {
        const e = loose(engine);
        const rng = new Random(seed + 3);
        const xs = rng.uniform([K, 3], { low: -1, high: 1 });
        const w = rng.uniform([3], { low: -1, high: 1 });
        const h = (x: Tensor, v: Tensor) => ir.add(g(ir.mul(x, v)), f(ir.add(x, v)));
        const mapped = vmap(h, { inAxes: [0, null] });
        const dx = rng.uniform([K, 3], { low: -1, high: 1 });
        const dw = rng.uniform([3], { low: -1, high: 1 });
        const [y, t] = e.jvp(mapped, [xs, w], [dx, dw]) as [Tensor, Tensor];
        const ct = rng.uniform(y.shape, { low: -1, high: 1 });
        const [, pullback] = e.vjp(mapped, xs, w);
        const [cx, cw] = pullback(ct) as [Tensor, Tensor];
        let sharedCt = ir.zeros([3]);
        for (let j = 0; j < K; j++) {
          const [yj, tj] = e.jvp(h, [row(xs, j), w], [row(dx, j), dw]);
          expectClose(`vmap(f) row ${j}`, row(y, j), yj, 1e-12, 1e-14);
          expectClose(`jvp of vmap(f), row ${j}`, row(t, j), tj, 1e-10, 1e-12);
          const [, pj] = e.vjp(h, row(xs, j), w);
          const [cxj, cwj] = pj(row(ct, j)) as [Tensor, Tensor];
          expectClose(`vjp of vmap(f): cotangent of the mapped input, row ${j}`, row(cx, j), cxj, 1e-10, 1e-12);
          sharedCt = ir.add(sharedCt, cwj);
        }
        expectClose("vjp of vmap(f): the shared input's cotangent sums over the batch", cw, sharedCt, 1e-10, 1e-12);
      },
    },
    {
      group: "vmap",
      name: "vmap of jvp and of jacobian: per-row directional derivatives and Jacobians",
      run: ({ engine, seed }) => {
        const e = loose(engine);
        const rng = new Random(seed + 5);
        const xs = rng.uniform([K, 3], { low: -1, high: 1 });
        const ts = rng.uniform([K, 3], { low: -1, high: 1 });
        const h = (x: Tensor) => ir.mul(ir.sin(x), ir.sum(ir.exp(ir.mul(x, 0.5))));
        const tangents = vmap((x: Tensor, t: Tensor) => e.jvp(h, [x], [t])[1] as Tensor)(xs, ts);
        const jacobians = vmap((x: Tensor) => e.jacobian(h)(x) as Tensor)(xs);
        for (let j = 0; j < K; j++) {
          expectClose(`vmap(jvp) row ${j}`, row(tangents, j), e.jvp(h, [row(xs, j)], [row(ts, j)])[1], 1e-10, 1e-12);
          expectClose(`vmap(jacobian) row ${j}`, row(jacobians, j), e.jacobian(h)(row(xs, j)), 1e-10, 1e-12);
        }
      },
    },
    {
      group: "vmap",
      name: "hessian of a vmapped function: block diagonal, with the per-row Hessians on the diagonal",
      features: ["hessian"],
      run: ({ engine, seed }) => {
        const e = loose(engine);
        const rng = new Random(seed + 7);
        const xs = rng.uniform([K, 3], { low: -1, high: 1 });
        // Σ_j f(x_j): its Hessian in xs is block diagonal with f's Hessians
        const H = e.hessian((x: Tensor) => ir.sum(vmap(f)(x)))(xs) as Tensor;
        expectTrue(`hessian of Σ vmap(f): expected shape [${K},3,${K},3], got [${H.shape}]`, ir.shapesEqual(H.shape, [K, 3, K, 3]));
        for (let j = 0; j < K; j++) {
          const hj = e.hessian(f)(row(xs, j));
          for (let i = 0; i < K; i++) {
            const block = ir.take(row(H, j), i, 1);
            expectClose(`hessian of Σ vmap(f): block (${j}, ${i})`, block, i === j ? hj : ir.zeros([3, 3]), 1e-9, 1e-12);
          }
        }
      },
    },
    {
      group: "vmap",
      name: "vmap of hessian = the per-row Hessians",
      features: ["hessian"],
      run: ({ engine, seed }) => {
        const e = loose(engine);
        const xs = new Random(seed + 7).uniform([K, 3], { low: -1, high: 1 });
        const perRow = vmap((x: Tensor) => e.hessian(f)(x) as Tensor)(xs);
        for (let j = 0; j < K; j++) expectClose(`vmap(hessian(f)) row ${j}`, row(perRow, j), e.hessian(f)(row(xs, j)), 1e-10, 1e-12);
      },
    },
    {
      group: "vmap",
      name: "vmap of vmap of grad: a grid of gradients, and batched take indices under grad",
      run: ({ engine, seed }) => {
        const e = loose(engine);
        const rng = new Random(seed + 11);
        const xs = rng.uniform([2, K, 3], { low: -1, high: 1 });
        const grid = vmap(vmap(e.grad(f) as (x: Tensor) => Tensor))(xs);
        for (let a = 0; a < 2; a++) {
          for (let j = 0; j < K; j++) {
            expectClose(`vmap(vmap(grad f)) [${a}, ${j}]`, row(row(grid, a), j), e.grad(f)(row(row(xs, a), j)), 1e-10, 1e-12);
          }
        }
        // each example picks its own entries: the gradient scatters back per example
        const idx = new Tensor("int32", [K, 2], Int32Array.from([0, 2, 1, 1, 2, -3, 0, 0]));
        const pick = (x: Tensor, i: Tensor) => ir.sum(ir.sin(ir.take(x, i)));
        const grads = vmap(e.grad(pick) as (x: Tensor, i: Tensor) => Tensor)(row(xs, 0), idx);
        for (let j = 0; j < K; j++) {
          expectClose(`vmap(grad(take)) row ${j}`, row(grads, j), e.grad(pick)(row(row(xs, 0), j), row(idx, j)), 1e-12, 1e-14);
        }
      },
    },
    vmapGraphCase(),
    ...vmapControlCases(),
  ];
}

// ── vmap of structured control flow (issue 19, vmapctrl) ──────────────────────────────────

/** cond and switchCase on per-element predicates/indices, then a forLoop and a scan on the result. */
function controlChain(x: Tensor, i: Tensor): Tensor {
  const a = ir.cond(
    ir.greater(x, 0),
    (v: Tensor) => ir.sin(v),
    (v: Tensor) => ir.mul(v, 3),
    x,
  );
  const b = ir.switchCase(i, [(v: Tensor) => ir.neg(v), (v: Tensor) => ir.mul(v, v), (v: Tensor) => ir.add(v, 1)], a);
  const c = ir.forLoop(0, 3, (_k: Tensor, v: Tensor) => ir.add(ir.mul(v, 0.5), ir.tanh(v)), b);
  const [d, ys] = ir.scan((v: Tensor, s: Tensor) => [ir.add(v, ir.mul(s, ir.sin(v))), ir.mul(v, s)] as const, c, ir.tensor([0.5, -0.25]));
  return ir.add(d, ir.sum(ys));
}

/** Doubles x until it reaches 10: a trip count that differs per element. */
const doubling = (x: Tensor) =>
  ir.whileLoop(
    (v: Tensor) => ir.less(v, 10),
    (v: Tensor) => ir.mul(v, 2),
    x,
  );

function vmapControlCases(): Case[] {
  const xs = () => ir.tensor([-1.5, 0.25, 2, -0.5, 0.75]);
  const idx = () => ir.tensor([0, 1, 2, 7, -3], { dtype: "int32" });
  const n = 5;
  return [
    {
      group: "vmap",
      name: "vmap of cond/switchCase on batched predicates and indices, + forLoop + scan: value, jvp, grad, vmap(grad) = per element",
      run: ({ engine }) => {
        const e = loose(engine);
        const [x, i] = [xs(), idx()];
        const mapped = (v: Tensor) => vmap(controlChain)(v, i);
        const perRow = (j: number) => (v: Tensor) => controlChain(v, row(i, j));
        const [y, t] = e.jvp(mapped, [x], [ir.ones(x.shape)]) as [Tensor, Tensor];
        const g = e.grad((v: Tensor) => ir.sum(mapped(v)))(x) as Tensor;
        const vg = vmap(e.grad(controlChain) as (v: Tensor, k: Tensor) => Tensor)(x, i);
        for (let j = 0; j < n; j++) {
          const [yj, tj] = e.jvp(perRow(j), [row(x, j)], [1]) as [Tensor, Tensor];
          expectClose(`vmap(f) row ${j}`, row(y, j), yj, 1e-12, 1e-12);
          expectClose(`jvp of vmap(f) row ${j}`, row(t, j), tj, 1e-10, 1e-12);
          expectClose(`grad of Σ vmap(f) row ${j}`, row(g, j), tj, 1e-10, 1e-12);
          expectClose(`vmap(grad f) row ${j}`, row(vg, j), tj, 1e-10, 1e-12);
        }
      },
    },
    {
      group: "vmap",
      name: "vmap of whileLoop with a batched test: runs while any element continues, finished elements unchanged (value and jvp)",
      run: ({ engine }) => {
        const e = loose(engine);
        const x = ir.tensor([0.3, 1, 7, 12, 2.5]);
        const [y, t] = e.jvp((v: Tensor) => vmap(doubling)(v), [x], [ir.ones(x.shape)]) as [Tensor, Tensor];
        // by hand: 0.3·2⁶, 1·2⁴, 7·2, 12 (no step), 2.5·2² (10 is not < 10)
        expectClose("vmap(doubling)", y, [19.2, 16, 14, 12, 10], 1e-12, 1e-12);
        expectClose("jvp of vmap(doubling)", t, [64, 16, 2, 1, 4], 0, 0);
      },
    },
  ];
}

/**
 * The fast-check property: for a random graph f (per-example shapes), vmap(f) on K stacked
 * inputs (some shared, by inAxes null) equals f on each element, eagerly and as the primal of the
 * engine's vjp; the vjp of vmap(f) equals the per-element vjps (shared inputs: summed).
 */
function vmapGraphCase(): Case {
  return {
    group: "vmap",
    name: "random graphs (fast-check): vmap(f)(xs) = f stacked over xs, and vjp of vmap(f) = the stacked per-element vjps",
    features: ["randomGraphs"],
    timeout: (ctx) => 60_000 + ctx.graphs * 500,
    run: (ctx: Context) => {
      const e = loose(ctx.engine);
      fc.assert(
        fc.property(programArbitrary(6, 24), (program) => {
          const graph = buildGraph(program);
          try {
            checkVmapGraph(e, toFunction(graph) as (...xs: Tensor[]) => Tensor[], programInputs(program), program.seed);
          } catch (error) {
            throw new ConformanceError(
              `${(error as Error).name}: ${(error as Error).message}\non the graph (${graph.nodes.length} nodes):\n${graphToText(graph)}`,
            );
          }
        }),
        { numRuns: Math.max(1, Math.ceil(ctx.graphs / 4)), seed: ctx.seed + 19, includeErrorInReport: true },
      );
    },
  };
}

function checkVmapGraph(e: LooseEngine, f: (...xs: Tensor[]) => Tensor[], like: readonly Tensor[], seed: number): void {
  const rng = new Random(seed ^ 0x19);
  // input 0 is always mapped; the others by a coin
  const mappedIn = like.map((_, i) => i === 0 || rng.nextFloat() < 0.5);
  const elements = [0, 1, 2].map(() => like.map((x) => rng.uniform(x.shape, { low: -2, high: 2 })));
  const args = like.map((_, i) => (mappedIn[i] ? ir.stack(elements.map((el) => el[i]!)) : elements[0]![i]!));
  const perElement = (j: number) => args.map((a, i) => (mappedIn[i] ? row(a, j) : a));
  const mapped = vmap(f, { inAxes: mappedIn.map((m) => (m ? 0 : null)) });
  const eager = mapped(...args) as Tensor[];
  const [primal, pullback] = e.vjp(mapped, ...args);
  const cts = eager.map((y) => rng.uniform(y.shape, { low: -1, high: 1 }));
  const cotangents = pullback(cts) as Tensor[];
  const shared = args.map((a, i) => (mappedIn[i] ? undefined : ir.zeros(a.shape)));
  for (let j = 0; j < 3; j++) {
    const alone = f(...perElement(j));
    alone.forEach((y, o) => {
      expectClose(`vmap(f) output ${o}, element ${j} vs f alone`, row(eager[o]!, j), y, 1e-10, 1e-12);
      expectClose(`engine's vjp primal of vmap(f), output ${o}, element ${j}`, row((primal as Tensor[])[o]!, j), y, 1e-10, 1e-12);
    });
    const [, pj] = e.vjp(f, ...perElement(j));
    const cj = pj(cts.map((c) => row(c, j))) as Tensor[];
    cj.forEach((c, i) => {
      if (mappedIn[i]) expectClose(`vjp of vmap(f): input ${i}, element ${j}`, row(cotangents[i]!, j), c, 1e-9, 1e-12);
      else shared[i] = ir.add(shared[i]!, c);
    });
  }
  shared.forEach((s, i) => {
    if (s !== undefined) expectClose(`vjp of vmap(f): shared input ${i} (summed over the batch)`, cotangents[i], s, 1e-9, 1e-12);
  });
}
