import { describe, expect, it } from "vitest";
import { expectError } from "./__tests__/helpers.js";
import { ArgumentError, DTypeError, Random, randomNormal, randomUniform } from "./index.js";

describe("Random (xoshiro128** seeded by splitmix32)", () => {
  it("matches the xoshiro128** reference stream for state [1, 2, 3, 4]", () => {
    // reference values of the C implementation (prng.di.unimi.it) for s = {1, 2, 3, 4}
    const r = new Random(0);
    Object.assign(r, { s0: 1, s1: 2, s2: 3, s3: 4 });
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([11520, 0, 5927040, 70819200]);
  });

  it("pins the seeded streams (reproducible across platforms: integer arithmetic only)", () => {
    const r = new Random(42);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([2837322924, 544945897, 479756282]);
    const u = new Random(42);
    // 53-bit doubles from two draws: (2837322924 >>> 5) · 2^26 + (544945897 >>> 6), over 2^53
    expect(u.nextFloat()).toBe(((2837322924 >>> 5) * 2 ** 26 + (544945897 >>> 6)) / 2 ** 53);
    expect(u.nextFloat()).toBe(0.1117019639532224);
    const n = new Random(0);
    expect([n.nextNormal(), n.nextNormal(), n.nextNormal()]).toEqual([0.48854632132701026, 0.03837218016081414, 2.5868475608858597]);
    expect(randomUniform([3], { seed: 7 }).toArray()).toEqual([0.2338277214186818, 0.44891458133395923, 0.5656696667785289]);
    expect(randomNormal([2], { seed: 7, mean: 1, std: 2 }).toArray()).toEqual([-2.235460396054533, 2.0757143532594906]);
  });

  it("is reproducible: same seed, same values; different seed, different values", () => {
    expect(randomNormal([5], { seed: 3 }).toArray()).toEqual(randomNormal([5], { seed: 3 }).toArray());
    expect(randomNormal([5], { seed: 3 }).toArray()).not.toEqual(randomNormal([5], { seed: 4 }).toArray());
    const r = new Random(9);
    const a = r.uniform([2]).toArray();
    const b = r.uniform([2]).toArray();
    expect(a).not.toEqual(b); // a generator advances
  });

  it("uniform samples lie in [low, high) with mean and variance of U(low, high)", () => {
    const n = 200_000;
    const data = randomUniform([n], { seed: 1, low: -2, high: 4 }).data;
    let sum = 0;
    let sq = 0;
    let outside = 0;
    for (const v of data) {
      if (!(v >= -2 && v < 4)) outside++;
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    const variance = sq / n - mean * mean;
    expect(outside).toBe(0);
    expect(mean).toBeCloseTo(1, 1); // exact 1, standard error 0.004
    expect(variance).toBeCloseTo(3, 1); // (4 - (-2))² / 12 = 3
  });

  it("normal samples have the requested mean and std", () => {
    const n = 200_000;
    const data = randomNormal([n], { seed: 2, mean: 3, std: 0.5 }).data;
    let sum = 0;
    let sq = 0;
    for (const v of data) {
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    const std = Math.sqrt(sq / n - mean * mean);
    expect(Math.abs(mean - 3)).toBeLessThan(0.01); // standard error 0.0011
    expect(Math.abs(std - 0.5)).toBeLessThan(0.01);
    // about 68.3% within one std
    let inside = 0;
    for (const v of data) if (Math.abs(v - 3) < 0.5) inside++;
    expect(inside / n).toBeCloseTo(0.6827, 2);
  });

  it("makes float32 (and other dtypes) and shapes", () => {
    const t = randomUniform([2, 3], { seed: 7, dtype: "float32" });
    expect(t.dtype).toBe("float32");
    expect(t.shape).toEqual([2, 3]);
    expect(t.data[0]).toBe(Math.fround(0.2338277214186818));
    expect(randomNormal([0], { seed: 1 }).size).toBe(0);
  });

  it("rejects bad seeds, shapes and dtypes", () => {
    expectError(() => new Random(1.5), ArgumentError, "Random: expected an integer seed, got 1.5");
    expectError(
      () => randomNormal([2], { seed: NaN }),
      ArgumentError,
      "randomNormal: expected options.seed to be an integer, got number NaN",
    );
    expectError(() => new Random(1.5), ArgumentError, "Random: expected an integer seed, got 1.5");
    expectError(
      () => randomUniform([-1], { seed: 1 }),
      ArgumentError,
      "randomUniform: expected a shape (an array of non-negative integers), got [-1]",
    );
    expectError(
      () => randomUniform([2], { seed: 1, low: "0" as never }),
      ArgumentError,
      'randomUniform: expected a finite number low, got string "0"',
    );
    expectError(
      () => randomNormal([2], { seed: 1, std: NaN }),
      ArgumentError,
      "randomNormal: expected a finite number std, got number NaN",
    );
    expectError(
      () => randomNormal([2], { seed: 1, dtype: "half" as never }),
      DTypeError,
      'randomNormal: expected dtype one of float64, float32, int32, bool, got "half"',
    );
  });
});
