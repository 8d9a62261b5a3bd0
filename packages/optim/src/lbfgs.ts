/**
 * L-BFGS as torch.optim.LBFGS implements it: each `step` runs up to `maxIter` iterations of the
 * two-loop recursion over the last `historySize` curvature pairs, with a fixed step (lr) or a
 * strong-Wolfe line search (cubic interpolation, torch's `_strong_wolfe`). All params are one
 * flat float64 vector; the state holds the history as plain arrays.
 */
import { ArgumentError } from "@chainrule/ir";
import { checkNonNegative, flattenGrads, flattenParams, rebuild, rounder, type FlatTree } from "./leaves.js";
import { checkOptions } from "./options.js";
import {
  currentLearningRate,
  finiteParams,
  plainBuffer,
  type GradsOf,
  type LearningRate,
  type Objective,
  type Optimizer,
  type OptimizerState,
  type StepResult,
  type UpdateOptions,
} from "./optimizer.js";
import { array, baseStateFields, checkValue, num, nullable, object, registerStateCheck, type Schema, type StateCheck } from "./validate.js";

export interface LbfgsOptions {
  /** Step length (default 1). */
  readonly lr?: LearningRate;
  /** Iterations per `step` (default 20). */
  readonly maxIter?: number;
  /** Objective evaluations per `step` (default ⌊1.25 · maxIter⌋). */
  readonly maxEval?: number;
  /** Stop when max |g| ≤ this (default 1e-7). */
  readonly toleranceGrad?: number;
  /** Stop when a step or the loss changes by less than this (default 1e-9). */
  readonly toleranceChange?: number;
  /** Curvature pairs kept (default 100). */
  readonly historySize?: number;
  /** "strongWolfe" or null (fixed step, the default, as in torch). */
  readonly lineSearch?: "strongWolfe" | null;
}

export interface LbfgsState extends OptimizerState {
  readonly optimizer: "lbfgs";
  /** Total iterations over all steps, and total objective evaluations. */
  readonly iterations: number;
  readonly evaluations: number;
  readonly direction: readonly number[] | null;
  readonly stepLength: number;
  readonly oldDirs: readonly (readonly number[])[];
  readonly oldSteps: readonly (readonly number[])[];
  readonly ro: readonly number[];
  readonly hDiag: number;
  readonly prevGrad: readonly number[] | null;
  readonly prevLoss: number | null;
}

type Vector = Float64Array;

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function sumAbs(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]!);
  return s;
}

/** Minimizer of the cubic interpolating (x1, f1, g1), (x2, f2, g2), clamped to bounds (torch `_cubic_interpolate`). */
export function cubicInterpolate(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  bounds?: readonly [number, number],
): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos =
      x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(minPos, lo), hi);
  }
  return (lo + hi) / 2;
}

interface LineSearchResult {
  loss: number;
  grad: Vector;
  t: number;
  evaluations: number;
}

/** torch `_strong_wolfe`: bracketing, then zoom with cubic interpolation. */
function strongWolfe(
  evaluate: (t: number) => { loss: number; grad: Vector },
  t: number,
  d: Vector,
  f: number,
  g: Vector,
  gtd: number,
  toleranceChange: number,
  c1 = 1e-4,
  c2 = 0.9,
  maxLs = 25,
): LineSearchResult {
  const dNorm = maxAbs(d);
  let { loss: fNew, grad: gNew } = evaluate(t);
  let evaluations = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0;
  let fPrev = f;
  let gPrev = g;
  let gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [];
  let bracketF: number[] = [];
  let bracketG: Vector[] = [];
  let bracketGtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      [bracket, bracketF, bracketG, bracketGtd] = [
        [tPrev, t],
        [fPrev, fNew],
        [gPrev, gNew],
        [gtdPrev, gtdNew],
      ];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bracketF, bracketG, bracketGtd] = [[t], [fNew], [gNew], [gtdNew]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bracketF, bracketG, bracketGtd] = [
        [tPrev, t],
        [fPrev, fNew],
        [gPrev, gNew],
        [gtdPrev, gtdNew],
      ];
      break;
    }
    // extrapolate
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const previous = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    [tPrev, fPrev, gPrev, gtdPrev] = [previous, fNew, gNew, gtdNew];
    ({ loss: fNew, grad: gNew } = evaluate(t));
    evaluations++;
    gtdNew = dot(gNew, d);
    lsIter++;
  }
  if (lsIter === maxLs) {
    [bracket, bracketF, bracketG, bracketGtd] = [
      [0, t],
      [f, fNew],
      [g, gNew],
      [gtd, gtdNew],
    ];
  }
  // zoom
  let insufficientProgress = false;
  let [low, high] = bracketF[0]! <= bracketF[bracketF.length - 1]! ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1]! - bracket[0]!) * dNorm < toleranceChange) break;
    t = cubicInterpolate(bracket[0]!, bracketF[0]!, bracketGtd[0]!, bracket[1]!, bracketF[1]!, bracketGtd[1]!);
    const top = Math.max(...bracket);
    const bottom = Math.min(...bracket);
    const eps = 0.1 * (top - bottom);
    if (Math.min(top - t, t - bottom) < eps) {
      if (insufficientProgress || t >= top || t <= bottom) {
        t = Math.abs(t - top) < Math.abs(t - bottom) ? top - eps : bottom + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    ({ loss: fNew, grad: gNew } = evaluate(t));
    evaluations++;
    gtdNew = dot(gNew, d);
    lsIter++;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[low]!) {
      [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [t, fNew, gNew, gtdNew];
      [low, high] = bracketF[0]! <= bracketF[1]! ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) done = true;
      else if (gtdNew * (bracket[high]! - bracket[low]!) >= 0) {
        [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [
          bracket[low]!,
          bracketF[low]!,
          bracketG[low]!,
          bracketGtd[low]!,
        ];
      }
      [bracket[low], bracketF[low], bracketG[low], bracketGtd[low]] = [t, fNew, gNew, gtdNew];
    }
  }
  return { loss: bracketF[low]!, grad: bracketG[low]!, t: bracket[low]!, evaluations };
}

function checkPositiveInteger(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new ArgumentError(`lbfgs: expected ${name} to be a positive integer, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function gather(op: string, grads: unknown, flat: FlatTree, size: number): Vector {
  const out = new Float64Array(size);
  let offset = 0;
  for (const v of flattenGrads(op, grads, flat)) {
    for (let k = 0; k < v.length; k++) out[offset++] = v[k]!;
  }
  return out;
}

function split(flat: FlatTree, x: Vector): Float64Array[] {
  let offset = 0;
  return flat.leaves.map((leaf) => {
    const part = x.subarray(offset, offset + leaf.values.length);
    offset += leaf.values.length;
    return part;
  });
}

const LBFGS_OPTIONS = ["lr", "maxIter", "maxEval", "toleranceGrad", "toleranceChange", "historySize", "lineSearch"];

/** The state for params of `size` elements in total, keeping at most `historySize` curvature pairs. */
function lbfgsSchema(size: number, historySize: number): Schema {
  const vector = array(num("finite"), { length: size, why: "the number of param elements" });
  const history = { max: historySize, why: "historySize" };
  return object({
    ...baseStateFields("lbfgs"),
    iterations: num("count"),
    evaluations: num("count"),
    direction: nullable(vector),
    stepLength: num("nonNegative"),
    oldDirs: array(vector, history),
    oldSteps: array(vector, history),
    // ρ = 1 / yᵀs and hDiag = yᵀs / yᵀy with yᵀs > 1e-10 kept: both ≥ 0
    ro: array(num("nonNegative"), history),
    hDiag: num("nonNegative"),
    prevGrad: nullable(vector),
    prevLoss: nullable(num("finite")),
  });
}

/** Checks `state` field by field, then that the history's three lists pair up. */
function checkLbfgsState(op: string, state: unknown, size: number, historySize: number, path = "state"): asserts state is LbfgsState {
  checkValue(op, lbfgsSchema(size, historySize), state, path);
  const { oldDirs, oldSteps, ro } = state as LbfgsState;
  if (oldSteps.length !== oldDirs.length || ro.length !== oldDirs.length) {
    throw new ArgumentError(
      `${op}: expected ${path}.oldDirs, ${path}.oldSteps and ${path}.ro of one length (curvature pairs), ` +
        `got lengths ${oldDirs.length}, ${oldSteps.length} and ${ro.length}`,
    );
  }
}

/** torch.optim.LBFGS. `update(grads, …)` is one fixed-step iteration (torch with maxIter 1, no line search). */
export function lbfgs(options: LbfgsOptions = {}): Optimizer<LbfgsState> {
  checkOptions("lbfgs", options, LBFGS_OPTIONS);
  const lr: LearningRate = typeof options.lr === "function" ? options.lr : checkNonNegative("lbfgs", "lr", options.lr ?? 1);
  const maxIter = checkPositiveInteger("maxIter", options.maxIter ?? 20);
  const maxEval = checkPositiveInteger("maxEval", options.maxEval ?? Math.floor(maxIter * 1.25));
  const toleranceGrad = checkNonNegative("lbfgs", "toleranceGrad", options.toleranceGrad ?? 1e-7);
  const toleranceChange = checkNonNegative("lbfgs", "toleranceChange", options.toleranceChange ?? 1e-9);
  const historySize = checkPositiveInteger("historySize", options.historySize ?? 100);
  const lineSearch = options.lineSearch ?? null;
  if (lineSearch !== null && lineSearch !== "strongWolfe") {
    throw new ArgumentError(`lbfgs: expected lineSearch "strongWolfe" or null, got ${JSON.stringify(lineSearch)}`);
  }

  function run<P>(
    op: string,
    objective: Objective<P>,
    state: LbfgsState,
    params: P,
    iterationLimit: number,
    updateOptions: UpdateOptions | undefined,
  ): StepResult<P, LbfgsState> {
    const flat = flattenParams(op, params);
    const size = flat.leaves.reduce((n, l) => n + l.values.length, 0);
    checkLbfgsState(op, state, size, historySize);
    const lrValue = currentLearningRate(op, lr, state.step, updateOptions);
    const x = new Float64Array(size);
    {
      let offset = 0;
      for (const leaf of flat.leaves) for (let k = 0; k < leaf.values.length; k++) x[offset++] = leaf.values[k]!;
    }
    let current = params;
    let evaluations = 0;
    const evaluateAt = (point: P): { loss: number; grad: Vector; grads: GradsOf<P> } => {
      const { loss, grads } = objective(point);
      evaluations++;
      return { loss, grad: gather(op, grads, flat, size), grads };
    };
    const first = evaluateAt(params);
    let loss = first.loss;
    let g = first.grad;
    const result = (done: boolean, next: Partial<LbfgsState>, iterations: number): StepResult<P, LbfgsState> => ({
      params: current,
      state: {
        ...state,
        ...next,
        step: state.step + 1,
        iterations: state.iterations + iterations,
        evaluations: state.evaluations + evaluations,
      },
      loss: first.loss,
      grads: first.grads,
      evaluations,
      done,
    });
    if (maxAbs(g) <= toleranceGrad) return result(true, {}, 0);

    let d: Vector | null = state.direction === null ? null : Float64Array.from(state.direction);
    let t = state.stepLength;
    const oldDirs: Vector[] = state.oldDirs.map((v) => Float64Array.from(v));
    const oldSteps: Vector[] = state.oldSteps.map((v) => Float64Array.from(v));
    const ro: number[] = state.ro.slice();
    let hDiag = state.hDiag;
    let prevGrad: Vector | null = state.prevGrad === null ? null : Float64Array.from(state.prevGrad);
    let prevLoss = state.prevLoss;
    let totalIterations = state.iterations;
    let iterations = 0;
    let moved = false;

    while (iterations < iterationLimit) {
      iterations++;
      totalIterations++;
      if (totalIterations === 1 || d === null || prevGrad === null) {
        d = g.map((v) => -v);
        oldDirs.length = 0;
        oldSteps.length = 0;
        ro.length = 0;
        hDiag = 1;
      } else {
        // curvature pair: y = g − g_prev, s = t·d; kept when yᵀs > 1e-10
        const y = g.map((v, i) => v - prevGrad![i]!);
        const s = d.map((v) => v * t);
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (oldDirs.length === historySize) {
            oldDirs.shift();
            oldSteps.shift();
            ro.shift();
          }
          oldDirs.push(y);
          oldSteps.push(s);
          ro.push(1 / ys);
          hDiag = ys / dot(y, y);
        }
        // two-loop recursion: d = −H g
        const count = oldDirs.length;
        const al = new Array<number>(count);
        const q = g.map((v) => -v);
        for (let i = count - 1; i >= 0; i--) {
          al[i] = dot(oldSteps[i]!, q) * ro[i]!;
          const yi = oldDirs[i]!;
          for (let k = 0; k < size; k++) q[k] = q[k]! - al[i]! * yi[k]!;
        }
        const r = q.map((v) => v * hDiag);
        for (let i = 0; i < count; i++) {
          const be = dot(oldDirs[i]!, r) * ro[i]!;
          const si = oldSteps[i]!;
          for (let k = 0; k < size; k++) r[k] = r[k]! + (al[i]! - be) * si[k]!;
        }
        d = r;
      }
      prevGrad = Float64Array.from(g);
      prevLoss = loss;
      t = totalIterations === 1 ? Math.min(1, 1 / sumAbs(g)) * lrValue : lrValue;
      const gtd = dot(g, d);
      if (gtd > -toleranceChange) break;

      let lsEvaluations = 0;
      let converged = false;
      const direction = d;
      if (lineSearch === "strongWolfe") {
        const base = Float64Array.from(x);
        const trial = (step: number) => {
          const point = rebuild<P>(
            flat,
            split(
              flat,
              base.map((v, i) => v + step * direction[i]!),
            ),
          );
          const e = evaluateAt(point);
          return { loss: e.loss, grad: e.grad };
        };
        const ls = strongWolfe(trial, t, direction, loss, g, gtd, toleranceChange);
        loss = ls.loss;
        g = ls.grad;
        t = ls.t;
        lsEvaluations = ls.evaluations;
        for (let k = 0; k < size; k++) x[k] = base[k]! + t * direction[k]!;
        current = rebuild<P>(flat, split(flat, x));
        converged = maxAbs(g) <= toleranceGrad;
      } else {
        for (let k = 0; k < size; k++) x[k] = x[k]! + t * direction[k]!;
        current = rebuild<P>(flat, split(flat, x));
        if (iterations !== iterationLimit) {
          const e = evaluateAt(current);
          loss = e.loss;
          g = e.grad;
          converged = maxAbs(g) <= toleranceGrad;
          lsEvaluations = 1;
        }
      }
      moved = true;
      void lsEvaluations;
      if (iterations === iterationLimit) break;
      if (evaluations >= maxEval) break;
      if (converged) break;
      if (maxAbs(direction) * Math.abs(t) <= toleranceChange) break;
      if (Math.abs(loss - prevLoss) < toleranceChange) break;
    }
    const plain = (v: ArrayLike<number>, what: string): number[] => {
      const out = Array.from(v);
      plainBuffer(op, out, what);
      return out;
    };
    // a NaN loss (from a caller's objective) is not kept: the previous loss is only a convergence test
    if (prevLoss !== null && Number.isNaN(prevLoss)) prevLoss = null;
    split(flat, x).forEach((part, i) => finiteParams(op, part, flat.leaves[i]!.path, rounder(flat.leaves[i]!.dtype)));
    const scalars = [t, hDiag, ...ro, ...(prevLoss === null ? [] : [prevLoss])];
    plain(scalars, "the step length, hDiag, ro or the previous loss");
    return result(
      !moved,
      {
        direction: d === null ? null : plain(d, "the direction"),
        stepLength: t === 0 ? 0 : t,
        oldDirs: oldDirs.map((v) => plain(v, "the history")),
        oldSteps: oldSteps.map((v) => plain(v, "the history")),
        ro,
        hDiag,
        prevGrad: prevGrad === null ? null : plain(prevGrad, "the previous gradient"),
        prevLoss,
      },
      iterations,
    );
  }

  const check: StateCheck = (op, state, leaves, path) =>
    checkLbfgsState(
      op,
      state,
      leaves.reduce((n, l) => n + l.size, 0),
      historySize,
      path,
    );
  return registerStateCheck(check, {
    name: "lbfgs",
    init(params: unknown): LbfgsState {
      flattenParams("lbfgs.init", params);
      return {
        optimizer: "lbfgs",
        step: 0,
        iterations: 0,
        evaluations: 0,
        direction: null,
        stepLength: 0,
        oldDirs: [],
        oldSteps: [],
        ro: [],
        hDiag: 1,
        prevGrad: null,
        prevLoss: null,
      };
    },
    update<P>(grads: GradsOf<P>, state: LbfgsState, params: P, updateOptions?: UpdateOptions): { params: P; state: LbfgsState } {
      if (lineSearch !== null) {
        throw new ArgumentError(
          "lbfgs.update: expected lineSearch null — the strong-Wolfe line search evaluates the loss at trial points; use " +
            "lbfgs(…).step(objective, …) or minimize",
        );
      }
      // the loss is unknown here: NaN only feeds torch's loss-change test, which one iteration never reaches
      const { params: next, state: nextState } = run("lbfgs.update", () => ({ loss: Number.NaN, grads }), state, params, 1, updateOptions);
      return { params: next, state: { ...nextState, prevLoss: null } };
    },
    step<P>(objective: Objective<P>, state: LbfgsState, params: P, updateOptions?: UpdateOptions): StepResult<P, LbfgsState> {
      return run("lbfgs.step", objective, state, params, maxIter, updateOptions);
    },
  });
}
