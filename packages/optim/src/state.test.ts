/** Optimizer state is plain JSON data, and resuming from a saved state continues bit-identically. */
import { tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import {
  adagrad,
  adam,
  adamw,
  lbfgs,
  rmsprop,
  sgd,
  treeFromJSON,
  treeToJSON,
  type Objective,
  type Optimizer,
  type OptimizerState,
} from "./index.js";

interface Params {
  w: Tensor; // float64
  h: Tensor; // float32
  b: number;
}

/** f = Σ cᵢ (wᵢ − 1)² + Σ (hᵢ + 2)² + (b − 3)⁴: gradients depend on the params. */
function gradient(p: Params): Params {
  const c = [1, 3, 0.5];
  return {
    w: tensor(Array.from(p.w.data, (v, i) => 2 * c[i]! * (v - 1))),
    h: tensor(
      Array.from(p.h.data, (v) => 2 * (v + 2)),
      { dtype: "float32" },
    ),
    b: 4 * (p.b - 3) ** 3,
  };
}
function value(p: Params): number {
  const c = [1, 3, 0.5];
  let f = (p.b - 3) ** 4;
  p.w.data.forEach((v, i) => (f += c[i]! * (v - 1) ** 2));
  p.h.data.forEach((v) => (f += (v + 2) ** 2));
  return f;
}
const objective: Objective<Params> = (p) => ({ loss: value(p), grads: gradient(p) });
const start = (): Params => ({ w: tensor([0.3, -0.7, 2]), h: tensor([0.25, -1], { dtype: "float32" }), b: 1.5 });

function bits(p: Params): number[] {
  return [...p.w.data, ...p.h.data, p.b];
}

const OPTIMIZERS: [string, () => Optimizer<OptimizerState>][] = [
  ["sgd nesterov + decay", () => sgd({ lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ["sgd dampening", () => sgd({ lr: 0.01, momentum: 0.5, dampening: 0.3 })],
  ["adam amsgrad", () => adam({ lr: 0.05, amsgrad: true, weightDecay: 1e-2 })],
  ["adamw", () => adamw({ lr: 0.05 })],
  ["rmsprop centered + momentum", () => rmsprop({ lr: 0.01, centered: true, momentum: 0.5, weightDecay: 1e-3 })],
  ["adagrad", () => adagrad({ lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 })],
  ["lbfgs fixed step", () => lbfgs({ lr: 0.5, maxIter: 3, historySize: 4 })],
  ["lbfgs strong Wolfe", () => lbfgs({ lineSearch: "strongWolfe", maxIter: 2, historySize: 3 })],
];

describe("state is plain data; save → JSON → resume is bit-identical", () => {
  for (const [name, make] of OPTIMIZERS) {
    it(name, () => {
      const opt = make();
      // straight through: 8 steps
      let p = start();
      let s = opt.init(p);
      for (let k = 0; k < 8; k++) ({ params: p, state: s } = opt.step(objective, s, p));
      // 3 steps, save params and state as JSON text, load, 5 more steps with a fresh optimizer object
      let q = start();
      let t = make().init(q);
      for (let k = 0; k < 3; k++) ({ params: q, state: t } = opt.step(objective, t, q));
      const saved = JSON.stringify({ params: treeToJSON(q), state: t });
      const plain = JSON.parse(saved) as { params: never; state: OptimizerState };
      expect(plain.state).toEqual(t); // nothing lost: the state was plain data
      const resumed = make();
      q = treeFromJSON<Params>(plain.params);
      t = plain.state;
      for (let k = 0; k < 5; k++) ({ params: q, state: t } = resumed.step(objective, t, q));
      const a = bits(p);
      const b = bits(q);
      expect(b.length).toBe(a.length);
      a.forEach((v, i) => expect(Object.is(v, b[i]), `element ${i}: ${v} vs ${b[i]}`).toBe(true));
      expect(q.h.dtype).toBe("float32");
      expect(t).toEqual(s);
      expect(value(p)).toBeLessThan(value(start()));
    });
  }
  it("treeToJSON/treeFromJSON round-trip dtypes, shapes, numbers and nesting", () => {
    const tree = {
      a: [
        tensor(
          [
            [1.5, -0],
            [1e-300, 3],
          ],
          { dtype: "float64" },
        ),
        2,
      ],
      b: { c: tensor([0.1], { dtype: "float32" }) },
      n: null,
    };
    const back = treeFromJSON<typeof tree>(JSON.parse(JSON.stringify(treeToJSON(tree))));
    const t0 = back.a[0] as Tensor;
    expect(t0.shape).toEqual([2, 2]);
    expect(Array.from(t0.data)).toEqual([1.5, -0, 1e-300, 3]);
    expect(back.a[1]).toBe(2);
    expect(back.b.c.dtype).toBe("float32");
    expect(back.b.c.data[0]).toBe(Math.fround(0.1));
    expect(back.n).toBe(null);
    const special = treeFromJSON<number[]>(JSON.parse(JSON.stringify(treeToJSON([Number.NaN, -0, -Infinity]))));
    expect(special).toEqual([Number.NaN, -0, -Infinity]);
    expect(Object.is(special[1], -0)).toBe(true);
    expect(() => treeFromJSON({ $tensor: "float64", shape: [1], data: ["x"] } as never)).toThrow(
      'treeFromJSON: expected a number (or "-0", "NaN", "Infinity", "-Infinity") at tree.data[0], got string "x"',
    );
  });
});
