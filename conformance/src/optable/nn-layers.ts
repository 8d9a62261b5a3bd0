/**
 * Per-op table rows: normalization, embedding and dropout (issue 18, family "normalization": nn).
 * Each is a composite of primitives; the rows check them at orders 1 and 2 with their affine
 * parameters as differentiated arguments. Inputs are spread out so no normalized slice is near
 * constant (where 1/√(var + eps) makes finite differences meaningless).
 */
import * as ir from "@chainrule/ir";
import { type Tensor, tensor } from "@chainrule/ir";
import type { Case } from "../cases.js";
import { loose } from "../checkgrads.js";
import { expectClose } from "../expect.js";
import { anyReal, distinct, type OpRow, positive } from "../optable.js";

/** Index rows of a 4-row table, with repeats (their cotangents add up: the scatter-add). */
const INDICES = tensor(
  [
    [3, 0],
    [1, 3],
    [3, 2],
  ],
  { dtype: "int32" },
);

export function nnLayerRows(): OpRow[] {
  return [
    { name: "layerNorm(x)", primitive: false, fn: (x) => ir.layerNorm(x!), domain: [distinct], shapes: [[[4]], [[2, 3]], [[2, 2, 3]]] },
    {
      name: "layerNorm(x, [2, 3])",
      primitive: false,
      fn: (x) => ir.layerNorm(x!, [2, 3]),
      domain: [distinct],
      shapes: [[[2, 3]], [[2, 2, 3]]],
    },
    {
      name: "layerNorm(x, 3, { weight, bias })",
      primitive: false,
      fn: (x, w, b) => ir.layerNorm(x!, 3, { weight: w!, bias: b! }),
      domain: [distinct, anyReal, anyReal],
      shapes: [[[2, 3], [3], [3]]],
    },
    {
      name: "batchNorm(x).y (training)",
      primitive: false,
      fn: (x) => ir.batchNorm(x!).y,
      domain: [distinct],
      shapes: [[[4, 3]], [[2, 3, 2]]],
    },
    {
      name: "batchNorm(x, { weight, bias }).y (training)",
      primitive: false,
      fn: (x, w, b) => ir.batchNorm(x!, { weight: w!, bias: b!, eps: 1e-3 }).y,
      domain: [distinct, anyReal, anyReal],
      shapes: [[[3, 2, 2], [2], [2]]],
    },
    {
      name: "batchNorm(x, running statistics).y (eval)",
      primitive: false,
      fn: (x, m, v) => ir.batchNorm(x!, { runningMean: m!, runningVar: v!, training: false }).y,
      domain: [anyReal, anyReal, positive],
      shapes: [[[3, 2, 2], [2], [2]]],
    },
    { name: "groupNorm(x, 2)", primitive: false, fn: (x) => ir.groupNorm(x!, 2), domain: [distinct], shapes: [[[2, 4, 2]], [[1, 2, 3]]] },
    {
      name: "groupNorm(x, 1, { weight, bias })",
      primitive: false,
      fn: (x, w, b) => ir.groupNorm(x!, 1, { weight: w!, bias: b! }),
      domain: [distinct, anyReal, anyReal],
      shapes: [[[2, 3, 2], [3], [3]]],
    },
    { name: "embedding(indices, table)", primitive: false, fn: (t) => ir.embedding(INDICES, t!), domain: [anyReal], shapes: [[[4, 2]]] },
    {
      name: "dropout(x, 0.5, key)",
      primitive: false,
      fn: (x) => ir.dropout(x!, 0.5, ir.random.key(7)),
      domain: [anyReal],
      shapes: [[[6]], [[2, 3]]],
    },
  ];
}

/** For graphs.ts: a ramp added to `a` keeps every normalized slice away from constant. */
export function withRamp(a: Tensor): Tensor {
  return ir.add(a, ir.reshape(ir.arange(a.size), a.shape));
}

// ── keys under transformations, stopped statistics, scatter-add (docs/ops.md, "Normalization, dropout and random keys") ──

const column = (t: Tensor) => Array.from(t.data as ArrayLike<number>);

export function nnLayerCases(): Case[] {
  return [
    {
      group: "normalization, dropout and random keys",
      name: "a key gives the same numbers inside jvp and grad as eagerly; dropout's derivative is mask / (1 − rate)",
      run: (ctx) => {
        const e = loose(ctx.engine);
        const key = ir.random.key(2026);
        const u = ir.random.uniform(key, [5]);
        const x = tensor([0.5, -1, 2, 3, -0.25]);
        const f = (t: Tensor) => ir.mul(t, ir.random.uniform(key, [5]));
        const [y, dy] = e.jvp(f, [x], [tensor([1, 1, 1, 1, 1])]) as [Tensor, Tensor];
        expectClose(
          "jvp(x·uniform(key)) primal",
          y,
          column(x).map((v, i) => v * u.data[i]!),
          0,
          0,
        );
        expectClose("jvp(x·uniform(key)) tangent", dy, column(u), 0, 0);
        expectClose("grad(Σ x·uniform(key))", e.grad((t: Tensor) => ir.sum(f(t)))(x), column(u), 0, 0);
        const mask = ir.dropout(ir.ones([5]), 0.4, key);
        expectClose("grad(Σ dropout(x, 0.4, key))", e.grad((t: Tensor) => ir.sum(ir.dropout(t, 0.4, key)))(x), column(mask), 1e-15, 0);
      },
    },
    {
      group: "normalization, dropout and random keys",
      name: "batchNorm's running statistics carry no derivative; embedding's gradient adds the cotangents of repeated rows",
      run: (ctx) => {
        const e = loose(ctx.engine);
        const x = tensor([
          [1, 2],
          [3, 5],
          [0, 4],
        ]);
        const stats = (t: Tensor) => {
          const { runningMean, runningVar } = ir.batchNorm(t);
          return ir.add(ir.sum(runningMean), ir.sum(runningVar));
        };
        expectClose("grad(Σ running statistics)", e.grad(stats)(x), [0, 0, 0, 0, 0, 0], 0, 0);
        const table = tensor([
          [1, 2],
          [3, 4],
          [5, 6],
        ]);
        const weights = tensor([
          [1, 10],
          [2, 20],
          [3, 30],
        ]);
        const loss = (t: Tensor) => ir.sum(ir.mul(ir.embedding(tensor([0, 2, 0], { dtype: "int32" }), t), weights));
        // row 0 is picked twice (weights rows 0 and 2 add up), row 2 once, row 1 never
        expectClose("grad(embedding) by table", e.grad(loss)(table), [4, 40, 0, 0, 2, 20], 0, 0);
      },
    },
  ];
}
