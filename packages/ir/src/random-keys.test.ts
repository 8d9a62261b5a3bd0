/** The functional PRNG (family "random", issue 18): Threefry's published test vectors, keys, and the samplers' distributions. */
import { describe, expect, it } from "vitest";
import { ArgumentError, bind, DTypeError, evalGraph, random, Tensor, trace } from "./index.js";

const pair = (a: number, b: number) => new Tensor("int32", [2], Int32Array.from([a | 0, b | 0]));
const hex = (t: Tensor) => Array.from(t.data, (v) => `0x${(v >>> 0).toString(16).padStart(8, "0")}`);

describe("threefry2x32", () => {
  // the known-answer tests of Random123 (kat_vectors, threefry2x32_20), also in JAX's random_test.py
  it.each([
    [0, 0, 0, 0, ["0x6b200159", "0x99ba4efe"]],
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, ["0x1cb996fc", "0xbb002be7"]],
    [0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3, ["0xc4923a9c", "0x483df7a0"]],
  ])("key (%i, %i), counter (%i, %i) → the published block", (k0, k1, c0, c1, expected) => {
    expect(hex(bind("threefry2x32", [pair(k0, k1), pair(c0, c1)], {}))).toEqual(expected);
  });

  it("broadcasts keys against counters pair by pair (a batch of keys is a loop over the keys)", () => {
    const keys = new Tensor("int32", [3, 1, 2], Int32Array.from([1, 2, 3, 4, -5, 6]));
    const counters = new Tensor("int32", [2, 2], Int32Array.from([0, 0, 7, 8]));
    const all = bind("threefry2x32", [keys, counters], {});
    expect(all.shape).toEqual([3, 2, 2]);
    for (let k = 0; k < 3; k++) {
      for (let c = 0; c < 2; c++) {
        const one = bind(
          "threefry2x32",
          [pair(keys.data[2 * k]!, keys.data[2 * k + 1]!), pair(counters.data[2 * c]!, counters.data[2 * c + 1]!)],
          {},
        );
        expect(Array.from(all.data.slice(4 * k + 2 * c, 4 * k + 2 * c + 2))).toEqual(Array.from(one.data));
      }
    }
  });

  it("rejects non-int32 or non-pair operands, naming the op", () => {
    expect(() => bind("threefry2x32", [new Tensor("float64", [2], new Float64Array(2)), pair(0, 0)], {})).toThrow(
      /threefry2x32: expected an int32 key, got float64/,
    );
    expect(() => bind("threefry2x32", [pair(0, 0), new Tensor("int32", [3], new Int32Array(3))], {})).toThrow(
      /threefry2x32: expected a counter of shape \[\.\.\., 2\] \(word pairs\), got \[3\]/,
    );
  });
});

describe("random keys", () => {
  it("random.key(seed) holds the seed's high and low words (as JAX's PRNGKey)", () => {
    expect(Array.from(random.key(0).data)).toEqual([0, 0]);
    expect(Array.from(random.key(42).data)).toEqual([0, 42]);
    expect(Array.from(random.key(2 ** 32 + 5).data)).toEqual([1, 5]);
    expect(Array.from(random.key(-1).data)).toEqual([-1, -1]);
    expect(random.key(3).dtype).toBe("int32");
  });

  it("split(key, n) is the cipher of the counters (0, 0) … (0, n − 1); foldIn(key, d) of (0, d)", () => {
    const k = random.key(1234);
    const keys = random.split(k, 3);
    expect(keys.shape).toEqual([3, 2]);
    for (let i = 0; i < 3; i++) {
      expect(Array.from(keys.data.slice(2 * i, 2 * i + 2))).toEqual(Array.from(bind("threefry2x32", [k, pair(0, i)], {}).data));
      expect(Array.from(random.foldIn(k, i).data)).toEqual(Array.from(keys.data.slice(2 * i, 2 * i + 2)));
    }
    expect(random.split(k).shape).toEqual([2, 2]);
    expect(random.split(k, 0).shape).toEqual([0, 2]);
  });

  it("foldIn takes a traced int32 scalar and gives what it gives for the number", () => {
    const k = random.key(7);
    const graph = trace((d: Tensor) => random.foldIn(k, d), new Tensor("int32", [], Int32Array.of(0)));
    const [traced] = evalGraph(graph, [new Tensor("int32", [], Int32Array.of(99))]);
    expect(Array.from(traced!.data)).toEqual(Array.from(random.foldIn(k, 99).data));
  });

  it("is deterministic: one key gives one stream; different keys give different streams", () => {
    const [a, b] = [random.split(random.key(5)), random.split(random.key(5))];
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const u1 = random.uniform(random.key(1), [8]).data;
    const u2 = random.uniform(random.key(2), [8]).data;
    expect(Array.from(u1)).not.toEqual(Array.from(u2));
  });

  it("a sample's element i does not depend on the shape around it (counter (0, i))", () => {
    const k = random.key(11);
    const small = random.uniform(k, [5]).data;
    const large = random.uniform(k, [2, 10]).data;
    expect(Array.from(large.slice(0, 5))).toEqual(Array.from(small));
  });

  it("checks its arguments, naming the op", () => {
    expect(() => random.key(1.5)).toThrow(ArgumentError);
    expect(() => random.split(new Tensor("float64", [2], new Float64Array(2)))).toThrow(
      /random\.split: expected a key \(an int32 tensor of shape \[2\], from random\.key\(seed\)\), got a float64 tensor of shape \[2\]/,
    );
    expect(() => random.split(random.key(0), -1)).toThrow(/random\.split: expected n to be an integer ≥ 0, got -1/);
    expect(() => random.uniform(random.key(0), [2], { low: 1, high: 1 })).toThrow(/random\.uniform: expected low < high/);
    expect(() => random.uniform(random.key(0), [2], { dtype: "int32" })).toThrow(DTypeError);
    expect(() => random.foldIn(random.key(0), 0.5)).toThrow(/random\.foldIn: expected data to be a 32-bit integer, got 0\.5/);
    expect(() => (random.uniform as (...a: unknown[]) => unknown)(random.key(0))).toThrow(/random\.uniform/);
  });
});

/** Mean and (population) variance of the values. */
function moments(values: ArrayLike<number>): [number, number] {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i]!;
  mean /= values.length;
  let variance = 0;
  for (let i = 0; i < values.length; i++) variance += (values[i]! - mean) ** 2;
  return [mean, variance / values.length];
}

describe("samplers (fixed keys; tolerances are 5 standard errors)", () => {
  const n = 40000;

  it("uniform: in [0, 1), mean ½, variance 1/12; float64 values are multiples of 2⁻⁵³, float32 of 2⁻²⁴", () => {
    const u = random.uniform(random.key(2026), [n]);
    expect(u.dtype).toBe("float64");
    const [mean, variance] = moments(u.data);
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / n));
    expect(u.data.every((v) => v >= 0 && v < 1 && Number.isInteger(v * 2 ** 53))).toBe(true);
    const f = random.uniform(random.key(2026), [1000], { dtype: "float32" });
    expect(f.dtype).toBe("float32");
    for (const v of f.data) expect(v >= 0 && v < 1 && Number.isInteger(v * 2 ** 24)).toBe(true);
  });

  it("uniform with low and high stays in [low, high), float32 included", () => {
    const u = random.uniform(random.key(3), [2000], { low: -2, high: 3 });
    const [mean] = moments(u.data);
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(25 / 12 / 2000));
    for (const v of u.data) expect(v >= -2 && v < 3).toBe(true);
    const f = random.uniform(random.key(3), [2000], { low: 0.1, high: 0.2, dtype: "float32" });
    for (const v of f.data) expect(v >= Math.fround(0.1) && v < Math.fround(0.2)).toBe(true);
  });

  it("normal: mean 0, variance 1, 68.27% within one std, finite; with mean and std", () => {
    const z = random.normal(random.key(99), [n]);
    const [mean, variance] = moments(z.data);
    expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(1 / n));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    const within = Array.from(z.data).filter((v) => Math.abs(v) < 1).length / n;
    expect(Math.abs(within - 0.682689492)).toBeLessThan(5 * Math.sqrt((0.6827 * 0.3173) / n));
    expect(z.data.every((v) => Number.isFinite(v))).toBe(true);
    const shifted = random.normal(random.key(99), [n], { mean: 3, std: 2, dtype: "float32" });
    expect(shifted.dtype).toBe("float32");
    const [m2, v2] = moments(shifted.data);
    expect(Math.abs(m2 - 3)).toBeLessThan(5 * Math.sqrt(4 / n));
    expect(Math.abs(v2 - 4)).toBeLessThan(5 * Math.sqrt(32 / n));
  });

  it("bernoulli: true with probability p, per element of a tensor p", () => {
    const b = random.bernoulli(random.key(8), 0.3, [n]);
    expect(b.dtype).toBe("bool");
    const fraction = Array.from(b.data).reduce((s, v) => s + v, 0) / n;
    expect(Math.abs(fraction - 0.3)).toBeLessThan(5 * Math.sqrt((0.3 * 0.7) / n));
    const p = new Tensor("float64", [2], Float64Array.from([0, 1]));
    expect(Array.from(random.bernoulli(random.key(8), p).data)).toEqual([0, 1]);
  });

  it("split keys give uncorrelated streams (|correlation| < 5/√n)", () => {
    const keys = random.split(random.key(17), 2);
    const key0 = new Tensor("int32", [2], keys.data.slice(0, 2));
    const key1 = new Tensor("int32", [2], keys.data.slice(2, 4));
    const a = random.normal(key0, [n]).data;
    const b = random.normal(key1, [n]).data;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += a[i]! * b[i]!;
    expect(Math.abs(dot / n)).toBeLessThan(5 / Math.sqrt(n));
    // and the parent's own stream is uncorrelated with a child's
    const parent = random.normal(random.key(17), [n]).data;
    let dot2 = 0;
    for (let i = 0; i < n; i++) dot2 += parent[i]! * a[i]!;
    expect(Math.abs(dot2 / n)).toBeLessThan(5 / Math.sqrt(n));
  });
});
