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
