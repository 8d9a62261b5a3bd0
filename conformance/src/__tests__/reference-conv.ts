/**
 * The reference engines' rules for the convolution family (issue 18), written from the math and
 * independent of ir's definitions (which express conv's derivatives as transposed convs): here a
 * conv is a matrix product with patches of x, gathered by a dense 0/1 incidence matrix T
 * (T[(k, p), s] = 1 when tap k of output position p reads input cell s), so its derivatives are
 * matrix products with T and its transpose.
 */
import { astype, bind, div, equal, greater, max, mul, reshape, sum, Tensor, where, type Params } from "@chainrule/ir";

type ConvParams = Params<"conv">;

/** The spatial positions of a shape, row-major, as coordinate lists. */
function positions(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const size of shape) out = out.flatMap((prefix) => Array.from({ length: size }, (_, i) => [...prefix, i]));
  return out;
}

/** T [K·P, S] for one channel (k-major rows), as `dtype`. */
function incidence(
  xShape: readonly number[],
  wShape: readonly number[],
  yShape: readonly number[],
  p: ConvParams,
  dtype: Tensor["dtype"],
): Tensor {
  const s = xShape.slice(2);
  const taps = positions(wShape.slice(2));
  const outs = positions(yShape.slice(2));
  const cells = s.reduce((a, b) => a * b, 1);
  const size = taps.length * outs.length * cells;
  const data = dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
  taps.forEach((k, ki) => {
    outs.forEach((pos, pi) => {
      let cell = 0;
      for (let a = 0; a < s.length; a++) {
        // the position in the dilated, padded input, back to an input cell (or none)
        const q = pos[a]! * p.strides[a]! + k[a]! * p.rhsDilation[a]! - p.padding[2 * a]!;
        const i = q / p.lhsDilation[a]!;
        if (q < 0 || !Number.isInteger(i) || i >= s[a]!) return;
        cell = cell * s[a]! + i;
      }
      data[(ki * outs.length + pi) * cells + cell] = 1;
    });
  });
  return new Tensor(dtype, [taps.length * outs.length, cells], data);
}

interface ConvView {
  readonly t: Tensor;
  /** [N, G, Cg·K, P]: the patches of x. */
  readonly patches: Tensor;
  /** [G, Og, Cg·K]. */
  readonly w3: Tensor;
  readonly sizes: { n: number; c: number; g: number; ck: number; og: number; p: number; kp: number };
}

function convView(x: Tensor, w: Tensor, yShape: readonly number[], p: ConvParams): ConvView {
  const [n, c] = x.shape as [number, number];
  const [o, cg] = w.shape as [number, number];
  const g = p.groups;
  const k = w.shape.slice(2).reduce((a, b) => a * b, 1);
  const pos = yShape.slice(2).reduce((a, b) => a * b, 1);
  const t = incidence(x.shape, w.shape, yShape, p, x.dtype);
  const x3 = bind("reshape", [x], { shape: [n, c, x.size / (n * c || 1)] });
  const cols = bind("matmul", [x3, bind("transpose", [t], { perm: [1, 0] })], {});
  const patches = bind("reshape", [cols], { shape: [n, g, cg * k, pos] });
  const w3 = bind("reshape", [w], { shape: [g, o / g, cg * k] });
  return { t, patches, w3, sizes: { n, c, g, ck: cg * k, og: o / g, p: pos, kp: k * pos } };
}

const swapLast = (t: Tensor) => bind("transpose", [t], { perm: t.shape.map((_, i) => (i < t.rank - 2 ? i : 2 * t.rank - 3 - i)) });

/** d conv(x, w) = conv(dx, w) + conv(x, dw) (bilinear). */
export function convJvp([x, w]: Tensor[], [tx, tw]: Tensor[], _y: Tensor, params: ConvParams): Tensor {
  return bind("add", [bind("conv", [tx!, w!], params), bind("conv", [x!, tw!], params)], {});
}

/** With Y = W·patches(x): patches̄ = Wᵀ·Ȳ, x̄ = patches̄·T (summed per cell), W̄ = Σₙ Ȳ·patchesᵀ. */
export function convVjp(g: Tensor, [x, w]: Tensor[], y: Tensor, params: ConvParams): (Tensor | undefined)[] {
  const v = convView(x!, w!, y.shape, params);
  const { n, c, g: groups, og, p } = v.sizes;
  const g4 = bind("reshape", [g], { shape: [n, groups, og, p] });
  const patchesBar = bind("matmul", [swapLast(v.w3), g4], {});
  const colsBar = bind("reshape", [patchesBar], { shape: [n, c, v.sizes.kp] });
  const xBar = bind("reshape", [bind("matmul", [colsBar, v.t], {})], { shape: x!.shape.slice() });
  const wPer = bind("matmul", [g4, swapLast(v.patches)], {});
  const wBar = bind("reshape", [bind("reduceSum", [wPer], { axes: [0] })], { shape: w!.shape.slice() });
  return [xBar, wBar];
}

// ── pooling: window reductions as products with a dense window incidence matrix E ──────────

type WindowParams = Params<"reduceWindowSum">;

/** E [windows, cells] (flat over all axes): E[o, i] = 1 when input cell i is in window o (padded cells are in none). */
function windowIncidence(xShape: readonly number[], p: WindowParams, dtype: Tensor["dtype"]): Tensor {
  const outShape = xShape.map((n, a) => Math.floor((n + p.padding[2 * a]! + p.padding[2 * a + 1]! - p.window[a]!) / p.strides[a]!) + 1);
  const outs = positions(outShape);
  const taps = positions(p.window);
  const cells = xShape.reduce((a, b) => a * b, 1);
  const data = dtype === "float32" ? new Float32Array(outs.length * cells) : new Float64Array(outs.length * cells);
  outs.forEach((pos, o) => {
    for (const k of taps) {
      let cell = 0;
      let inside = true;
      pos.forEach((v, a) => {
        const i = v * p.strides[a]! + k[a]! - p.padding[2 * a]!;
        if (i < 0 || i >= xShape[a]!) inside = false;
        cell = cell * xShape[a]! + i;
      });
      if (inside) data[o * cells + cell] = 1;
    }
  });
  return new Tensor(dtype, [outs.length, cells], data);
}

const column = (t: Tensor) => bind("reshape", [t], { shape: [t.size, 1] });

/** E·v (sum over each window) or Eᵀ·v (spread back), shaped as `shape`. */
function through(e: Tensor, v: Tensor, transposed: boolean, shape: readonly number[]): Tensor {
  const m = transposed ? bind("transpose", [e], { perm: [1, 0] }) : e;
  return bind("reshape", [bind("matmul", [m, column(v)], {})], { shape: shape.slice() });
}

/** W = E·[x = window max] / (number of maxima): the tie-sharing weights of each window's maxima (constant in x). */
function maxWeights(x: Tensor, p: WindowParams): Tensor {
  const e = windowIncidence(x.shape, p, x.dtype);
  const row = reshape(x, [1, x.size]);
  const best = max(where(greater(e, 0), row, -Infinity), 1, true);
  const hits = mul(e, astype(equal(row, best), x.dtype));
  return div(hits, sum(hits, 1, true));
}

/** W·v (over each window) or Wᵀ·v (spread back onto the maxima), shaped as `shape`. */
function throughMax(x: Tensor, p: WindowParams, v: Tensor, transposed: boolean, shape: readonly number[]): Tensor {
  return through(maxWeights(x, p), v, transposed, shape);
}

export const windowJvpRules = {
  // linear: the tangent goes through the primitive itself
  reduceWindowSum: ([x]: Tensor[], [t]: Tensor[], y: Tensor, p: WindowParams) =>
    through(windowIncidence(x!.shape, p, y.dtype), t!, false, y.shape),
  reduceWindowSumTranspose: (_xs: Tensor[], [t]: Tensor[], y: Tensor, p: WindowParams) =>
    through(windowIncidence(y.shape, p, y.dtype), t!, true, y.shape),
  // d max = W·dx
  reduceWindowMax: ([x]: Tensor[], [t]: Tensor[], y: Tensor, p: WindowParams) => throughMax(x!, p, t!, false, y.shape),
  selectAndGatherAdd: ([, x]: Tensor[], [t]: Tensor[], y: Tensor, p: WindowParams) => throughMax(x!, p, t!, false, y.shape),
  selectAndScatterAdd: ([, x]: Tensor[], [t]: Tensor[], y: Tensor, p: WindowParams) => throughMax(x!, p, t!, true, y.shape),
};

export const windowVjpRules = {
  // x̄ = Eᵀ·ȳ
  reduceWindowSum: (g: Tensor, [x]: Tensor[], _y: Tensor, p: WindowParams) => [
    through(windowIncidence(x!.shape, p, g.dtype), g, true, x!.shape),
  ],
  // s̄ = E·ȳ
  reduceWindowSumTranspose: (g: Tensor, [s]: Tensor[], y: Tensor, p: WindowParams) => [
    through(windowIncidence(y.shape, p, g.dtype), g, false, s!.shape),
  ],
  // x̄ = Wᵀ·ȳ
  reduceWindowMax: (g: Tensor, [x]: Tensor[], _y: Tensor, p: WindowParams) => [throughMax(x!, p, g, true, x!.shape)],
  selectAndGatherAdd: (g: Tensor, [t, x]: Tensor[], _y: Tensor, p: WindowParams) => [throughMax(x!, p, g, true, t!.shape), undefined],
  selectAndScatterAdd: (g: Tensor, [s, x]: Tensor[], _y: Tensor, p: WindowParams) => [throughMax(x!, p, g, false, s!.shape), undefined],
};
