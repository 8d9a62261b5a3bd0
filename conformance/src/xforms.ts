/**
 * Conformance cases of the transformations beyond grad/jvp/vjp (issue 19): hasAux on grad,
 * valueAndGrad, jacobian and vjp; linearize; jacfwd and jacrev; the Hessian of a non-scalar
 * output; checkpoint; JS numbers weakly typed next to float32 tensors. Plus a fast-check property:
 * linearize's linear map equals jvp on random graphs. Expected values are hand-computed.
 */
import * as ir from "@chainrule/ir";
import { Random, type Tensor, tensor, toFunction } from "@chainrule/ir";
import fc from "fast-check";
import type { Case, Context } from "./cases.js";
import { ConformanceError, expectClose, expectTrue } from "./expect.js";
import { buildGraph, programArbitrary, programInputs } from "./graphs.js";

// biome-ignore lint/suspicious/noExplicitAny: cases call engines with any arguments
type Fn = (...args: any[]) => any;
type Loose = Record<string, Fn>;

const GROUP = "transformations: hasAux, linearize, jacfwd/jacrev, hessian, checkpoint, weak types";

function c(name: string, run: (e: Loose, ctx: Context) => void, features: Case["features"] = []): Case {
  return { group: GROUP, name, features, run: (ctx) => run(ctx.engine as unknown as Loose, ctx) };
}

/** aux must come back concrete: not a tracer of the transformation that returned. */
function expectConcrete(what: string, value: unknown): void {
  expectTrue(`${what}: expected a concrete value, got a tracer`, !(value instanceof ir.Tracer));
}

const sinTimes = (x: Tensor) => ir.mul(ir.sin(x), x);
// d/dx x·sin(x)
const dSinTimes = (v: number) => Math.sin(v) + v * Math.cos(v);

function hasAuxCases(): Case[] {
  // f(x) = Σ x·sin(x), aux = { y: x·2, n: 5 }
  const f = (x: Tensor) => [ir.sum(sinTimes(x)), { y: ir.mul(x, 2), n: 5 }];
  const x = () => tensor([0.5, -1.5]);
  const g = [dSinTimes(0.5), dSinTimes(-1.5)];
  return [
    c("hasAux: grad(f, 0, { hasAux: true }) → [gradient, aux], aux not differentiated, concrete, numbers stay numbers", (e) => {
      const result = e["grad"]!(f, 0, { hasAux: true })(x());
      if (!Array.isArray(result) || result.length !== 2)
        throw new ConformanceError(`grad with hasAux: expected [gradient, aux], got ${result}`);
      const [grad, aux] = result as [unknown, { y: unknown; n: unknown }];
      expectClose("grad with hasAux: the gradient", grad, g, 1e-12, 1e-12);
      expectConcrete("grad with hasAux: aux.y", aux.y);
      expectClose("grad with hasAux: aux.y", aux.y, [1, -3], 0, 0);
      expectTrue(`grad with hasAux: expected aux.n to stay the JS number 5, got ${String(aux.n)}`, aux.n === 5);
    }),
    c(
      "hasAux: valueAndGrad → [[value, aux], gradient]; jacobian → [J, aux]; vjp(f, ...primals, { hasAux: true }) → [out, pullback, aux]",
      (e) => {
        const [[value, aux], grad] = e["valueAndGrad"]!(f, 0, { hasAux: true })(x()) as [[unknown, { n: unknown }], unknown];
        expectClose("valueAndGrad with hasAux: the value", value, [0.5 * Math.sin(0.5) - 1.5 * Math.sin(-1.5)], 1e-12, 1e-12);
        expectTrue("valueAndGrad with hasAux: aux.n", aux.n === 5);
        expectClose("valueAndGrad with hasAux: the gradient", grad, g, 1e-12, 1e-12);
        const [J, auxJ] = e["jacobian"]!((v: Tensor) => [sinTimes(v), ir.sum(v)], 0, { hasAux: true })(x()) as [unknown, unknown];
        expectClose("jacobian with hasAux: J", J, [g[0]!, 0, 0, g[1]!], 1e-12, 1e-12);
        expectConcrete("jacobian with hasAux: aux", auxJ);
        expectClose("jacobian with hasAux: aux", auxJ, [-1], 0, 0);
        const [out, pullback, auxV] = e["vjp"]!((v: Tensor) => [sinTimes(v), { k: ir.mul(v, 3) }], x(), { hasAux: true }) as [
          unknown,
          Fn,
          { k: unknown },
        ];
        expectClose("vjp with hasAux: out", out, [0.5 * Math.sin(0.5), -1.5 * Math.sin(-1.5)], 1e-12, 1e-12);
        expectClose("vjp with hasAux: aux", auxV.k, [1.5, -4.5], 0, 0);
        expectClose("vjp with hasAux: pullback(ones)", pullback(tensor([1, 1])), g, 1e-12, 1e-12);
      },
    ),
  ];
}

function linearizeCase(): Case {
  return c("linearize(f, ...primals) → [f(primals), jvpFn]: jvpFn = jvp's tangent, linear, reusable", (e) => {
    // f(x, y) = [x·sin(x)·y, Σ x]
    const f = (a: Tensor, b: Tensor) => [ir.mul(sinTimes(a), b), ir.sum(a)];
    const a = tensor([0.5, 2]);
    const b = tensor(3);
    const [out, jvpFn] = e["linearize"]!(f, a, b) as [unknown, Fn];
    expectClose("linearize: out", out, [3 * 0.5 * Math.sin(0.5), 3 * 2 * Math.sin(2), 2.5], 1e-12, 1e-12);
    const t1 = [tensor([1, 0]), tensor(0)];
    const t2 = [tensor([0.5, -1]), tensor(2)];
    for (const t of [t1, t2, t1]) {
      const [, expected] = e["jvp"]!(f, [a, b], t);
      expectClose("linearize: jvpFn(t) vs jvp(f, primals, t)", jvpFn(...t), expected, 1e-12, 1e-12);
    }
    // by hand: ∂/∂x0 at t1 = 3·(sin + x cos)(0.5), Σ: 1
    expectClose("linearize: jvpFn(e0)", jvpFn(...t1), [3 * dSinTimes(0.5), 0, 1], 1e-12, 1e-12);
  });
}

function jacobianCases(): Case[] {
  return [
    c("jacfwd and jacrev: the same Jacobian as jacobian, shape out.shape ++ in.shape", (e) => {
      // f(x) = [x0·x1, sin(x0)]: J = [[x1, x0], [cos(x0), 0]]
      const f = (x: Tensor) => ir.stack([ir.mul(ir.slice(x, [0], [1]), ir.slice(x, [1], [2])), ir.sin(ir.slice(x, [0], [1]))]);
      const x = tensor([0.5, 3]);
      const expected = [3, 0.5, Math.cos(0.5), 0];
      for (const op of ["jacobian", "jacfwd", "jacrev"]) {
        const J = e[op]!(f)(x) as Tensor;
        expectTrue(`${op}: expected shape [2, 1, 2], got ${JSON.stringify(J.shape)}`, J.shape.join() === "2,1,2");
        expectClose(op, J, expected, 1e-12, 1e-12);
      }
    }),
    c("hessian of a non-scalar output (jacfwd(jacrev(f))): shape out.shape ++ in.shape ++ in.shape", (e) => {
      // f(x) = [x0²·x1, sin(x0)]: H0 = [[2x1, 2x0], [2x0, 0]], H1 = [[-sin(x0), 0], [0, 0]]
      const f = (x: Tensor) => {
        const x0 = ir.reshape(ir.slice(x, [0], [1]), []);
        const x1 = ir.reshape(ir.slice(x, [1], [2]), []);
        return ir.stack([ir.mul(ir.mul(x0, x0), x1), ir.sin(x0)]);
      };
      const H = e["hessian"]!(f)(tensor([0.5, 3])) as Tensor;
      expectTrue(`hessian: expected shape [2, 2, 2], got ${JSON.stringify(H.shape)}`, H.shape.join() === "2,2,2");
      expectClose("hessian of a vector output", H, [6, 1, 1, 0, -Math.sin(0.5), 0, 0, 0], 1e-12, 1e-12);
    }),
  ];
}

function checkpointCase(): Case {
  const name = "checkpoint(f, { policy }): the same values and derivatives as f, for both policies, in grad, jvp and second order";
  return c(
    name,
    (e) => {
      const block = (h: Tensor) => ir.tanh(ir.mul(ir.sin(h), 1.5));
      const chain = (step: Fn) => (x: Tensor) => ir.sum(step(step(x)));
      const x = tensor([0.3, -0.8]);
      const plain = chain(block);
      const g = e["grad"]!(plain)(x);
      const [, t] = e["jvp"]!(plain, [x], [tensor([1, -2])]);
      const h = e["hessian"]!(plain)(x);
      for (const options of [undefined, { policy: "nothingSaveable" }, { policy: "everythingSaveable" }]) {
        const remat = chain(e["checkpoint"]!(block, options));
        const what = `checkpoint(f, ${JSON.stringify(options)})`;
        expectClose(`${what}: value`, remat(x), plain(x), 0, 0);
        expectClose(`${what}: grad`, e["grad"]!(remat)(x), g, 1e-12, 1e-14);
        expectClose(`${what}: jvp`, e["jvp"]!(remat, [x], [tensor([1, -2])])[1], t, 1e-12, 1e-14);
        expectClose(`${what}: hessian`, e["hessian"]!(remat)(x), h, 1e-10, 1e-12);
      }
    },
    ["checkpoint"],
  );
}

function weakTypeCase(): Case {
  return c("weak types: a JS number next to a float32 tensor keeps it float32 (value and gradient)", (e) => {
    const f = (x: Tensor, k: number) => ir.sum(ir.add(ir.mul(x, k), 0.5));
    const x = tensor([1, 2], { dtype: "float32" });
    const eager = f(x, 0.25);
    expectTrue(`eager: expected float32, got ${eager.dtype}`, eager.dtype === "float32");
    const [value, grad] = e["valueAndGrad"]!(f)(x, 0.25) as [Tensor, Tensor];
    expectTrue(`valueAndGrad: expected a float32 value, got ${value.dtype}`, value.dtype === "float32");
    expectTrue(`valueAndGrad: expected a float32 gradient, got ${grad.dtype}`, grad.dtype === "float32");
    expectClose("valueAndGrad: value", value, [1.75], 0, 0);
    expectClose("valueAndGrad: gradient", grad, [0.25, 0.25], 0, 0);
  });
}

/** fast-check: on random graphs, linearize's map equals jvp's tangent, for random tangents, twice. */
function linearizePropertyCase(): Case {
  return {
    group: GROUP,
    name: "linearize's linear map equals jvp on random graphs (fast-check, a fifth of CHAINRULE_GRAPHS)",
    features: ["randomGraphs"],
    timeout: (ctx) => 60_000 + ctx.graphs * 200,
    run: (ctx) => {
      const e = ctx.engine as unknown as Loose;
      fc.assert(
        fc.property(programArbitrary(4, 24), (program) => {
          const f = toFunction(buildGraph(program));
          const inputs = programInputs(program);
          const [out, jvpFn] = e["linearize"]!(f, ...inputs) as [unknown, Fn];
          expectClose("linearize: out vs f", out, f(...inputs), 1e-12, 1e-14);
          const rng = new Random(ctx.seed + program.seed);
          for (let k = 0; k < 2; k++) {
            const t = inputs.map((x) => rng.normal(x.shape));
            expectClose("linearize: jvpFn(t) vs jvp", jvpFn(...t), e["jvp"]!(f, inputs, t)[1], 1e-10, 1e-12);
          }
        }),
        { numRuns: Math.max(1, Math.ceil(ctx.graphs / 5)), seed: ctx.seed + 19, includeErrorInReport: true },
      );
    },
  };
}

export function xformCases(): Case[] {
  return [
    ...hasAuxCases(),
    linearizeCase(),
    ...jacobianCases(),
    checkpointCase(),
    weakTypeCase(),
    linearizePropertyCase(),
    ...vmapXformCases(),
  ];
}

// ── vmap composed with the transformations (issue 19, vmapctrl): each against a loop over the rows ──

const ROWS = 3;
const rowOf = (t: Tensor, j: number) => ir.take(t, j, 0);
const batchXs = () => tensor([0.5, -1.5, 2, 0.25, -0.75, 1.25], { shape: [ROWS, 2] });
// a vector → scalar function and its per-row reference uses
const expSin = (x: Tensor) => ir.sum(ir.mul(ir.sin(x), ir.exp(ir.mul(x, 0.3))));

function vmapXformCases(): Case[] {
  return [
    c(
      "vmap of a checkpointed chain (checkpoint under vmap), grad of it and vmap of its grad = the plain chain per row",
      (e) => {
        const block = (h: Tensor) => ir.tanh(ir.mul(ir.sin(h), 1.5));
        const plain = (x: Tensor) => ir.sum(block(block(x)));
        const remat = e["checkpoint"]!(block) as Fn;
        const chained = (x: Tensor) => ir.sum(remat(remat(x)));
        const xs = batchXs();
        const values = ir.vmap(chained)(xs);
        const grads = e["grad"]!((v: Tensor) => ir.sum(ir.vmap(chained)(v)))(xs) as Tensor;
        const perRowGrads = ir.vmap(e["grad"]!(chained) as (x: Tensor) => Tensor)(xs);
        for (let j = 0; j < ROWS; j++) {
          const g = e["grad"]!(plain)(rowOf(xs, j));
          expectClose(`vmap(checkpointed) row ${j}`, rowOf(values, j), plain(rowOf(xs, j)), 1e-14, 1e-14);
          expectClose(`grad of Σ vmap(checkpointed) row ${j}`, rowOf(grads, j), g, 1e-12, 1e-14);
          expectClose(`vmap(grad(checkpointed)) row ${j}`, rowOf(perRowGrads, j), g, 1e-12, 1e-14);
        }
      },
      ["checkpoint"],
    ),
    c("vmap of grad with hasAux: [per-row gradients, per-row aux], aux batched like the outputs", (e) => {
      const f = (x: Tensor) => [ir.sum(sinTimes(x)), { y: ir.mul(x, 2) }];
      const xs = batchXs();
      const [grads, aux] = ir.vmap(e["grad"]!(f, 0, { hasAux: true }) as (x: Tensor) => [Tensor, { y: Tensor }])(xs);
      for (let j = 0; j < ROWS; j++) {
        const [a, b] = [xs.data[2 * j]!, xs.data[2 * j + 1]!];
        expectClose(`vmap(grad with hasAux) gradient row ${j}`, rowOf(grads, j), [dSinTimes(a), dSinTimes(b)], 1e-12, 1e-12);
        expectClose(`vmap(grad with hasAux) aux.y row ${j}`, rowOf(aux.y, j), [2 * a, 2 * b], 0, 0);
      }
    }),
    c("vmap of linearize's jvpFn: one linearization applied to a batch of tangents = jvp per tangent", (e) => {
      const x = tensor([0.5, -1.5]);
      const [, jvpFn] = e["linearize"]!(sinTimes, x) as [unknown, (t: Tensor) => Tensor];
      const ts = batchXs();
      const mapped = ir.vmap(jvpFn)(ts);
      for (let j = 0; j < ROWS; j++) {
        const [, expected] = e["jvp"]!(sinTimes, [x], [rowOf(ts, j)]);
        expectClose(`vmap(jvpFn) row ${j}`, rowOf(mapped, j), expected, 1e-12, 1e-12);
        const [t0, t1] = [ts.data[2 * j]!, ts.data[2 * j + 1]!];
        expectClose(`vmap(jvpFn) row ${j} by hand`, rowOf(mapped, j), [dSinTimes(0.5) * t0, dSinTimes(-1.5) * t1], 1e-12, 1e-12);
      }
    }),
    c("jacfwd and jacrev of a vmapped function: [rows, rows, 2], each row's gradient on the diagonal, zeros elsewhere", (e) => {
      const xs = batchXs();
      const expected: number[] = [];
      for (let j = 0; j < ROWS; j++) {
        const g = Array.from((e["grad"]!(expSin)(rowOf(xs, j)) as Tensor).data);
        for (let k = 0; k < ROWS; k++) expected.push(...(j === k ? g : [0, 0]));
      }
      for (const op of ["jacfwd", "jacrev"]) {
        const J = e[op]!(ir.vmap(expSin))(xs) as Tensor;
        expectTrue(`${op}(vmap(f)): expected shape [3, 3, 2], got ${JSON.stringify(J.shape)}`, J.shape.join() === "3,3,2");
        expectClose(`${op}(vmap(f))`, J, expected, 1e-12, 1e-14);
      }
    }),
  ];
}
