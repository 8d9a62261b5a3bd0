/**
 * The MLP of mlp.ts (2 → 32 → 32 → 2, tanh, Adam, two spirals) written the PyTorch way: modules,
 * `loss.backward()`, a stateful optimizer. Beside it, its functional twin (`minimize` with the
 * same ops on a params object): from the same seed both reach bit-identical parameters.
 *
 *   pnpm --filter @chainrule/examples run example:pytorch-style-mlp
 */
import { add, argmax, crossEntropy, equal, matmul, mean, tanh, transpose, type Tensor } from "@chainrule/ir";
import { Adam, adam, minimize } from "@chainrule/optim";
import { backward, engine, Linear, manualSeed, noGrad, Sequential, Tanh } from "@chainrule/reverse";
import { twoSpirals } from "./data.js";
import { isMain } from "./main.js";

export interface PytorchStyleOptions {
  readonly pointsPerClass?: number;
  readonly hidden?: number;
  readonly steps?: number;
  readonly lr?: number;
  readonly seed?: number;
}

export const PYTORCH_STYLE_DEFAULTS = { pointsPerClass: 100, hidden: 32, steps: 400, lr: 0.03, seed: 0 } as const;

/** The model, initialized from `seed` like torch.nn.Linear (uniform in ±1/√fan_in). */
export function makeModel(hidden: number, seed: number): Sequential {
  manualSeed(seed);
  return new Sequential(new Linear(2, hidden), new Tanh(), new Linear(hidden, hidden), new Tanh(), new Linear(hidden, 2));
}

export interface PytorchStyleResult {
  readonly model: Sequential;
  readonly losses: number[];
  readonly accuracy: number;
}

/** PyTorch style: zeroGrad, forward, backward, step. */
export function trainPytorchStyle(options: PytorchStyleOptions = {}): PytorchStyleResult {
  const { pointsPerClass, hidden, steps, lr, seed } = { ...PYTORCH_STYLE_DEFAULTS, ...options };
  const { x, labels } = twoSpirals(pointsPerClass, { seed });
  const model = makeModel(hidden, seed);
  const optimizer = new Adam(model.parameters(), { lr });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(x), labels);
    backward(loss); // loss.backward() in JavaScript; ir's ops are typed as returning Tensor
    optimizer.step();
    losses.push(loss.item());
  }
  const accuracy = noGrad(() => mean(equal(argmax(model.forward(x), -1), labels)).item());
  return { model, losses, accuracy };
}

/** The functional twin: the same network as a function of a params object, trained by `minimize`. */
export function trainFunctional(options: PytorchStyleOptions = {}): { params: Record<string, Tensor>; losses: number[] } {
  const { pointsPerClass, hidden, steps, lr, seed } = { ...PYTORCH_STYLE_DEFAULTS, ...options };
  const { x, labels } = twoSpirals(pointsPerClass, { seed });
  const linear = (p: Record<string, Tensor>, layer: number, h: Tensor): Tensor =>
    add(matmul(h, transpose(p[`${layer}.weight`]!)), p[`${layer}.bias`]!);
  const loss = (p: Record<string, Tensor>): Tensor => crossEntropy(linear(p, 4, tanh(linear(p, 2, tanh(linear(p, 0, x))))), labels);
  const result = minimize(loss, makeModel(hidden, seed).stateDict(), { engine, optimizer: adam({ lr }), steps, quiet: true });
  return { params: result.params, losses: result.losses };
}

export function main(): void {
  const steps = Number(process.env.STEPS ?? PYTORCH_STYLE_DEFAULTS.steps);
  const { losses, accuracy } = trainPytorchStyle({ steps });
  console.log(
    `PyTorch-style MLP on two spirals: loss ${losses[0]!.toFixed(4)} → ${losses.at(-1)!.toFixed(4)} in ${steps} steps, training ` +
      `accuracy ${(100 * accuracy).toFixed(1)}%`,
  );
}

if (isMain(import.meta.url)) main();
