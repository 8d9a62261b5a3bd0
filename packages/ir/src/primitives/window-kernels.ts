/**
 * The loops of the convolution family (issue 18), written once: ir's eager kernels call them, and
 * the JIT's generated JavaScript calls the very same functions as its runtime helper `rt_window`
 * (its runtime source embeds `WINDOW_SOURCE`, the source text of the factory below). The factory
 * is self-contained — it reads nothing but its arguments, its own locals and `Math` — so its
 * text runs anywhere.
 *
 * Shapes are channels-first with 1 to 3 spatial axes; the loops pad them to 3 spatial axes
 * (leading axes of size 1). All data are flat row-major typed arrays.
 */

/** The loops (see `windowKernels`). */
export interface WindowKernels {
  /**
   * conv: out [N, O, ...out] = Σ x̃ · w over each window, x̃ the input dilated by `lhsDilation`
   * and padded by `padding` (lo, hi per spatial axis; negative crops).
   */
  conv(
    x: ArrayLike<number>,
    w: ArrayLike<number>,
    out: { length: number; [i: number]: number },
    xShape: readonly number[],
    wShape: readonly number[],
    outShape: readonly number[],
    strides: readonly number[],
    padding: readonly number[],
    lhsDilation: readonly number[],
    rhsDilation: readonly number[],
    groups: number,
  ): void;
  /**
   * The window reductions over all axes of x (rank r; `window`, `strides` r values, `padding`
   * 2r): `sum` (padded cells are 0), `max` (padded cells are −∞; NaN propagates), and their
   * derivatives: `sumTranspose` spreads each output's value over its window's cells (adding up),
   * `maxGather` is Σ t·w over each window and `maxScatter` spreads s·w back, w = 1/k on each of
   * the window's k maxima of x (0/0 = NaN in a window whose max is NaN; 0 in an empty window).
   */
  reduceWindow(
    mode: "sum" | "max" | "sumTranspose" | "maxGather" | "maxScatter",
    t: ArrayLike<number>,
    x: ArrayLike<number> | null,
    out: { length: number; [i: number]: number },
    xShape: readonly number[],
    outShape: readonly number[],
    window: readonly number[],
    strides: readonly number[],
    padding: readonly number[],
  ): void;
}

function windowKernels(): WindowKernels {
  /**
   * For each output position p of one axis, the taps (t, i) that meet an input cell: position
   * p·stride + t·rd − lo of the dilated, padded input is input cell i when it is a multiple of
   * ld in range. Flattened as [t0, i0, t1, i1, …] per position.
   */
  function axisTaps(n: number, k: number, outSize: number, stride: number, lo: number, ld: number, rd: number): Int32Array[] {
    const taps: Int32Array[] = [];
    for (let p = 0; p < outSize; p++) {
      const list: number[] = [];
      for (let t = 0; t < k; t++) {
        const q = p * stride + t * rd - lo;
        if (q < 0 || q % ld !== 0) continue;
        const i = q / ld;
        if (i < n) list.push(t, i);
      }
      taps.push(Int32Array.from(list));
    }
    return taps;
  }

  /** The spatial sizes padded to 3 axes (leading 1s). */
  function spatial3(shape: readonly number[]): number[] {
    const s = shape.slice(2);
    while (s.length < 3) s.unshift(1);
    return s;
  }

  /** The taps of the 3 (padded) spatial axes. */
  function taps3(
    inSize: readonly number[],
    kSize: readonly number[],
    outSize: readonly number[],
    strides: readonly number[],
    padding: readonly number[],
    lhsDilation: readonly number[],
    rhsDilation: readonly number[],
  ): Int32Array[][] {
    const lead = 3 - strides.length;
    const taps: Int32Array[][] = [];
    for (let i = 0; i < 3; i++) {
      const a = i - lead;
      if (a < 0) taps.push([Int32Array.of(0, 0)]);
      else taps.push(axisTaps(inSize[i]!, kSize[i]!, outSize[i]!, strides[a]!, padding[2 * a]!, lhsDilation[a]!, rhsDilation[a]!));
    }
    return taps;
  }

  function conv(
    x: ArrayLike<number>,
    w: ArrayLike<number>,
    out: { length: number; [i: number]: number },
    xShape: readonly number[],
    wShape: readonly number[],
    outShape: readonly number[],
    strides: readonly number[],
    padding: readonly number[],
    lhsDilation: readonly number[],
    rhsDilation: readonly number[],
    groups: number,
  ): void {
    if (lhsDilation.every((d) => d === 1)) {
      convUndilated(x, w, out, xShape, wShape, outShape, strides, padding, rhsDilation, groups);
      return;
    }
    const n = xShape[0]!;
    const c = xShape[1]!;
    const o = wShape[0]!;
    const cg = wShape[1]!;
    const og = o / groups;
    const inSize = spatial3(xShape);
    const kSize = spatial3(wShape);
    const outSize = spatial3(outShape);
    const taps = taps3(inSize, kSize, outSize, strides, padding, lhsDilation, rhsDilation);
    const IH = inSize[1]!;
    const IW = inSize[2]!;
    const KH = kSize[1]!;
    const KW = kSize[2]!;
    const inPlane = inSize[0]! * IH * IW;
    const kPlane = kSize[0]! * KH * KW;
    let at = 0;
    for (let b = 0; b < n; b++) {
      for (let oc = 0; oc < o; oc++) {
        const cBase = Math.floor(oc / og) * cg;
        for (let pd = 0; pd < outSize[0]!; pd++) {
          const td = taps[0]![pd]!;
          for (let ph = 0; ph < outSize[1]!; ph++) {
            const th = taps[1]![ph]!;
            for (let pw = 0; pw < outSize[2]!; pw++) {
              const tw = taps[2]![pw]!;
              let acc = 0;
              for (let ci = 0; ci < cg; ci++) {
                const xBase = (b * c + cBase + ci) * inPlane;
                const wBase = (oc * cg + ci) * kPlane;
                for (let a = 0; a < td.length; a += 2) {
                  const xD = xBase + td[a + 1]! * IH * IW;
                  const wD = wBase + td[a]! * KH * KW;
                  for (let e = 0; e < th.length; e += 2) {
                    const xH = xD + th[e + 1]! * IW;
                    const wH = wD + th[e]! * KW;
                    for (let f = 0; f < tw.length; f += 2) acc += x[xH + tw[f + 1]!]! * w[wH + tw[f]!]!;
                  }
                }
              }
              out[at++] = acc;
            }
          }
        }
      }
    }
  }

  /** The outputs p in [0, outSize) whose tap at offset `shift` (t·rd − lo) reads a cell of an axis of n: p·stride + shift ∈ [0, n). */
  function validRange(n: number, outSize: number, stride: number, shift: number): [number, number] {
    const from = Math.max(0, Math.ceil(-shift / stride));
    const to = Math.min(outSize, Math.floor((n - 1 - shift) / stride) + 1);
    return [from, Math.max(from, to)];
  }

  /**
   * conv without lhs dilation (the forward pass and most derivatives): for each filter tap, a
   * scaled strided row of x added onto the rows of outputs it reaches, accumulated in float64.
   */
  function convUndilated(
    x: ArrayLike<number>,
    w: ArrayLike<number>,
    out: { length: number; [i: number]: number },
    xShape: readonly number[],
    wShape: readonly number[],
    outShape: readonly number[],
    strides: readonly number[],
    padding: readonly number[],
    rhsDilation: readonly number[],
    groups: number,
  ): void {
    const [n, c, o, cg] = [xShape[0]!, xShape[1]!, wShape[0]!, wShape[1]!];
    const og = o / groups;
    const lead = 3 - strides.length;
    const pick = (list: readonly number[], i: number, fallback: number) => (i < lead ? fallback : list[i - lead]!);
    const [ID, IH, IW] = spatial3(xShape) as [number, number, number];
    const [KD, KH, KW] = spatial3(wShape) as [number, number, number];
    const [OD, OH, OW] = spatial3(outShape) as [number, number, number];
    const [sd, sh, sw] = [0, 1, 2].map((i) => pick(strides, i, 1)) as [number, number, number];
    const [rd, rh, rw] = [0, 1, 2].map((i) => pick(rhsDilation, i, 1)) as [number, number, number];
    const [ld, lh, lw] = [0, 1, 2].map((i) => (i < lead ? 0 : padding[2 * (i - lead)]!)) as [number, number, number];
    const plane = OD * OH * OW;
    const acc = new Float64Array(plane);
    for (let b = 0; b < n; b++) {
      for (let oc = 0; oc < o; oc++) {
        acc.fill(0);
        const cBase = Math.floor(oc / og) * cg;
        for (let ci = 0; ci < cg; ci++) {
          const xBase = (b * c + cBase + ci) * ID * IH * IW;
          const wBase = (oc * cg + ci) * KD * KH * KW;
          for (let td = 0; td < KD; td++) {
            const [d0, d1] = validRange(ID, OD, sd, td * rd - ld);
            for (let th = 0; th < KH; th++) {
              const [h0, h1] = validRange(IH, OH, sh, th * rh - lh);
              for (let tw = 0; tw < KW; tw++) {
                const [w0, w1] = validRange(IW, OW, sw, tw * rw - lw);
                if (d0 >= d1 || h0 >= h1 || w0 >= w1) continue;
                const wv = w[wBase + (td * KH + th) * KW + tw]!;
                for (let pd = d0; pd < d1; pd++) {
                  const xd = pd * sd + td * rd - ld;
                  for (let ph = h0; ph < h1; ph++) {
                    const xRow = xBase + (xd * IH + ph * sh + th * rh - lh) * IW + tw * rw - lw;
                    const oRow = (pd * OH + ph) * OW;
                    for (let pw = w0; pw < w1; pw++) acc[oRow + pw] = acc[oRow + pw]! + wv * x[xRow + pw * sw]!;
                  }
                }
              }
            }
          }
        }
        const base = (b * o + oc) * plane;
        for (let i = 0; i < plane; i++) out[base + i] = acc[i]!;
      }
    }
  }

  /**
   * The (output, input cell) pairs of a window reduction, grouped by output (row-major):
   * output o reads cells cell[start[o]] … cell[start[o + 1] − 1]; `full` is the window size.
   */
  function windowPairs(
    xShape: readonly number[],
    outShape: readonly number[],
    window: readonly number[],
    strides: readonly number[],
    padding: readonly number[],
  ): { start: Int32Array; cell: Int32Array; full: number } {
    const rank = xShape.length;
    const taps: Int32Array[][] = [];
    for (let a = 0; a < rank; a++) taps.push(axisTaps(xShape[a]!, window[a]!, outShape[a]!, strides[a]!, padding[2 * a]!, 1, 1));
    let outSize = 1;
    let full = 1;
    for (let a = 0; a < rank; a++) {
      outSize *= outShape[a]!;
      full *= window[a]!;
    }
    // exactly as many pairs as there are (output, input cell) meetings: a product over the axes
    let pairs = 1;
    for (let a = 0; a < rank; a++) {
      let sum = 0;
      for (const list of taps[a]!) sum += list.length / 2;
      pairs *= sum;
    }
    const start = new Int32Array(outSize + 1);
    const cell = new Int32Array(pairs);
    const index = new Array<number>(rank).fill(0);
    let count = 0;
    // the cells of one output: the product of its axes' taps, as flat input offsets
    const collect = (a: number, offset: number): void => {
      const list = taps[a]![index[a]!]!;
      const size = xShape[a]!;
      if (a === rank - 1) {
        for (let j = 1; j < list.length; j += 2) cell[count++] = offset * size + list[j]!;
        return;
      }
      for (let j = 1; j < list.length; j += 2) collect(a + 1, offset * size + list[j]!);
    };
    for (let o = 0; o < outSize; o++) {
      start[o] = count;
      if (rank > 0) collect(0, 0);
      else cell[count++] = 0;
      for (let a = rank - 1; a >= 0; a--) {
        if (++index[a]! < outShape[a]!) break;
        index[a] = 0;
      }
    }
    start[outSize] = count;
    return { start, cell, full };
  }

  function reduceWindow(
    mode: "sum" | "max" | "sumTranspose" | "maxGather" | "maxScatter",
    t: ArrayLike<number>,
    x: ArrayLike<number> | null,
    out: { length: number; [i: number]: number },
    xShape: readonly number[],
    outShape: readonly number[],
    window: readonly number[],
    strides: readonly number[],
    padding: readonly number[],
  ): void {
    const { start, cell, full } = windowPairs(xShape, outShape, window, strides, padding);
    const outputs = start.length - 1;
    if (mode === "sumTranspose" || mode === "maxScatter") for (let i = 0; i < out.length; i++) out[i] = 0;
    for (let o = 0; o < outputs; o++) {
      const from = start[o]!;
      const to = start[o + 1]!;
      if (mode === "sum") {
        let acc = 0;
        for (let j = from; j < to; j++) acc += t[cell[j]!]!;
        out[o] = acc;
      } else if (mode === "sumTranspose") {
        const v = t[o]!;
        for (let j = from; j < to; j++) out[cell[j]!] = out[cell[j]!]! + v;
      } else {
        const source = mode === "max" ? t : x!;
        // padded cells hold −∞
        let best = to - from < full ? -Infinity : source[cell[from]!]!;
        for (let j = from; j < to && best === best; j++) {
          const v = source[cell[j]!]!;
          if (v > best || v !== v) best = v;
        }
        if (mode === "max") {
          out[o] = best;
          continue;
        }
        let count = 0;
        for (let j = from; j < to; j++) if (source[cell[j]!] === best) count++;
        if (to === from) {
          if (mode === "maxGather") out[o] = 0;
          continue;
        }
        if (mode === "maxGather") {
          let acc = 0;
          for (let j = from; j < to; j++) {
            const c = cell[j]!;
            const f = (source[c] === best ? 1 : 0) / count;
            const tv = t[c]!;
            acc += tv === 0 || f === 0 ? 0 : tv * f;
          }
          out[o] = acc;
        } else {
          const sv = t[o]!;
          for (let j = from; j < to; j++) {
            const c = cell[j]!;
            const f = (source[c] === best ? 1 : 0) / count;
            out[c] = out[c]! + (sv === 0 || f === 0 ? 0 : sv * f);
          }
        }
      }
    }
  }

  return { conv, reduceWindow };
}

/** The loops of the convolution family (ir's eager kernels and the JIT's compiled code call these). */
export const WINDOW: WindowKernels = Object.freeze(windowKernels());

/** Source text of an expression evaluating to the loops, for the JIT's runtime. */
export const WINDOW_SOURCE = `(${windowKernels.toString()})()`;
