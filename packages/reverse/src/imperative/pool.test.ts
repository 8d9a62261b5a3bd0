/**
 * The imperative backward pass's buffer pool (the functional sweep's `SweepPool`, arith.ts): gradients
 * are bit-identical with the pool on and off, and nothing user code can hold — `.grad` of leaves,
 * values hooks see or return, retainGrad values, `gradients(...)` results, custom rules' values —
 * is ever overwritten by a later sweep that reuses buffers.
 */
import * as ir from "@chainrule/ir";
import { customVjp, type Tensor } from "@chainrule/ir";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clearFreeList, setPooling, type SweepPool } from "../arith.js";
import { backward, gradients, observeSweepPools } from "./backward.js";
import { noGrad, parameter, variable, type Variable } from "./variable.js";

afterEach(() => {
  setPooling(true);
  observeSweepPools(null);
  ir.setFusion({ enabled: true });
});

const V = (t: Tensor): Variable => t as Variable;
const bits = (t: Tensor | null): number[] => Array.from(t!.data as Float64Array | Float32Array);

/** mulberry32: a small seeded generator, so every graph can be rebuilt exactly. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTensor(next: () => number, shape: number[], dtype: "float32" | "float64", scale: number): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, () => (next() * 2 - 1) * scale);
  return ir.tensor(dtype === "float32" ? Float32Array.from(values) : Float64Array.from(values), { shape });
}

interface Model {
  readonly leaves: Variable[];
  /** Builds the loss (a new graph each call) from the model's leaves. */
  loss(): Variable;
}

const ACTIVATIONS: ((h: Tensor) => Tensor)[] = [
  ir.tanh,
  ir.relu,
  ir.sigmoid,
  ir.sin,
  (h) => ir.mul(ir.mul(h, h), 0.25), // h used twice by one op: its cotangent fans out
  (h) => ir.add(ir.tanh(h), h), // a residual: h feeds two ops
];

/**
 * A random MLP-like model: batch 64 × widths of 144 to 199 (every activation and its adjoint is
 * over 32 KiB, so the pool handles it), 2 to 4 layers of matmul + bias + activation, sometimes a
 * skip connection, sometimes one weight used twice (its gradient has two contributions), the
 * input itself sometimes requiring grad.
 */
function randomModel(seed: number): Model {
  const next = generator(seed);
  const dtype = next() < 0.5 ? "float32" : "float64";
  const batch = 64;
  const widths = Array.from({ length: 2 + Math.floor(next() * 3) + 1 }, () => 144 + Math.floor(next() * 56));
  const x = variable(randomTensor(next, [batch, widths[0]!], dtype, 1), { requiresGrad: next() < 0.5 });
  const layers = widths.slice(1).map((width, i) => ({
    w: parameter(randomTensor(next, [widths[i]!, width], dtype, 1 / Math.sqrt(widths[i]!))),
    b: parameter(randomTensor(next, [width], dtype, 0.1)),
    act: ACTIVATIONS[Math.floor(next() * ACTIVATIONS.length)]!,
    skip: next() < 0.4,
    tied: next() < 0.3,
  }));
  const leaves = [x, ...layers.flatMap((l) => [l.w, l.b])];
  return {
    leaves,
    loss: () => {
      let h: Tensor = x;
      for (const layer of layers) {
        let z = layer.act(ir.add(ir.matmul(h, layer.w), layer.b));
        if (layer.skip && z.shape[1] === h.shape[1]) z = ir.add(z, h);
        // the same weight once more (a square one applied twice, else a scaled use of it)
        if (layer.tied) z = ir.add(z, ir.mul(ir.sum(ir.mul(layer.w, layer.w)), 1e-3));
        h = z;
      }
      return V(ir.mean(ir.mul(h, h)));
    },
  };
}

/** `.grad` of every leaf after one backward pass of a fresh copy of model `seed`. */
function gradsOf(seed: number, pooling: boolean): (number[] | null)[] {
  setPooling(pooling);
  const model = randomModel(seed);
  model.loss().backward();
  return model.leaves.map((v) => (v.requiresGrad ? bits(v.grad) : null));
}

describe("the imperative sweep's buffer pool", () => {
  it("gives bit-identical gradients with the pool on and off over random MLP-like graphs", () => {
    for (let seed = 1; seed <= 12; seed++) {
      const plain = gradsOf(seed, false);
      const pooled = gradsOf(seed, true);
      // a second pooled pass takes the buffers the first one released
      const again = gradsOf(seed, true);
      expect(pooled).toEqual(plain);
      expect(again).toEqual(plain);
    }
  });

  it("reuses dead adjoint buffers within one sweep and across sweeps (fusion off: one array per primitive)", () => {
    ir.setFusion({ enabled: false });
    clearFreeList();
    const pools: SweepPool[] = [];
    observeSweepPools((pool) => pools.push(pool));
    // x → tanh → tanh → tanh → mean(h²): each layer's adjoints are [64, 160] float64 (80 KB)
    const x = variable(randomTensor(generator(7), [64, 160], "float64", 1), { requiresGrad: true });
    const loss = () => {
      let h: Tensor = x;
      for (let k = 0; k < 3; k++) h = ir.tanh(h);
      return V(ir.mean(ir.mul(h, h)));
    };
    loss().backward();
    loss().backward();
    expect(pools).toHaveLength(2);
    const [first, second] = pools as [SweepPool, SweepPool];
    // per layer: y², (1 − y²)'s product with the cotangent; the adjoint of each layer's output is
    // dead once that layer has pulled it back, and serves the next layer's arrays
    expect(first.allocations).toBeGreaterThanOrEqual(6);
    expect(first.reused).toBeGreaterThanOrEqual(2);
    expect(second.allocations).toBe(first.allocations);
    expect(second.reused).toBeGreaterThan(first.reused);
    // and the gradient is still right: twice (two passes accumulate) d/dx mean(tanh³(x)²), by hand
    const xs = x.value.data;
    const g = x.grad!.data;
    for (let i = 0; i < xs.length; i += 499) {
      const h1 = Math.tanh(xs[i]!);
      const h2 = Math.tanh(h1);
      const h3 = Math.tanh(h2);
      const expected = ((2 * h3) / xs.length) * (1 - h3 * h3) * (1 - h2 * h2) * (1 - h1 * h1);
      expect(g[i]).toBeCloseTo(2 * expected, 14);
    }
  });

  it("accumulates .grad across two backward calls without a later sweep corrupting it", () => {
    const seed = 3;
    const once = gradsOf(seed, false);
    const model = randomModel(seed);
    model.loss().backward();
    const first = model.leaves.map((v) => v.grad);
    const firstBits = first.map((g) => (g === null ? null : bits(g)));
    model.loss().backward();
    // unrelated sweeps that take every buffer the free list holds
    for (let k = 0; k < 3; k++)
      randomModel(seed + 100 + k)
        .loss()
        .backward();
    model.leaves.forEach((v, i) => {
      if (!v.requiresGrad) return;
      // the earlier .grad tensors are untouched, the new ones are 2 × one pass (exact: doubling)
      expect(bits(first[i]!)).toEqual(firstBits[i]);
      expect(bits(v.grad)).toEqual(once[i]!.map((a) => a + a));
    });
  });

  it("hooks see gradients that are not overwritten later, also when a hook returns one it keeps", () => {
    const seen: { t: Tensor; copy: number[] }[] = [];
    const keep = (g: Tensor) => {
      seen.push({ t: g, copy: bits(g) });
    };
    const x = variable(randomTensor(generator(11), [64, 160], "float64", 1), { requiresGrad: true });
    const ones = variable(ir.ones([64, 160], "float64"));
    x.registerHook(keep);
    const loss = () => {
      const hidden = V(ir.tanh(ir.mul(x, 2)));
      hidden.registerHook(keep);
      // a hook that returns a replacement it keeps too (an op on a variable: made while the sweep's pool is current)
      hidden.registerHook((g) => {
        const same = ir.mul(g, ones);
        seen.push({ t: same, copy: bits(same) });
        return same;
      });
      const out = V(ir.tanh(hidden));
      out.registerHook(keep);
      return V(ir.sum(ir.mul(ir.add(out, hidden), out)));
    };
    loss().backward();
    expect(seen.length).toBe(4);
    expect(bits(x.grad)).toEqual(seen[3]!.copy);
    // a second pass adds to x.grad; then unrelated sweeps reuse whatever the free list holds
    loss().backward();
    for (let k = 0; k < 4; k++)
      randomModel(20 + k)
        .loss()
        .backward();
    expect(seen.length).toBe(8);
    for (const { t, copy } of seen) expect(bits(t)).toEqual(copy);
    const first = seen[3]!.copy;
    const second = seen[7]!.copy;
    expect(bits(x.grad)).toEqual(first.map((a, i) => a + second[i]!));
  });

  it("retainGrad values and gradients(...) results are never recycled", () => {
    const x = variable(randomTensor(generator(12), [64, 160], "float32", 1), { requiresGrad: true });
    const h = V(ir.tanh(ir.mul(x, x))).retainGrad();
    const y = V(ir.sin(h));
    V(ir.sum(ir.mul(y, y))).backward();
    const retained = h.grad!;
    const retainedBits = bits(retained);
    const h2 = V(ir.tanh(ir.mul(x, 3)));
    const [gx, gh] = gradients(V(ir.sum(ir.mul(ir.sin(h2), h2))), [x, h2]) as [Tensor, Tensor];
    const gxBits = bits(gx);
    const ghBits = bits(gh);
    for (let k = 0; k < 4; k++)
      randomModel(30 + k)
        .loss()
        .backward();
    expect(bits(retained)).toEqual(retainedBits);
    expect(bits(gx)).toEqual(gxBits);
    expect(bits(gh)).toEqual(ghBits);
    // d/dh Σ sin(h)² = 2 sin(h) cos(h), by hand
    const hv = h.value.data;
    for (let i = 0; i < hv.length; i += 397) expect(retained.data[i]).toBeCloseTo(Math.sin(2 * hv[i]!), 5);
  });

  it("never recycles what a customVjp rule receives or returns", () => {
    const received: { t: Tensor; copy: number[] }[] = [];
    const identity = customVjp(
      (t: Tensor) => t,
      (t: Tensor) => [t, null],
      (_residuals: null, ct: Tensor) => {
        received.push({ t: ct, copy: bits(ct) });
        return [ct];
      },
    );
    const x = variable(randomTensor(generator(13), [64, 160], "float64", 1), { requiresGrad: true });
    const y = identity(ir.tanh(x));
    // the customVjp output's cotangent is handed to bwd, which returns it as its own result
    V(ir.sum(ir.mul(ir.tanh(y), y))).backward();
    for (let k = 0; k < 3; k++)
      randomModel(40 + k)
        .loss()
        .backward();
    expect(received).toHaveLength(1);
    expect(bits(received[0]!.t)).toEqual(received[0]!.copy);
  });

  it("retainGraph: two passes give the same gradient and keep the saved values; without it the graph is freed", () => {
    const x = variable(randomTensor(generator(14), [64, 160], "float64", 1), { requiresGrad: true });
    const loss = V(ir.sum(ir.mul(ir.tanh(x), ir.tanh(x))));
    backward(loss, { retainGraph: true });
    const first = x.grad!;
    const firstBits = bits(first);
    x.zeroGrad();
    backward(loss, { retainGraph: true });
    expect(bits(x.grad)).toEqual(firstBits);
    expect(bits(first)).toEqual(firstBits);
    backward(loss);
    expect(() => backward(loss)).toThrow(/retainGraph: true/);
  });

  it("without retainGraph a node's saved values are dropped as soon as its backward ran, before the sweep ends", () => {
    const x = variable(randomTensor(generator(15), [64, 160], "float64", 1), { requiresGrad: true });
    const y = V(ir.tanh(x));
    const z = V(ir.tanh(y));
    const states: string[] = [];
    // y's hook runs when the sweep reaches y's node: z's node (newer) has run, y's has not
    y.registerHook(() => {
      states.push(`z ${z.node!.y === null ? "dropped" : "kept"}, y ${y.node!.y === null ? "dropped" : "kept"}`);
    });
    backward(V(ir.sum(z)), { retainGraph: true });
    backward(V(ir.sum(z)));
    expect(states).toEqual(["z kept, y kept", "z dropped, y kept"]);
    expect(y.node!.y).toBeNull();
  });
});

// ── a training loop: large arrays allocated per step ─────────────────────────────────────────

const LARGE = 1 << 15;

/** Runs `body` with Float32Array/Float64Array constructors that count fresh buffers over 32 KiB. */
function countLargeArrays(body: () => void): number {
  let count = 0;
  const counting = <T extends Float32ArrayConstructor | Float64ArrayConstructor>(Base: T): T =>
    class extends (Base as unknown as new (...args: unknown[]) => Float64Array) {
      constructor(...args: unknown[]) {
        super(...args);
        // a fresh buffer (a length, or values to copy), not a view on an existing one
        if (!(args[0] instanceof ArrayBuffer) && this.byteLength > LARGE) count++;
      }
    } as unknown as T;
  vi.stubGlobal("Float32Array", counting(Float32Array));
  vi.stubGlobal("Float64Array", counting(Float64Array));
  try {
    body();
  } finally {
    vi.unstubAllGlobals();
  }
  return count;
}

/** W3's model (bench/src/impls/mlp-model.ts) at batch 128, 256-256-10, float32: each hidden array is 128 KiB. */
function trainingLoop(pooling: boolean, steps: number): number {
  setPooling(pooling);
  clearFreeList();
  const next = generator(5);
  const x = randomTensor(next, [128, 256], "float32", 1);
  const labels = ir.tensor(Int32Array.from({ length: 128 }, (_, i) => i % 10));
  const w1 = parameter(randomTensor(next, [256, 256], "float32", 1 / 16));
  const b1 = parameter(randomTensor(next, [256], "float32", 0.1));
  const w2 = parameter(randomTensor(next, [256, 10], "float32", 1 / 16));
  const b2 = parameter(randomTensor(next, [10], "float32", 0.1));
  const params = [w1, b1, w2, b2];
  const step = () => {
    for (const p of params) p.zeroGrad();
    const hidden = ir.tanh(ir.add(ir.matmul(x, w1), b1));
    V(ir.crossEntropy(ir.add(ir.matmul(hidden, w2), b2), labels)).backward();
    noGrad(() => {
      for (const p of params) p.value = ir.sub(p.value, ir.mul(p.grad!, 0.01));
    });
  };
  for (let k = 0; k < 3; k++) step(); // warm-up: the free list fills
  return countLargeArrays(() => {
    for (let k = 0; k < steps; k++) step();
  });
}

describe("a W3-like training loop", () => {
  it("allocates fewer large arrays per step with the pool (fusion off: one array per primitive)", () => {
    ir.setFusion({ enabled: false });
    const steps = 10;
    const plain = trainingLoop(false, steps) / steps;
    const pooled = trainingLoop(true, steps) / steps;
    // without the pool: forward matmul, bias add, tanh; backward hidden cotangent, y², 1 − y²,
    // the product, w1's gradient; the update of w1 (a product and a difference)
    expect(plain).toBeGreaterThanOrEqual(9);
    expect(pooled).toBeLessThanOrEqual(plain - 2);
  });
});

describe("fused (lazy) gradients and hooks", () => {
  it("a hook sees a computed gradient: updating the parameter in place afterwards does not change what it kept", () => {
    ir.setFusion({ minSize: 1 });
    try {
      const w = parameter(ir.tensor(Float64Array.from({ length: 50 }, (_, i) => 0.1 * i - 2)));
      const x = variable(ir.tensor(Float64Array.from({ length: 50 }, (_, i) => Math.sin(i))));
      const kept: { g: Tensor; pending: boolean }[] = [];
      const hidden = V(ir.mul(w, x));
      // ∂/∂hidden of sum(hidden · w) is w: lazy (a fused product of w) until something reads it
      hidden.registerHook((g) => {
        kept.push({ g, pending: ir.isPending(g) });
      });
      V(ir.sum(ir.mul(hidden, w))).backward();
      expect(kept).toHaveLength(1);
      expect(kept[0]!.pending).toBe(false);
      const before = bits(kept[0]!.g);
      // an optimizer step in place, as SGD does
      noGrad(() => {
        const data = w.value.data as Float64Array;
        for (let i = 0; i < data.length; i++) data[i] = data[i]! - 0.5;
      });
      expect(bits(kept[0]!.g)).toEqual(before);
      expect(before).toEqual(Array.from({ length: 50 }, (_, i) => 0.1 * i - 2));
    } finally {
      ir.setFusion({ minSize: 4096 });
    }
  });
});
