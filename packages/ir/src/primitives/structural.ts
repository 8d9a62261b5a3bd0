/**
 * Layout primitives: reshape, transpose, broadcast, slice, pad and concat. All are linear, so
 * their JVP applies the primitive itself to the tangents and their VJP is their transpose (slice
 * and pad are each other's; broadcastTo's is the sum over the broadcast axes).
 */
import { count, formatValue, ShapeError } from "../errors.js";
import { broadcastToKernel, concatKernel, padKernel, reshapeKernel, sliceKernel, transposeKernel } from "../kernels.js";
import { broadcastShapes, formatShape, inversePermutation, shapesEqual, sizeOf } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { bind } from "../trace.js";
import {
  checkAxisParam,
  checkIntList,
  expandBatched,
  liftBatched,
  linearJvp,
  needsInput,
  requireSameDtype,
  shiftedBatch,
  type Definitions,
} from "./define.js";

export interface StructuralParams {
  reshape: { shape: number[] };
  transpose: { perm: number[] };
  /** Broadcasts to `shape` by NumPy rules (leading axes added, size-1 axes expanded). */
  broadcastTo: { shape: number[] };
  /** x[begin[i]:end[i]] on every axis (already normalized, 0 ≤ begin ≤ end ≤ dim). */
  slice: { begin: number[]; end: number[] };
  /** Zero padding: `low[i]` before and `high[i]` after on each axis (the transpose of slice). */
  pad: { low: number[]; high: number[] };
  /** Concatenation of all inputs along `axis`. */
  concat: { axis: number };
}

export const STRUCTURAL: Definitions<keyof StructuralParams> = {
  reshape: {
    name: "reshape",
    arity: 1,
    params: { shape: "ints" },
    shape: ([x], { shape }) => {
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new ShapeError(`reshape: expected a shape of non-negative integers, got ${formatValue(shape)}`);
      }
      if (sizeOf(shape) !== sizeOf(x!.shape)) {
        throw new ShapeError(
          `reshape: expected a shape with ${count(sizeOf(x!.shape), "element")} (from ${formatShape(x!.shape)}), got ${formatShape(shape)}`,
        );
      }
      return { shape: shape.slice(), dtype: x!.dtype };
    },
    kernel: reshapeKernel,
    // d reshape(x) = reshape(dx)
    jvp: linearJvp("reshape", [0]),
    // x̄ = ȳ reshaped back
    vjp: { saves: "nothing", vjp: (ct, node, _needs, m) => [m.bind("reshape", [ct], { shape: node.shape(0).slice() })] },
    batch: shiftedBatch("reshape", ({ shape }, k) => ({ shape: [k, ...shape] })),
  },
  transpose: {
    name: "transpose",
    arity: 1,
    params: { perm: "ints" },
    shape: ([x], { perm }) => {
      const rank = x!.shape.length;
      checkIntList("transpose", "perm", perm, rank);
      if (new Set(perm).size !== rank || perm.some((p) => p < 0 || p >= rank)) {
        throw new ShapeError(`transpose: expected a permutation of 0..${rank - 1}, got ${formatValue(perm)}`);
      }
      return { shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype };
    },
    kernel: transposeKernel,
    // d transpose(x, p) = transpose(dx, p)
    jvp: linearJvp("transpose", [0]),
    // x̄ = ȳ transposed by the inverse permutation
    vjp: { saves: "nothing", vjp: (ct, { params }, _needs, m) => [m.bind("transpose", [ct], { perm: inversePermutation(params.perm) })] },
    batch: shiftedBatch("transpose", ({ perm }) => ({ perm: [0, ...perm.map((p) => p + 1)] })),
  },
  broadcastTo: {
    name: "broadcastTo",
    arity: 1,
    params: { shape: "ints" },
    shape: ([x], { shape }) => {
      const out = broadcastShapes("broadcastTo", x!.shape, shape);
      if (!shapesEqual(out, shape)) {
        throw new ShapeError(`broadcastTo: expected a shape that ${formatShape(x!.shape)} broadcasts to, got ${formatShape(shape)}`);
      }
      return { shape: shape.slice(), dtype: x!.dtype };
    },
    kernel: broadcastToKernel,
    // d broadcastTo(x) = broadcastTo(dx)
    jvp: linearJvp("broadcastTo", [0]),
    // x̄ = ȳ summed over the broadcast axes
    vjp: { saves: "nothing", vjp: (ct, node, _needs, m) => [m.unbroadcast(ct, node.shape(0))] },
    batch: ([x], [batched], { shape }, k) => expandBatched(batched ? liftBatched(x!, shape.length) : x!, k, shape),
  },
  slice: {
    name: "slice",
    arity: 1,
    params: { begin: "ints", end: "ints" },
    shape: ([x], { begin, end }) => {
      const rank = x!.shape.length;
      checkIntList("slice", "begin", begin, rank);
      checkIntList("slice", "end", end, rank);
      const shape = x!.shape.map((dim, i) => {
        const b = begin[i]!;
        const e = end[i]!;
        if (b < 0 || b > e || e > dim) {
          throw new ShapeError(`slice: expected 0 ≤ begin ≤ end ≤ ${dim} on axis ${i}, got begin ${b}, end ${e}`);
        }
        return e - b;
      });
      return { shape, dtype: x!.dtype };
    },
    kernel: sliceKernel,
    // d x[b:e] = dx[b:e]
    jvp: linearJvp("slice", [0]),
    // x̄ = ȳ zero-padded back into place
    vjp: {
      saves: "nothing",
      vjp: (ct, node, _needs, m) => {
        const { begin, end } = node.params;
        return [m.bind("pad", [ct], { low: begin.slice(), high: node.shape(0).map((d, i) => d - end[i]!) })];
      },
    },
    batch: shiftedBatch("slice", ({ begin, end }, k) => ({ begin: [0, ...begin], end: [k, ...end] })),
  },
  pad: {
    name: "pad",
    arity: 1,
    params: { low: "ints", high: "ints" },
    shape: ([x], { low, high }) => {
      const rank = x!.shape.length;
      checkIntList("pad", "low", low, rank);
      checkIntList("pad", "high", high, rank);
      if (low.some((v) => v < 0) || high.some((v) => v < 0)) {
        throw new ShapeError(`pad: expected non-negative padding, got low ${formatValue(low)}, high ${formatValue(high)}`);
      }
      return { shape: x!.shape.map((d, i) => d + low[i]! + high[i]!), dtype: x!.dtype };
    },
    kernel: padKernel,
    // d pad(x) = pad(dx)
    jvp: linearJvp("pad", [0]),
    // x̄ = ȳ sliced back out
    vjp: {
      saves: "nothing",
      vjp: (ct, node, _needs, m) => {
        const { low } = node.params;
        return [m.bind("slice", [ct], { begin: low.slice(), end: node.shape(0).map((d, i) => low[i]! + d) })];
      },
    },
    batch: shiftedBatch("pad", ({ low, high }) => ({ low: [0, ...low], high: [0, ...high] })),
  },
  concat: {
    name: "concat",
    arity: "variadic",
    params: { axis: "int" },
    shape: (avals, { axis }) => {
      if (avals.length === 0) throw new ShapeError("concat: expected at least one operand, got none");
      const first = avals[0]!;
      const dtype = requireSameDtype("concat", avals);
      checkAxisParam("concat", axis, first.shape.length);
      let total = 0;
      for (const aval of avals) {
        const compatible = aval.shape.length === first.shape.length && aval.shape.every((d, i) => i === axis || d === first.shape[i]);
        if (!compatible) {
          throw new ShapeError(
            `concat: expected shapes equal except on axis ${axis}, got ${avals.map((a) => formatShape(a.shape)).join(" and ")}`,
          );
        }
        total += aval.shape[axis]!;
      }
      const shape = first.shape.slice();
      shape[axis] = total;
      return { shape, dtype };
    },
    kernel: concatKernel,
    // d concat(x₁, …) = concat(dx₁, …)
    jvp: linearJvp("concat", "all"),
    // x̄ᵢ = the slab of ȳ where xᵢ went
    vjp: {
      saves: "nothing",
      vjp: (ct, node, needs, m) => {
        const axis = node.params.axis;
        const out: (Tensor | null)[] = [];
        let offset = 0;
        for (let i = 0; i < node.arity; i++) {
          const length = node.shape(i)[axis]!;
          if (needsInput(needs, i)) {
            const begin = ct.shape.map((_, a) => (a === axis ? offset : 0));
            const end = ct.shape.map((d, a) => (a === axis ? offset + length : d));
            out.push(m.bind("slice", [ct], { begin, end }));
          } else out.push(null);
          offset += length;
        }
        return out;
      },
    },
    batch: (args, batched, { axis }, k) =>
      bind(
        "concat",
        args.map((a, i) => (batched[i] ? a : expandBatched(a, k, a.shape))),
        { axis: axis + 1 },
      ),
  },
};
