/**
 * Learning-rate schedules: plain functions of the step (0 for the first update) returning the
 * learning rate. They compose as functions: `join` runs schedules one after another, `scale`
 * and `product` multiply them. Formulas follow `torch.optim.lr_scheduler`.
 */
import { ArgumentError } from "@chainrule/ir";
import { checkNonNegative } from "./leaves.js";
import { checkOptions } from "./options.js";

export type Schedule = (step: number) => number;

function checkPositiveInteger(op: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ArgumentError(`${op}: expected ${name} to be a positive integer, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function checkStep(op: string, step: unknown): number {
  if (typeof step !== "number" || !Number.isInteger(step) || step < 0) {
    throw new ArgumentError(`${op}: expected the step to be an integer ≥ 0, got ${JSON.stringify(step) ?? String(step)}`);
  }
  return step;
}

/** lr(t) = value. */
export function constant(value: number): Schedule {
  const lr = checkNonNegative("constant", "value", value);
  return (step) => {
    checkStep("constant", step);
    return lr;
  };
}

/** torch StepLR: lr(t) = init · gamma^⌊t / stepSize⌋. */
export function stepDecay(options: { init: number; stepSize: number; gamma?: number }): Schedule {
  const op = "stepDecay";
  checkOptions(op, options, ["init", "stepSize", "gamma"], true);
  const init = checkNonNegative(op, "init", options.init);
  const stepSize = checkPositiveInteger(op, "stepSize", options.stepSize);
  const gamma = checkNonNegative(op, "gamma", options.gamma ?? 0.1);
  return (step) => init * gamma ** Math.floor(checkStep(op, step) / stepSize);
}

/** torch ExponentialLR: lr(t) = init · gammaᵗ. */
export function exponential(options: { init: number; gamma: number }): Schedule {
  const op = "exponential";
  checkOptions(op, options, ["init", "gamma"], true);
  const init = checkNonNegative(op, "init", options.init);
  const gamma = checkNonNegative(op, "gamma", options.gamma);
  return (step) => init * gamma ** checkStep(op, step);
}

/**
 * torch CosineAnnealingLR (closed form): lr(t) = min + (init − min)(1 + cos(π t / steps)) / 2
 * for t ≤ steps, then `min`.
 */
export function cosineAnnealing(options: { init: number; steps: number; min?: number }): Schedule {
  const op = "cosineAnnealing";
  checkOptions(op, options, ["init", "steps", "min"], true);
  const init = checkNonNegative(op, "init", options.init);
  const steps = checkPositiveInteger(op, "steps", options.steps);
  const min = checkNonNegative(op, "min", options.min ?? 0);
  return (step) => {
    const t = Math.min(checkStep(op, step), steps);
    return min + ((init - min) * (1 + Math.cos((Math.PI * t) / steps))) / 2;
  };
}

/** Linear warmup: lr(t) = from + (to − from) · t / steps for t < steps, then `to`. */
export function linearWarmup(options: { from?: number; to: number; steps: number }): Schedule {
  const op = "linearWarmup";
  checkOptions(op, options, ["from", "to", "steps"], true);
  const from = checkNonNegative(op, "from", options.from ?? 0);
  const to = checkNonNegative(op, "to", options.to);
  const steps = checkPositiveInteger(op, "steps", options.steps);
  return (step) => {
    const t = checkStep(op, step);
    return t >= steps ? to : from + ((to - from) * t) / steps;
  };
}

export interface OneCycleOptions {
  readonly maxLr: number;
  readonly totalSteps: number;
  /** Fraction of the steps spent increasing the rate (default 0.3). */
  readonly pctStart?: number;
  /** Initial rate = maxLr / divFactor (default 25). */
  readonly divFactor?: number;
  /** Final rate = initial rate / finalDivFactor (default 1e4). */
  readonly finalDivFactor?: number;
}

/**
 * torch OneCycleLR (cosine annealing, two phases): from maxLr/divFactor up to maxLr at step
 * pctStart·totalSteps − 1, then down to maxLr/(divFactor·finalDivFactor) at step totalSteps − 1.
 * Each phase: lr = end + (start − end)(1 + cos(π·pct)) / 2.
 */
export function oneCycle(options: OneCycleOptions): Schedule {
  const op = "oneCycle";
  checkOptions(op, options, ["maxLr", "totalSteps", "pctStart", "divFactor", "finalDivFactor"], true);
  const maxLr = checkNonNegative(op, "maxLr", options.maxLr);
  const total = checkPositiveInteger(op, "totalSteps", options.totalSteps);
  const pctStart = options.pctStart ?? 0.3;
  if (typeof pctStart !== "number" || !(pctStart > 0 && pctStart < 1))
    throw new ArgumentError(`oneCycle: expected pctStart in (0, 1), got ${pctStart}`);
  const initial = maxLr / checkNonNegative(op, "divFactor", options.divFactor ?? 25);
  const final = initial / checkNonNegative(op, "finalDivFactor", options.finalDivFactor ?? 1e4);
  const peak = pctStart * total - 1;
  const last = total - 1;
  const anneal = (start: number, end: number, pct: number) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  return (step) => {
    const t = checkStep(op, step);
    if (t > last) throw new ArgumentError(`oneCycle: expected a step < totalSteps = ${total}, got ${t}`);
    if (t <= peak) return anneal(initial, maxLr, peak <= 0 ? 1 : t / peak);
    return anneal(maxLr, final, (t - peak) / (last - peak));
  };
}

/** Runs `schedules[i]` from `boundaries[i − 1]` on, each seeing the step counted from its own start (optax join_schedules). */
export function join(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  if (!Array.isArray(schedules) || schedules.length === 0 || schedules.some((s) => typeof s !== "function")) {
    throw new ArgumentError("join: expected a non-empty array of schedules");
  }
  if (!Array.isArray(boundaries) || boundaries.length !== schedules.length - 1) {
    throw new ArgumentError(
      `join: expected ${schedules.length - 1} boundaries for ${schedules.length} schedules, got ` +
        `${Array.isArray(boundaries) ? boundaries.length : JSON.stringify(boundaries)}`,
    );
  }
  boundaries.forEach((b, i) => {
    if (!Number.isInteger(b) || b <= 0 || (i > 0 && b <= boundaries[i - 1]!)) {
      throw new ArgumentError(`join: expected increasing positive integer boundaries, got ${JSON.stringify(boundaries)}`);
    }
  });
  return (step) => {
    const t = checkStep("join", step);
    let i = 0;
    while (i < boundaries.length && t >= boundaries[i]!) i++;
    return schedules[i]!(t - (i === 0 ? 0 : boundaries[i - 1]!));
  };
}

/** lr(t) = a(t) · b(t) · …: e.g. a warmup factor times a decay. */
export function product(...schedules: readonly Schedule[]): Schedule {
  if (schedules.length === 0 || schedules.some((s) => typeof s !== "function"))
    throw new ArgumentError("product: expected one or more schedules");
  return (step) => schedules.reduce((lr, s) => lr * s(step), 1);
}

/** lr(t) = factor · s(t). */
export function scale(schedule: Schedule, factor: number): Schedule {
  const f = checkNonNegative("scale", "factor", factor);
  return (step) => f * schedule(step);
}
