/** Summary statistics and number formatting for benchmark samples. */

export interface Summary {
  /** Median of the samples (milliseconds per call). */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** How many samples (rounds) the summary is over. */
  readonly count: number;
}

/** The median of a non-empty list (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median: expected at least one value, got none");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError("summarize: expected at least one sample, got none");
  let min = Infinity;
  let max = -Infinity;
  for (const s of samples) {
    if (s < min) min = s;
    if (s > max) max = s;
  }
  return { median: median(samples), min, max, count: samples.length };
}

/** A duration given in milliseconds, with a unit that keeps 3 significant digits (`5.52 ns`, `216 µs`, `1.23 s`). */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const abs = Math.abs(ms);
  if (abs >= 1000) return `${significant(ms / 1000)} s`;
  if (abs >= 1) return `${significant(ms)} ms`;
  if (abs >= 1e-3) return `${significant(ms * 1e3)} µs`;
  return `${significant(ms * 1e6)} ns`;
}

/** Three significant digits, without exponent notation or trailing zeros beyond them. */
export function significant(value: number, digits = 3): string {
  if (value === 0) return "0";
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value.toFixed(decimals);
}

/** A ratio such as `4.6×` (two significant digits below 10, integers above 100). */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return "—";
  if (ratio >= 100) return `${Math.round(ratio)}×`;
  if (ratio >= 10) return `${ratio.toFixed(1)}×`;
  if (ratio >= 1) return `${ratio.toFixed(2)}×`;
  return `${significant(ratio, 2)}×`;
}

/** `min–max` of a summary as durations. */
export function formatSpread(summary: Summary): string {
  return `${formatTime(summary.min)}–${formatTime(summary.max)}`;
}

/** Bytes as KiB/MiB with 3 significant digits. */
export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1024 * 1024) return `${significant(bytes / (1024 * 1024))} MiB`;
  if (abs >= 1024) return `${significant(bytes / 1024)} KiB`;
  return `${Math.round(bytes)} B`;
}
