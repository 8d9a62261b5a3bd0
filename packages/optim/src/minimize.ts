/**
 * `minimize`: a training loop for any engine. It differentiates the loss with the engine's
 * `valueAndGrad`, drives the optimizer through its closure-style `step` (so L-BFGS's line search
 * works too), stops on step count, tolerance or a non-finite loss, and draws a progress bar on a
 * terminal.
 */
import { ArgumentError, flatten, Tensor, type Engine } from "@chainrule/ir";
import { describeValue, flattenParams, leafPaths } from "./leaves.js";
import { leafSizes, type Evaluation, type GradsOf, type Optimizer, type OptimizerState, type StepResult } from "./optimizer.js";
import { checkBoolean, checkFunction, checkOptions } from "./options.js";
import { formatLoss, ProgressBar, type ProgressStream } from "./progress.js";
import { checkOptimizerState } from "./validate.js";
import type { Schedule } from "./schedules.js";

export interface StepInfo<P, S> {
  /** The optimizer's update count before this update (0 for the first; it continues on resume). */
  readonly step: number;
  /** The loss before this update, and the learning rate it used (undefined: the optimizer's own). */
  readonly loss: number;
  readonly lr: number | undefined;
  /** Params and optimizer state after this update. */
  readonly params: P;
  readonly state: S;
}

export interface MinimizeOptions<P, S extends OptimizerState> {
  /** Any `Engine` (only `valueAndGrad` is used). */
  readonly engine: Pick<Engine, "valueAndGrad">;
  readonly optimizer: Optimizer<S>;
  /** Maximum number of optimizer steps. */
  readonly steps: number;
  /** Learning rate at each update count `state.step` (overrides the optimizer's lr; continues on resume). */
  readonly schedule?: Schedule;
  /** Stop when the loss changes by at most this between two consecutive steps. */
  readonly tolerance?: number;
  /** Stop when every gradient element is at most this in absolute value. */
  readonly gradTolerance?: number;
  /** Called after every step; returning `false` stops training. */
  readonly onStep?: (info: StepInfo<P, S>) => void | boolean;
  /** No progress bar (it is drawn only on a TTY anyway). */
  readonly quiet?: boolean;
  /** Resume from a saved optimizer state instead of `optimizer.init(params)`. */
  readonly state?: S;
  /** Where the progress bar goes (default process.stderr). */
  readonly progress?: ProgressStream;
}

export type StopReason = "steps" | "tolerance" | "gradTolerance" | "converged" | "callback" | "nonFinite";

export interface MinimizeResult<P, S> {
  /** Final params: those whose loss is `loss` (the last entry of `losses`). */
  readonly params: P;
  readonly state: S;
  readonly loss: number;
  /** Loss at the initial params, then after each update that was kept. */
  readonly losses: number[];
  /** Updates applied to the returned params. */
  readonly steps: number;
  /** Objective evaluations (value and gradient) in total. */
  readonly evaluations: number;
  readonly stopReason: StopReason;
  readonly message: string;
}

const MINIMIZE_OPTIONS = ["engine", "optimizer", "steps", "schedule", "tolerance", "gradTolerance", "onStep", "quiet", "state", "progress"];

class NonFinite extends Error {
  constructor(readonly what: string) {
    super(what);
  }
}

function lossNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (value instanceof Tensor && value.size === 1) return value.item();
  throw new ArgumentError(`minimize: expected the loss to be a number or a scalar Tensor, got ${describeValue(value)}`);
}

function nonFiniteGradient(grads: unknown): string | undefined {
  const { leaves, def } = flatten(grads, "minimize", "grads");
  const paths = leafPaths(def, "grads");
  for (let i = 0; i < leaves.length; i++) {
    const leaf = leaves[i]!;
    const values = typeof leaf === "number" ? [leaf] : leaf.data;
    for (let k = 0; k < values.length; k++) {
      if (!Number.isFinite(values[k]!)) return `${values[k]} in the gradient at ${paths[i]!}${values.length > 1 ? ` (element ${k})` : ""}`;
    }
  }
  return undefined;
}

function maxAbsGradient(grads: unknown): number {
  let m = 0;
  for (const leaf of flatten(grads, "minimize", "grads").leaves) {
    const values = typeof leaf === "number" ? [leaf] : leaf.data;
    for (let k = 0; k < values.length; k++) m = Math.max(m, Math.abs(values[k]!));
  }
  return m;
}

function defaultStream(): ProgressStream | undefined {
  const process = (globalThis as { process?: { stderr?: ProgressStream } }).process;
  return process?.stderr;
}

/** Minimizes `loss(params)` from `params`; see `MinimizeOptions`. Never mutates `params`. */
export function minimize<P, S extends OptimizerState>(
  loss: (params: P) => unknown,
  params: P,
  options: MinimizeOptions<P, S>,
): MinimizeResult<P, S> {
  if (typeof loss !== "function") throw new ArgumentError(`minimize: expected a loss function, got ${describeValue(loss)}`);
  checkOptions("minimize", options, MINIMIZE_OPTIONS, true);
  const { engine, optimizer, steps } = options;
  if (engine === null || typeof engine !== "object" || typeof engine.valueAndGrad !== "function") {
    throw new ArgumentError(`minimize: expected options.engine to implement Engine (valueAndGrad), got ${describeValue(engine)}`);
  }
  if (optimizer === null || typeof optimizer !== "object" || typeof optimizer.step !== "function") {
    throw new ArgumentError(
      `minimize: expected options.optimizer to be an optimizer (sgd(…), adam(…), …), got ${describeValue(optimizer)}`,
    );
  }
  if (!Number.isInteger(steps) || steps < 0)
    throw new ArgumentError(`minimize: expected options.steps to be an integer ≥ 0, got ${describeValue(steps)}`);
  for (const name of ["tolerance", "gradTolerance"] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === "number" && value >= 0)) {
      throw new ArgumentError(`minimize: expected options.${name} to be a number ≥ 0, got ${describeValue(value)}`);
    }
  }

  checkFunction("minimize", "options.schedule", options.schedule);
  checkFunction("minimize", "options.onStep", options.onStep);
  checkBoolean("minimize", "options.quiet", options.quiet, false);
  const progress: unknown = options.progress;
  if (progress !== undefined && (progress === null || typeof (progress as ProgressStream).write !== "function")) {
    throw new ArgumentError(`minimize: expected options.progress to be a stream with write(text), got ${describeValue(progress)}`);
  }

  if (options.state !== undefined) {
    // a resumed state is checked before any work, against these params (as update would check it)
    checkOptimizerState("minimize", optimizer, options.state, leafSizes(flattenParams("minimize", params)), "options.state");
  }

  const valueAndGrad = engine.valueAndGrad(loss as (p: unknown) => unknown) as (p: unknown) => [unknown, unknown];
  const bar = new ProgressBar(options.quiet === true ? undefined : (options.progress ?? defaultStream()));
  let evaluations = 0;
  let current = params;
  let state = options.state ?? optimizer.init(params);
  const losses: number[] = [];
  /** The most recent step-start params with a finite loss and gradient. */
  let lastGood: { params: P; state: S; loss: number } | undefined;
  let stepStart = current;
  let stepState = state;

  const objective = (point: P): Evaluation<GradsOf<P>> => {
    const [value, grads] = valueAndGrad(point);
    evaluations++;
    const l = lossNumber(value);
    if (!Number.isFinite(l)) throw new NonFinite(`loss is ${l}`);
    const bad = nonFiniteGradient(grads);
    if (bad !== undefined) throw new NonFinite(`got ${bad}`);
    if (point === stepStart) lastGood = { params: point, state: stepState, loss: l };
    // the engine's gradient mirrors the params
    return { loss: l, grads: grads as GradsOf<P> };
  };

  const finish = (
    stopReason: StopReason,
    message: string,
    final: { params: P; state: S; loss: number } | undefined,
    applied: number,
  ): MinimizeResult<P, S> => {
    let result = final;
    if (result === undefined) {
      // the returned params have not been evaluated yet: one more evaluation gives their loss
      try {
        result = { params: current, state, loss: objective(current).loss };
      } catch (error) {
        if (!(error instanceof NonFinite)) throw error;
        const good = lastGood ?? { params: current, state, loss: Number.NaN };
        const text =
          lastGood === undefined
            ? `minimize: ${error.what} at step 0 (the initial params); nothing to train from`
            : `minimize: ${error.what} at step ${applied} (after the last update); returned the params of step ${applied - 1} ` +
              `(loss ${formatLoss(good.loss)})`;
        bar.finish(text);
        return {
          params: good.params,
          state: good.state,
          loss: good.loss,
          losses,
          steps: Math.max(0, applied - 1),
          evaluations,
          stopReason: "nonFinite",
          message: text,
        };
      }
      losses.push(result.loss);
    }
    bar.update({ step: applied, steps, loss: result.loss }, true);
    bar.finish(stopReason === "steps" ? undefined : message);
    return { params: result.params, state: result.state, loss: result.loss, losses, steps: applied, evaluations, stopReason, message };
  };

  for (let k = 0; k < steps; k++) {
    // the schedule follows the optimizer's update count, so a resumed run continues it
    const updates = state.step;
    const lr = options.schedule?.(updates);
    stepStart = current;
    stepState = state;
    const before = lastGood;
    let result: StepResult<P, S>;
    try {
      result = optimizer.step(objective, state, current, lr === undefined ? undefined : { lr });
    } catch (error) {
      if (!(error instanceof NonFinite)) throw error;
      // the step's own start point failed: fall back to the previous one; a line-search trial failed: keep the start
      const startFailed = lastGood === before;
      const good = startFailed ? before : lastGood;
      const where = startFailed ? `at step ${k}` : `at a trial point during step ${k}`;
      const kept = startFailed ? k - 1 : k;
      const text =
        good === undefined
          ? `minimize: ${error.what} at step 0 (the initial params); nothing to train from`
          : `minimize: ${error.what} ${where}; stopped and returned the params of step ${kept} (loss ${formatLoss(good.loss)})`;
      if (!startFailed) losses.push(good!.loss);
      bar.finish(text);
      const fallback = good ?? { params, state: options.state ?? optimizer.init(params), loss: Number.NaN };
      return {
        params: fallback.params,
        state: fallback.state,
        loss: fallback.loss,
        losses,
        steps: Math.max(0, kept),
        evaluations,
        stopReason: "nonFinite",
        message: text,
      };
    }
    losses.push(result.loss);
    if (options.gradTolerance !== undefined && maxAbsGradient(result.grads) <= options.gradTolerance) {
      return finish(
        "gradTolerance",
        `minimize: every gradient element ≤ ${options.gradTolerance} at step ${k}`,
        { params: current, state, loss: result.loss },
        k,
      );
    }
    if (result.done) {
      return finish("converged", `minimize: ${optimizer.name} converged at step ${k}`, { params: current, state, loss: result.loss }, k);
    }
    if (options.tolerance !== undefined && k > 0 && Math.abs(result.loss - losses[k - 1]!) <= options.tolerance) {
      return finish(
        "tolerance",
        `minimize: the loss changed by ≤ ${options.tolerance} at step ${k}`,
        { params: current, state, loss: result.loss },
        k,
      );
    }
    current = result.params;
    state = result.state;
    bar.update({ step: k + 1, steps, loss: result.loss });
    if (options.onStep?.({ step: updates, loss: result.loss, lr, params: current, state }) === false) {
      return finish("callback", `minimize: onStep stopped training after step ${k}`, undefined, k + 1);
    }
  }
  return finish("steps", `minimize: ran ${steps} steps`, undefined, steps);
}
