/**
 * First-order optimizers, each with the update rule documented for its `torch.optim` namesake
 * (same option names in camelCase, same defaults). θ params, g gradient, γ lr, λ weight decay,
 * t the 1-based update count. Arithmetic is float64; buffers and params are stored in the
 * param's dtype.
 */
import { ArgumentError } from "@chainrule/ir";
import { checkNonNegative, checkUnit } from "./leaves.js";
import { checkBoolean, checkOptions } from "./options.js";
import { checkLearningRate, elementwise, type ElementwiseState, type LearningRate, type Optimizer } from "./optimizer.js";

const SGD_OPTIONS = ["lr", "momentum", "dampening", "weightDecay", "nesterov"];
const ADAM_OPTIONS = ["lr", "betas", "eps", "weightDecay", "amsgrad"];
const RMSPROP_OPTIONS = ["lr", "alpha", "eps", "weightDecay", "momentum", "centered"];
const ADAGRAD_OPTIONS = ["lr", "lrDecay", "weightDecay", "initialAccumulatorValue", "eps"];

export interface SgdOptions {
  readonly lr: LearningRate;
  readonly momentum?: number;
  readonly dampening?: number;
  readonly weightDecay?: number;
  readonly nesterov?: boolean;
}

/**
 * torch.optim.SGD: g ← g + λθ; with momentum μ: b₁ = g, bₜ = μ bₜ₋₁ + (1 − τ) g (τ dampening),
 * then g ← g + μ bₜ (nesterov) or g ← bₜ; θ ← θ − γ g.
 */
export function sgd(options: SgdOptions): Optimizer<ElementwiseState> {
  const op = "sgd";
  checkOptions(op, options, SGD_OPTIONS, true);
  const lr = checkLearningRate(op, options.lr);
  const momentum = checkNonNegative(op, "momentum", options.momentum ?? 0);
  const dampening = checkNonNegative(op, "dampening", options.dampening ?? 0);
  const weightDecay = checkNonNegative(op, "weightDecay", options.weightDecay ?? 0);
  const nesterov = checkBoolean(op, "nesterov", options.nesterov, false);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new ArgumentError(
      `sgd: expected momentum > 0 and dampening = 0 with nesterov, got momentum ${momentum} and dampening ${dampening}`,
    );
  }
  return elementwise({
    name: "sgd",
    lr,
    slots: momentum !== 0 ? [{ name: "momentum", initial: 0, rule: "finite" }] : [],
    leaf({ p, g, slots, lr, t, round }) {
      const b = slots["momentum"];
      const out = new Array<number>(p.length);
      for (let k = 0; k < p.length; k++) {
        const theta = p[k]!;
        let d = g[k]! + weightDecay * theta;
        if (b !== undefined) {
          b[k] = round(t === 1 ? d : momentum * b[k]! + (1 - dampening) * d);
          d = nesterov ? d + momentum * b[k]! : b[k]!;
        }
        out[k] = theta - lr * d;
      }
      return out;
    },
  });
}

export interface AdamOptions {
  readonly lr?: LearningRate;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
  readonly weightDecay?: number;
  readonly amsgrad?: boolean;
}

function adamFamily(name: "adam" | "adamw", options: AdamOptions, defaultDecay: number): Optimizer<ElementwiseState> {
  checkOptions(name, options, ADAM_OPTIONS);
  const lr = checkLearningRate(name, options.lr ?? 1e-3);
  const betas = options.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2)
    throw new ArgumentError(`${name}: expected betas as [beta1, beta2], got ${JSON.stringify(betas)}`);
  const beta1 = checkUnit(name, "betas[0]", betas[0]);
  const beta2 = checkUnit(name, "betas[1]", betas[1]);
  const eps = checkNonNegative(name, "eps", options.eps ?? 1e-8);
  const weightDecay = checkNonNegative(name, "weightDecay", options.weightDecay ?? defaultDecay);
  const amsgrad = checkBoolean(name, "amsgrad", options.amsgrad, false);
  const decoupled = name === "adamw";
  return elementwise({
    name,
    lr,
    slots: [
      { name: "m", initial: 0, rule: "finite" },
      { name: "v", initial: 0, rule: "nonNegative" },
      ...(amsgrad ? [{ name: "vMax", initial: 0, rule: "nonNegative" } as const] : []),
    ],
    leaf({ p, g, slots, lr, t, round }) {
      const m = slots["m"]!;
      const v = slots["v"]!;
      const vMax = slots["vMax"];
      const bias1 = 1 - beta1 ** t;
      const bias2 = 1 - beta2 ** t;
      const out = new Array<number>(p.length);
      for (let k = 0; k < p.length; k++) {
        let theta = p[k]!;
        let d = g[k]!;
        // adamw: θ ← θ − γλθ (decoupled); adam: g ← g + λθ (L2)
        if (decoupled) theta = round(theta - lr * weightDecay * theta);
        else d += weightDecay * theta;
        m[k] = round(beta1 * m[k]! + (1 - beta1) * d);
        v[k] = round(beta2 * v[k]! + (1 - beta2) * d * d);
        let second = v[k]!;
        if (vMax !== undefined) second = vMax[k] = Math.max(vMax[k]!, second);
        // θ ← θ − γ m̂ / (√v̂ + ε), m̂ = m / (1 − β₁ᵗ), v̂ = v (or vMax) / (1 − β₂ᵗ)
        out[k] = theta - (lr * (m[k]! / bias1)) / (Math.sqrt(second / bias2) + eps);
      }
      return out;
    },
  });
}

/**
 * torch.optim.Adam: g ← g + λθ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; with amsgrad
 * vMax ← max(vMax, v) replaces v; θ ← θ − γ (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).
 * Defaults: lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0.
 */
export function adam(options: AdamOptions = {}): Optimizer<ElementwiseState> {
  return adamFamily("adam", options, 0);
}

/** torch.optim.AdamW: θ ← θ − γλθ (decoupled decay, default λ = 1e-2), then Adam's update without L2. */
export function adamw(options: AdamOptions = {}): Optimizer<ElementwiseState> {
  return adamFamily("adamw", options, 1e-2);
}

export interface RmspropOptions {
  readonly lr?: LearningRate;
  readonly alpha?: number;
  readonly eps?: number;
  readonly weightDecay?: number;
  readonly momentum?: number;
  readonly centered?: boolean;
}

/**
 * torch.optim.RMSprop: g ← g + λθ; v ← αv + (1 − α)g²; ṽ = v, or with centered
 * ḡ ← αḡ + (1 − α)g and ṽ = v − ḡ²; with momentum μ: b ← μb + g / (√ṽ + ε), θ ← θ − γb;
 * else θ ← θ − γ g / (√ṽ + ε). Defaults: lr 1e-2, alpha 0.99, eps 1e-8.
 */
export function rmsprop(options: RmspropOptions = {}): Optimizer<ElementwiseState> {
  const op = "rmsprop";
  checkOptions(op, options, RMSPROP_OPTIONS);
  const lr = checkLearningRate(op, options.lr ?? 1e-2);
  const alpha = checkUnit(op, "alpha", options.alpha ?? 0.99, true);
  const eps = checkNonNegative(op, "eps", options.eps ?? 1e-8);
  const weightDecay = checkNonNegative(op, "weightDecay", options.weightDecay ?? 0);
  const momentum = checkNonNegative(op, "momentum", options.momentum ?? 0);
  const centered = checkBoolean(op, "centered", options.centered, false);
  return elementwise({
    name: op,
    lr,
    slots: [
      { name: "squareAvg", initial: 0, rule: "nonNegative" },
      ...(centered ? [{ name: "gradAvg", initial: 0, rule: "finite" } as const] : []),
      ...(momentum > 0 ? [{ name: "momentum", initial: 0, rule: "finite" } as const] : []),
    ],
    leaf({ p, g, slots, lr, round }) {
      const v = slots["squareAvg"]!;
      const mean = slots["gradAvg"];
      const b = slots["momentum"];
      const out = new Array<number>(p.length);
      for (let k = 0; k < p.length; k++) {
        const theta = p[k]!;
        const d = g[k]! + weightDecay * theta;
        v[k] = round(alpha * v[k]! + (1 - alpha) * d * d);
        let denominator = v[k]!;
        if (mean !== undefined) {
          mean[k] = round(alpha * mean[k]! + (1 - alpha) * d);
          // ṽ = v − ḡ² is a variance (≥ 0): clamp the rounding (or a resumed state) that makes it negative
          denominator = Math.max(0, denominator - mean[k]! * mean[k]!);
        }
        const scaled = d / (Math.sqrt(denominator) + eps);
        if (b !== undefined) {
          b[k] = round(momentum * b[k]! + scaled);
          out[k] = theta - lr * b[k]!;
        } else {
          out[k] = theta - lr * scaled;
        }
      }
      return out;
    },
  });
}

export interface AdagradOptions {
  readonly lr?: LearningRate;
  readonly lrDecay?: number;
  readonly weightDecay?: number;
  readonly initialAccumulatorValue?: number;
  readonly eps?: number;
}

/**
 * torch.optim.Adagrad: γ̃ = γ / (1 + (t − 1)η) (η lr decay); g ← g + λθ; s ← s + g² (s starts at
 * the initial accumulator value); θ ← θ − γ̃ g / (√s + ε). Defaults: lr 1e-2, eps 1e-10.
 */
export function adagrad(options: AdagradOptions = {}): Optimizer<ElementwiseState> {
  const op = "adagrad";
  checkOptions(op, options, ADAGRAD_OPTIONS);
  const lr = checkLearningRate(op, options.lr ?? 1e-2);
  const lrDecay = checkNonNegative(op, "lrDecay", options.lrDecay ?? 0);
  const weightDecay = checkNonNegative(op, "weightDecay", options.weightDecay ?? 0);
  const initial = checkNonNegative(op, "initialAccumulatorValue", options.initialAccumulatorValue ?? 0);
  const eps = checkNonNegative(op, "eps", options.eps ?? 1e-10);
  return elementwise({
    name: op,
    lr,
    slots: [{ name: "sum", initial, rule: "nonNegative" }],
    leaf({ p, g, slots, lr, t, round }) {
      const s = slots["sum"]!;
      const decayed = lr / (1 + (t - 1) * lrDecay);
      const out = new Array<number>(p.length);
      for (let k = 0; k < p.length; k++) {
        const theta = p[k]!;
        const d = g[k]! + weightDecay * theta;
        s[k] = round(s[k]! + d * d);
        out[k] = theta - (decayed * d) / (Math.sqrt(s[k]!) + eps);
      }
      return out;
    },
  });
}
