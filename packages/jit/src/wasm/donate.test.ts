import { ArgumentError, add, crossEntropy, matmul, mul, reshape, slice, sub, sum, tanh, tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad, jit, valueAndGrad } from "../index.js";

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };

function seeded(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5),
    { shape },
  );
}

const params = (): Params => ({ w1: seeded([64, 32], 1), b1: seeded([32], 2), w2: seeded([32, 10], 3), b2: seeded([10], 4) });
const x = seeded([16, 64], 5);
const labels = tensor(
  Int32Array.from({ length: 16 }, (_, i) => (i * 3) % 10),
  { shape: [16] },
);
const loss = (p: Params, xs: Tensor, ys: Tensor) => crossEntropy(add(matmul(tanh(add(matmul(xs, p.w1), p.b1)), p.w2), p.b2), ys);
const lossAndGrad = valueAndGrad(loss);
const sgd = (p: Params, xs: Tensor, ys: Tensor): [Tensor, Params] => {
  const [l, g] = lossAndGrad(p, xs, ys);
  const u = (k: keyof Params) => sub(p[k], mul(0.1, g[k]));
  return [l, { w1: u("w1"), b1: u("b1"), w2: u("w2"), b2: u("b2") }];
};
const bits = (t: Tensor) => Array.from(t.data);

describe("jit(f, { donate }): outputs written into the donated tensors' buffers", () => {
  for (const threads of [1, 2]) {
    it(`a training loop is bit-identical to no donation and reuses the buffers (${threads} thread${threads > 1 ? "s" : ""})`, () => {
      const plain = jit(sgd, { threads });
      const donating = jit(sgd, { threads, donate: [0] });
      let p = params();
      let q = params();
      for (let s = 0; s < 4; s++) {
        const [l1, next1] = plain(p, x, labels);
        const before = q;
        const buffers = Object.values(before).map((t) => t.data.buffer);
        const [l2, next2] = donating(q, x, labels);
        expect(donating.source).toMatch(/^\/\/ WebAssembly kernels/);
        expect(l2.item()).toBe(l1.item());
        for (const k of ["w1", "b1", "w2", "b2"] as const) expect(bits(next2[k])).toEqual(bits(next1[k]));
        // the donated tensors are consumed: their buffers now hold the new parameters
        for (const t of Object.values(before)) expect(() => t.data).toThrow(/whose buffer was detached: it was donated to a compiled call/);
        for (const t of Object.values(next2)) expect(buffers).not.toContain(t.data.buffer);
        expect(x.data.length).toBe(16 * 64); // not donated: untouched
        p = next1;
        q = next2;
      }
    }, 60_000);
  }

  it("a tensor sharing a donated buffer (a reshape of it) is consumed too and throws when read", () => {
    const f = jit(sgd, { donate: [0] });
    const p = params();
    const view = reshape(p.w1, [32, 64]);
    f(p, x, labels);
    expect(() => view.toArray()).toThrow(ArgumentError);
    expect(() => f(p, x, labels)).toThrow(/float32\[64,32\] whose buffer was detached/);
  });

  it("a buffer another argument of the call also reads is not donated", () => {
    const f = jit((p: Params, w1Again: Tensor, xs: Tensor, ys: Tensor) => sgd({ ...p, w1: add(p.w1, mul(0, w1Again)) }, xs, ys), {
      donate: [0],
    });
    const p = params();
    const [, next] = f(p, p.w1, x, labels);
    expect(p.w1.data.length).toBe(64 * 32); // shared with argument 1: kept
    expect(() => p.b1.data).toThrow(/detached/); // owned by p alone: donated
    expect(next.w1.data.length).toBe(64 * 32);
  });

  it("donated tensors that match no output keep their tensors valid", () => {
    const odd = jit((p: Params, _extra: Tensor, xs: Tensor, ys: Tensor) => sgd(p, xs, ys), { donate: [1] });
    const extra = seeded([7, 3], 9);
    odd(params(), extra, x, labels);
    expect(extra.data.length).toBe(21);
  });

  it("programs that run as generated JavaScript write into donated buffers too (the donated tensor is consumed)", () => {
    const small = jit((a: Tensor) => mul(a, 2), { donate: [0] }); // no matmul: generated JavaScript
    const a = seeded([5], 1);
    const want = bits(a).map((v) => Math.fround(v * 2));
    expect(bits(small(a))).toEqual(want);
    expect(small.source).not.toMatch(/WebAssembly/);
    expect(() => a.data).toThrow(ArgumentError);
  });

  it("an output buffer handed back on every call (an unread donated argument) takes the results", () => {
    const double = jit((v: Tensor, _out: Tensor) => mul(v, 2), { donate: [1] });
    const v = seeded([100], 3);
    let out = tensor(new Float32Array(100));
    for (let call = 0; call < 3; call++) {
      const before = out;
      out = double(v, out);
      expect(() => before.data).toThrow(ArgumentError);
      expect(bits(out)).toEqual(bits(v).map((e) => Math.fround(e * 2)));
    }
    expect(v.data.length).toBe(100); // the argument that is read stays valid
  });

  it("a donated buffer holding old values is zeroed where the program accumulates into its output (JavaScript matmul, sums)", () => {
    const a = seeded([6, 6], 2);
    const f = jit((m: Tensor, _out: Tensor) => matmul(m, m), { donate: [1], kernels: false });
    const g = jit((m: Tensor, _out: Tensor) => sum(m, 0), { donate: [1] });
    const stale = (n: number) => tensor(new Float32Array(n).fill(7), { shape: n === 36 ? [6, 6] : [6] });
    expect(bits(f(a, stale(36)))).toEqual(bits(jit((m: Tensor) => matmul(m, m), { kernels: false })(a)));
    expect(bits(g(a, stale(6)))).toEqual(bits(jit((m: Tensor) => sum(m, 0))(a)));
  });

  it("a JavaScript program that reads its donated input after writing the output (a stencil) gives the undonated results", () => {
    // the Rosenbrock gradient: element i reads x[i − 1], x[i] and x[i + 1]; each step x ← x − 1e-4 ∇f(x)
    const rosenbrock = (v: Tensor) => {
      const n = v.shape[0]!;
      const head = slice(v, [0], [n - 1]);
      const t = sub(slice(v, [1]), mul(head, head));
      const u = sub(1, head);
      return sum(add(mul(100, mul(t, t)), mul(u, u)));
    };
    const descend = (v: Tensor) => sub(v, mul(1e-4, grad(rosenbrock)(v)));
    const plain = jit(descend);
    const donating = jit(descend, { donate: [0] });
    const start = () => tensor(Float64Array.from({ length: 1000 }, (_, i) => 1 + Math.sin(i) / 2));
    let want = start();
    let got = start();
    for (let step = 0; step < 4; step++) {
      want = plain(want);
      const before = got;
      got = donating(got);
      expect(() => before.data).toThrow(ArgumentError);
      expect(bits(got)).toEqual(bits(want));
    }
  });

  it("rejects a donate option that is not a list of argument positions", () => {
    expect(() => jit(sgd, { donate: [-1] })).toThrow(
      /jit: expected donate to be an array of argument positions \(integers ≥ 0\), got \[-1\]/,
    );
    expect(() => jit(sgd, { donate: 0 as never })).toThrow(ArgumentError);
  });
});
