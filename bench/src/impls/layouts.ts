/**
 * Layout conversions for peers whose convolutions are channels-last (tfjs): images NCHW ↔ NHWC,
 * filters [out, in, kh, kw] (OIHW) ↔ [kh, kw, in, out] (HWIO), and the rows of a dense layer
 * after a flatten of [C, Q, Q] (channel-major) ↔ [Q, Q, C]. Run once, outside the timed calls.
 */

export function nchwToNhwc(x: ArrayLike<number>, n: number, c: number, s: number): Float32Array {
  const out = new Float32Array(n * c * s * s);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < s * s; p++) out[(b * s * s + p) * c + ch] = x[(b * c + ch) * s * s + p]!;
  return out;
}

export function nhwcToNchw(x: ArrayLike<number>, n: number, c: number, s: number): Float32Array {
  const out = new Float32Array(n * c * s * s);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < s * s; p++) out[(b * c + ch) * s * s + p] = x[(b * s * s + p) * c + ch]!;
  return out;
}

/** w[o, i, kh, kw] (3×3) → [kh, kw, i, o]. */
export function oihwToHwio(w: ArrayLike<number>, o: number, i: number): Float32Array {
  const out = new Float32Array(o * i * 9);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let k = 0; k < 9; k++) out[(k * i + b) * o + a] = w[(a * i + b) * 9 + k]!;
  return out;
}

/** [kh, kw, i, o] (3×3) → w[o, i, kh, kw]. */
export function hwioToOihw(w: ArrayLike<number>, o: number, i: number): Float32Array {
  const out = new Float32Array(o * i * 9);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let k = 0; k < 9; k++) out[(a * i + b) * 9 + k] = w[(k * i + b) * o + a]!;
  return out;
}

/** The rows (k columns each) of a dense weight indexed by a flattened [c, q, q] ("toHwc": reorder to [q, q, c]; "toChw": back). */
export function permuteFlatRows(w: ArrayLike<number>, c: number, q: number, k: number, direction: "toHwc" | "toChw"): Float32Array {
  const out = new Float32Array(c * q * q * k);
  for (let ch = 0; ch < c; ch++)
    for (let p = 0; p < q * q; p++) {
      const chw = ch * q * q + p,
        hwc = p * c + ch;
      const [from, to] = direction === "toHwc" ? [chw, hwc] : [hwc, chw];
      for (let j = 0; j < k; j++) out[to * k + j] = w[from * k + j]!;
    }
  return out;
}
