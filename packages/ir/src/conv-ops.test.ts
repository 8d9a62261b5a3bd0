/**
 * The convolution and pooling ops (issue 18) against hand-computed values and naive loops
 * written here: padding rules (JAX's SAME, high side for an odd total), layouts, convTranspose
 * as a scatter of y through w (PyTorch's definition and output size), the pools' values, the
 * max-pool tie convention, and the errors.
 */
import { describe, expect, it } from "vitest";
import {
  adaptiveAvgPool,
  avgPool,
  bind,
  conv,
  conv1d,
  conv2d,
  conv3d,
  convTranspose,
  DEFINITIONS,
  maxPool,
  TENSOR_MATH,
  Tensor,
  tensor,
  transpose,
} from "./index.js";

const f64 = (shape: number[], values: number[]) => new Tensor("float64", shape, Float64Array.from(values));

function random(shape: number[], seed: number): Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  return f64(
    shape,
    Array.from({ length: n }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 31 - 1;
    }),
  );
}

const list = (t: Tensor) => Array.from(t.data);
const close = (got: Tensor, want: number[], digits = 12) => {
  expect(got.size).toBe(want.length);
  list(got).forEach((v, i) => expect(v, `element ${i}`).toBeCloseTo(want[i]!, digits));
};

/** PyTorch's conv_transpose2d by its definition: each y[n, o, p] · w[o, c, k] lands on q = p·s + k·d − pad (groups 1). */
function naiveConvTranspose2d(y: Tensor, w: Tensor, s: number, pad: number, d: number, extra: number): { shape: number[]; data: number[] } {
  const [n, o, h, wd] = y.shape as number[];
  const [, c, kh, kw] = w.shape as number[];
  const oh = (h! - 1) * s - 2 * pad + d * (kh! - 1) + extra + 1;
  const ow = (wd! - 1) * s - 2 * pad + d * (kw! - 1) + extra + 1;
  const out = new Array<number>(n! * c! * oh * ow).fill(0);
  for (let b = 0; b < n!; b++)
    for (let oc = 0; oc < o!; oc++)
      for (let i = 0; i < h!; i++)
        for (let j = 0; j < wd!; j++)
          for (let ci = 0; ci < c!; ci++)
            for (let u = 0; u < kh!; u++)
              for (let v = 0; v < kw!; v++) {
                const qi = i * s + u * d - pad;
                const qj = j * s + v * d - pad;
                if (qi < 0 || qj < 0 || qi >= oh || qj >= ow) continue;
                out[((b * c! + ci) * oh + qi) * ow + qj]! +=
                  y.data[((b * o! + oc) * h! + i) * wd! + j]! * w.data[((oc * c! + ci) * kh! + u) * kw! + v]!;
              }
  return { shape: [n!, c!, oh, ow], data: out };
}

describe("conv ops", () => {
  it("conv1d by hand: valid, a number of padding, stride and dilation", () => {
    const x = f64([1, 1, 5], [1, 2, 3, 4, 5]);
    const w = f64([1, 1, 3], [1, 0, -1]);
    expect(list(conv1d(x, w))).toEqual([-2, -2, -2]);
    expect(list(conv1d(x, w, { padding: 1 }))).toEqual([-2, -2, -2, -2, 4]);
    expect(list(conv1d(x, w, { padding: 1, stride: 2 }))).toEqual([-2, -2, 4]);
    // dilation 2: taps 0, 2, 4 → x[i] − x[i + 4]
    expect(list(conv1d(x, w, { dilation: 2 }))).toEqual([-4]);
    expect(list(conv1d(x, w, { padding: [[2, 0]] }))).toEqual([-1, -2, -2, -2, -2]);
  });

  it('padding "same" follows JAX: ⌈n / stride⌉ outputs, the odd cell of padding on the high side', () => {
    const w = f64([1, 1, 3], [1, 10, 100]);
    // n = 6, stride 2: 3 outputs, total padding (3 − 1)·2 + 3 − 6 = 1 → (0, 1)
    const x6 = f64([1, 1, 6], [1, 2, 3, 4, 5, 6]);
    expect(list(conv1d(x6, w, { padding: "same", stride: 2 }))).toEqual([321, 543, 65]);
    // n = 5, stride 1, kernel 4: total 3 → (1, 2)
    const x5 = f64([1, 1, 5], [1, 2, 3, 4, 5]);
    const w4 = f64([1, 1, 4], [1, 10, 100, 1000]);
    expect(list(conv1d(x5, w4, { padding: "same" }))).toEqual([3210, 4321, 5432, 543, 54]);
    // 2-d: the shape is ⌈n / s⌉ on each axis
    expect(conv2d(random([2, 3, 7, 8], 1), random([4, 3, 3, 2], 2), { padding: "same", stride: [2, 3] }).shape).toEqual([2, 4, 4, 3]);
  });

  it("2-d by hand: a Sobel filter on a ramp, and groups as separate convs", () => {
    const ramp = f64(
      [1, 1, 3, 4],
      [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3].map((v, i) => v + Math.floor(i / 4) * 10),
    );
    const sobelX = f64([1, 1, 3, 3], [-1, 0, 1, -2, 0, 2, -1, 0, 1]);
    // a unit step per column: 1·(1 + 2 + 1) · 2 = 8 everywhere
    expect(list(conv2d(ramp, sobelX))).toEqual([8, 8]);
    const x = random([2, 4, 5, 5], 3);
    const w = random([6, 2, 3, 3], 4);
    const grouped = conv2d(x, w, { groups: 2, padding: 1 });
    const half = (t: Tensor, axis: number, part: number) => {
      const begin = t.shape.map((_, i) => (i === axis ? (part * t.shape[axis]!) / 2 : 0));
      const end = t.shape.map((d, i) => (i === axis ? ((part + 1) * d) / 2 : d));
      return bind("slice", [t], { begin, end });
    };
    const parts = [0, 1].map((g) => conv2d(half(x, 1, g), half(w, 0, g), { padding: 1 }));
    close(half(grouped, 1, 0), list(parts[0]!));
    close(half(grouped, 1, 1), list(parts[1]!));
  });

  it("channelsLast takes x [N, ...spatial, C] and w [...kernel, C/groups, O] and gives [N, ...out, O]", () => {
    const x = random([2, 3, 6, 5], 5);
    const w = random([4, 3, 2, 3], 6);
    const first = conv2d(x, w, { stride: [1, 2], padding: "same" });
    const last = conv2d(transpose(x, [0, 2, 3, 1]), transpose(w, [2, 3, 1, 0]), {
      stride: [1, 2],
      padding: "same",
      layout: "channelsLast",
    });
    expect(last.shape).toEqual([2, first.shape[2]!, first.shape[3]!, 4]);
    close(last, list(transpose(first, [0, 2, 3, 1])));
  });

  it("conv3d and conv agree; conv accepts 1 to 3 spatial axes", () => {
    const x = random([1, 2, 3, 4, 5], 7);
    const w = random([3, 2, 2, 2, 2], 8);
    expect(list(conv(x, w, { padding: 1 }))).toEqual(list(conv3d(x, w, { padding: 1 })));
    expect(conv3d(x, w, { padding: 1 }).shape).toEqual([1, 3, 4, 5, 6]);
  });

  it("convTranspose is PyTorch's: its output size and its values (a scatter of y through w)", () => {
    for (const [s, pad, d, extra] of [
      [1, 0, 1, 0],
      [2, 1, 1, 1],
      [3, 0, 2, 1],
      [2, 2, 1, 0],
    ] as const) {
      const y = random([2, 3, 4, 3], 9);
      const w = random([3, 2, 3, 2], 10);
      const got = convTranspose(y, w, { stride: s, padding: pad, dilation: d, outputPadding: extra });
      const want = naiveConvTranspose2d(y, w, s, pad, d, extra);
      expect(got.shape, `stride ${s} padding ${pad} dilation ${d}`).toEqual(want.shape);
      close(got, want.data);
    }
  });

  it("convTranspose with matching options is conv's VJP with respect to x (groups too)", () => {
    const x = random([2, 4, 7, 6], 11);
    const w = random([6, 2, 3, 2], 12);
    const opts = { stride: [2, 3], padding: [1, [0, 1]] as [number, [number, number]], dilation: [1, 2], groups: 2 };
    const y = conv2d(x, w, opts);
    const ct = random(y.shape as number[], 13);
    // the output padding that gives back x's size, (n + lo + hi − dilated kernel) mod stride: (7 + 2 − 3) mod 2 = 0, (6 + 1 − 3) mod 3 = 1
    const back = convTranspose(ct, w, { ...opts, outputPadding: [0, 1] });
    expect(back.shape).toEqual(x.shape);
    // ⟨conv(x, w), ȳ⟩ = ⟨x, convTranspose(ȳ, w)⟩
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < y.size; i++) lhs += y.data[i]! * ct.data[i]!;
    for (let i = 0; i < x.size; i++) rhs += x.data[i]! * back.data[i]!;
    expect(rhs).toBeCloseTo(lhs, 10);
  });

  it("errors name the op, the expectation and what it got", () => {
    expect(() => conv2d(tensor([[1, 2, 3, 4]]), random([1, 1, 1, 1], 1))).toThrow(
      "conv2d: expected x of rank 4 [N, C, H, W], got shape [1,4]",
    );
    expect(() => conv2d(random([1, 1, 3, 3], 1), random([1, 1, 2, 2], 1), { stride: 0 })).toThrow(
      "conv2d: expected stride to be a positive integer or 2 of them, got 0",
    );
    expect(() => conv2d(random([1, 4, 3, 3], 1), random([2, 3, 2, 2], 1))).toThrow(/conv2d: expected w with C\/groups = 4 input channels/);
    expect(() => conv2d(random([1, 4, 3, 3], 1), random([2, 4, 2, 2], 1), { padding: "full" as never })).toThrow(
      /conv2d: expected padding "valid", "same", a non-negative integer, or 2 entries/,
    );
    expect(() => conv1d(random([1, 1, 2], 1), random([1, 1, 3], 1))).toThrow(
      /conv1d: expected a non-empty kernel no larger than the padded input/,
    );
    expect(() => conv1d(random([1, 1, 4], 1), random([1, 1, 3], 1), { strides: 2 } as never)).toThrow(/conv1d: expected options among/);
    expect(() => convTranspose(random([1, 2, 3], 1), random([2, 1, 2], 1), { stride: 2, outputPadding: 2 })).toThrow(
      /convTranspose: expected outputPadding smaller than stride or dilation/,
    );
    expect(() => maxPool(random([1, 1, 4, 4], 1), 2, { padding: 2 })).toThrow(/maxPool: expected padding smaller than the window \(2\)/);
  });
});

describe("pooling ops", () => {
  const x44 = () => f64([1, 1, 4, 4], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);

  it("maxPool and avgPool by hand: 2×2 windows, stride 2 by default", () => {
    expect(list(maxPool(x44(), 2))).toEqual([6, 8, 14, 16]);
    expect(list(avgPool(x44(), 2))).toEqual([3.5, 5.5, 11.5, 13.5]);
    // stride 1 overlaps; padding 1 with −∞ cells for max
    expect(list(maxPool(x44(), [2, 2], { stride: 1 }))).toEqual([6, 7, 8, 10, 11, 12, 14, 15, 16]);
    expect(list(maxPool(x44(), 2, { padding: 1 }))).toEqual([1, 3, 4, 9, 11, 12, 13, 15, 16]);
  });

  it("avgPool counts padded cells by default, and only input cells with countIncludePad: false", () => {
    const x = f64([1, 1, 1, 4], [1, 2, 3, 4]);
    // windows of 3, stride 1, padding 1: [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 0]
    close(avgPool(x, [1, 3], { stride: 1, padding: [0, 1] }), [1, 2, 3, 7 / 3]);
    close(avgPool(x, [1, 3], { stride: 1, padding: [0, 1], countIncludePad: false }), [1.5, 2, 3, 3.5]);
    // 2-d: a corner window of a 2 × 2 pool with padding 1 holds one input cell
    close(avgPool(x44(), 2, { padding: 1, countIncludePad: false }), [1, 2.5, 4, 7, 8.5, 10, 13, 14.5, 16]);
  });

  it("adaptiveAvgPool uses PyTorch's bins ⌊i·n/m⌋ … ⌈(i + 1)·n/m⌉ − 1", () => {
    const x = f64([1, 1, 5], [1, 2, 3, 4, 6]);
    // n = 5, m = 3: bins [0, 2), [1, 4), [3, 5)
    close(adaptiveAvgPool(x, 3), [1.5, 3, 5]);
    close(adaptiveAvgPool(x, 1), [16 / 5]);
    // 2-d: global average pooling and a 2 × 2 output of a 4 × 4 input (plain 2 × 2 means)
    close(adaptiveAvgPool(x44(), [1, 1]), [8.5]);
    close(adaptiveAvgPool(x44(), 2), [3.5, 5.5, 11.5, 13.5]);
    expect(adaptiveAvgPool(random([2, 3, 7, 5], 3), [3, 5]).shape).toEqual([2, 3, 3, 5]);
  });

  it("maxPool's derivative gives 1/k to each of a window's k tied maxima", () => {
    const x = f64([1, 1, 2, 4], [1, 3, 5, 5, 3, 2, 5, 5]);
    const params = { window: [1, 1, 2, 2], strides: [1, 1, 2, 2], padding: [0, 0, 0, 0, 0, 0, 0, 0] };
    const node = { params, x: [x], y: null, shape: () => x.shape, dtype: "float64" as const, arity: 1, same: () => false };
    const [gx] = DEFINITIONS.reduceWindowMax.vjp.vjp!(f64([1, 1, 1, 2], [1, 2]), node, 1, TENSOR_MATH);
    // first window: 3 twice → ½ each; second window: 5 four times → 2/4 each
    expect(list(gx!)).toEqual([0, 0.5, 0.5, 0.5, 0.5, 0, 0.5, 0.5]);
  });
});

describe("window primitives", () => {
  const P = { window: [2, 3], strides: [1, 2], padding: [1, 0, 1, 2] };
  const dot = (a: Tensor, b: Tensor) => list(a).reduce((acc, v, i) => acc + v * b.data[i]!, 0);

  it("reduceWindowSum and reduceWindowSumTranspose are each other's transposes", () => {
    const x = random([4, 5], 21);
    const y = bind("reduceWindowSum", [x], P);
    const s = random(y.shape as number[], 22);
    const spread = bind("reduceWindowSumTranspose", [s], { ...P, shape: [4, 5] });
    expect(spread.shape).toEqual([4, 5]);
    expect(dot(y, s)).toBeCloseTo(dot(x, spread), 12);
  });

  it("reduceWindowSum equals a naive sum over each padded window", () => {
    const x = random([4, 5], 23);
    const y = bind("reduceWindowSum", [x], P);
    // out = ⌊(n + lo + hi − k) / s⌋ + 1: (4 + 1 − 2) + 1 = 4, ⌊(5 + 3 − 3) / 2⌋ + 1 = 3
    expect(y.shape).toEqual([4, 3]);
    const want: number[] = [];
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 3; j++) {
        let acc = 0;
        for (let a = 0; a < 2; a++)
          for (let b = 0; b < 3; b++) {
            const r = i + a - 1;
            const c = 2 * j + b - 1;
            if (r >= 0 && r < 4 && c >= 0 && c < 5) acc += x.data[r * 5 + c]!;
          }
        want.push(acc);
      }
    close(y, want);
  });

  it("batching over either operand (or both) of the window primitives equals a loop", () => {
    const stack = (a: Tensor, b: Tensor) => f64([2, ...(a.shape as number[])], [...list(a), ...list(b)]);
    const xs = [f64([3, 4], [1, 5, 5, 2, 0, 5, 3, 3, 4, 4, 1, 4]), random([3, 4], 26)];
    const ts = [random([3, 4], 27), random([3, 4], 28)];
    const ss = [random([3, 3], 29), random([3, 3], 30)];
    for (const [prim, first] of [
      ["selectAndGatherAdd", ts],
      ["selectAndScatterAdd", ss],
    ] as const) {
      const y = bind(prim, [first[0]!, xs[0]!], P);
      for (const batched of [
        [true, false],
        [false, true],
        [true, true],
      ]) {
        const args = [batched[0] ? stack(first[0]!, first[1]!) : first[0]!, batched[1] ? stack(xs[0]!, xs[1]!) : xs[0]!];
        const got = DEFINITIONS[prim].batch!(args, batched, P, 2, y);
        const alone = [0, 1].map((j) => bind(prim, [batched[0] ? first[j]! : first[0]!, batched[1] ? xs[j]! : xs[0]!], P));
        expect(got.shape, `${prim} ${batched}`).toEqual([2, ...y.shape]);
        expect(list(got)).toEqual([...list(alone[0]!), ...list(alone[1]!)]);
      }
    }
  });

  it("selectAndGatherAdd and selectAndScatterAdd are each other's transposes in their first operand", () => {
    const x = f64([3, 4], [1, 5, 5, 2, 0, 5, 3, 3, 4, 4, 1, 4]);
    const t = random([3, 4], 24);
    const g = bind("selectAndGatherAdd", [t, x], P);
    const s = random(g.shape as number[], 25);
    const spread = bind("selectAndScatterAdd", [s, x], P);
    expect(dot(g, s)).toBeCloseTo(dot(t, spread), 12);
  });
});
