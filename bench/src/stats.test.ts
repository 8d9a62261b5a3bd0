import { describe, expect, it } from "vitest";
import { formatBytes, formatRatio, formatTime, median, significant, summarize } from "./stats.js";

describe("stats", () => {
  it("median of odd and even counts, unsorted input left untouched", () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/at least one/);
  });

  it("summarize gives median, min, max and count", () => {
    expect(summarize([3, 9, 1, 4, 7])).toEqual({ median: 4, min: 1, max: 9, count: 5 });
  });

  it("formats durations given in ms with a fitting unit and 3 significant digits", () => {
    expect(formatTime(5.5e-6)).toBe("5.50 ns");
    expect(formatTime(0.216)).toBe("216 µs");
    expect(formatTime(23)).toBe("23.0 ms");
    expect(formatTime(1234)).toBe("1.23 s");
    expect(significant(0.000123456)).toBe("0.000123");
  });

  it("formats ratios and bytes", () => {
    expect(formatRatio(1)).toBe("1.00×");
    expect(formatRatio(4.63)).toBe("4.63×");
    expect(formatRatio(35.04)).toBe("35.0×");
    expect(formatRatio(317.4)).toBe("317×");
    expect(formatRatio(0.125)).toBe("0.13×");
    expect(formatRatio(NaN)).toBe("—");
    expect(formatBytes(800_000)).toBe("781 KiB");
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.00 MiB");
  });
});
