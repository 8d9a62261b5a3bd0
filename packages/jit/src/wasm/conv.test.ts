// Relaxed-SIMD FMA is behind a flag in Node 20: this file turns it on for its own process (vitest
// runs each test file in its own fork) so the FMA variants of the kernels are checked too.
import { setFlagsFromString } from "node:v8";
import { bind, Random, sum, sin, type Params, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad, jit } from "../index.js";
import { ArenaPlan } from "@chainrule/wasm";
import { convFunctions, convGeometry, convKey, convOutShape, convScratchInit, type ConvSpec } from "./conv.js";
import { startThreads } from "./config.js";
import { wasmFeatures } from "@chainrule/wasm";
import { instantiate, kernelModule } from "@chainrule/wasm";

setFlagsFromString("--experimental-wasm-relaxed-simd");

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * An independent direct-loop convolution (float64): out[n, o, y] = Σ_{c, k} w[o, c, k] ·
 * x[n, g·Cg + c, i] where the dilated, padded input position y·s + k·rd − lo must be a multiple
 * of the lhs dilation ld, i = (y·s + k·rd − lo) / ld, and 0 ≤ i < in.
 */
function directConv(
  spec: ConvSpec,
  batch: number,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
): { value: Float64Array; scale: Float64Array } {
  const out = convOutShape(spec);
  const r = spec.inShape.length;
  const Cg = spec.inChannels / spec.groups;
  const Og = spec.outChannels / spec.groups;
  const P = prod(out),
    KS = prod(spec.kernel),
    IS = prod(spec.inShape);
  const result = new Float64Array(batch * spec.outChannels * P);
  const scale = new Float64Array(batch * spec.outChannels * P);
  const unflat = (t: number, shape: readonly number[]) => {
    const idx = Array<number>(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = t % shape[d]!;
      t = Math.floor(t / shape[d]!);
    }
    return idx;
  };
  for (let n = 0; n < batch; n++)
    for (let o = 0; o < spec.outChannels; o++) {
      const g = Math.floor(o / Og);
      for (let yf = 0; yf < P; yf++) {
        const y = unflat(yf, out);
        let s = 0,
          a = 0;
        for (let c = 0; c < Cg; c++)
          for (let kf = 0; kf < KS; kf++) {
            const k = unflat(kf, spec.kernel);
            let xi = 0,
              inside = true;
            for (let d = 0; d < r; d++) {
              const pos = y[d]! * spec.strides[d]! + k[d]! * spec.rhsDilation[d]! - spec.padding[2 * d]!;
              const ld = spec.lhsDilation[d]!;
              if (pos < 0 || pos % ld !== 0 || pos / ld >= spec.inShape[d]!) {
                inside = false;
                break;
              }
              xi = xi * spec.inShape[d]! + pos / ld;
            }
            if (!inside) continue;
            const term = w[(o * Cg + c) * KS + kf]! * x[(n * spec.inChannels + g * Cg + c) * IS + xi]!;
            s += term;
            a += Math.abs(term);
          }
        result[(n * spec.outChannels + o) * P + yf] = s;
        scale[(n * spec.outChannels + o) * P + yf] = a;
      }
    }
  return { value: result, scale };
}

function spec2(partial: Partial<ConvSpec> & Pick<ConvSpec, "inShape" | "kernel">): ConvSpec {
  const r = partial.inShape.length;
  return {
    dtype: "float32",
    inChannels: 3,
    outChannels: 4,
    groups: 1,
    strides: Array(r).fill(1),
    padding: Array(2 * r).fill(0),
    lhsDilation: Array(r).fill(1),
    rhsDilation: Array(r).fill(1),
    ...partial,
  };
}

/** Runs the kernel image by image on seeded data; the worst error relative to 1 + Σ|terms| of the reference sum. */
function check(spec: ConvSpec, batch = 2): number {
  const size = spec.dtype === "float32" ? 4 : 8;
  const out = convOutShape(spec);
  const xCount = batch * spec.inChannels * prod(spec.inShape);
  const wCount = spec.outChannels * (spec.inChannels / spec.groups) * prod(spec.kernel);
  const oCount = batch * spec.outChannels * prod(out);
  const geo = convGeometry(spec);
  const plan = new ArenaPlan();
  const xa = plan.reserve(xCount * size, 16),
    wa = plan.reserve(wCount * size, 16),
    oa = plan.reserve(oCount * size, 16),
    sa = plan.reserve(geo.scratchBytes);
  const arena = plan.create(false);
  const view = (at: number, n: number) => (spec.dtype === "float32" ? arena.f32(at, n) : arena.f64(at, n));
  const X = view(xa, xCount),
    Wt = view(wa, wCount),
    O = view(oa, oCount);
  for (let i = 0; i < xCount; i++) X[i] = Math.sin(i * 0.37 + 0.1);
  for (let i = 0; i < wCount; i++) Wt[i] = Math.cos(i * 0.11 + 0.2);
  O.fill(Number.NaN);
  convScratchInit(spec, arena.memory.buffer, sa);
  const f = instantiate(
    kernelModule(convKey(spec), false, () => convFunctions(spec, "k")),
    arena.memory,
  )["k"]!;
  const xStep = spec.inChannels * prod(spec.inShape) * size,
    oStep = spec.outChannels * prod(out) * size;
  for (let n = 0; n < batch; n++) f(wa, xa + n * xStep, oa + n * oStep, sa);
  const ref = directConv(spec, batch, X, Wt);
  let worst = 0;
  for (let i = 0; i < oCount; i++) {
    const err = Math.abs(O[i]! - ref.value[i]!) / (1 + ref.scale[i]!);
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  return worst;
}

const TOL = { float32: 2e-5, float64: 1e-13 };

describe("wasm conv kernels against a direct loop", () => {
  it("relaxed-SIMD FMA validates in this process (the fma cases below use it)", () => {
    expect(wasmFeatures().relaxedFma).toBe(true);
  });
  const cases: [string, Partial<ConvSpec> & Pick<ConvSpec, "inShape" | "kernel">][] = [
    ["2-d valid 3×3", { inShape: [7, 9], kernel: [3, 3] }],
    ["2-d same padding 3×3", { inShape: [8, 8], kernel: [3, 3], padding: [1, 1, 1, 1] }],
    ["2-d stride 2, asymmetric padding", { inShape: [9, 10], kernel: [3, 3], strides: [2, 2], padding: [0, 1, 1, 0] }],
    ["2-d rhs dilation 2", { inShape: [10, 11], kernel: [3, 2], rhsDilation: [2, 3], padding: [2, 2, 1, 1] }],
    ["2-d lhs dilation (a transposed conv)", { inShape: [5, 6], kernel: [3, 3], lhsDilation: [2, 2], padding: [2, 2, 2, 2] }],
    ["2-d lhs dilation in the last axis only", { inShape: [5, 6], kernel: [2, 3], lhsDilation: [1, 3], padding: [1, 0, 2, 1] }],
    ["2-d groups 2", { inShape: [6, 7], kernel: [3, 3], inChannels: 4, outChannels: 6, groups: 2, padding: [1, 1, 1, 1] }],
    ["2-d depthwise (groups = C)", { inShape: [6, 6], kernel: [3, 3], inChannels: 5, outChannels: 10, groups: 5, strides: [2, 1] }],
    ["2-d negative padding crops", { inShape: [8, 9], kernel: [2, 2], padding: [-1, 0, 1, -2] }],
    ["2-d kernel larger than the input after padding: empty", { inShape: [2, 2], kernel: [4, 4] }],
    ["2-d many columns (several blocks, a rest block)", { inShape: [40, 41], kernel: [3, 3], inChannels: 8, outChannels: 9 }],
    ["2-d wide kernel, tiny output (a filter gradient)", { inShape: [20, 20], kernel: [18, 18], inChannels: 6, outChannels: 5 }],
    ["1-d", { inShape: [17], kernel: [4], strides: [3], padding: [2, 1] }],
    ["1-d unit stride", { inShape: [33], kernel: [5], padding: [2, 2], rhsDilation: [2] }],
    ["3-d", { inShape: [5, 6, 4], kernel: [2, 3, 2], padding: [1, 0, 0, 1, 1, 1] }],
    ["3-d strided, dilated", { inShape: [6, 5, 7], kernel: [2, 2, 3], strides: [2, 1, 2], rhsDilation: [1, 2, 1] }],
    ["zero output channels", { inShape: [4, 4], kernel: [2, 2], outChannels: 0 }],
  ];
  for (const dtype of ["float32", "float64"] as const) {
    for (const fma of [false, true]) {
      for (const [label, partial] of cases) {
        it(`${dtype}${fma ? " fma" : ""}: ${label}`, () => {
          const spec = spec2({ ...partial, dtype, fma });
          expect(check(spec)).toBeLessThan(TOL[dtype]);
        });
      }
    }
  }
  it("picks the contiguous (unit-stride) mode for a same-padded 3×3 conv and the gathered mode otherwise", () => {
    expect(convGeometry(spec2({ inShape: [56, 56], kernel: [3, 3], padding: [1, 1, 1, 1] })).contiguous).toBe(true);
    expect(convGeometry(spec2({ inShape: [56, 56], kernel: [3, 3], strides: [2, 2] })).contiguous).toBe(false);
    expect(convGeometry(spec2({ inShape: [30, 30], kernel: [28, 28] })).contiguous).toBe(false);
  });
});

/** conv params over `r` spatial axes with defaults. */
function params(r: number, p: Partial<Params<"conv">> = {}): Params<"conv"> {
  return {
    strides: Array(r).fill(1),
    padding: Array(2 * r).fill(0),
    lhsDilation: Array(r).fill(1),
    rhsDilation: Array(r).fill(1),
    groups: 1,
    ...p,
  };
}

function f32(r: Random, shape: number[]): Tensor {
  return r.normal(shape, { dtype: "float32" });
}

/** Worst |a − b| relative to 1 + max |b|. */
function relErr(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let worst = 0,
    scale = 0;
  for (let i = 0; i < b.size; i++) scale = Math.max(scale, Math.abs(b.data[i]!));
  for (let i = 0; i < b.size; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!));
  return worst / (1 + scale);
}

describe("conv in compiled programs on the kernels", () => {
  const cases: [string, number[], number[], Params<"conv">][] = [
    ["2-d same 3×3", [4, 3, 10, 9], [5, 3, 3, 3], params(2, { padding: [1, 1, 1, 1] })],
    [
      "2-d stride 2, rhs dilation, groups 2",
      [3, 4, 11, 12],
      [6, 2, 3, 2],
      params(2, { strides: [2, 2], rhsDilation: [1, 2], padding: [1, 0, 1, 1], groups: 2 }),
    ],
    ["2-d depthwise, lhs dilation", [2, 3, 6, 7], [3, 1, 3, 3], params(2, { lhsDilation: [2, 1], padding: [1, 1, 2, 0], groups: 3 })],
    ["1-d strided", [9, 8, 61], [8, 8, 4], params(1, { strides: [3], padding: [2, 1] })],
    ["3-d", [2, 2, 5, 6, 4], [3, 2, 2, 3, 2], params(3, { padding: [1, 0, 0, 1, 1, 1], rhsDilation: [1, 1, 2] })],
  ];
  for (const [label, xs, ws, p] of cases) {
    it(`${label}: the value and both gradients (convs again) match the JavaScript lowering within the f32 tolerance`, () => {
      const r = new Random(11);
      const x = f32(r, xs),
        w = f32(r, ws);
      const f = (a: Tensor, b: Tensor) => bind("conv", [a, b], p);
      const onKernels = jit(f, { kernels: true });
      const y = onKernels(x, w);
      expect(onKernels.source).toContain("conv float32");
      expect(onKernels.source).toContain("[wasm]");
      expect(relErr(y, jit(f, { kernels: false })(x, w))).toBeLessThan(1e-5);
      const loss = (a: Tensor, b: Tensor) => sum(sin(bind("conv", [a, b], p)));
      const g = jit(grad(loss, [0, 1]), { kernels: true });
      const [gx, gw] = g(x, w) as [Tensor, Tensor];
      const [ex, ew] = jit(grad(loss, [0, 1]), { kernels: false })(x, w) as [Tensor, Tensor];
      expect(g.source!.match(/= conv float32/g)?.length).toBe(3);
      expect(relErr(gx, ex)).toBeLessThan(1e-5);
      expect(relErr(gw, ew)).toBeLessThan(1e-5);
    });
  }

  it("float64 convs run on the kernels too (within 1e-12)", () => {
    const r = new Random(3);
    const x = r.normal([3, 4, 9, 8]),
      w = r.normal([4, 2, 3, 3]);
    const p = params(2, { padding: [1, 1, 0, 2], groups: 2 });
    const f = (a: Tensor, b: Tensor) => bind("conv", [a, b], p);
    const k = jit(f, { kernels: true });
    expect(relErr(k(x, w), f(x, w))).toBeLessThan(1e-12);
    expect(k.source).toContain("conv float64");
  });

  it("on two threads (images split between them) the results are bit-identical to one thread", async () => {
    expect(await startThreads()).toBe(true);
    const r = new Random(5);
    const x = f32(r, [8, 16, 20, 20]),
      w = f32(r, [16, 16, 3, 3]);
    const p = params(2, { padding: [1, 1, 1, 1] });
    const loss = (a: Tensor, b: Tensor) => sum(sin(bind("conv", [a, b], p)));
    const one = jit(grad(loss, [0, 1]), { threads: 1 });
    const two = jit(grad(loss, [0, 1]), { threads: 2 });
    for (let call = 0; call < 5; call++) {
      const [ax, aw] = one(x, w) as [Tensor, Tensor];
      const [bx, bw] = two(x, w) as [Tensor, Tensor];
      expect(Array.from(bx.data)).toEqual(Array.from(ax.data));
      expect(Array.from(bw.data)).toEqual(Array.from(aw.data));
    }
    expect(two.source).toContain("2 threads [wasm]");
    const [ex] = jit(grad(loss, [0, 1]), { kernels: false })(x, w) as [Tensor, Tensor];
    expect(relErr((two(x, w) as Tensor[])[0]!, ex)).toBeLessThan(1e-5);
  });
});
