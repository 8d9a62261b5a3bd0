/**
 * torch.optim-style stateful optimizers over the functional core: `new Adam(params, { lr })`,
 * `opt.zeroGrad()`, `opt.step()`, `opt.stateDict()`/`opt.loadStateDict()`. Each `step()` is one
 * call of the functional `update` (or, with a closure, `step`) on the params' current values and
 * gradients, so trajectories are exactly those of the functional optimizer. Params are any
 * objects with a `value` and a `grad` (a structural interface: `@chainrule/reverse`'s imperative
 * variables fit it, and so does a plain `{ value, grad }`); this package does not depend on an engine.
 */
import { ArgumentError, Tensor } from "@chainrule/ir";
import { lbfgs, type LbfgsOptions, type LbfgsState } from "./lbfgs.js";
import { describeValue } from "./leaves.js";
import type { ElementwiseState, Evaluation, Optimizer, OptimizerState, UpdateOptions } from "./optimizer.js";
import {
  adagrad,
  adam,
  adamw,
  rmsprop,
  sgd,
  type AdagradOptions,
  type AdamOptions,
  type RmspropOptions,
  type SgdOptions,
} from "./optimizers.js";
import { checkOptimizerState, checkValue, literal, nullable, object } from "./validate.js";

/** What a stateful optimizer needs of a parameter. */
export interface ParameterLike {
  /** The current value (a float Tensor or a JS number); `step()` assigns the updated one. */
  value: Tensor | number;
  /** The gradient (as left by `backward()`), or null/undefined when there is none; `zeroGrad()` sets null. */
  grad: Tensor | number | null | undefined;
}

/** A stateful optimizer's saved state: plain JSON data. */
export interface OptimizerStateDict<S extends OptimizerState = OptimizerState> {
  readonly optimizer: string;
  /** The functional state (null before the first step). */
  readonly state: S | null;
}

/** A closure that re-evaluates the model: zero the grads, compute the loss, call backward, return the loss. */
export type Closure = () => Tensor | number;

function lossNumber(op: string, value: unknown): number {
  if (typeof value === "number") return value;
  if (value instanceof Tensor && value.size === 1) return value.data[0]!;
  throw new ArgumentError(`${op}: expected the closure to return the loss (a number or a one-element Tensor), got ${describeValue(value)}`);
}

/** The stateful face of a functional `Optimizer` (torch.optim.Optimizer). */
export class StatefulOptimizer<S extends OptimizerState = OptimizerState> {
  readonly params: readonly ParameterLike[];
  readonly optimizer: Optimizer<S>;
  /** Overrides the learning rate of the next steps when set (torch's `param_groups[0]["lr"] = …`). */
  lr: number | undefined = undefined;
  private state: S | null = null;
  private readonly label: string;

  constructor(params: Iterable<ParameterLike>, optimizer: Optimizer<S>, label = "Optimizer") {
    this.label = label;
    if (params === null || params === undefined || typeof (params as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new ArgumentError(`${label}: expected an iterable of parameters (e.g. model.parameters()), got ${describeValue(params)}`);
    }
    const list = [...params];
    if (list.length === 0) throw new ArgumentError(`${label}: expected at least one parameter, got an empty list`);
    list.forEach((p, i) => {
      const value = (p as Partial<ParameterLike> | null)?.value;
      if (p === null || typeof p !== "object" || !(typeof value === "number" || value instanceof Tensor) || !("grad" in p)) {
        throw new ArgumentError(
          `${label}: expected parameters with a value (Tensor or number) and a grad field, got ${describeValue(p)} at position ${i}`,
        );
      }
    });
    if (new Set(list).size !== list.length) throw new ArgumentError(`${label}: expected each parameter once, got a parameter listed twice`);
    this.params = list;
    this.optimizer = optimizer;
  }

  /** Updates performed so far. */
  get stepCount(): number {
    return this.state === null ? 0 : this.state.step;
  }

  /** Forgets every parameter's gradient (sets it to null, like torch's default). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  private values(): (Tensor | number)[] {
    return this.params.map((p) => p.value);
  }

  private grads(op: string): (Tensor | number)[] {
    return this.params.map((p, i) => {
      const g = p.grad;
      if (g === null || g === undefined) {
        const name = (p as { name?: unknown }).name;
        const which = typeof name === "string" ? `'${name}' (position ${i})` : `at position ${i}`;
        throw new ArgumentError(
          `${op}: expected every parameter to have a gradient, got none for the parameter ${which}: call loss.backward() before ` +
            "step(), or leave parameters the loss does not use out of the optimizer",
        );
      }
      return g;
    });
  }

  private assign(values: readonly (Tensor | number)[]): void {
    values.forEach((v, i) => {
      const p = this.params[i]!;
      if (p.value !== v) p.value = v;
    });
  }

  private options(): UpdateOptions | undefined {
    return this.lr === undefined ? undefined : { lr: this.lr };
  }

  /**
   * One update from the parameters' gradients; with a closure (required by L-BFGS) the optimizer
   * re-evaluates the loss through it and the loss is returned.
   */
  step(closure?: Closure): number | undefined {
    const op = `${this.label}.step`;
    const values = this.values();
    const state = this.state ?? this.optimizer.init(values);
    if (closure === undefined) {
      const next = this.optimizer.update(this.grads(op), state, values, this.options());
      this.assign(next.params);
      this.state = next.state;
      return undefined;
    }
    if (typeof closure !== "function")
      throw new ArgumentError(`${op}: expected a closure (a function returning the loss) or nothing, got ${describeValue(closure)}`);
    const objective = (point: (Tensor | number)[]): Evaluation<(Tensor | number)[]> => {
      this.assign(point);
      const loss = lossNumber(op, closure());
      return { loss, grads: this.grads(op) };
    };
    const result = this.optimizer.step(objective, state, values, this.options());
    this.assign(result.params);
    this.state = result.state;
    return result.loss;
  }

  /** The optimizer's state as plain JSON data (JSON.stringify-able). */
  stateDict(): OptimizerStateDict<S> {
    return { optimizer: this.optimizer.name, state: this.state === null ? null : (JSON.parse(JSON.stringify(this.state)) as S) };
  }

  /**
   * Restores a state saved by `stateDict()` (from an optimizer of the same kind and options over the
   * same params), checked field by field as `update` checks it.
   */
  loadStateDict(dict: OptimizerStateDict<S>): void {
    const op = `${this.label}.loadStateDict`;
    const name = this.optimizer.name;
    const dictSchema = object({
      optimizer: literal(name, `a state dict from ${this.label}'s stateDict()`),
      state: nullable({ kind: "object", fields: {}, open: true }),
    });
    checkValue(op, dictSchema, dict, "dict");
    const state = (dict as { state: unknown }).state;
    if (state === null) {
      this.state = null;
      return;
    }
    const leaves = this.params.map((p, i) => ({ path: `params[${i}]`, size: typeof p.value === "number" ? 1 : p.value.size }));
    checkOptimizerState(op, this.optimizer, state, leaves, "dict.state");
    this.state = JSON.parse(JSON.stringify(state)) as S;
  }
}

/** torch.optim.SGD over `sgd` (momentum, dampening, nesterov, weightDecay). */
export class SGD extends StatefulOptimizer<ElementwiseState> {
  constructor(params: Iterable<ParameterLike>, options: SgdOptions) {
    super(params, sgd(options), "SGD");
  }
}

/** torch.optim.Adam over `adam` (betas, eps, weightDecay, amsgrad). */
export class Adam extends StatefulOptimizer<ElementwiseState> {
  constructor(params: Iterable<ParameterLike>, options: AdamOptions = {}) {
    super(params, adam(options), "Adam");
  }
}

/** torch.optim.AdamW over `adamw` (decoupled weightDecay). */
export class AdamW extends StatefulOptimizer<ElementwiseState> {
  constructor(params: Iterable<ParameterLike>, options: AdamOptions = {}) {
    super(params, adamw(options), "AdamW");
  }
}

/** torch.optim.RMSprop over `rmsprop`. */
export class RMSprop extends StatefulOptimizer<ElementwiseState> {
  constructor(params: Iterable<ParameterLike>, options: RmspropOptions = {}) {
    super(params, rmsprop(options), "RMSprop");
  }
}

/** torch.optim.Adagrad over `adagrad`. */
export class Adagrad extends StatefulOptimizer<ElementwiseState> {
  constructor(params: Iterable<ParameterLike>, options: AdagradOptions = {}) {
    super(params, adagrad(options), "Adagrad");
  }
}

/** torch.optim.LBFGS over `lbfgs`: `step(closure)` only (it evaluates the loss several times). */
export class LBFGS extends StatefulOptimizer<LbfgsState> {
  constructor(params: Iterable<ParameterLike>, options: LbfgsOptions = {}) {
    super(params, lbfgs(options), "LBFGS");
  }

  override step(closure?: Closure): number | undefined {
    if (closure === undefined)
      throw new ArgumentError(
        "LBFGS.step: expected a closure that zeroes the grads, computes the loss, calls backward() and returns the loss, got none",
      );
    return super.step(closure);
  }
}
