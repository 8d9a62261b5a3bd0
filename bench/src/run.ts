/**
 * Running one workload variant over every implementation: build, check the answer against the
 * hand-written one, then time the implementations that passed, interleaved.
 */
import { asSegments, compareSegments } from "./check.js";
import type { Summary } from "./stats.js";
import { timeInterleaved, type Case, type TimingOptions } from "./timing.js";
import { isUnsupported, type Implementation, type Variant } from "./workloads.js";

export type RowStatus = "ok" | "FAILED" | "n/a";

export interface Row {
  readonly variant: Variant;
  readonly impl: Implementation;
  /** The row's label when the build gave one (else the implementation's). */
  readonly label?: string;
  readonly status: RowStatus;
  /** ok: the timing; absent otherwise. */
  readonly summary?: Summary;
  /** Calls per sample. */
  readonly reps?: number;
  /** FAILED or n/a: why. ok: the answer's largest relative error. */
  readonly note: string;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).split("\n")[0]!.slice(0, 300);
}

/** Checks every implementation on `variant`, then times those whose answer is right. */
export async function runVariant(variant: Variant, impls: readonly Implementation[], timing: TimingOptions): Promise<Row[]> {
  const rows: (Row | undefined)[] = [];
  const toTime: { index: number; case: Case; note: string }[] = [];
  for (const impl of impls) {
    let status: RowStatus = "FAILED";
    let note: string;
    let label: string | undefined;
    try {
      const built = await impl.build(variant);
      if (isUnsupported(built)) {
        rows.push(built.quiet === true ? undefined : { variant, impl, status: "n/a", note: built.unsupported });
        continue;
      }
      label = built.label;
      await built.case.prepare?.();
      const outcome = compareSegments(asSegments(await built.result()), variant.expected, variant.tolerance);
      if (outcome.ok) {
        status = "ok";
        note = `max rel. error ${outcome.relativeError.toExponential(1)}${built.facts === undefined ? "" : `; ${built.facts()}`}`;
        toTime.push({ index: rows.length, case: built.case, note });
      } else {
        note = `wrong answer: ${outcome.message}`;
      }
    } catch (error) {
      note = `threw ${errorText(error)}`;
    }
    rows.push({ variant, impl, status, note, ...(label === undefined ? {} : { label }) });
  }
  const timed = await timeInterleaved(
    toTime.map((t) => t.case),
    timing,
  );
  toTime.forEach((t, k) => {
    const result = timed[k]!;
    const row = rows[t.index]!;
    rows[t.index] =
      result.error === undefined
        ? { ...row, summary: result.summary, reps: result.reps }
        : { ...row, status: "FAILED", note: `threw while timed: ${result.error}` };
  });
  return rows.filter((r): r is Row => r !== undefined);
}
