/**
 * Interleaved timing. Every implementation of one workload is warmed up, calibrated to a number of
 * calls per sample, then sampled in rounds: each round takes one sample of every implementation,
 * in an order rotated from round to round, so that a noisy neighbour on the shared machine hits
 * them all alike. A sample is the mean time of its calls; the report is the median over rounds
 * and the min–max spread. Uses the global `performance` (Node and browsers: the browser page runs
 * this file too).
 */
import { summarize, type Summary } from "./stats.js";

/** One implementation of one workload, ready to time. */
export interface Case {
  /** Untimed, before the warm-up and before every sample (e.g. select the tfjs backend). */
  readonly prepare?: () => void | Promise<void>;
  /** The timed call. Returns the result (kept, so the call cannot be optimized away). */
  readonly run: () => unknown;
  /** `run` returns a promise to await (timed with its await). */
  readonly async?: boolean;
}

export interface TimingOptions {
  /** Warm-up per case: at least this long … */
  readonly warmupMs: number;
  /** … and at least this many calls. */
  readonly warmupCalls: number;
  /** Calls per sample are chosen so a sample lasts about this long. */
  readonly sampleMs: number;
  /** Rounds (samples per case). */
  readonly rounds: number;
  /** A slow case gets fewer rounds so that its samples total about this long … */
  readonly caseBudgetMs: number;
  /** … but never fewer than this many. */
  readonly minRounds: number;
}

export interface Timed {
  /** Set when a call threw while being timed (the case is then dropped from later rounds). */
  readonly error?: string;
  readonly summary: Summary;
  /** Calls per sample. */
  readonly reps: number;
  /** Milliseconds per call, one per round. */
  readonly samples: readonly number[];
}

/** Results are stored here so no engine can drop a call whose result is unused. */
export let sink: unknown;

async function callMany(c: Case, reps: number): Promise<number> {
  if (c.async === true) {
    const start = performance.now();
    for (let i = 0; i < reps; i++) sink = await c.run();
    return performance.now() - start;
  }
  const start = performance.now();
  for (let i = 0; i < reps; i++) sink = c.run();
  return performance.now() - start;
}

/** Calls `c` until `ms` and `calls` are both reached; returns the mean time of the later calls. */
async function warmUp(c: Case, ms: number, calls: number): Promise<number> {
  let total = 0;
  let count = 0;
  let batch = 1;
  let lastBatchMs = 0;
  let lastBatch = 1;
  while (total < ms || count < calls) {
    const elapsed = await callMany(c, batch);
    total += elapsed;
    count += batch;
    lastBatchMs = elapsed;
    lastBatch = batch;
    if (elapsed < ms / 20) batch = Math.min(batch * 2, 1 << 20);
  }
  return Math.max(lastBatchMs / lastBatch, 1e-7);
}

/** Times every case, interleaved. Returns one `Timed` per case, in the order given. */
export async function timeInterleaved(cases: readonly Case[], options: TimingOptions): Promise<Timed[]> {
  const plans: { reps: number; rounds: number; samples: number[]; error?: string }[] = [];
  for (const c of cases) {
    try {
      await c.prepare?.();
      const perCall = await warmUp(c, options.warmupMs, options.warmupCalls);
      const reps = Math.max(1, Math.min(1e7, Math.ceil(options.sampleMs / perCall)));
      const rounds = Math.max(options.minRounds, Math.min(options.rounds, Math.floor(options.caseBudgetMs / (reps * perCall))));
      plans.push({ reps, rounds, samples: [] });
    } catch (error) {
      plans.push({ reps: 0, rounds: 0, samples: [], error: errorText(error) });
    }
  }
  const maxRounds = Math.max(0, ...plans.map((p) => p.rounds));
  for (let round = 0; round < maxRounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const index = (k + round) % cases.length;
      const plan = plans[index]!;
      if (round >= plan.rounds || plan.error !== undefined) continue;
      const c = cases[index]!;
      try {
        await c.prepare?.();
        plan.samples.push((await callMany(c, plan.reps)) / plan.reps);
      } catch (error) {
        plan.error = errorText(error);
      }
    }
  }
  return plans.map((p) => {
    const summary = p.samples.length > 0 ? summarize(p.samples) : { median: NaN, min: NaN, max: NaN, count: 0 };
    return { summary, reps: p.reps, samples: p.samples, ...(p.error === undefined ? {} : { error: p.error }) };
  });
}

function errorText(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).split("\n")[0]!.slice(0, 300);
}

/** Wall time of one call of `f` in milliseconds, and its result. */
export function timeOnce<T>(f: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = f();
  return { ms: performance.now() - start, value };
}
