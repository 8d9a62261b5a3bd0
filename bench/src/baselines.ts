/**
 * Hand-written JavaScript baselines for the workloads of bench/README.md: straightforward loops
 * over typed arrays with the closed-form gradient (W1, W2), an i-k-j matmul MLP with manual
 * backprop (W3), and i-k-j matmul (W4), each also 4× unrolled where the figures quote it. Every function is written once
 * per array type on purpose: one function fed both Float32Array and Float64Array would run
 * polymorphic and understate what hand-written code reaches.
 */
import type { MlpInput } from "./data.js";

// ── W1: f(x, y) = (x + y)(x − y) ─────────────────────────────────────────────────────────────

/** ∂f/∂x = (x − y) + (x + y), ∂f/∂y = (x − y) − (x + y). */
export function seedGradient(x: number, y: number): [number, number] {
  const s = x + y;
  const d = x - y;
  return [d + s, d - s];
}

// ── W2: f(x) = Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)² ────────────────────────────────────────────────

export function rosenbrock64(x: Float64Array): number {
  let f = 0;
  for (let i = 0; i < x.length - 1; i++) {
    const xi = x[i]!;
    const t = x[i + 1]! - xi * xi;
    const u = 1 - xi;
    f += 100 * t * t + u * u;
  }
  return f;
}

/** ∂f/∂xᵢ = −400 xᵢ tᵢ − 2(1 − xᵢ) + 200 tᵢ₋₁, with tᵢ = xᵢ₊₁ − xᵢ². */
export function rosenbrockGrad64(x: Float64Array): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length - 1; i++) {
    const xi = x[i]!;
    const t = x[i + 1]! - xi * xi;
    g[i] = g[i]! - 400 * xi * t - 2 * (1 - xi);
    g[i + 1] = 200 * t;
  }
  return g;
}

/**
 * ∇f(x) written into `g` (reused from call to call: no fresh pages), the same arithmetic as
 * rosenbrockGrad64/32. g[0] is zeroed; every later element is set before it is read.
 */
export function rosenbrockGradInto(x: Float64Array | Float32Array, g: Float64Array | Float32Array): typeof g {
  g[0] = 0;
  for (let i = 0; i < x.length - 1; i++) {
    const xi = x[i]!;
    const t = x[i + 1]! - xi * xi;
    g[i] = g[i]! - 400 * xi * t - 2 * (1 - xi);
    g[i + 1] = 200 * t;
  }
  return g;
}

/** [f(x), ∇f(x)·v] in one forward pass. */
export function rosenbrockJvp64(x: Float64Array, v: Float64Array): [number, number] {
  let f = 0;
  let df = 0;
  for (let i = 0; i < x.length - 1; i++) {
    const xi = x[i]!;
    const vi = v[i]!;
    const t = x[i + 1]! - xi * xi;
    const u = 1 - xi;
    f += 100 * t * t + u * u;
    df += 200 * t * (v[i + 1]! - 2 * xi * vi) - 2 * u * vi;
  }
  return [f, df];
}

export function rosenbrock32(x: Float32Array): number {
  let f = 0;
  for (let i = 0; i < x.length - 1; i++) {
    const xi = x[i]!;
    const t = x[i + 1]! - xi * xi;
    const u = 1 - xi;
    f += 100 * t * t + u * u;
  }
  return Math.fround(f);
}

export function rosenbrockGrad32(x: Float32Array): Float32Array {
  const g = new Float32Array(x.length);
  for (let i = 0; i < x.length - 1; i++) {
    const xi = x[i]!;
    const t = x[i + 1]! - xi * xi;
    g[i] = g[i]! - 400 * xi * t - 2 * (1 - xi);
    g[i + 1] = 200 * t;
  }
  return g;
}

export function rosenbrockJvp32(x: Float32Array, v: Float32Array): [number, number] {
  let f = 0;
  let df = 0;
  for (let i = 0; i < x.length - 1; i++) {
    const xi = x[i]!;
    const vi = v[i]!;
    const t = x[i + 1]! - xi * xi;
    const u = 1 - xi;
    f += 100 * t * t + u * u;
    df += 200 * t * (v[i + 1]! - 2 * xi * vi) - 2 * u * vi;
  }
  return [Math.fround(f), Math.fround(df)];
}

// ── W4: C = A·B, square n×n ──────────────────────────────────────────────────────────────────

/** C (m×n) = A (m×k) · B (k×n), loops i-k-j (rows of B streamed into a row of C). */
export function matmulIkj64(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aip * b[bp + j]!;
    }
  }
  return c;
}

/** i-k-j with four rows of B per pass over a row of C (a quarter of the loads and stores of C). */
export function matmulUnrolled64(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  const k4 = k - (k % 4);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    const ai = i * k;
    let p = 0;
    for (; p < k4; p += 4) {
      const a0 = a[ai + p]!;
      const a1 = a[ai + p + 1]!;
      const a2 = a[ai + p + 2]!;
      const a3 = a[ai + p + 3]!;
      const b0 = p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        c[ci + j] = c[ci + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
      }
    }
    for (; p < k; p++) {
      const aip = a[ai + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aip * b[bp + j]!;
    }
  }
  return c;
}

/** C (m×n) = A (m×k) · B (k×n) into `c` (overwritten), i-k-j. */
export function gemm32(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): Float32Array {
  c.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aip * b[bp + j]!;
    }
  }
  return c;
}

/** `gemm32`, four rows of B per pass. */
export function gemmUnrolled32(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): Float32Array {
  c.fill(0, 0, m * n);
  const k4 = k - (k % 4);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    const ai = i * k;
    let p = 0;
    for (; p < k4; p += 4) {
      const a0 = a[ai + p]!;
      const a1 = a[ai + p + 1]!;
      const a2 = a[ai + p + 2]!;
      const a3 = a[ai + p + 3]!;
      const b0 = p * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        c[ci + j] = c[ci + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
      }
    }
    for (; p < k; p++) {
      const aip = a[ai + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aip * b[bp + j]!;
    }
  }
  return c;
}

export function matmulIkj32(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  return gemm32(a, b, new Float32Array(m * n), m, k, n);
}

export function matmulUnrolled32(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  return gemmUnrolled32(a, b, new Float32Array(m * n), m, k, n);
}

/** C (m×n) = Aᵀ · B with A (r×m), B (r×n): outer products of rows, accumulated (r-i-j). */
export function gemmTN32(a: Float32Array, b: Float32Array, c: Float32Array, r: number, m: number, n: number): Float32Array {
  c.fill(0, 0, m * n);
  for (let q = 0; q < r; q++) {
    const aq = q * m;
    const bq = q * n;
    for (let i = 0; i < m; i++) {
      const aqi = a[aq + i]!;
      const ci = i * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aqi * b[bq + j]!;
    }
  }
  return c;
}

/** `gemmTN32`, four rows of A and B per pass. */
export function gemmTNUnrolled32(a: Float32Array, b: Float32Array, c: Float32Array, r: number, m: number, n: number): Float32Array {
  c.fill(0, 0, m * n);
  const r4 = r - (r % 4);
  let q = 0;
  for (; q < r4; q += 4) {
    const aq = q * m;
    const b0 = q * n;
    const b1 = b0 + n;
    const b2 = b1 + n;
    const b3 = b2 + n;
    for (let i = 0; i < m; i++) {
      const a0 = a[aq + i]!;
      const a1 = a[aq + m + i]!;
      const a2 = a[aq + 2 * m + i]!;
      const a3 = a[aq + 3 * m + i]!;
      const ci = i * n;
      for (let j = 0; j < n; j++) {
        c[ci + j] = c[ci + j]! + a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
      }
    }
  }
  for (; q < r; q++) {
    const aq = q * m;
    const bq = q * n;
    for (let i = 0; i < m; i++) {
      const aqi = a[aq + i]!;
      const ci = i * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + aqi * b[bq + j]!;
    }
  }
  return c;
}

/** C (m×n) = A · Bᵀ with A (m×k), B (n×k): dot products of rows. */
export function gemmNT32(a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): Float32Array {
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p]! * b[bj + p]!;
      c[i * n + j] = s;
    }
  }
  return c;
}

// ── W3: MLP training step ────────────────────────────────────────────────────────────────────

export interface MlpParams32 {
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

export interface MlpStep {
  /** The parameters being trained (updated in place by `step`). */
  readonly params: MlpParams32;
  /** Loss and gradients at the current parameters, without updating them. */
  lossAndGrads(): { loss: number; grads: MlpParams32 };
  /** One SGD step: forward, backward, update in place. Returns the loss before the update. */
  step(): number;
}

/**
 * A hand-written training step for the tanh MLP with softmax cross-entropy (mean over the batch),
 * float32, scratch buffers allocated once. `unrolled` picks the 4×-unrolled matmul kernels for
 * the two large products (X·W1 and Xᵀ·dA).
 */
export function handWrittenMlp(input: MlpInput, unrolled: boolean): MlpStep {
  const { batch: B, inputs: D, hidden: H, classes: O, x, labels, learningRate } = input;
  const params: MlpParams32 = { w1: input.w1.slice(), b1: input.b1.slice(), w2: input.w2.slice(), b2: input.b2.slice() };
  const grads: MlpParams32 = { w1: new Float32Array(D * H), b1: new Float32Array(H), w2: new Float32Array(H * O), b2: new Float32Array(O) };
  const hidden = new Float32Array(B * H);
  const logits = new Float32Array(B * O);
  const dLogits = new Float32Array(B * O);
  const dHidden = new Float32Array(B * H);
  const gemm = unrolled ? gemmUnrolled32 : gemm32;
  const gemmTN = unrolled ? gemmTNUnrolled32 : gemmTN32;

  const lossAndGrads = (): { loss: number; grads: MlpParams32 } => {
    const { w1, b1, w2, b2 } = params;
    // forward: hidden = tanh(X·W1 + b1), logits = hidden·W2 + b2
    gemm(x, w1, hidden, B, D, H);
    for (let i = 0; i < B; i++) {
      for (let j = 0; j < H; j++) hidden[i * H + j] = Math.tanh(hidden[i * H + j]! + b1[j]!);
    }
    gemm(hidden, w2, logits, B, H, O);
    // softmax cross-entropy; dLogits = (softmax − onehot) / B
    let loss = 0;
    for (let i = 0; i < B; i++) {
      const row = i * O;
      let m = -Infinity;
      for (let j = 0; j < O; j++) {
        const z = logits[row + j]! + b2[j]!;
        logits[row + j] = z;
        if (z > m) m = z;
      }
      let s = 0;
      for (let j = 0; j < O; j++) s += Math.exp(logits[row + j]! - m);
      const label = labels[i]!;
      loss -= logits[row + label]! - m - Math.log(s);
      for (let j = 0; j < O; j++) dLogits[row + j] = (Math.exp(logits[row + j]! - m) / s - (j === label ? 1 : 0)) / B;
    }
    // backward
    gemmTN32(hidden, dLogits, grads.w2, B, H, O);
    grads.b2.fill(0);
    for (let i = 0; i < B; i++) for (let j = 0; j < O; j++) grads.b2[j] = grads.b2[j]! + dLogits[i * O + j]!;
    gemmNT32(dLogits, w2, dHidden, B, O, H);
    for (let i = 0; i < B * H; i++) {
      const h = hidden[i]!;
      dHidden[i] = dHidden[i]! * (1 - h * h);
    }
    gemmTN(x, dHidden, grads.w1, B, D, H);
    grads.b1.fill(0);
    for (let i = 0; i < B; i++) for (let j = 0; j < H; j++) grads.b1[j] = grads.b1[j]! + dHidden[i * H + j]!;
    return { loss: loss / B, grads };
  };

  const update = (p: Float32Array, g: Float32Array): void => {
    for (let i = 0; i < p.length; i++) p[i] = p[i]! - learningRate * g[i]!;
  };

  return {
    params,
    lossAndGrads,
    step() {
      const { loss } = lossAndGrads();
      update(params.w1, grads.w1);
      update(params.b1, grads.b1);
      update(params.w2, grads.w2);
      update(params.b2, grads.b2);
      return loss;
    },
  };
}
