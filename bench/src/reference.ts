/**
 * Expected answers, in float64, that every implementation (the timed hand-written baselines
 * included) is checked against before it is timed. W2 reuses the hand-written float64 Rosenbrock
 * functions; the MLP and matmul references here are written independently of the timed
 * baselines (plain dot-product loops), so the two check each other. Their own correctness is
 * tested against finite differences in reference.test.ts.
 */
import { rosenbrock64, rosenbrockGrad64, rosenbrockJvp64 } from "./baselines.js";
import type { MatmulInput, MlpInput, RosenbrockInput } from "./data.js";
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
