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

  return { conv };
}

/** The loops of the convolution family (ir's eager kernels and the JIT's compiled code call these). */
export const WINDOW: WindowKernels = Object.freeze(windowKernels());

/** Source text of an expression evaluating to the loops, for the JIT's runtime. */
export const WINDOW_SOURCE = `(${windowKernels.toString()})()`;
