/**
 * The functional optimizer contract (in the spirit of optax): `init(params) → state` and
 * `update(grads, state, params) → { params, state }` over pytrees of Tensors and numbers.
 * State is plain data (numbers, arrays, objects): `JSON.parse(JSON.stringify(state))` gives a
 * state that continues bit-identically.
 */
import { ArgumentError, NanError, type Tensor } from "@chainrule/ir";
import { checkNonNegative, describeValue, flattenGrads, flattenParams, rebuild, rounder, type FlatTree } from "./leaves.js";
import { checkOptions } from "./options.js";
import type { Schedule } from "./schedules.js";
import {
  array,
  baseStateFields,
  checkValue,
  num,
  object,
  registerStateCheck,
  tuple,
  type LeafSize,
  type NumberRule,
  type Schema,
  type StateCheck,
} from "./validate.js";

/** Plain JSON data. */
export type Json = number | string | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** Every optimizer state names its optimizer and counts the updates applied so far. */
export interface OptimizerState {
  readonly optimizer: string;
  readonly step: number;
  readonly [key: string]: Json;
}

/** A learning rate: a number, or a schedule giving the rate at each step (0 for the first update). */
export type LearningRate = number | Schedule;

export interface UpdateOptions {
  /** Overrides the optimizer's learning rate for this update (what `minimize`'s `schedule` does). */
  readonly lr?: number;
}

/**
 * The gradient tree an optimizer takes for params of type `P`: the same keys and nesting, a
 * Tensor where `P` has a Tensor, a JS number where it has a number (`unknown` for `unknown` params).
 */
export type GradsOf<P> = unknown extends P
  ? P
  : P extends number
    ? number
    : P extends Tensor
      ? Tensor
      : P extends readonly unknown[]
        ? { readonly [K in keyof P]: GradsOf<P[K]> }
        : P extends object
          ? { readonly [K in keyof P]: GradsOf<P[K]> }
          : P;

/** Loss and gradient at a point: what `step` asks the objective for. */
export interface Evaluation<G = unknown> {
  readonly loss: number;
  readonly grads: G;
}

/** The loss and its gradient (a tree like the params) at `params`. */
export type Objective<P> = (params: P) => Evaluation<GradsOf<P>>;

export interface StepResult<P, S> {
  readonly params: P;
  readonly state: S;
  /** The loss at the params the step started from. */
  readonly loss: number;
  /** The gradient at the params the step started from. */
  readonly grads: GradsOf<P>;
  /** How many times the objective was evaluated. */
  readonly evaluations: number;
  /** True when the optimizer decided it has converged and left the params unchanged. */
  readonly done: boolean;
}

export interface Optimizer<S extends OptimizerState = OptimizerState> {
  readonly name: string;
  /** Fresh state for these params. */
  init(params: unknown): S;
  /**
   * One update from the gradient at `params` (a tree like `params`: the types check its keys and
   * leaves). Pure: neither `state` nor `params` is modified.
   */
  update<P>(grads: GradsOf<P>, state: S, params: P, options?: UpdateOptions): { params: P; state: S };
  /**
   * Closure style: evaluate the objective at `params` (and, for line searches, at trial points),
   * then update. `minimize` drives every optimizer through this.
   */
  step<P>(objective: Objective<P>, state: S, params: P, options?: UpdateOptions): StepResult<P, S>;
}

export function checkLearningRate(op: string, lr: unknown): LearningRate {
  if (typeof lr === "function") return lr as Schedule;
  return checkNonNegative(op, "lr", lr);
}

/** The learning rate of this update: the override, else the schedule at `step`, else the constant. */
export function currentLearningRate(op: string, lr: LearningRate, step: number, options: UpdateOptions | undefined): number {
  checkOptions(op, options, ["lr"], false, "update options");
  if (options?.lr !== undefined) return checkNonNegative(op, "lr", options.lr);
  if (typeof lr === "number") return lr;
  const value = lr(step);
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ArgumentError(`${op}: expected the lr schedule to give a finite number ≥ 0 at step ${step}, got ${describeValue(value)}`);
  }
  return value;
}

// ── elementwise optimizers (everything but L-BFGS) ────────────────────────────────────────────

/** First-order state: per-leaf buffers, flat row-major, one array per param leaf. */
export interface ElementwiseState extends OptimizerState {
  readonly slots: { readonly [name: string]: readonly (readonly number[])[] };
}

export interface LeafContext {
  /** The param's values and its gradient. */
  readonly p: ArrayLike<number>;
  readonly g: ArrayLike<number>;
  /** This leaf's buffers (fresh copies, to be updated in place), by slot name. */
  readonly slots: { readonly [name: string]: number[] };
  /** Learning rate of this update, and t = step + 1 (1 for the first update). */
  readonly lr: number;
  readonly t: number;
  /** Rounding to the param's storage precision (identity for float64): rules apply it to what they store. */
  readonly round: (x: number) => number;
}

export interface ElementwiseSpec {
  readonly name: string;
  readonly lr: LearningRate;
  /** Buffer names, the value they start at, and what values they may hold (second moments: ≥ 0). */
  readonly slots: readonly { readonly name: string; readonly initial: number; readonly rule: NumberRule }[];
  /** New values of one param leaf; also writes the leaf's buffers in `context.slots`. */
  readonly leaf: (context: LeafContext) => ArrayLike<number>;
}

/**
 * Keeps a buffer JSON-exact: −0 becomes +0 (JSON has no −0; the sign of a zero buffer never changes
 * a param), and a non-finite value (overflow) is an error rather than a state JSON cannot hold.
 */
export function plainBuffer(op: string, buffer: number[], where: string): void {
  for (let k = 0; k < buffer.length; k++) {
    const v = buffer[k]!;
    if (v === 0) buffer[k] = 0;
    else if (!Number.isFinite(v))
      throw new NanError(`${op}: expected the optimizer state to stay finite, got ${v} in ${where} (element ${k}) — gradients too large?`);
  }
}

/** Where the params' leaves are and how many elements each has (what state buffers must match). */
export function leafSizes(flat: FlatTree): LeafSize[] {
  return flat.leaves.map((leaf) => ({ path: leaf.path, size: leaf.values.length }));
}

/**
 * An update that overflows the params (in their storage precision: `round` is the leaf's rounder) is
 * an error, never a NaN or ±Infinity handed back as params.
 */
export function finiteParams(op: string, values: ArrayLike<number>, path: string, round: (x: number) => number): void {
  for (let k = 0; k < values.length; k++) {
    const v = round(values[k]!);
    if (!Number.isFinite(v)) {
      throw new NanError(
        `${op}: expected the update to keep the params finite, got ${v} at ${path} (element ${k}) — lr or gradients too large?`,
      );
    }
  }
}

/** `{ optimizer, step, slots: { name: one buffer per param leaf, of that leaf's size } }`. */
function elementwiseSchema(spec: ElementwiseSpec, leaves: readonly LeafSize[]): Schema {
  const slots: Record<string, Schema> = {};
  for (const { name, rule } of spec.slots) {
    const buffers = leaves.map(({ path, size }) => array(num(rule), { length: size, why: `the size of ${path}` }));
    slots[name] = tuple(buffers, "one buffer per param leaf");
  }
  return object({ ...baseStateFields(spec.name), slots: object(slots, `was the state made by ${spec.name} with other options?`) });
}

/** Builds an `Optimizer` from an elementwise update rule. */
export function elementwise(spec: ElementwiseSpec): Optimizer<ElementwiseState> {
  const name = spec.name;
  const check: StateCheck = (op, state, leaves, path) => checkValue(op, elementwiseSchema(spec, leaves), state, path);
  const update = <P>(
    grads: GradsOf<P>,
    state: ElementwiseState,
    params: P,
    options?: UpdateOptions,
  ): { params: P; state: ElementwiseState } => {
    const op = `${name}.update`;
    const flat = flattenParams(op, params);
    check(op, state, leafSizes(flat), "state");
    const g = flattenGrads(op, grads, flat);
    const lr = currentLearningRate(op, spec.lr, state.step, options);
    const nextSlots: Record<string, number[][]> = {};
    for (const { name: slot } of spec.slots) nextSlots[slot] = [];
    const values = flat.leaves.map((leaf, i) => {
      const slots: Record<string, number[]> = {};
      for (const { name: slot } of spec.slots) {
        const copy = state.slots[slot]![i]!.slice();
        slots[slot] = copy;
        nextSlots[slot]!.push(copy);
      }
      const round = rounder(leaf.dtype);
      const out = spec.leaf({ p: leaf.values, g: g[i]!, slots, lr, t: state.step + 1, round });
      for (const [slot, buffer] of Object.entries(slots)) plainBuffer(op, buffer, `${slot} at ${leaf.path}`);
      finiteParams(op, out, leaf.path, round);
      return out;
    });
    return { params: rebuild<P>(flat, values), state: { optimizer: name, step: state.step + 1, slots: nextSlots } };
  };
  return registerStateCheck(check, {
    name,
    init(params: unknown): ElementwiseState {
      const flat = flattenParams(`${name}.init`, params);
      const slots: Record<string, number[][]> = {};
      for (const { name: slot, initial } of spec.slots) {
        slots[slot] = flat.leaves.map((leaf) => new Array<number>(leaf.values.length).fill(rounder(leaf.dtype)(initial)));
      }
      return { optimizer: name, step: 0, slots };
    },
    update,
    step<P>(objective: Objective<P>, state: ElementwiseState, params: P, options?: UpdateOptions): StepResult<P, ElementwiseState> {
      const { loss, grads } = objective(params);
      const next = update(grads, state, params, options);
      return { ...next, loss, grads, evaluations: 1, done: false };
    },
  });
}
