/**
 * The conv primitive: its kernel against hand-computed values and a naive loop written here from
 * the definition (dilate, pad, slide), its VJP against the dot-product identity
 * ⟨conv(x, w), ȳ⟩ = ⟨x, x̄⟩ = ⟨w, w̄⟩, and its batching rule against a loop over the batch.
 */
import { describe, expect, it } from "vitest";
import { bind, DEFINITIONS, TENSOR_MATH, Tensor, type Params } from "../index.js";

type ConvP = Params<"conv">;

const f64 = (shape: number[], values: number[]) => new Tensor("float64", shape, Float64Array.from(values));

/** Deterministic pseudo-random values in [−1, 1). */
function values(count: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function random(shape: number[], seed: number): Tensor {
  return f64(
    shape,
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
  );
}

/** The convolution from its definition: materialize the dilated, padded input, then slide the dilated filter. */
function naiveConv(x: Tensor, w: Tensor, p: ConvP): { shape: number[]; data: number[] } {
  const [n, c, ...s] = x.shape as number[];
  const [o, cg, ...k] = w.shape as number[];
  const d = s.length;
  // x̃: dilated and padded input, by an index map from x̃'s coordinates to x's (or −1)
  const padded = s.map((size, i) => (size - 1) * p.lhsDilation[i]! + 1 + p.padding[2 * i]! + p.padding[2 * i + 1]!);
  const kd = k.map((size, i) => (size - 1) * p.rhsDilation[i]! + 1);
  const out = padded.map((size, i) => Math.max(0, Math.floor((size - kd[i]!) / p.strides[i]!) + 1));
  const source = (axis: number, q: number): number => {
    const r = q - p.padding[2 * axis]!;
    if (r < 0 || r % p.lhsDilation[axis]! !== 0) return -1;
    const i = r / p.lhsDilation[axis]!;
    return i < s[axis]! ? i : -1;
  };
  const idx = (shape: number[], coords: number[]) => coords.reduce((acc, v, i) => acc * shape[i]! + v, 0);
  const each = (shape: number[], f: (coords: number[]) => void, prefix: number[] = []): void => {
    if (prefix.length === shape.length) return f(prefix);
    for (let i = 0; i < shape[prefix.length]!; i++) each(shape, f, [...prefix, i]);
  };
  const data: number[] = [];
  const og = o! / p.groups;
  for (let b = 0; b < n!; b++) {
    for (let oc = 0; oc < o!; oc++) {
      const group = Math.floor(oc / og);
      each(out, (pos) => {
        let acc = 0;
        for (let ci = 0; ci < cg!; ci++) {
          each(k, (tap) => {
            const src = pos.map((pp, i) => source(i, pp * p.strides[i]! + tap[i]! * p.rhsDilation[i]!));
            if (src.some((v) => v < 0)) return;
            acc += x.data[idx([n!, c!, ...s], [b, group * cg! + ci, ...src])]! * w.data[idx([o!, cg!, ...k], [oc, ci, ...tap])]!;
          });
        }
        data.push(acc);
      });
    }
  }
  void d;
  return { shape: [n!, o!, ...out], data };
}

function dot(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i]! * b.data[i]!;
  return s;
}

const CASES: { name: string; x: number[]; w: number[]; p: ConvP }[] = [
  // outputs narrower than the kernel take the loops' per-output path (as filter gradients do), the others an axpy per tap
  {
    name: "1-d kernel wider than the output",
    x: [2, 2, 6],
    w: [3, 2, 5],
    p: { strides: [1], padding: [1, 0], lhsDilation: [1], rhsDilation: [1], groups: 1 },
  },
  { name: "1-d valid", x: [2, 3, 7], w: [4, 3, 3], p: { strides: [1], padding: [0, 0], lhsDilation: [1], rhsDilation: [1], groups: 1 } },
  {
    name: "1-d stride 2, padding, dilation 2",
    x: [1, 2, 9],
    w: [3, 2, 2],
    p: { strides: [2], padding: [2, 1], lhsDilation: [1], rhsDilation: [2], groups: 1 },
  },
  {
    name: "2-d groups 2, stride (2, 1), same-like padding",
    x: [2, 4, 5, 6],
    w: [6, 2, 3, 2],
    p: { strides: [2, 1], padding: [1, 1, 0, 1], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 2 },
  },
  {
    name: "2-d lhs dilation and negative padding",
    x: [1, 2, 4, 3],
    w: [2, 2, 2, 2],
    p: { strides: [1, 2], padding: [-1, 2, 1, 0], lhsDilation: [2, 3], rhsDilation: [1, 2], groups: 1 },
  },
  {
    name: "2-d depthwise, stride larger than the kernel",
    x: [1, 3, 7, 7],
    w: [3, 1, 2, 2],
    p: { strides: [3, 3], padding: [0, 0, 1, 0], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 3 },
  },
  {
    name: "3-d",
    x: [1, 2, 4, 3, 5],
    w: [2, 1, 2, 2, 3],
    p: { strides: [1, 2, 2], padding: [0, 1, 1, 1, 2, 0], lhsDilation: [1, 1, 2], rhsDilation: [2, 1, 1], groups: 2 },
  },
];

describe("conv primitive", () => {
  it("1-d by hand: [1, 2, 3, 4] ⋆ [1, −1] = [−1, −1, −1]; padding 1 adds the edges; stride 2 keeps every other", () => {
    const x = f64([1, 1, 4], [1, 2, 3, 4]);
    const w = f64([1, 1, 2], [1, -1]);
    const base = { lhsDilation: [1], rhsDilation: [1], groups: 1 };
    expect(Array.from(bind("conv", [x, w], { ...base, strides: [1], padding: [0, 0] }).data)).toEqual([-1, -1, -1]);
    expect(Array.from(bind("conv", [x, w], { ...base, strides: [1], padding: [1, 1] }).data)).toEqual([-1, -1, -1, -1, 4]);
    expect(Array.from(bind("conv", [x, w], { ...base, strides: [2], padding: [1, 1] }).data)).toEqual([-1, -1, 4]);
    // rhs dilation 2: taps 0 and 2 → x[i] − x[i + 2]
    expect(Array.from(bind("conv", [x, w], { ...base, strides: [1], padding: [0, 0], rhsDilation: [2] }).data)).toEqual([-2, -2]);
    // lhs dilation 2: x̃ = [1, 0, 2, 0, 3, 0, 4] → x̃[i] − x̃[i + 1]
    expect(Array.from(bind("conv", [x, w], { ...base, strides: [1], padding: [0, 0], lhsDilation: [2] }).data)).toEqual([
      1, -2, 2, -3, 3, -4,
    ]);
  });

  it("2-d by hand: a 3×3 input with a 2×2 box filter sums each 2×2 block", () => {
    const x = f64([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = f64([1, 1, 2, 2], [1, 1, 1, 1]);
    const y = bind("conv", [x, w], { strides: [1, 1], padding: [0, 0, 0, 0], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 1 });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(Array.from(y.data)).toEqual([12, 16, 24, 28]);
  });

  it.each(CASES)("$name: the kernel equals the naive definition", ({ x, w, p }) => {
    const xt = random(x, 11);
    const wt = random(w, 29);
    const got = bind("conv", [xt, wt], p);
    const want = naiveConv(xt, wt, p);
    expect(got.shape).toEqual(want.shape);
    Array.from(got.data).forEach((v, i) => expect(v).toBeCloseTo(want.data[i]!, 12));
  });

  it.each(CASES)("$name: the VJP satisfies ⟨conv(x, w), ȳ⟩ = ⟨x, x̄⟩ = ⟨w, w̄⟩", ({ x, w, p }) => {
    const xt = random(x, 3);
    const wt = random(w, 5);
    const y = bind("conv", [xt, wt], p);
    const ct = random(y.shape as number[], 7);
    const node = { params: p, x: [xt, wt], y: null, shape: (i: number) => [xt, wt][i]!.shape, dtype: y.dtype, arity: 2, same: () => false };
    const [dx, dw] = DEFINITIONS.conv.vjp.vjp!(ct, node, 3, TENSOR_MATH);
    expect(dx!.shape).toEqual(xt.shape);
    expect(dw!.shape).toEqual(wt.shape);
    const lhs = dot(y, ct);
    expect(dot(xt, dx!)).toBeCloseTo(lhs, 10);
    expect(dot(wt, dw!)).toBeCloseTo(lhs, 10);
  });

  it.each(CASES)("$name: batching over x, over w and over both equals a loop", ({ x, w, p }) => {
    const xs = [random(x, 13), random(x, 17)];
    const ws = [random(w, 19), random(w, 23)];
    const stack = (ts: Tensor[]) => f64([2, ...(ts[0]!.shape as number[])], [...ts[0]!.data, ...ts[1]!.data]);
    const y = bind("conv", [xs[0]!, ws[0]!], p);
    for (const batched of [
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const args = [batched[0] ? stack(xs) : xs[0]!, batched[1] ? stack(ws) : ws[0]!];
      const got = DEFINITIONS.conv.batch!(args, batched, p, 2, y);
      const alone = [0, 1].map((j) => bind("conv", [batched[0] ? xs[j]! : xs[0]!, batched[1] ? ws[j]! : ws[0]!], p));
      expect(got.shape).toEqual([2, ...y.shape]);
      const want = [...alone[0]!.data, ...alone[1]!.data];
      Array.from(got.data).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    }
  });

  it("checks its operands and params", () => {
    const p: ConvP = { strides: [1], padding: [0, 0], lhsDilation: [1], rhsDilation: [1], groups: 1 };
    expect(() => bind("conv", [f64([3, 4], new Array(12).fill(0)), f64([1, 4], [0, 0, 0, 0])], p)).toThrow(
      /conv: expected x \[N, C, \.\.\.spatial\] and w \[O, C\/groups, \.\.\.kernel\] of one rank in 3\.\.5, got \[3,4\] and \[1,4\]/,
    );
    expect(() => bind("conv", [random([1, 4, 5], 1), random([2, 3, 2], 1)], p)).toThrow(/conv: expected w \[O, C\/groups = 4/);
    expect(() => bind("conv", [random([1, 4, 5], 1), random([3, 2, 2], 1)], { ...p, groups: 2 })).toThrow(
      /groups to be a positive integer dividing/,
    );
    expect(() => bind("conv", [random([1, 4, 5], 1), random([2, 4, 2], 1)], { ...p, strides: [0] })).toThrow(
      /strides to be 1 positive integers/,
    );
  });
});
