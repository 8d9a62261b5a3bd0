/**
 * Checking an implementation's answer against the hand-written one before it is timed: a fast
 * wrong answer is a failure, not a record.
 */

/** A result as flat numbers: one segment per output (e.g. loss, dW1, db1, …). */
export type Segments = readonly ArrayLike<number>[];

export interface CheckOutcome {
  readonly ok: boolean;
  /** Largest error relative to its segment's largest expected magnitude. */
  readonly relativeError: number;
  /** Why it failed (empty when ok). */
  readonly message: string;
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]!);
    if (a > m) m = a;
  }
  return m;
}

/**
 * Compares segment by segment: each must have the expected length, and
 * max |actual − expected| ≤ tolerance · max |expected| in every segment (a segment that is all
 * zeros is compared with absolute tolerance). NaN or ±∞ where a finite value is expected fails.
 */
export function compareSegments(actual: Segments, expected: Segments, tolerance: number): CheckOutcome {
  if (actual.length !== expected.length) {
    return { ok: false, relativeError: Infinity, message: `expected ${expected.length} output(s), got ${actual.length}` };
  }
  let worst = 0;
  for (let s = 0; s < expected.length; s++) {
    const a = actual[s]!;
    const e = expected[s]!;
    if (a.length !== e.length) {
      return { ok: false, relativeError: Infinity, message: `output ${s}: expected ${e.length} values, got ${a.length}` };
    }
    const scale = maxAbs(e) || 1;
    for (let i = 0; i < e.length; i++) {
      const got = Number(a[i]);
      const want = e[i]!;
      if (!Number.isFinite(got) && Number.isFinite(want)) {
        return { ok: false, relativeError: Infinity, message: `output ${s}[${i}]: expected ${want}, got ${got}` };
      }
      const err = Math.abs(got - want) / scale;
      if (err > worst || Number.isNaN(err)) worst = Number.isNaN(err) ? Infinity : err;
      if (!(err <= tolerance)) {
        return {
          ok: false,
          relativeError: worst,
          message:
            `output ${s}[${i}]: expected ${want}, got ${got} (error ${err.toExponential(2)} of max |expected| ` +
            `${scale.toPrecision(3)}, tolerance ${tolerance})`,
        };
      }
    }
  }
  return { ok: true, relativeError: worst, message: "" };
}

/** A single array or number list, or already segments, as segments. */
export function asSegments(value: unknown): Segments {
  if (typeof value === "number") return [[value]];
  if (ArrayBuffer.isView(value)) return [value as unknown as ArrayLike<number>];
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === "number")) return [value as number[]];
    return value.flatMap((v) => asSegments(v));
  }
  throw new TypeError(`asSegments: expected numbers, typed arrays or arrays of them, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}
