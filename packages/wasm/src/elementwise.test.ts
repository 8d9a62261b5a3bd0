import { describe, expect, it } from "vitest";
import { ArenaPlan } from "./arena.js";
import { ewFunction, ewKey, ewSupports, type EwOp, type EwSpec, type OperandKind } from "./elementwise.js";
import { instantiate, kernelModule } from "./kernels.js";

const JS: Record<EwOp, (a: number, b: number) => number> = {
  neg: (a) => -a,
  abs: Math.abs,
  sqrt: Math.sqrt,
  exp: Math.exp,
  log: Math.log,
  tanh: Math.tanh,
  sigmoid: (a) => 1 / (1 + Math.exp(-a)),
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a !== a || b !== b ? NaN : Math.max(a, b)),
  minimum: (a, b) => (a !== a || b !== b ? NaN : Math.min(a, b)),
  mulNoNan: (a, b) => (a * b === a * b || (a !== 0 && b !== 0) ? a * b : 0),
};

function count(kind: OperandKind, outer: number, inner: number): number {
  return kind === "full" ? outer * inner : kind === "row" ? inner : kind === "col" ? outer : 1;
}

/** Runs a spec on seeded operands; returns the worst relative error of the stored values vs JS. */
function check(spec: EwSpec): number {
  const { outer, inner, dtype } = spec;
  const size = dtype === "float32" ? 4 : 8;
  const plan = new ArenaPlan();
  const ops = spec.operands.map((k) => plan.reserve(count(k, outer, inner) * size));
  const outs = spec.stores.map(() => plan.reserve(outer * inner * size));
  const guard = plan.reserve(16);
  const arena = plan.create(false);
  const view = (at: number, n: number) => (dtype === "float32" ? arena.f32(at, n) : arena.f64(at, n));
  const data = spec.operands.map((k, j) => {
    const v = view(ops[j]!, count(k, outer, inner));
    for (let i = 0; i < v.length; i++) v[i] = 0.25 + Math.abs(Math.sin(i * 1.7 + j)) * 2; // positive: log and sqrt defined
    return v;
  });
  view(guard, 16 / size).fill(12345);
  for (const o of outs) view(o, outer * inner).fill(NaN);
  instantiate(
    kernelModule(ewKey(spec), false, () => [ewFunction(spec)]),
    arena.memory,
  )["ew"]!(...ops, ...outs);
  let worst = 0;
  const round = dtype === "float32" ? Math.fround : (v: number) => v;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const operand = (j: number) => {
        const k = spec.operands[j]!;
        return data[j]![k === "full" ? o * inner + i : k === "row" ? i : k === "col" ? o : 0]!;
      };
      const vals: number[] = [];
      for (const n of spec.nodes) {
        const args = n.args.map((r) => ("operand" in r ? operand(r.operand) : "node" in r ? vals[r.node]! : r.constant));
        vals.push(round(JS[n.op](args[0]!, args[1] ?? 0)));
      }
      spec.stores.forEach((j, s) => {
        const got = view(outs[s]!, outer * inner)[o * inner + i]!;
        const err = Math.abs(got - vals[j]!) / (1e-30 + Math.abs(vals[j]!));
        if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
      });
    }
  }
  if (view(guard, 16 / size)[0] !== 12345) return Infinity; // nothing written past the outputs
  return worst;
}

describe("wasm elementwise kernels", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const tol = dtype === "float32" ? 1e-6 : 1e-15;
    it(`${dtype}: every operand kind, sizes with tails, chains with several stores`, () => {
      for (const [outer, inner] of [
        [1, 1],
        [1, 7],
        [3, 5],
        [4, 8],
        [2, 13],
        [5, 1],
        [0, 4],
        [3, 0],
        [1, 1000],
      ] as const) {
        const spec: EwSpec = {
          dtype,
          outer,
          inner,
          operands: ["full", "row", "col", "scalar"],
          nodes: [
            { op: "add", args: [{ operand: 0 }, { operand: 1 }] },
            { op: "mul", args: [{ node: 0 }, { operand: 2 }] },
            { op: "sub", args: [{ node: 1 }, { operand: 3 }] },
            { op: "div", args: [{ node: 2 }, { constant: 3 }] },
            { op: "maximum", args: [{ node: 3 }, { constant: 0.5 }] },
            { op: "neg", args: [{ node: 4 }] },
            { op: "abs", args: [{ node: 5 }] },
            { op: "sqrt", args: [{ node: 6 }] },
            { op: "minimum", args: [{ node: 7 }, { operand: 0 }] },
          ],
          stores: [0, 4, 8],
        };
        expect({ outer, inner, ok: check(spec) <= tol }).toEqual({ outer, inner, ok: true });
      }
    });
  }
  it("float32 transcendentals in chains (tanh layer, its derivative, softmax pieces)", () => {
    const spec: EwSpec = {
      dtype: "float32",
      outer: 6,
      inner: 11,
      operands: ["full", "row", "col"],
      nodes: [
        { op: "add", args: [{ operand: 0 }, { operand: 1 }] },
        { op: "tanh", args: [{ node: 0 }] },
        { op: "mul", args: [{ node: 1 }, { node: 1 }] },
        { op: "sub", args: [{ constant: 1 }, { node: 2 }] },
        { op: "sub", args: [{ operand: 0 }, { operand: 2 }] },
        { op: "exp", args: [{ node: 4 }] },
        { op: "log", args: [{ operand: 1 }] },
        { op: "sigmoid", args: [{ operand: 0 }] },
      ],
      stores: [1, 3, 5, 6, 7],
    };
    expect(check(spec)).toBeLessThanOrEqual(3e-7);
  });
  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: mulNoNan clears every lane where an operand is 0 (0 · ±∞ = 0 · NaN = 0), else multiplies`, () => {
      const a = [0, 0, -0, Infinity, NaN, 2, -3, 0, 5, NaN];
      const b = [Infinity, NaN, -Infinity, 0, 0, 4, Infinity, 0, NaN, 1];
      const n = a.length;
      const plan = new ArenaPlan();
      const [pa, pb, po] = [plan.reserve(n * 8 + 16), plan.reserve(n * 8 + 16), plan.reserve(n * 8 + 16)];
      const arena = plan.create(false);
      const view = (at: number) => (dtype === "float32" ? arena.f32(at, n) : arena.f64(at, n));
      view(pa!).set(a);
      view(pb!).set(b);
      const spec: EwSpec = {
        dtype,
        outer: 1,
        inner: n,
        operands: ["full", "full"],
        nodes: [{ op: "mulNoNan", args: [{ operand: 0 }, { operand: 1 }] }],
        stores: [0],
      };
      instantiate(
        kernelModule(ewKey(spec), false, () => [ewFunction(spec)]),
        arena.memory,
      )["ew"]!(pa, pb, po);
      expect(Array.from(view(po!))).toEqual([0, 0, 0, 0, 0, 8, -Infinity, 0, NaN, NaN]);
    });
  }
  it("float64 kernels take only IEEE-exact ops (transcendentals stay in JavaScript)", () => {
    expect(ewSupports("tanh", "float64")).toBe(false);
    expect(ewSupports("tanh", "float32")).toBe(true);
    expect(ewSupports("add", "float64")).toBe(true);
    expect(() =>
      ewFunction({ dtype: "float64", outer: 1, inner: 4, operands: ["full"], nodes: [{ op: "exp", args: [{ operand: 0 }] }], stores: [0] }),
    ).toThrow(/cannot compute exp/);
  });
});
