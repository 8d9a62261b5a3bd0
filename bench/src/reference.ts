/**
 * Expected answers, in float64, that every implementation (the timed hand-written baselines
 * included) is checked against before it is timed. W2 reuses the hand-written float64 Rosenbrock
 * functions; the MLP and matmul references here are written independently of the timed
 * baselines (plain dot-product loops), so the two check each other. Their own correctness is
 * tested against finite differences in reference.test.ts.
 */
import { rosenbrock64, rosenbrockGrad64, rosenbrockJvp64 } from "./baselines.js";
import type { CnnInput, ConvInput, MatmulInput, MlpInput, RosenbrockInput } from "./data.js";
import type { Segments } from "./check.js";

export function expectedRosenbrock(input: RosenbrockInput): { primal: Segments; grad: Segments; jvp: Segments } {
  const x = Float64Array.from(input.x);
  const v = Float64Array.from(input.v);
  const [f, df] = rosenbrockJvp64(x, v);
  return { primal: [[rosenbrock64(x)]], grad: [rosenbrockGrad64(x)], jvp: [[f, df]] };
}

export interface MlpGradients {
  readonly loss: number;
  readonly w1: Float64Array;
  readonly b1: Float64Array;
  readonly w2: Float64Array;
  readonly b2: Float64Array;
}

/** Mean softmax cross-entropy of the tanh MLP and its gradients, float64, at the given parameters (default: the initial ones). */
export function mlpReference(
  input: MlpInput,
  params: { w1: ArrayLike<number>; b1: ArrayLike<number>; w2: ArrayLike<number>; b2: ArrayLike<number> } = input,
): MlpGradients {
  const { batch: B, inputs: D, hidden: H, classes: O, x, labels } = input;
  const { w1, b1, w2, b2 } = params;
  const gw1 = new Float64Array(D * H);
  const gb1 = new Float64Array(H);
  const gw2 = new Float64Array(H * O);
  const gb2 = new Float64Array(O);
  let loss = 0;
  for (let r = 0; r < B; r++) {
    const h = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      let a = b1[j]!;
      for (let i = 0; i < D; i++) a += x[r * D + i]! * w1[i * H + j]!;
      h[j] = Math.tanh(a);
    }
    const z = new Float64Array(O);
    for (let k = 0; k < O; k++) {
      let a = b2[k]!;
      for (let j = 0; j < H; j++) a += h[j]! * w2[j * O + k]!;
      z[k] = a;
    }
    const m = Math.max(...z);
    let s = 0;
    for (let k = 0; k < O; k++) s += Math.exp(z[k]! - m);
    const label = labels[r]!;
    loss += -(z[label]! - m - Math.log(s)) / B;
    // d loss / d z = (softmax(z) − onehot) / B
    const dz = new Float64Array(O);
    for (let k = 0; k < O; k++) dz[k] = (Math.exp(z[k]! - m) / s - (k === label ? 1 : 0)) / B;
    for (let k = 0; k < O; k++) gb2[k] = gb2[k]! + dz[k]!;
    for (let j = 0; j < H; j++) {
      let dh = 0;
      for (let k = 0; k < O; k++) {
        gw2[j * O + k] = gw2[j * O + k]! + h[j]! * dz[k]!;
        dh += dz[k]! * w2[j * O + k]!;
      }
      const da = dh * (1 - h[j]! * h[j]!);
      gb1[j] = gb1[j]! + da;
      for (let i = 0; i < D; i++) gw1[i * H + j] = gw1[i * H + j]! + x[r * D + i]! * da;
    }
  }
  return { loss, w1: gw1, b1: gb1, w2: gw2, b2: gb2 };
}

/** The MLP check's segments, in the order every implementation reports them: loss, dW1, db1, dW2, db2. */
export function mlpSegments(g: {
  loss: number;
  w1: ArrayLike<number>;
  b1: ArrayLike<number>;
  w2: ArrayLike<number>;
  b2: ArrayLike<number>;
}): Segments {
  return [[g.loss], g.w1, g.b1, g.w2, g.b2];
}

/** A·B in float64 by dot products (i-j-k). */
export function matmulReference(input: MatmulInput): Segments {
  const n = input.size;
  const { a, b } = input;
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += a[i * n + p]! * b[p * n + j]!;
      c[i * n + j] = s;
    }
  }
  return [c];
}

// ── W5 / W6: convolutions by direct per-output sums ─────────────────────────────────────────

/** y[n, o, i, j] = b[o] + Σ_{c, di, dj} w[o, c, di, dj] · x[n, c, i + di − 1, j + dj − 1] (zero outside): 3×3, "same". */
export function conv3x3Reference(
  x: ArrayLike<number>,
  n: number,
  c: number,
  s: number,
  w: ArrayLike<number>,
  o: number,
  b?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(n * o * s * s);
  for (let img = 0; img < n; img++)
    for (let oc = 0; oc < o; oc++)
      for (let i = 0; i < s; i++)
        for (let j = 0; j < s; j++) {
          let sum = b === undefined ? 0 : b[oc]!;
          for (let ic = 0; ic < c; ic++)
            for (let di = 0; di < 3; di++)
              for (let dj = 0; dj < 3; dj++) {
                const r = i + di - 1,
                  q = j + dj - 1;
                if (r < 0 || r >= s || q < 0 || q >= s) continue;
                sum += w[((oc * c + ic) * 3 + di) * 3 + dj]! * x[((img * c + ic) * s + r) * s + q]!;
              }
          y[((img * o + oc) * s + i) * s + j] = sum;
        }
  return y;
}

/** W6: the conv's output (float64). */
export function convReference(input: ConvInput): Segments {
  const { batch, channels, size, x, w } = input;
  return [conv3x3Reference(x, batch, channels, size, w, channels)];
}

/** 2×2 max-pool of [planes, s, s] with stride 2: the maxima and, for the backward pass, each one's flat index in x. */
function maxPool2Reference(x: Float64Array, planes: number, s: number): { y: Float64Array; at: Int32Array } {
  const h = s / 2;
  const y = new Float64Array(planes * h * h);
  const at = new Int32Array(planes * h * h);
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < h; j++) {
        let best = -Infinity,
          where = -1;
        for (let di = 0; di < 2; di++)
          for (let dj = 0; dj < 2; dj++) {
            const k = (p * s + 2 * i + di) * s + 2 * j + dj;
            if (x[k]! > best) {
              best = x[k]!;
              where = k;
            }
          }
        y[(p * h + i) * h + j] = best;
        at[(p * h + i) * h + j] = where;
      }
  return { y, at };
}

/**
 * The gradients of a same-padded 3×3 conv y = conv(x, w) + b from dy: dw[o, c, di, dj] =
 * Σ dy[n, o, i, j] · x[n, c, i + di − 1, j + dj − 1], db[o] = Σ dy[n, o, ·, ·], and (when asked)
 * dx[n, c, r, q] = Σ dy[n, o, r − di + 1, q − dj + 1] · w[o, c, di, dj].
 */
function conv3x3Backward(
  dy: Float64Array,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  n: number,
  c: number,
  o: number,
  s: number,
  wantDx: boolean,
) {
  const dw = new Float64Array(o * c * 9);
  const db = new Float64Array(o);
  const dx = new Float64Array(wantDx ? n * c * s * s : 0);
  for (let img = 0; img < n; img++)
    for (let oc = 0; oc < o; oc++)
      for (let i = 0; i < s; i++)
        for (let j = 0; j < s; j++) {
          const g = dy[((img * o + oc) * s + i) * s + j]!;
          db[oc] = db[oc]! + g;
          for (let ic = 0; ic < c; ic++)
            for (let di = 0; di < 3; di++)
              for (let dj = 0; dj < 3; dj++) {
                const r = i + di - 1,
                  q = j + dj - 1;
                if (r < 0 || r >= s || q < 0 || q >= s) continue;
                const wi = ((oc * c + ic) * 3 + di) * 3 + dj,
                  xi = ((img * c + ic) * s + r) * s + q;
                dw[wi] = dw[wi]! + g * x[xi]!;
                if (wantDx) dx[xi] = dx[xi]! + g * w[wi]!;
              }
        }
  return { dw, db, dx };
}

export interface CnnGradients {
  readonly loss: number;
  readonly w1: Float64Array;
  readonly b1: Float64Array;
  readonly w2: Float64Array;
  readonly b2: Float64Array;
  readonly w3: Float64Array;
  readonly b3: Float64Array;
}

/** W5's loss and gradients in float64 at the given parameters (default: the initial ones). */
export function cnnReference(input: CnnInput, params: Pick<CnnInput, "w1" | "b1" | "w2" | "b2" | "w3" | "b3"> = input): CnnGradients {
  const { batch: N, size: S, c1: C1, c2: C2, classes: K, x, labels } = input;
  const { w1, b1, w2, b2, w3, b3 } = params;
  const relu = (v: Float64Array) => v.map((t) => (t > 0 ? t : 0));
  const z1 = conv3x3Reference(x, N, 1, S, w1, C1, b1);
  const p1 = maxPool2Reference(relu(z1), N * C1, S);
  const h = S / 2;
  const z2 = conv3x3Reference(p1.y, N, C1, h, w2, C2, b2);
  const p2 = maxPool2Reference(relu(z2), N * C2, h);
  const F = C2 * (h / 2) ** 2;
  const flat = p2.y; // [N, F], channel-major per image
  const gw3 = new Float64Array(F * K),
    gb3 = new Float64Array(K),
    dflat = new Float64Array(N * F);
  let loss = 0;
  for (let r = 0; r < N; r++) {
    const z = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let a = b3[k]!;
      for (let f = 0; f < F; f++) a += flat[r * F + f]! * w3[f * K + k]!;
      z[k] = a;
    }
    const m = Math.max(...z);
    let e = 0;
    for (let k = 0; k < K; k++) e += Math.exp(z[k]! - m);
    loss += -(z[labels[r]!]! - m - Math.log(e)) / N;
    for (let k = 0; k < K; k++) {
      // d loss / d z = (softmax(z) − onehot) / N
      const dz = (Math.exp(z[k]! - m) / e - (k === labels[r] ? 1 : 0)) / N;
      gb3[k] = gb3[k]! + dz;
      for (let f = 0; f < F; f++) {
        gw3[f * K + k] = gw3[f * K + k]! + flat[r * F + f]! * dz;
        dflat[r * F + f] = dflat[r * F + f]! + dz * w3[f * K + k]!;
      }
    }
  }
  // max-pool: the gradient goes to each window's maximum; ReLU: only where its input was positive
  const dz2 = new Float64Array(z2.length);
  p2.at.forEach((k, t) => {
    if (z2[k]! > 0) dz2[k] = dz2[k]! + dflat[t]!;
  });
  const g2 = conv3x3Backward(dz2, p1.y, w2, N, C1, C2, h, true);
  const dz1 = new Float64Array(z1.length);
  p1.at.forEach((k, t) => {
    if (z1[k]! > 0) dz1[k] = dz1[k]! + g2.dx[t]!;
  });
  const g1 = conv3x3Backward(dz1, x, w1, N, 1, C1, S, false);
  return { loss, w1: g1.dw, b1: g1.db, w2: g2.dw, b2: g2.db, w3: gw3, b3: gb3 };
}

/** The CNN check's segments, in the order every implementation reports them: loss, dW1, db1, dW2, db2, dW3, db3. */
export function cnnSegments(g: {
  loss: number;
  w1: ArrayLike<number>;
  b1: ArrayLike<number>;
  w2: ArrayLike<number>;
  b2: ArrayLike<number>;
  w3: ArrayLike<number>;
  b3: ArrayLike<number>;
}): Segments {
  return [[g.loss], g.w1, g.b1, g.w2, g.b2, g.w3, g.b3];
}
