/**
 * Pooling (ir's window reductions: reduceWindowMax, reduceWindowSum and their derivatives
 * selectAndScatterAdd, selectAndGatherAdd, reduceWindowSumTranspose) in compiled kernel programs:
 * JavaScript loops over views of the kernel memory with the windows' cells tabulated once when the
 * program compiles (ir's eager kernel builds its (output, cell) table on every call). The leading
 * axes whose window is 1, stride 1 and padding 0 (N and C of a pool) are "planes" the loops run
 * over; the table covers one plane. Same conventions as ir's loops (window-kernels.ts): padded
 * cells are 0 for sums and −∞ for maxima, NaN propagates, and the k tied maxima of a window get
 * weight 1/k each.
 */

export type PoolMode = "sum" | "max" | "sumTranspose" | "maxGather" | "maxScatter";

export interface PoolPlan {
  readonly planes: number;
  /** Elements of x per plane, and of the windows' output per plane. */
  readonly planeIn: number;
  readonly planeOut: number;
  /** Output o's cells are cell[start[o] .. start[o + 1]) (offsets within a plane of x). */
  readonly start: Int32Array;
  readonly cell: Int32Array;
  /** Cells of an unclipped window. */
  readonly full: number;
}

/** The plan for windows over x of `xShape`, or undefined when `window`/`strides`/`padding` do not fit (then ir's kernel runs). */
export function poolPlan(
  xShape: readonly number[],
  outShape: readonly number[],
  window: readonly number[],
  strides: readonly number[],
  padding: readonly number[],
): PoolPlan | undefined {
  const r = xShape.length;
  let lead = 0;
  while (lead < r && window[lead] === 1 && strides[lead] === 1 && padding[2 * lead] === 0 && padding[2 * lead + 1] === 0) lead++;
  const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  const inPlane = xShape.slice(lead);
  const outPlane = outShape.slice(lead);
  const win = window.slice(lead);
  const planeOut = size(outPlane);
  const full = size(win);
  if (planeOut * full > 1 << 24) return undefined;
  const inStrides = inPlane.map((_, d) => size(inPlane.slice(d + 1)));
  const start = new Int32Array(planeOut + 1);
  const cells: number[] = [];
  const unflat = (t: number, shape: readonly number[]) => {
    const idx = Array<number>(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = t % shape[d]!;
      t = Math.floor(t / shape[d]!);
    }
    return idx;
  };
  for (let o = 0; o < planeOut; o++) {
    start[o] = cells.length;
    const at = unflat(o, outPlane);
    for (let k = 0; k < full; k++) {
      const tap = unflat(k, win);
      let offset = 0,
        inside = true;
      for (let d = 0; d < inPlane.length && inside; d++) {
        const i = at[d]! * strides[lead + d]! + tap[d]! - padding[2 * (lead + d)]!;
        if (i < 0 || i >= inPlane[d]!) inside = false;
        else offset += i * inStrides[d]!;
      }
      if (inside) cells.push(offset);
    }
  }
  start[planeOut] = cells.length;
  return { planes: size(xShape.slice(0, lead)), planeIn: size(inPlane), planeOut, start, cell: Int32Array.from(cells), full };
}

type View = { [i: number]: number; length: number };

/**
 * The loop for `mode`: `(t, x, out)` with t the reduced operand (x itself for sum and max, the
 * cotangent or tangent for the derivatives) and x the operand whose maxima select (ignored for
 * sums). Window outputs are indexed [plane, output]; x and the scatters' outputs [plane, cell].
 */
export function poolLoop(mode: PoolMode, plan: PoolPlan): (t: View, x: View, out: View) => void {
  const { planes, planeIn, planeOut, start, cell, full } = plan;
  /** The maximum of the window cells of `o` in the plane at `xb` (−∞ when a padded cell takes part). */
  const windowMax = (source: View, xb: number, from: number, to: number): number => {
    let best = to - from < full ? -Infinity : source[xb + cell[from]!]!;
    for (let j = from; j < to && best === best; j++) {
      const v = source[xb + cell[j]!]!;
      if (v > best || v !== v) best = v;
    }
    return best;
  };
  switch (mode) {
    case "sum":
      return (t, _x, out) => {
        for (let p = 0; p < planes; p++) {
          const xb = p * planeIn,
            ob = p * planeOut;
          for (let o = 0; o < planeOut; o++) {
            let acc = 0;
            for (let j = start[o]!; j < start[o + 1]!; j++) acc += t[xb + cell[j]!]!;
            out[ob + o] = acc;
          }
        }
      };
    case "max":
      return (t, _x, out) => {
        for (let p = 0; p < planes; p++) {
          const xb = p * planeIn,
            ob = p * planeOut;
          for (let o = 0; o < planeOut; o++) out[ob + o] = windowMax(t, xb, start[o]!, start[o + 1]!);
        }
      };
    case "sumTranspose":
      return (t, _x, out) => {
        for (let i = 0; i < planes * planeIn; i++) out[i] = 0;
        for (let p = 0; p < planes; p++) {
          const xb = p * planeIn,
            ob = p * planeOut;
          for (let o = 0; o < planeOut; o++) {
            const v = t[ob + o]!;
            for (let j = start[o]!; j < start[o + 1]!; j++) out[xb + cell[j]!] = out[xb + cell[j]!]! + v;
          }
        }
      };
    case "maxGather":
    case "maxScatter": {
      const gather = mode === "maxGather";
      return (t, x, out) => {
        if (!gather) for (let i = 0; i < planes * planeIn; i++) out[i] = 0;
        for (let p = 0; p < planes; p++) {
          const xb = p * planeIn,
            ob = p * planeOut;
          for (let o = 0; o < planeOut; o++) {
            const from = start[o]!,
              to = start[o + 1]!;
            if (to === from) {
              if (gather) out[ob + o] = 0;
              continue;
            }
            const best = windowMax(x, xb, from, to);
            let count = 0;
            for (let j = from; j < to; j++) if (x[xb + cell[j]!] === best) count++;
            if (gather) {
              let acc = 0;
              for (let j = from; j < to; j++) {
                const c = xb + cell[j]!;
                const f = (x[c] === best ? 1 : 0) / count;
                const tv = t[c]!;
                acc += tv === 0 || f === 0 ? 0 : tv * f;
              }
              out[ob + o] = acc;
            } else {
              const sv = t[ob + o]!;
              for (let j = from; j < to; j++) {
                const c = xb + cell[j]!;
                const f = (x[c] === best ? 1 : 0) / count;
                out[c] = out[c]! + (sv === 0 || f === 0 ? 0 : sv * f);
              }
            }
          }
        }
      };
    }
  }
}
