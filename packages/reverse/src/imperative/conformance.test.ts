/**
 * The imperative API against the functional engine on the conformance suite's per-op table
 * (elementwise, broadcasting, reductions, shapes, matmul, nn composites) and on MLPs of several
 * hidden sizes. First order: `backward()` gives exactly the gradients `grad` gives (same rules,
 * same accumulation order). Second order: `createGraph` and a second backward agree with the
 * functional Hessian-vector product. Float32 rows too.
 */
import { opRows } from "@chainrule/conformance";
import * as ir from "@chainrule/ir";
import { Random, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad, hvp } from "../engine.js";
import { backward, gradients } from "./backward.js";
import { variable, type Variable } from "./variable.js";

type Fn = (...xs: Tensor[]) => Tensor;

/** A scalar loss from an op: Σ w ⊙ f(x) with fixed random weights. */
function scalarize(fn: Fn, args: readonly Tensor[]): Fn {
  const out = fn(...args);
  const w = new Random(11).normal(out.shape as number[], { dtype: out.dtype });
  return (...xs) => ir.sum(ir.mul(fn(...xs), w));
}

function imperativeGrads(loss: Fn, args: readonly Tensor[]): Tensor[] {
  const vars = args.map((a) => variable(a, { requiresGrad: true }));
  (loss(...vars) as Variable).backward();
  return vars.map((v) => v.grad ?? ir.zeros(v.shape as number[], v.dtype));
}

function bits(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number>);
}

function expectClose(label: string, got: Tensor, want: Tensor, rtol: number): void {
  expect(got.shape, label).toEqual(want.shape);
  const g = bits(got),
    w = bits(want);
  let scale = 0;
  for (const v of w) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < w.length; i++) {
    if (Math.abs(g[i]! - w[i]!) > rtol * Math.max(scale, 1e-3)) expect.fail(`${label}: element ${i}: ${g[i]} vs ${w[i]}`);
  }
}

const rows = opRows().filter((row) => row.name !== "sign"); // sign: zero derivative, nothing to compare beyond zeros
const argsOf = (row: (typeof rows)[number], shapes: readonly (readonly number[])[], seed = 3): Tensor[] => {
  const rng = new Random(seed);
  return shapes.map((s, i) => row.domain[i]!(s, rng));
};

describe("imperative backward = functional grad on the conformance per-op table", () => {
  for (const row of rows) {
    for (const shapes of row.shapes) {
      const label = `${row.name} ${shapes.map((s) => `[${s.join(",")}]`).join(" ")}`;
      it(`${label}: first order, bitwise`, () => {
        const args = argsOf(row, shapes);
        const loss = scalarize(row.fn, args);
        const want = grad(
          loss,
          args.map((_, i) => i),
        )(...args);
        const got = imperativeGrads(loss, args);
        got.forEach((g, i) => {
          expect(g.dtype, `${label} arg ${i} dtype`).toBe(want[i]!.dtype);
          expect(bits(g), `${label} arg ${i}`).toEqual(bits(want[i]!));
        });
      });
    }
  }
});

describe("createGraph: a second backward through the gradient = functional hvp", () => {
  for (const row of rows) {
    const shapes = row.shapes[row.shapes.length - 1]!;
    const label = `${row.name} ${shapes.map((s) => `[${s.join(",")}]`).join(" ")}`;
    it(`${label}: H·v`, () => {
      const args = argsOf(row, shapes, 5);
      const loss = scalarize(row.fn, args);
      const rng = new Random(9);
      const v = args.map((a) => rng.normal(a.shape as number[]));
      const want = hvp(loss, args, v);
      const vars = args.map((a) => variable(a, { requiresGrad: true }));
      const g = gradients(loss(...vars) as Variable, vars, { createGraph: true, allowUnused: true });
      // Σᵢ ⟨gᵢ, vᵢ⟩, differentiated again
      const terms = g.flatMap((gi, i) => (gi === null ? [] : [ir.sum(ir.mul(gi, v[i]!))]));
      const dot = terms.reduce((a, b) => ir.add(a, b)) as Variable;
      if (!dot.requiresGrad) {
        // linear op: the gradient does not depend on the inputs, H = 0
        for (const h of want)
          expect(
            bits(h).every((x) => x === 0),
            `${label}: H·v = 0`,
          ).toBe(true);
        return;
      }
      const got = gradients(dot, vars, { allowUnused: true });
      got.forEach((h, i) => expectClose(`${label} arg ${i}`, h ?? ir.zeros(args[i]!.shape as number[], args[i]!.dtype), want[i]!, 1e-12));
    });
  }
});

describe("float32", () => {
  for (const row of rows.filter((r) => r.float32 !== false)) {
    const shapes = row.shapes[0]!;
    it(`${row.name}: float32 in, float32 gradients equal to grad's`, () => {
      const args = argsOf(row, shapes).map((a) => ir.astype(a, "float32"));
      const loss = scalarize(row.fn, args);
      const want = grad(
        loss,
        args.map((_, i) => i),
      )(...args);
      const got = imperativeGrads(loss, args);
      got.forEach((g, i) => {
        expect(g.dtype).toBe("float32");
        expect(bits(g)).toEqual(bits(want[i]!));
      });
    });
  }
});

describe("MLPs of several hidden sizes", () => {
  const D = 3,
    O = 4,
    B = 6;
  for (const H of [1, 2, 8, 32, 64]) {
    it(`hidden ${H}: tanh MLP with cross-entropy, gradients bitwise equal to grad's`, () => {
      const rng = new Random(H);
      const x = rng.normal([B, D]);
      const labels = ir.tensor([0, 1, 2, 3, 1, 0], { dtype: "int32" });
      const p = { w1: rng.normal([D, H]), b1: rng.normal([H]), w2: rng.normal([H, O]), b2: rng.normal([O]) };
      const loss = (q: typeof p): Tensor =>
        ir.crossEntropy(ir.add(ir.matmul(ir.tanh(ir.add(ir.matmul(x, q.w1), q.b1)), q.w2), q.b2), labels);
      const want = grad(loss)(p) as typeof p;
      const vars = {
        w1: variable(p.w1, { requiresGrad: true }),
        b1: variable(p.b1, { requiresGrad: true }),
        w2: variable(p.w2, { requiresGrad: true }),
        b2: variable(p.b2, { requiresGrad: true }),
      };
      backward(loss(vars) as Variable);
      for (const k of ["w1", "b1", "w2", "b2"] as const) expect(bits(vars[k].grad!), `${k}`).toEqual(bits(want[k]));
    });
  }
});
