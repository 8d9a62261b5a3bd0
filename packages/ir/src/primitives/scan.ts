/**
 * Scans and sorting along one axis: the first-order linear recurrence `linearScan` (cumsum,
 * cumprod and logcumsumexp are composites of it), `argcummax` (the index of the running max,
 * from which cummax/cummin pick their values) and the stable `argsort`. Only `linearScan` has a
 * derivative: the index primitives have int32 outputs (derivative 0), and the ops built on them
 * differentiate through `gather`, so a sort's gradient scatters back through its permutation.
 */
import { allocate, type TypedArray } from "../dtype.js";
import { DTypeError, formatValue, ShapeError } from "../errors.js";
import { around, broadcastOperand, type Kernel } from "../kernels.js";
import type { Aval } from "../primitives.js";
import { formatShape } from "../shape.js";
import { Tensor } from "../tensor.js";
import { bind } from "../trace.js";
import { checkAxisParam, needsInput, shiftedBatch, ZERO_DERIVATIVE, type BatchRule, type Definitions } from "./define.js";
import type { TensorMath } from "./math.js";

export interface ScanParams {
  /**
   * h = linearScan(a, b) along `axis`: h₀ = b₀, hᵢ = aᵢ·hᵢ₋₁ + bᵢ (from the end when `reverse` is
   * 1: hₙ₋₁ = bₙ₋₁, hᵢ = aᵢ·hᵢ₊₁ + bᵢ). The output has b's shape; a has b's rank and broadcasts to
   * it; a's first entry in scan order is unused. Linear in b; cumsum is linearScan(1, x).
   */
  linearScan: { axis: number; reverse: number };
  /** The int32 index of the running max along `axis` (ties: the latest; the first NaN sticks). */
  argcummax: { axis: number };
  /** The int32 permutation that sorts along `axis`, stable (ties keep index order); NaN sorts as the largest value. */
  argsort: { axis: number; descending: number };
}

function checkFlag(op: string, name: string, value: number): void {
  if (value !== 0 && value !== 1) throw new ShapeError(`${op}: expected ${name} to be 0 or 1, got ${formatValue(value)}`);
}

function nonBoolAxis(op: string, x: Aval, axis: number): void {
  if (x.dtype === "bool") throw new DTypeError(`${op}: expected a numeric operand, got bool`);
  checkAxisParam(op, axis, x.shape.length);
}

// ── linearScan ─────────────────────────────────────────────────────────────────────────────

/** The entry of `t` one step earlier in scan order along `axis` (0 where there is none): t shifted by `by` = +1 or −1. */
function shifted(m: TensorMath, t: Tensor, axis: number, by: 1 | -1): Tensor {
  const n = t.shape[axis]!;
  if (n <= 1) return m.zeros(t.shape, t.dtype);
  const begin = t.shape.map((_, i) => (i === axis && by === -1 ? 1 : 0));
  const end = t.shape.map((d, i) => (i === axis && by === 1 ? d - 1 : d));
  const low = t.shape.map((_, i) => (i === axis && by === 1 ? 1 : 0));
  const high = t.shape.map((_, i) => (i === axis && by === -1 ? 1 : 0));
  return m.bind("pad", [m.bind("slice", [t], { begin, end })], { low, high });
}

/** The coefficients of the transposed scan, which runs the other way: a shifted against the scan (a broadcast axis stays). */
function transposedCoefficients(m: TensorMath, a: Tensor, axis: number, reverse: number): Tensor {
  return a.shape[axis] === 1 ? a : shifted(m, a, axis, reverse ? 1 : -1);
}

const linearScanKernel: Kernel<"linearScan"> = ([a, b], { axis, reverse }, out) => {
  const [outer, n, inner] = around(out.shape, axis);
  const [coef, stride] = broadcastOperand(a!, out.shape);
  const x = b!.data;
  const data = allocate("linearScan", out.dtype, x.length);
  const integer = out.dtype === "int32";
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let h = 0;
      for (let t = 0; t < n; t++) {
        const at = (o * n + (reverse ? n - 1 - t : t)) * inner + j;
        const c = coef[at * stride]!;
        // the output array rounds each step to the dtype (float32, or int32 wrapping like NumPy)
        data[at] = t === 0 ? x[at]! : integer ? Math.imul(c, h) + x[at]! : c * h + x[at]!;
        h = data[at]!;
      }
    }
  }
  return new Tensor(out.dtype, out.shape, data);
};

/** Batched operands keep their axis in front; the others get a size-1 axis (a broadcasts) or are broadcast (b). */
const linearScanBatch: BatchRule<"linearScan"> = ([a, b], batched, { axis, reverse }, k) => {
  const lifted = batched[0] ? a! : bind("reshape", [a!], { shape: [1, ...a!.shape] });
  const full = batched[1] ? b! : bind("broadcastTo", [b!], { shape: [k, ...b!.shape] });
  return bind("linearScan", [lifted, full], { axis: axis + 1, reverse });
};

const LINEAR_SCAN: Definitions<"linearScan">["linearScan"] = {
  name: "linearScan",
  arity: 2,
  params: { axis: "int", reverse: "int" },
  shape: ([a, b], { axis, reverse }) => {
    nonBoolAxis("linearScan", b!, axis);
    checkFlag("linearScan", "reverse", reverse);
    const fits = a!.shape.length === b!.shape.length && a!.shape.every((d, i) => d === 1 || d === b!.shape[i]);
    if (!fits) {
      throw new ShapeError(
        `linearScan: expected coefficients of rank ${b!.shape.length} broadcasting to ${formatShape(b!.shape)}, ` +
          `got ${formatShape(a!.shape)}`,
      );
    }
    if (a!.dtype !== b!.dtype) throw new DTypeError(`linearScan: expected operands of one dtype, got ${a!.dtype} and ${b!.dtype}`);
    return { shape: b!.shape.slice(), dtype: b!.dtype };
  },
  kernel: linearScanKernel,
  // dhᵢ = aᵢ·dhᵢ₋₁ + (daᵢ·hᵢ₋₁ + dbᵢ): the same scan of the tangents (hᵢ₋₁ one step earlier in scan order)
  jvp: (dx, { x, y, params }, ops) => {
    const [da, db] = dx;
    const earlier = da == null ? null : ops.scale(ops.broadcast(da, y.shape), shifted(ops.math, y, params.axis, params.reverse ? -1 : 1));
    const drive = earlier !== null && db != null ? ops.add(earlier, db) : (earlier ?? db ?? null);
    return drive === null ? null : ops.apply("linearScan", [x[0]!, drive], params);
  },
  // b̄ = g, the scan of ȳ the other way (gⱼ = ȳⱼ + aⱼ₊₁·gⱼ₊₁); āᵢ = gᵢ·hᵢ₋₁ summed over a's broadcast axes
  vjp: {
    saves: "inputs and output",
    vjp: (ct, { x, y, params }, needs, m) => {
      const { axis, reverse } = params;
      const a = x[0]!;
      const g = m.bind("linearScan", [transposedCoefficients(m, a, axis, reverse), ct], { axis, reverse: 1 - reverse });
      const ca = needsInput(needs, 0) ? m.unbroadcast(m.scale(g, shifted(m, y!, axis, reverse ? -1 : 1)), a.shape) : null;
      return [ca, g];
    },
  },
  batch: linearScanBatch,
};

// ── argcummax and argsort ──────────────────────────────────────────────────────────────────

/** Calls `each(base, n, stride)` for every 1-D slice along `axis` of `shape`: entry i of a slice is at base + i·stride. */
function forEachLine(shape: readonly number[], axis: number, each: (base: number, n: number, stride: number) => void): void {
  const [outer, n, inner] = around(shape, axis);
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) each(o * n * inner + j, n, inner);
}

const argcummaxKernel: Kernel<"argcummax"> = ([x], { axis }, out) => {
  const input = x!.data;
  const data = allocate("argcummax", "int32", input.length);
  forEachLine(x!.shape, axis, (base, n, stride) => {
    let best = 0;
    let bestValue = input[base]!;
    for (let i = 0; i < n; i++) {
      const v = input[base + i * stride]!;
      // a later tie takes over; NaN beats everything and, once there, stays
      if (bestValue === bestValue && (v >= bestValue || v !== v)) {
        best = i;
        bestValue = v;
      }
      data[base + i * stride] = best;
    }
  });
  return new Tensor("int32", out.shape, data);
};

/** Ascending order with NaN last; `descending` reverses it (NaN first). Ties never compare here. */
function compareValues(u: number, v: number): number {
  if (u !== u) return v !== v ? 0 : 1;
  if (v !== v) return -1;
  return u < v ? -1 : u > v ? 1 : 0;
}

/** The stable sorting permutation of one slice (ties by lower index). */
function sortLine(input: TypedArray, base: number, n: number, stride: number, descending: boolean): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const sign = descending ? -1 : 1;
  return order.sort((i, j) => sign * compareValues(input[base + i * stride]!, input[base + j * stride]!) || i - j);
}

const argsortKernel: Kernel<"argsort"> = ([x], { axis, descending }, out) => {
  const input = x!.data;
  const data = allocate("argsort", "int32", input.length);
  forEachLine(x!.shape, axis, (base, n, stride) => {
    sortLine(input, base, n, stride, descending === 1).forEach((source, i) => (data[base + i * stride] = source));
  });
  return new Tensor("int32", out.shape, data);
};

export const SCAN: Definitions<keyof ScanParams> = {
  linearScan: LINEAR_SCAN,
  argcummax: {
    name: "argcummax",
    arity: 1,
    params: { axis: "int" },
    shape: ([x], { axis }) => {
      nonBoolAxis("argcummax", x!, axis);
      return { shape: x!.shape.slice(), dtype: "int32" };
    },
    kernel: argcummaxKernel,
    // an integer output: derivative 0
    ...ZERO_DERIVATIVE,
    batch: shiftedBatch("argcummax", ({ axis }) => ({ axis: axis + 1 })),
  },
  argsort: {
    name: "argsort",
    arity: 1,
    params: { axis: "int", descending: "int" },
    shape: ([x], { axis, descending }) => {
      nonBoolAxis("argsort", x!, axis);
      checkFlag("argsort", "descending", descending);
      return { shape: x!.shape.slice(), dtype: "int32" };
    },
    kernel: argsortKernel,
    // an integer output: derivative 0
    ...ZERO_DERIVATIVE,
    batch: shiftedBatch("argsort", ({ axis, descending }) => ({ axis: axis + 1, descending })),
  },
};
