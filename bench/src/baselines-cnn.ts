/**
 * The hand-written float32 baselines of W5 and W6 (bench/README.md): typed-array loops with the
 * gradients written out by hand. A 3×3 "same" conv is nine shifted multiply-adds of whole rows
 * (the innermost loop runs along a row of the output, contiguous in memory); its gradients are the
 * same loops with the roles of the arrays exchanged. Checked against reference.ts (direct
 * per-output sums in float64) before timing, and in reference.test.ts.
 */
import type { CnnInput } from "./data.js";

/** y[n, o] (+)= Σ_c Σ_{di, dj} w[o, c, di, dj] · shift(x[n, c], di − 1, dj − 1): 3×3, zero padding 1; `bias` initializes y. */
export function conv3x3Forward32(
  x: Float32Array,
  w: Float32Array,
  y: Float32Array,
  n: number,
  c: number,
  o: number,
  s: number,
  bias?: Float32Array,
): void {
  const plane = s * s;
  for (let img = 0; img < n; img++)
    for (let oc = 0; oc < o; oc++) {
      const yb = (img * o + oc) * plane;
      y.fill(bias === undefined ? 0 : bias[oc]!, yb, yb + plane);
      for (let ic = 0; ic < c; ic++) {
        const xb = (img * c + ic) * plane;
        for (let di = 0; di < 3; di++)
          for (let dj = 0; dj < 3; dj++) {
            const wv = w[((oc * c + ic) * 3 + di) * 3 + dj]!;
            const i0 = Math.max(0, 1 - di),
              i1 = Math.min(s, s + 1 - di);
            const j0 = Math.max(0, 1 - dj),
              j1 = Math.min(s, s + 1 - dj);
            for (let i = i0; i < i1; i++) {
              const yr = yb + i * s,
                xr = xb + (i + di - 1) * s + dj - 1;
              for (let j = j0; j < j1; j++) y[yr + j] = y[yr + j]! + wv * x[xr + j]!;
            }
          }
      }
    }
}

/** dw (overwritten) = Σ dy ⋆ x, db = Σ dy, and, when `dx` is given, dx (overwritten) = the transposed conv of dy with w. */
function conv3x3Backward32(
  dy: Float32Array,
  x: Float32Array,
  w: Float32Array,
  dw: Float32Array,
  db: Float32Array,
  dx: Float32Array | undefined,
  n: number,
  c: number,
  o: number,
  s: number,
): void {
  const plane = s * s;
  dw.fill(0);
  db.fill(0);
  dx?.fill(0);
  for (let img = 0; img < n; img++)
    for (let oc = 0; oc < o; oc++) {
      const yb = (img * o + oc) * plane;
      let sum = 0;
      for (let t = 0; t < plane; t++) sum += dy[yb + t]!;
      db[oc] = db[oc]! + sum;
      for (let ic = 0; ic < c; ic++) {
        const xb = (img * c + ic) * plane;
        for (let di = 0; di < 3; di++)
          for (let dj = 0; dj < 3; dj++) {
            const wi = ((oc * c + ic) * 3 + di) * 3 + dj;
            const wv = w[wi]!;
            const i0 = Math.max(0, 1 - di),
              i1 = Math.min(s, s + 1 - di);
            const j0 = Math.max(0, 1 - dj),
              j1 = Math.min(s, s + 1 - dj);
            let acc = 0;
            for (let i = i0; i < i1; i++) {
              const yr = yb + i * s,
                xr = xb + (i + di - 1) * s + dj - 1;
              for (let j = j0; j < j1; j++) acc += dy[yr + j]! * x[xr + j]!;
              if (dx !== undefined) for (let j = j0; j < j1; j++) dx[xr + j] = dx[xr + j]! + wv * dy[yr + j]!;
            }
            dw[wi] = dw[wi]! + acc;
          }
      }
    }
}

/** ReLU then 2×2 max-pool (stride 2) of [planes, s, s]: y, and the flat index of each maximum (its first, in row order). */
function reluMaxPool32(z: Float32Array, y: Float32Array, at: Int32Array, planes: number, s: number): void {
  const h = s >> 1;
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < h; j++) {
        const k0 = (p * s + 2 * i) * s + 2 * j;
        let k = k0;
        if (z[k0 + 1]! > z[k]!) k = k0 + 1;
        if (z[k0 + s]! > z[k]!) k = k0 + s;
        if (z[k0 + s + 1]! > z[k]!) k = k0 + s + 1;
        const t = (p * h + i) * h + j;
        y[t] = z[k]! > 0 ? z[k]! : 0;
        at[t] = k;
      }
}

/** The gradient through reluMaxPool32: dy goes to each window's maximum where it was positive. */
function reluMaxPoolBackward32(dy: Float32Array, z: Float32Array, at: Int32Array, dz: Float32Array): void {
  dz.fill(0);
  for (let t = 0; t < at.length; t++) {
    const k = at[t]!;
    if (z[k]! > 0) dz[k] = dz[k]! + dy[t]!;
  }
}

export interface CnnParams32 {
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  w3: Float32Array;
  b3: Float32Array;
}

export interface CnnStep {
  readonly params: CnnParams32;
  /** Loss and gradients at the current parameters, without updating them. */
  lossAndGrads(): { loss: number; grads: CnnParams32 };
  /** One SGD step: forward, backward, update in place. Returns the loss before the update. */
  step(): number;
}

/** W5 by hand in float32. */
export function handWrittenCnn(input: CnnInput): CnnStep {
  const { batch: N, size: S, c1: C1, c2: C2, classes: K, x, labels, learningRate } = input;
  const H = S / 2,
    Q = S / 4,
    F = C2 * Q * Q;
  const params: CnnParams32 = {
    w1: input.w1.slice(),
    b1: input.b1.slice(),
    w2: input.w2.slice(),
    b2: input.b2.slice(),
    w3: input.w3.slice(),
    b3: input.b3.slice(),
  };
  const grads: CnnParams32 = {
    w1: new Float32Array(params.w1.length),
    b1: new Float32Array(C1),
    w2: new Float32Array(params.w2.length),
    b2: new Float32Array(C2),
    w3: new Float32Array(params.w3.length),
    b3: new Float32Array(K),
  };
  const z1 = new Float32Array(N * C1 * S * S),
    p1 = new Float32Array(N * C1 * H * H),
    at1 = new Int32Array(p1.length);
  const z2 = new Float32Array(N * C2 * H * H),
    p2 = new Float32Array(N * F),
    at2 = new Int32Array(p2.length);
  const dflat = new Float32Array(N * F),
    dz2 = new Float32Array(z2.length),
    dp1 = new Float32Array(p1.length),
    dz1 = new Float32Array(z1.length);
  const logits = new Float32Array(K),
    dlogits = new Float32Array(K);

  const lossAndGrads = (): { loss: number; grads: CnnParams32 } => {
    const { w1, b1, w2, b2, w3, b3 } = params;
    conv3x3Forward32(x, w1, z1, N, 1, C1, S, b1);
    reluMaxPool32(z1, p1, at1, N * C1, S);
    conv3x3Forward32(p1, w2, z2, N, C1, C2, H, b2);
    reluMaxPool32(z2, p2, at2, N * C2, H);
    // dense + softmax cross-entropy, row by row; dlogits = (softmax − onehot) / N
    let loss = 0;
    grads.w3.fill(0);
    grads.b3.fill(0);
    dflat.fill(0);
    for (let r = 0; r < N; r++) {
      logits.set(b3);
      for (let f = 0; f < F; f++) {
        const v = p2[r * F + f]!;
        if (v !== 0) for (let k = 0; k < K; k++) logits[k] = logits[k]! + v * w3[f * K + k]!;
      }
      let m = -Infinity;
      for (let k = 0; k < K; k++) if (logits[k]! > m) m = logits[k]!;
      let e = 0;
      for (let k = 0; k < K; k++) e += Math.exp(logits[k]! - m);
      loss -= logits[labels[r]!]! - m - Math.log(e);
      for (let k = 0; k < K; k++) {
        dlogits[k] = (Math.exp(logits[k]! - m) / e - (k === labels[r] ? 1 : 0)) / N;
        grads.b3[k] = grads.b3[k]! + dlogits[k]!;
      }
      for (let f = 0; f < F; f++) {
        const v = p2[r * F + f]!;
        let d = 0;
        for (let k = 0; k < K; k++) {
          grads.w3[f * K + k] = grads.w3[f * K + k]! + v * dlogits[k]!;
          d += dlogits[k]! * w3[f * K + k]!;
        }
        dflat[r * F + f] = d;
      }
    }
    reluMaxPoolBackward32(dflat, z2, at2, dz2);
    conv3x3Backward32(dz2, p1, w2, grads.w2, grads.b2, dp1, N, C1, C2, H);
    reluMaxPoolBackward32(dp1, z1, at1, dz1);
    conv3x3Backward32(dz1, x, w1, grads.w1, grads.b1, undefined, N, 1, C1, S);
    return { loss: loss / N, grads };
  };

  const update = (p: Float32Array, g: Float32Array): void => {
    for (let i = 0; i < p.length; i++) p[i] = p[i]! - learningRate * g[i]!;
  };

  return {
    params,
    lossAndGrads,
    step() {
      const { loss } = lossAndGrads();
      for (const k of ["w1", "b1", "w2", "b2", "w3", "b3"] as const) update(params[k], grads[k]);
      return loss;
    },
  };
}
