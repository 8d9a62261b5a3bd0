/**
 * Convolution and pooling ops (issue 18): conv (and conv1d/2d/3d), convTranspose, maxPool,
 * avgPool, adaptiveAvgPool. They check and resolve their options, then bind the primitives of
 * primitives/conv.ts (conv, reduceWindowSum, reduceWindowMax) or compose them.
 *
 * Layout: channels-first (x [N, C, ...spatial], w [O, C/groups, ...kernel], as PyTorch and
 * lax.conv); conv's `layout: "channelsLast"` takes x [N, ...spatial, C] and w
 * [...kernel, C/groups, O] (JAX's NHWC/HWIO, TensorFlow's filter layout) and gives [N, ...out, O].
 */
import { toFloat, toOperands, type TensorLike } from "./coerce.js";
import { ArgumentError, checkArity, formatValue, ShapeError } from "./errors.js";
import { div, matmul } from "./ops.js";
import { checkOptions } from "./options.js";
import { dilatedSize, transposedFilter } from "./primitives/conv.js";
import { TENSOR_MATH } from "./primitives/tensor-math.js";
import { formatShape } from "./shape.js";
import { Tensor } from "./tensor.js";
import { bind } from "./trace.js";

/**
 * "valid" (none), "same" (JAX's SAME: ⌈n / stride⌉ outputs, the odd cell on the high side), a
 * number for every side, or one entry per spatial axis: a number or [lo, hi].
 */
export type ConvPadding = "valid" | "same" | number | readonly (number | readonly [number, number])[];

export interface ConvOptions {
  /** Step of the window, per spatial axis or one for all (default 1). */
  readonly stride?: number | readonly number[];
  readonly padding?: ConvPadding;
  /** Dilation of the filter (rhs dilation), per spatial axis or one for all (default 1). */
  readonly dilation?: number | readonly number[];
  /** Feature groups: C and O split in `groups` blocks; depthwise is groups = C (default 1). */
  readonly groups?: number;
  readonly layout?: "channelsFirst" | "channelsLast";
}

export interface ConvTransposeOptions {
  readonly stride?: number | readonly number[];
  /** The padding of the conv this transposes: a number, or per spatial axis a number or [lo, hi] (default 0). */
  readonly padding?: number | readonly (number | readonly [number, number])[];
  /** Extra cells on the high side of each spatial axis of the output, each < max(stride, dilation) (default 0). */
  readonly outputPadding?: number | readonly number[];
  readonly dilation?: number | readonly number[];
  readonly groups?: number;
}

export interface PoolOptions {
  /** Step of the window (default: the window). */
  readonly stride?: number | readonly number[];
  /** As conv's; every padding must be smaller than the window on its axis. */
  readonly padding?: ConvPadding;
}

export interface AvgPoolOptions extends PoolOptions {
  /** Divide by the whole window, padded cells included (default true), or by the input cells only. */
  readonly countIncludePad?: boolean;
}

// ── options ────────────────────────────────────────────────────────────────────────────────

/** A number for every spatial axis or one per axis, each an integer ≥ `min`. */
function perAxis(op: string, name: string, value: unknown, spatial: number, fallback: number, min = 1): number[] {
  if (value === undefined) return new Array<number>(spatial).fill(fallback);
  const list = typeof value === "number" ? new Array<number>(spatial).fill(value) : value;
  if (!Array.isArray(list) || list.length !== spatial || !list.every((v) => Number.isInteger(v) && v >= min)) {
    const what = min === 0 ? "non-negative integer" : "positive integer";
    throw new ArgumentError(`${op}: expected ${name} to be a ${what} or ${spatial} of them, got ${formatValue(value)}`);
  }
  return list.slice();
}

/** Flat (lo, hi) padding per spatial axis; `kernel` is the dilated window size, for "same". */
function resolvePadding(
  op: string,
  padding: unknown,
  inSize: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
): number[] {
  const spatial = inSize.length;
  if (padding === undefined || padding === "valid") return new Array<number>(2 * spatial).fill(0);
  if (padding === "same") {
    return inSize.flatMap((n, i) => {
      const out = Math.ceil(n / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + kernel[i]! - n);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
  }
  const isSide = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (isSide(padding)) return new Array<number>(2 * spatial).fill(padding as number);
  if (Array.isArray(padding) && padding.length === spatial) {
    const pairs = padding.map((p: unknown) => (isSide(p) ? [p, p] : Array.isArray(p) && p.length === 2 && p.every(isSide) ? p : null));
    if (pairs.every((p) => p !== null)) return (pairs as number[][]).flat();
  }
  throw new ArgumentError(
    `${op}: expected padding "valid", "same", a non-negative integer, or ${spatial} entries (integers or [lo, hi] pairs), ` +
      `got ${formatValue(padding)}`,
  );
}

function groupsOption(op: string, groups: unknown): number {
  if (groups === undefined) return 1;
  if (!Number.isInteger(groups) || (groups as number) < 1)
    throw new ArgumentError(`${op}: expected groups to be a positive integer, got ${formatValue(groups)}`);
  return groups as number;
}

/** The names of x's axes in an error message, for `spatial` axes (any when undefined). */
function layoutText(spatial: number | undefined, last: boolean): string {
  const names = spatial === undefined ? ["...spatial"] : [["W"], ["H", "W"], ["D", "H", "W"]][spatial - 1]!;
  return `[${(last ? ["N", ...names, "C"] : ["N", "C", ...names]).join(", ")}]`;
}

/** x and w as float tensors of one dtype. */
function floatPair(op: string, x: TensorLike, w: TensorLike): [Tensor, Tensor] {
  const [a, b] = toOperands(op, [x, w]);
  return [toFloat(a!), toFloat(b!)];
}

/** Checks x's rank: `spatial` axes (1–3 when undefined) after N and C. */
function checkRank(op: string, x: Tensor, spatial: number | undefined, last = false): number {
  const s = x.rank - 2;
  if (spatial === undefined ? s < 1 || s > 3 : s !== spatial) {
    const rank = spatial === undefined ? "3 to 5" : `${spatial + 2}`;
    throw new ShapeError(`${op}: expected x of rank ${rank} ${layoutText(spatial, last)}, got shape ${formatShape(x.shape)}`);
  }
  return s;
}

const moveLast = (rank: number) => [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
const moveFirst = (rank: number) => [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];

// ── conv ───────────────────────────────────────────────────────────────────────────────────

function convWith(op: string, spatial: number | undefined, x: TensorLike, w: TensorLike, options: unknown): Tensor {
  const o = checkOptions(op, options, ["stride", "padding", "dilation", "groups", "layout"]);
  const layout = o.layout ?? "channelsFirst";
  if (layout !== "channelsFirst" && layout !== "channelsLast") {
    throw new ArgumentError(`${op}: expected layout "channelsFirst" or "channelsLast", got ${formatValue(layout)}`);
  }
  const last = layout === "channelsLast";
  let [xt, wt] = floatPair(op, x, w);
  const s = checkRank(op, xt, spatial, last);
  if (wt.rank !== xt.rank) {
    const wNames = last ? "[...kernel, C/groups, O]" : "[O, C/groups, ...kernel]";
    throw new ShapeError(`${op}: expected w of rank ${xt.rank} ${wNames}, got shape ${formatShape(wt.shape)}`);
  }
  if (last) {
    xt = bind("transpose", [xt], { perm: moveLast(xt.rank) });
    wt = bind("transpose", [wt], { perm: [s + 1, s, ...Array.from({ length: s }, (_, i) => i)] });
  }
  const groups = groupsOption(op, o.groups);
  const [c, cg, out] = [xt.shape[1]!, wt.shape[1]!, wt.shape[0]!];
  if (c % groups !== 0 || out % groups !== 0 || cg * groups !== c) {
    throw new ShapeError(
      `${op}: expected w with C/groups = ${c / groups} input channels and a multiple of groups = ${groups} output channels ` +
        `(x has C = ${c}), got w of shape ${formatShape(wt.shape)}${last ? " (channelsLast: [...kernel, C/groups, O])" : ""}`,
    );
  }
  const inSize = xt.shape.slice(2);
  const kSize = wt.shape.slice(2);
  const strides = perAxis(op, "stride", o.stride, s, 1);
  const dilation = perAxis(op, "dilation", o.dilation, s, 1);
  const kernel = kSize.map((k, i) => dilatedSize(k, dilation[i]!));
  const padding = resolvePadding(op, o.padding, inSize, kernel, strides);
  inSize.forEach((n, i) => {
    const padded = n + padding[2 * i]! + padding[2 * i + 1]!;
    if (kSize[i] === 0 || padded < kernel[i]!) {
      throw new ShapeError(
        `${op}: expected a non-empty kernel no larger than the padded input on spatial axis ${i}, got kernel ${kSize[i]} ` +
          `(dilated ${kernel[i]}) and padded input ${padded}`,
      );
    }
  });
  const lhsDilation = new Array<number>(s).fill(1);
  const y = bind("conv", [xt, wt], { strides, padding, lhsDilation, rhsDilation: dilation, groups });
  return last ? bind("transpose", [y], { perm: moveFirst(y.rank) }) : y;
}

/**
 * The convolution (cross-correlation, as in deep learning) of x [N, C, ...spatial] with
 * w [O, C/groups, ...kernel], for 1 to 3 spatial axes: [N, O, ...out], out = ⌊(n + lo + hi −
 * d·(k − 1) − 1) / stride⌋ + 1. Differentiable in x and w at every order.
 */
export const conv = checkArity(
  "conv",
  2,
  3,
  (x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor => convWith("conv", undefined, x, w, options),
);
/** conv for x [N, C, W] (channelsLast: [N, W, C]). */
export const conv1d = checkArity(
  "conv1d",
  2,
  3,
  (x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor => convWith("conv1d", 1, x, w, options),
);
/** conv for x [N, C, H, W] (channelsLast: [N, H, W, C]). */
export const conv2d = checkArity(
  "conv2d",
  2,
  3,
  (x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor => convWith("conv2d", 2, x, w, options),
);
/** conv for x [N, C, D, H, W] (channelsLast: [N, D, H, W, C]). */
export const conv3d = checkArity(
  "conv3d",
  2,
  3,
  (x: TensorLike, w: TensorLike, options?: ConvOptions): Tensor => convWith("conv3d", 3, x, w, options),
);

/**
 * PyTorch's transposed convolution: y [N, O, ...spatial] with the same w [O, C/groups, ...kernel]
 * as the conv it transposes gives [N, C, ...], size (n − 1)·stride − lo − hi + dilation·(k − 1)
 * + outputPadding + 1; with matching options it is that conv's VJP with respect to x.
 */
export const convTranspose = checkArity("convTranspose", 2, 3, (y: TensorLike, w: TensorLike, options?: ConvTransposeOptions): Tensor => {
  const op = "convTranspose";
  const o = checkOptions(op, options, ["stride", "padding", "outputPadding", "dilation", "groups"]);
  const [yt, wt] = floatPair(op, y, w);
  const s = checkRank(op, yt, undefined);
  if (wt.rank !== yt.rank)
    throw new ShapeError(`${op}: expected w of rank ${yt.rank} [O, C/groups, ...kernel], got shape ${formatShape(wt.shape)}`);
  const groups = groupsOption(op, o.groups);
  if (wt.shape[0] !== yt.shape[1] || wt.shape[0]! % groups !== 0) {
    throw new ShapeError(
      `${op}: expected w of shape [O = ${yt.shape[1]}, C/groups, ...kernel] with O a multiple of groups = ${groups}, ` +
        `got ${formatShape(wt.shape)}`,
    );
  }
  const strides = perAxis(op, "stride", o.stride, s, 1);
  const dilation = perAxis(op, "dilation", o.dilation, s, 1);
  const extra = perAxis(op, "outputPadding", o.outputPadding, s, 0, 0);
  if (o.padding === "same") throw new ArgumentError(`${op}: expected padding "valid", an integer or [lo, hi] pairs, got "same"`);
  const pad = resolvePadding(op, o.padding, yt.shape.slice(2), [], strides);
  const padding: number[] = [];
  wt.shape.slice(2).forEach((k, i) => {
    if (extra[i]! >= Math.max(strides[i]!, dilation[i]!)) {
      throw new ArgumentError(`${op}: expected outputPadding smaller than stride or dilation on spatial axis ${i}, got ${extra[i]}`);
    }
    const reach = dilation[i]! * (k - 1);
    padding.push(reach - pad[2 * i]!, reach - pad[2 * i + 1]! + extra[i]!);
    const size = (yt.shape[i + 2]! - 1) * strides[i]! + reach + 1 - pad[2 * i]! - pad[2 * i + 1]! + extra[i]!;
    if (k === 0 || size < 0) {
      throw new ShapeError(`${op}: expected padding that leaves a non-negative output on spatial axis ${i}, got output size ${size}`);
    }
  });
  const params = { strides: new Array<number>(s).fill(1), padding, lhsDilation: strides, rhsDilation: dilation, groups };
  return bind("conv", [yt, transposedFilter(TENSOR_MATH, wt, groups)], params);
});

// ── pooling ────────────────────────────────────────────────────────────────────────────────

interface PoolGeometry {
  readonly x: Tensor;
  readonly window: number[];
  readonly strides: number[];
  readonly padding: number[];
}

/** x [N, C, ...spatial] (float) and the pool's window, strides (default: the window) and padding, over x's spatial axes. */
function poolGeometry(op: string, input: TensorLike, windowArg: unknown, options: Record<string, unknown>): PoolGeometry {
  const [x] = toOperands(op, [input]);
  const xt = toFloat(x!);
  const s = checkRank(op, xt, undefined);
  const window = perAxis(op, "window", windowArg, s, 1);
  const strides = options.stride === undefined ? window.slice() : perAxis(op, "stride", options.stride, s, 1);
  const padding = resolvePadding(op, options.padding, xt.shape.slice(2), window, strides);
  padding.forEach((p, i) => {
    if (p >= window[i >> 1]!) {
      throw new ArgumentError(`${op}: expected padding smaller than the window (${window[i >> 1]}) on spatial axis ${i >> 1}, got ${p}`);
    }
  });
  xt.shape.slice(2).forEach((n, i) => {
    if (n + padding[2 * i]! + padding[2 * i + 1]! < window[i]!) {
      throw new ShapeError(
        `${op}: expected a window no larger than the padded input on spatial axis ${i}, ` +
          `got window ${window[i]} and input ${formatShape(xt.shape)}`,
      );
    }
  });
  return { x: xt, window, strides, padding };
}

/** Window params over every axis of x: N and C get a window of 1. */
function allAxes(g: PoolGeometry) {
  return { window: [1, 1, ...g.window], strides: [1, 1, ...g.strides], padding: [0, 0, 0, 0, ...g.padding] };
}

/**
 * The max over each window of x [N, C, ...spatial] (padded cells never win). The derivative
 * follows reduce-max's tie convention: k tied maxima of a window get 1/k of its cotangent each.
 */
export const maxPool = checkArity("maxPool", 2, 3, (x: TensorLike, window: number | readonly number[], options?: PoolOptions): Tensor => {
  const g = poolGeometry("maxPool", x, window, checkOptions("maxPool", options, ["stride", "padding"]));
  return bind("reduceWindowMax", [g.x], allAxes(g));
});

/** The number of input (not padded) cells of each window along one axis. */
function cellsPerWindow(n: number, k: number, stride: number, lo: number, outSize: number): number[] {
  return Array.from({ length: outSize }, (_, p) => {
    const from = p * stride - lo;
    return Math.min(n, from + k) - Math.max(0, from);
  });
}

/**
 * The mean over each window of x [N, C, ...spatial]: the window sum over the window's size
 * (padded cells count as zeros), or with `countIncludePad: false` over its input cells only.
 */
export const avgPool = checkArity(
  "avgPool",
  2,
  3,
  (x: TensorLike, window: number | readonly number[], options?: AvgPoolOptions): Tensor => {
    const o = checkOptions("avgPool", options, ["stride", "padding", "countIncludePad"]);
    if (o.countIncludePad !== undefined && typeof o.countIncludePad !== "boolean") {
      throw new ArgumentError(`avgPool: expected countIncludePad to be a boolean, got ${formatValue(o.countIncludePad)}`);
    }
    const g = poolGeometry("avgPool", x, window, o);
    const sums = bind("reduceWindowSum", [g.x], allAxes(g));
    if (o.countIncludePad !== false || g.padding.every((p) => p === 0))
      return div(
        sums,
        g.window.reduce((a, b) => a * b, 1),
      );
    // the input cells per window: a product of per-axis counts, as a constant [1, 1, ...out]
    const out = sums.shape.slice(2);
    const perAxisCounts = out.map((size, i) => cellsPerWindow(g.x.shape[i + 2]!, g.window[i]!, g.strides[i]!, g.padding[2 * i]!, size));
    const total = out.reduce((a, b) => a * b, 1);
    const counts = new (g.x.dtype === "float32" ? Float32Array : Float64Array)(total);
    for (let flat = 0; flat < total; flat++) {
      let rest = flat;
      let product = 1;
      for (let a = out.length - 1; a >= 0; a--) {
        product *= perAxisCounts[a]![rest % out[a]!]!;
        rest = Math.floor(rest / out[a]!);
      }
      counts[flat] = product;
    }
    return div(sums, new Tensor(g.x.dtype, [1, 1, ...out], counts));
  },
);

/**
 * PyTorch's adaptive average pool: x [N, C, ...spatial] to [N, C, ...outputSize], output cell i
 * of an axis of n cells averaging cells ⌊i·n/m⌋ to ⌈(i + 1)·n/m⌉ − 1 (bins may overlap).
 */
export const adaptiveAvgPool = checkArity("adaptiveAvgPool", 2, 2, (x: TensorLike, outputSize: number | readonly number[]): Tensor => {
  const op = "adaptiveAvgPool";
  const [input] = toOperands(op, [x]);
  let t = toFloat(input!);
  const s = checkRank(op, t, undefined);
  const sizes = perAxis(op, "outputSize", outputSize, s, 1);
  for (let i = 0; i < s; i++) {
    const n = t.shape[i + 2]!;
    const m = sizes[i]!;
    if (n === 0) throw new ShapeError(`${op}: expected non-empty spatial axes, got shape ${formatShape(t.shape)}`);
    if (n === m) continue;
    // the bins as an [n, m] averaging matrix, applied to the axis moved last
    const bins = new (t.dtype === "float32" ? Float32Array : Float64Array)(n * m);
    for (let j = 0; j < m; j++) {
      const from = Math.floor((j * n) / m);
      const to = Math.ceil(((j + 1) * n) / m);
      for (let c = from; c < to; c++) bins[c * m + j] = 1 / (to - from);
    }
    const axis = i + 2;
    const perm = t.shape.map((_, a) => (a === axis ? t.rank - 1 : a === t.rank - 1 ? axis : a));
    const moved = bind("transpose", [t], { perm });
    t = bind("transpose", [matmul(moved, new Tensor(t.dtype, [n, m], bins))], { perm });
  }
  return t;
});
