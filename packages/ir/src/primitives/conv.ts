/**
 * Convolution and pooling (issue 18): `conv`, JAX's `conv_general_dilated` in channels-first
 * layout, and the window reductions of pooling.
 *
 * conv: x [N, C, ...S] and w [O, C/groups, ...K] give [N, O, ...out] with, on each spatial axis,
 * out[p] = Σ_{c, k} x̃[p·stride + k·rhsDilation] · w[o, c, k], where x̃ is x dilated by
 * lhsDilation (lhsDilation − 1 zeros between elements) and padded by (lo, hi) — negative padding
 * crops. Its derivatives are convolutions again (JAX's `_conv_general_dilated_transpose_lhs/rhs`),
 * so every order works.
 */
import { allocate } from "../dtype.js";
import { formatValue, ShapeError } from "../errors.js";
import type { Kernel } from "../kernels.js";
import { formatShape, shapesEqual, sizeOf } from "../shape.js";
import { Tensor } from "../tensor.js";
import { bind } from "../trace.js";
import {
  bilinearJvp,
  expandBatched,
  linearJvp,
  requireFloat,
  requireSameDtype,
  type BatchRule,
  type Definitions,
  type ShapeRule,
} from "./define.js";
import type { TensorMath } from "./math.js";
import { WINDOW } from "./window-kernels.js";

export interface ConvParams {
  /**
   * Channels-first convolution (cross-correlation) of x [N, C, ...S] with w [O, C/groups, ...K]:
   * `padding` holds (lo, hi) per spatial axis (negative crops), `lhsDilation` dilates x,
   * `rhsDilation` dilates w, the feature groups split C and O into `groups` blocks.
   */
  conv: { strides: number[]; padding: number[]; lhsDilation: number[]; rhsDilation: number[]; groups: number };
  /** Sums of x over windows sliding on every axis (padded cells are 0): the sum pool. */
  reduceWindowSum: WindowParams;
  /** reduceWindowSum's transpose: each value of s added onto every cell of its window, into a zero tensor of `shape`. */
  reduceWindowSumTranspose: WindowParams & { shape: number[] };
  /** Maxima of x over windows sliding on every axis (padded cells are −∞): the max pool. */
  reduceWindowMax: WindowParams;
  /** selectAndGatherAdd(t, x): Σ t·w over each window, w = 1/k on each of the window's k maxima of x (reduceWindowMax's JVP). */
  selectAndGatherAdd: WindowParams;
  /**
   * selectAndScatterAdd(s, x): each s spread as s·w onto its window's maxima of x (reduceWindowMax's
   * VJP; the transpose of selectAndGatherAdd in t).
   */
  selectAndScatterAdd: WindowParams;
}

/** A window on every axis of a rank-r operand: r sizes, r strides, (lo, hi) padding per axis. */
export interface WindowParams {
  window: number[];
  strides: number[];
  padding: number[];
}

export type ConvPrimitiveParams = ConvParams["conv"];
type WindowPrimitive = Exclude<keyof ConvParams, "conv">;

// ── shapes ─────────────────────────────────────────────────────────────────────────────────

/** Size of a length-n axis dilated by d (d − 1 zeros between elements). */
export function dilatedSize(n: number, d: number): number {
  return n === 0 ? 0 : (n - 1) * d + 1;
}

/** Output length of a window of `k` taps (dilated by `rd`) sliding by `stride` over `n` cells (dilated by `ld`, padded lo, hi). */
export function windowOutputSize(n: number, k: number, stride: number, lo: number, hi: number, ld = 1, rd = 1): number {
  const span = dilatedSize(n, ld) + lo + hi - dilatedSize(k, rd);
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
}

function checkPositiveList(op: string, name: string, list: unknown, length: number): asserts list is number[] {
  if (!Array.isArray(list) || list.length !== length || !list.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ShapeError(`${op}: expected ${name} to be ${length} positive integers, got ${formatValue(list)}`);
  }
}

function checkPadding(op: string, padding: unknown, spatial: number): asserts padding is number[] {
  if (!Array.isArray(padding) || padding.length !== 2 * spatial || !padding.every((v) => Number.isInteger(v))) {
    throw new ShapeError(`${op}: expected padding to be ${2 * spatial} integers (lo, hi per spatial axis), got ${formatValue(padding)}`);
  }
}

const convShape: ShapeRule<"conv"> = ([x, w], params) => {
  const dtype = requireSameDtype("conv", [x!, w!]);
  requireFloat("conv", dtype);
  const rank = x!.shape.length;
  if (rank < 3 || rank > 5 || w!.shape.length !== rank) {
    throw new ShapeError(
      `conv: expected x [N, C, ...spatial] and w [O, C/groups, ...kernel] of one rank in 3..5, ` +
        `got ${formatShape(x!.shape)} and ${formatShape(w!.shape)}`,
    );
  }
  const spatial = rank - 2;
  const { strides, padding, lhsDilation, rhsDilation, groups } = params;
  checkPositiveList("conv", "strides", strides, spatial);
  checkPositiveList("conv", "lhsDilation", lhsDilation, spatial);
  checkPositiveList("conv", "rhsDilation", rhsDilation, spatial);
  checkPadding("conv", padding, spatial);
  const [n, c] = x!.shape as [number, number];
  const [o, cg] = w!.shape as [number, number];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || o % groups !== 0) {
    throw new ShapeError(`conv: expected groups to be a positive integer dividing C = ${c} and O = ${o}, got ${formatValue(groups)}`);
  }
  if (cg * groups !== c) {
    throw new ShapeError(
      `conv: expected w [O, C/groups = ${c / groups}, ...kernel] for x ${formatShape(x!.shape)} and groups ${groups}, ` +
        `got ${formatShape(w!.shape)}`,
    );
  }
  const out = x!.shape
    .slice(2)
    .map((d, i) =>
      windowOutputSize(d, w!.shape[i + 2]!, strides[i]!, padding[2 * i]!, padding[2 * i + 1]!, lhsDilation[i], rhsDilation[i]),
    );
  return { shape: [n, o, ...out], dtype };
};

/** The output shape of a window of `params` sliding over `shape` (checking the params). */
function windowShape(op: string, shape: readonly number[], { window, strides, padding }: WindowParams): number[] {
  const rank = shape.length;
  checkPositiveList(op, "window", window, rank);
  checkPositiveList(op, "strides", strides, rank);
  checkPadding(op, padding, rank);
  return shape.map((d, i) => windowOutputSize(d, window[i]!, strides[i]!, padding[2 * i]!, padding[2 * i + 1]!));
}

function windowReductionShape(op: "reduceWindowSum" | "reduceWindowMax"): ShapeRule<WindowPrimitive> {
  return ([x], params) => {
    requireFloat(op, x!.dtype);
    return { shape: windowShape(op, x!.shape, params), dtype: x!.dtype };
  };
}

const sumTransposeShape: ShapeRule<"reduceWindowSumTranspose"> = ([s], params) => {
  requireFloat("reduceWindowSumTranspose", s!.dtype);
  if (!Array.isArray(params.shape) || !params.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`reduceWindowSumTranspose: expected a shape of non-negative integers, got ${formatValue(params.shape)}`);
  }
  const expected = windowShape("reduceWindowSumTranspose", params.shape, params);
  if (!shapesEqual(expected, s!.shape)) {
    throw new ShapeError(
      `reduceWindowSumTranspose: expected an operand of shape ${formatShape(expected)} (windows over ${formatShape(params.shape)}), ` +
        `got ${formatShape(s!.shape)}`,
    );
  }
  return { shape: params.shape.slice(), dtype: s!.dtype };
};

/** selectAndGatherAdd(t, x) → the windows' shape; selectAndScatterAdd(s, x) → x's shape. */
function selectShape(op: "selectAndGatherAdd" | "selectAndScatterAdd"): ShapeRule<WindowPrimitive> {
  return ([t, x], params) => {
    const dtype = requireSameDtype(op, [t!, x!]);
    requireFloat(op, dtype);
    const windows = windowShape(op, x!.shape, params);
    const expected = op === "selectAndGatherAdd" ? x!.shape : windows;
    if (!shapesEqual(expected, t!.shape)) {
      throw new ShapeError(
        `${op}: expected a first operand of shape ${formatShape(expected)} for x ${formatShape(x!.shape)}, got ${formatShape(t!.shape)}`,
      );
    }
    return { shape: op === "selectAndGatherAdd" ? windows : x!.shape.slice(), dtype };
  };
}

// ── the eager kernel ───────────────────────────────────────────────────────────────────────

const convKernel: Kernel<"conv"> = ([x, w], p, out) => {
  const data = allocate("conv", out.dtype, sizeOf(out.shape));
  WINDOW.conv(x!.data, w!.data, data, x!.shape, w!.shape, out.shape, p.strides, p.padding, p.lhsDilation, p.rhsDilation, p.groups);
  return new Tensor(out.dtype, out.shape, data);
};

type WindowMode = Parameters<typeof WINDOW.reduceWindow>[0];

/** A window primitive's kernel: `mode`'s loop, over the windows of x (the last operand, or the output's shape for the transpose). */
function windowKernel(mode: WindowMode): Kernel<WindowPrimitive> {
  return (inputs, params, out) => {
    const data = allocate(mode, out.dtype, sizeOf(out.shape));
    const t = inputs[0]!;
    const x = inputs.length > 1 ? inputs[1]! : null;
    const xShape = mode === "sumTranspose" ? out.shape : (x ?? t).shape;
    const windows = mode === "sumTranspose" ? t.shape : mode === "maxScatter" ? t.shape : out.shape;
    WINDOW.reduceWindow(mode, t.data, x?.data ?? null, data, xShape, windows, params.window, params.strides, params.padding);
    return new Tensor(out.dtype, out.shape, data);
  };
}

/** The window params of a transpose's params (without `shape`). */
const windowOf = (p: WindowParams): WindowParams => ({ window: p.window.slice(), strides: p.strides.slice(), padding: p.padding.slice() });

/** Window params with a leading axis of window 1 (the batch axis). */
function batchedWindow<P extends WindowParams>(p: P, k: number): P {
  const extra = "shape" in p ? { shape: [k, ...(p as { shape: number[] }).shape] } : {};
  return { ...p, window: [1, ...p.window], strides: [1, ...p.strides], padding: [0, 0, ...p.padding], ...extra };
}

/** Batching of a window primitive: the batch axis becomes one more axis with a window of 1 (unbatched operands broadcast). */
function windowBatch<P extends WindowPrimitive>(name: P): BatchRule<P> {
  return (args, batched, params, k) =>
    bind(
      name,
      args.map((a, i) => (batched[i] ? a : expandBatched(a, k, a.shape))),
      batchedWindow(params, k),
    );
}

// ── derivatives: convolutions again ────────────────────────────────────────────────────────

/** `t` with its spatial axes (from 2 on) reversed, by gathers with constant indices (linear). */
function flipSpatial(m: TensorMath, t: Tensor): Tensor {
  let out = t;
  for (let axis = 2; axis < t.rank; axis++) {
    const size = t.shape[axis]!;
    if (size <= 1) continue;
    const indices = allocate("conv", "int32", size);
    for (let i = 0; i < size; i++) indices[i] = size - 1 - i;
    out = m.bind("gather", [out, new Tensor("int32", [size], indices)], { axis });
  }
  return out;
}

/** The spatial axes' permutation tail [2, 3, …, rank − 1]. */
function spatialAxes(rank: number): number[] {
  return Array.from({ length: rank - 2 }, (_, i) => i + 2);
}

/**
 * w [O, C/G, ...K] as the filter of the transposed conv, [C, O/G, ...K] with the spatial axes
 * reversed: group g's block of output channels becomes its block of input channels.
 */
export function transposedFilter(m: TensorMath, w: Tensor, groups: number): Tensor {
  const [o, cg, ...k] = w.shape as number[];
  const split = m.bind("reshape", [w], { shape: [groups, o! / groups, cg!, ...k] });
  const swapped = m.bind("transpose", [split], { perm: [0, 2, 1, ...k.map((_, i) => i + 3)] });
  return flipSpatial(m, m.bind("reshape", [swapped], { shape: [groups * cg!, o! / groups, ...k] }));
}

/**
 * x̄ for ȳ [N, O, ...out]: the conv of ȳ dilated by the strides with the transposed, flipped
 * filter; the padding puts each tap back where it came from (lo' = rd·(K − 1) − lo, hi' what
 * makes the output x's size).
 */
export function convTransposeLhs(m: TensorMath, ct: Tensor, w: Tensor, xShape: readonly number[], p: ConvPrimitiveParams): Tensor {
  const padding: number[] = [];
  xShape.slice(2).forEach((n, i) => {
    const kd = dilatedSize(w.shape[i + 2]!, p.rhsDilation[i]!);
    const before = kd - p.padding[2 * i]! - 1;
    const outDilated = dilatedSize(ct.shape[i + 2]!, p.strides[i]!);
    padding.push(before, dilatedSize(n, p.lhsDilation[i]!) + kd - 1 - outDilated - before);
  });
  const params = {
    strides: p.lhsDilation.slice(),
    padding,
    lhsDilation: p.strides.slice(),
    rhsDilation: p.rhsDilation.slice(),
    groups: p.groups,
  };
  return m.bind("conv", [ct, transposedFilter(m, w, p.groups)], params);
}

/**
 * w̄ for ȳ [N, O, ...out]: per group, the conv of x with C as its batch axis and N as its
 * features, by ȳ with N as its input channels; the groups fold into the features (x [N, G·C/G]
 * → [C/G, G·N]), the window slides by the dilation and steps the kernel by the strides.
 */
export function convTransposeRhs(m: TensorMath, ct: Tensor, x: Tensor, wShape: readonly number[], p: ConvPrimitiveParams): Tensor {
  const [n, c, ...s] = x.shape as number[];
  const g = p.groups;
  const cg = c! / g;
  const rest = s.map((_, i) => i + 3);
  const xs = m.bind("reshape", [x], { shape: [n!, g, cg, ...s] });
  const xt = m.bind("reshape", [m.bind("transpose", [xs], { perm: [2, 1, 0, ...rest] })], { shape: [cg, g * n!, ...s] });
  const spatial = spatialAxes(ct.rank);
  const ctT = m.bind("transpose", [ct], { perm: [1, 0, ...spatial] });
  const padding: number[] = [];
  s.forEach((size, i) => {
    const lo = p.padding[2 * i]!;
    const outDilated = dilatedSize(ct.shape[i + 2]!, p.strides[i]!);
    const kd = dilatedSize(wShape[i + 2]!, p.rhsDilation[i]!);
    padding.push(lo, outDilated - dilatedSize(size, p.lhsDilation[i]!) + kd - lo - 1);
  });
  const params = { strides: p.rhsDilation.slice(), padding, lhsDilation: p.lhsDilation.slice(), rhsDilation: p.strides.slice(), groups: g };
  const grad = m.bind("conv", [xt, ctT], params);
  return m.bind("transpose", [grad], { perm: [1, 0, ...spatial] });
}

// ── batching: the batch axis folds into N (x) or into the feature groups (w) ───────────────

function convBatch(args: readonly Tensor[], batched: readonly boolean[], params: ConvPrimitiveParams, k: number): Tensor {
  const [x, w] = args as [Tensor, Tensor];
  if (!batched[1]) {
    const [, n, ...rest] = x.shape as number[];
    const y = bind("conv", [bind("reshape", [x], { shape: [k * n!, ...rest] }), w], params);
    return bind("reshape", [y], { shape: [k, n!, ...y.shape.slice(1)] });
  }
  // w batched: k filters side by side as k·groups feature groups, x's k copies as k·C channels
  const xb = batched[0] ? x : expandBatched(x, k, x.shape);
  const [, n, c, ...s] = xb.shape as number[];
  const spatialPerm = s.map((_, i) => i + 3);
  const xf = bind("reshape", [bind("transpose", [xb], { perm: [1, 0, 2, ...spatialPerm] })], { shape: [n!, k * c!, ...s] });
  const [, o, ...wRest] = w.shape as number[];
  const wf = bind("reshape", [w], { shape: [k * o!, ...wRest] });
  const y = bind("conv", [xf, wf], { ...params, groups: k * params.groups });
  const out = y.shape.slice(2);
  const split = bind("reshape", [y], { shape: [n!, k, o!, ...out] });
  return bind("transpose", [split], { perm: [1, 0, 2, ...out.map((_, i) => i + 3)] });
}

const WINDOW_PARAM_KINDS = { window: "ints", strides: "ints", padding: "ints" } as const;

export const CONV: Definitions<keyof ConvParams> = {
  conv: {
    name: "conv",
    arity: 2,
    params: { strides: "ints", padding: "ints", lhsDilation: "ints", rhsDilation: "ints", groups: "int" },
    shape: convShape,
    kernel: convKernel,
    // d conv(x, w) = conv(dx, w) + conv(x, dw)   (bilinear)
    jvp: bilinearJvp("conv"),
    // x̄ = conv(ȳ dilated by the strides, w flipped and transposed); w̄ = conv(x, ȳ) with N as the contracted axis
    vjp: {
      saves: "inputs",
      vjp: (ct, { x, params }, needs, m) => [
        needs & 1 ? convTransposeLhs(m, ct, x[1]!, x[0]!.shape, params) : null,
        needs & 2 ? convTransposeRhs(m, ct, x[0]!, x[1]!.shape, params) : null,
      ],
    },
    batch: (args, batched, params, k) => convBatch(args, batched, params, k),
  },
  reduceWindowSum: {
    name: "reduceWindowSum",
    arity: 1,
    params: WINDOW_PARAM_KINDS,
    shape: windowReductionShape("reduceWindowSum"),
    kernel: windowKernel("sum"),
    // d Σ_window x = Σ_window dx   (linear)
    jvp: linearJvp("reduceWindowSum", [0]),
    // x̄ = each ȳ spread onto the cells of its window
    vjp: {
      saves: "nothing",
      vjp: (ct, node, _needs, m) => [m.bind("reduceWindowSumTranspose", [ct], { ...windowOf(node.params), shape: node.shape(0).slice() })],
    },
    batch: windowBatch("reduceWindowSum"),
  },
  reduceWindowSumTranspose: {
    name: "reduceWindowSumTranspose",
    arity: 1,
    params: { ...WINDOW_PARAM_KINDS, shape: "ints" },
    shape: sumTransposeShape,
    kernel: windowKernel("sumTranspose"),
    // linear: d spread(s) = spread(ds)
    jvp: linearJvp("reduceWindowSumTranspose", [0]),
    // s̄ = the window sums of ȳ (its transpose is reduceWindowSum)
    vjp: { saves: "nothing", vjp: (ct, node, _needs, m) => [m.bind("reduceWindowSum", [ct], windowOf(node.params))] },
    batch: windowBatch("reduceWindowSumTranspose"),
  },
  reduceWindowMax: {
    name: "reduceWindowMax",
    arity: 1,
    params: WINDOW_PARAM_KINDS,
    shape: windowReductionShape("reduceWindowMax"),
    kernel: windowKernel("max"),
    // d max_window x = Σ_window dx · w, w = 1/k on each of the window's k maxima (the reduce-max tie convention)
    jvp: (dx, { x, params }, ops) => (dx[0] == null ? null : ops.apply("selectAndGatherAdd", [dx[0], x[0]!], params)),
    // x̄ = each ȳ spread as ȳ · w onto its window's maxima
    vjp: { saves: "inputs", vjp: (ct, { x, params }, _needs, m) => [m.bind("selectAndScatterAdd", [ct, x[0]!], params)] },
    batch: windowBatch("reduceWindowMax"),
  },
  selectAndGatherAdd: {
    name: "selectAndGatherAdd",
    arity: 2,
    params: WINDOW_PARAM_KINDS,
    shape: selectShape("selectAndGatherAdd"),
    kernel: windowKernel("maxGather"),
    // linear in t; the weights are piecewise constant in x (derivative 0)
    jvp: linearJvp("selectAndGatherAdd", [0]),
    // t̄ = ȳ spread onto the maxima (its transpose in t is selectAndScatterAdd); x̄ = 0
    vjp: { saves: "inputs", vjp: (ct, { x, params }, _needs, m) => [m.bind("selectAndScatterAdd", [ct, x[1]!], params), null] },
    batch: windowBatch("selectAndGatherAdd"),
  },
  selectAndScatterAdd: {
    name: "selectAndScatterAdd",
    arity: 2,
    params: WINDOW_PARAM_KINDS,
    shape: selectShape("selectAndScatterAdd"),
    kernel: windowKernel("maxScatter"),
    // linear in s; the weights are piecewise constant in x (derivative 0)
    jvp: linearJvp("selectAndScatterAdd", [0]),
    // s̄ = Σ ȳ · w over each window (its transpose in s is selectAndGatherAdd); x̄ = 0
    vjp: { saves: "inputs", vjp: (ct, { x, params }, _needs, m) => [m.bind("selectAndGatherAdd", [ct, x[1]!], params), null] },
    batch: windowBatch("selectAndScatterAdd"),
  },
};
