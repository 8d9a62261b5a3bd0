/**
 * The workloads' seeded inputs (bench/README.md): the same numbers for every implementation, made
 * by a small seeded generator (mulberry32) so the harness does not depend on any engine's RNG.
 */

/** A uniform generator in [0, 1) from a 32-bit seed (mulberry32). */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(length: number, low: number, high: number, seed: number): Float64Array {
  const next = seeded(seed);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = low + (high - low) * next();
  return out;
}

export type FloatDType = "float64" | "float32";
export type FloatArray = Float64Array | Float32Array;

/** `values` in the given dtype (float32 rounds). */
export function inDType(values: ArrayLike<number>, dtype: FloatDType): FloatArray {
  return dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);
}

// ── W2: extended Rosenbrock ──────────────────────────────────────────────────────────────────

export interface RosenbrockInput {
  readonly n: number;
  readonly dtype: FloatDType;
  /** The point (in `dtype`). */
  readonly x: FloatArray;
  /** A direction for jvp (in `dtype`). */
  readonly v: FloatArray;
}

export function rosenbrockInput(n: number, dtype: FloatDType): RosenbrockInput {
  return { n, dtype, x: inDType(uniform(n, -1.2, 1.2, 1000 + n), dtype), v: inDType(uniform(n, -1, 1, 2000 + n), dtype) };
}

// ── W3: MLP training step ────────────────────────────────────────────────────────────────────

export interface MlpInput {
  readonly batch: number;
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  readonly learningRate: number;
  /** batch × inputs, row-major, float32. */
  readonly x: Float32Array;
  /** Class indices, one per row. */
  readonly labels: Int32Array;
  /** The initial parameters (float32); implementations copy them before training. */
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

/** 784-128-10, batch 64 by default (W3 in bench/README.md); smaller sizes for tests. */
export function mlpInput(batch = 64, inputs = 784, hidden = 128, classes = 10): MlpInput {
  const next = seeded(3000);
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = Math.floor(next() * classes);
  const a1 = 1 / Math.sqrt(inputs);
  const a2 = 1 / Math.sqrt(hidden);
  return {
    batch,
    inputs,
    hidden,
    classes,
    learningRate: 0.01,
    x: Float32Array.from(uniform(batch * inputs, 0, 1, 3001)),
    labels,
    w1: Float32Array.from(uniform(inputs * hidden, -a1, a1, 3002)),
    b1: Float32Array.from(uniform(hidden, -0.1, 0.1, 3003)),
    w2: Float32Array.from(uniform(hidden * classes, -a2, a2, 3004)),
    b2: Float32Array.from(uniform(classes, -0.1, 0.1, 3005)),
  };
}

// ── W4: matmul ───────────────────────────────────────────────────────────────────────────────

export interface MatmulInput {
  readonly size: number;
  readonly dtype: FloatDType;
  readonly a: FloatArray;
  readonly b: FloatArray;
}

export function matmulInput(size: number, dtype: FloatDType): MatmulInput {
  return { size, dtype, a: inDType(uniform(size * size, -1, 1, 4001), dtype), b: inDType(uniform(size * size, -1, 1, 4002), dtype) };
}

// ── W5: CNN training step ────────────────────────────────────────────────────────────────────

/**
 * W5's network (bench/README.md): x [N, 1, S, S] → conv 3×3 (C1 channels, "same" padding, bias) →
 * ReLU → 2×2 max-pool → conv 3×3 (C2 channels, same, bias) → ReLU → 2×2 max-pool → flatten
 * (channel-major, [N, C2·(S/4)²]) → dense to `classes` → mean softmax cross-entropy → SGD.
 * Weights are PyTorch's layouts: conv [out, in, 3, 3], dense [in, out] (as W3's).
 */
export interface CnnInput {
  readonly batch: number;
  readonly size: number;
  readonly c1: number;
  readonly c2: number;
  readonly classes: number;
  readonly learningRate: number;
  /** batch × 1 × size × size, float32. */
  readonly x: Float32Array;
  readonly labels: Int32Array;
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
  readonly w3: Float32Array;
  readonly b3: Float32Array;
}

/** Batch 32, 1×28×28, 16 and 32 channels, 10 classes by default (W5); smaller sizes for tests. */
export function cnnInput(batch = 32, size = 28, c1 = 16, c2 = 32, classes = 10): CnnInput {
  if (size % 4 !== 0) throw new RangeError(`cnnInput: expected a size divisible by 4, got ${size}`);
  const next = seeded(5000);
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = Math.floor(next() * classes);
  const flat = c2 * (size / 4) ** 2;
  // PyTorch's default bounds: U(−1/√fan_in, 1/√fan_in)
  const bound = (fanIn: number) => 1 / Math.sqrt(fanIn);
  const u = (n: number, a: number, seed: number) => Float32Array.from(uniform(n, -a, a, seed));
  return {
    batch,
    size,
    c1,
    c2,
    classes,
    learningRate: 0.01,
    x: Float32Array.from(uniform(batch * size * size, 0, 1, 5001)),
    labels,
    w1: u(c1 * 9, bound(9), 5002),
    b1: u(c1, bound(9), 5003),
    w2: u(c2 * c1 * 9, bound(c1 * 9), 5004),
    b2: u(c2, bound(c1 * 9), 5005),
    w3: u(flat * classes, bound(flat), 5006),
    b3: u(classes, bound(flat), 5007),
  };
}

// ── W6: conv2d forward ───────────────────────────────────────────────────────────────────────

/** x [batch, channels, size, size] ⋆ w [channels, channels, 3, 3], "same" padding, stride 1, no bias. */
export interface ConvInput {
  readonly batch: number;
  readonly channels: number;
  readonly size: number;
  readonly x: Float32Array;
  readonly w: Float32Array;
}

/** 64 → 64 channels, 56×56, batch 8 by default (W6). */
export function convInput(batch = 8, channels = 64, size = 56): ConvInput {
  const a = 1 / Math.sqrt(channels * 9);
  return {
    batch,
    channels,
    size,
    x: Float32Array.from(uniform(batch * channels * size * size, -1, 1, 6001)),
    w: Float32Array.from(uniform(channels * channels * 9, -a, a, 6002)),
  };
}
