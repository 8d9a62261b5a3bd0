/**
 * Linear regression with SGD: fit y = w·x + b to noisy points of y = 2x + 1, with the gradient
 * of the mean squared error from reverse mode and plain stochastic gradient descent from optim.
 *
 *   pnpm --filter @chainrule/examples run example:linear-regression
 */
import { add, mse, mul, Random, tensor, type Engine, type Tensor } from "@chainrule/ir";
import { sgd } from "@chainrule/optim";
import { engine as reverse } from "@chainrule/reverse";
import { isMain } from "./main.js";

export interface LinearParams {
  readonly w: number;
  readonly b: number;
}

export interface RegressionResult {
  readonly w: number;
  readonly b: number;
  readonly losses: number[];
}

export function linearRegression(
  options: { points?: number; steps?: number; lr?: number; batch?: number; seed?: number; engine?: Engine } = {},
): RegressionResult {
  const { points = 200, steps = 200, lr = 0.1, batch = 20, seed = 1, engine = reverse } = options;
  const random = new Random(seed);
  const xs = Array.from({ length: points }, () => 2 * random.nextFloat() - 1);
  const ys = xs.map((x) => 2 * x + 1 + 0.1 * random.nextNormal());

  const loss = (params: LinearParams, x: Tensor, y: Tensor): Tensor => mse(add(mul(params.w, x), params.b), y);
  const valueAndGrad = engine.valueAndGrad(loss);
  const optimizer = sgd({ lr });
  let params: LinearParams = { w: 0, b: 0 };
  let state = optimizer.init(params);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    // a minibatch drawn with replacement: stochastic gradient descent
    const picks = Array.from({ length: batch }, () => Math.floor(random.nextFloat() * points));
    const [value, grads] = valueAndGrad(params, tensor(picks.map((i) => xs[i]!)), tensor(picks.map((i) => ys[i]!)));
    losses.push(value); // number params give a number loss
    ({ params, state } = optimizer.update(grads, state, params));
  }
  return { ...params, losses };
}

export function main(): void {
  const { w, b, losses } = linearRegression();
  console.log(`fitted y = ${w.toFixed(3)}·x + ${b.toFixed(3)}   (data: y = 2x + 1 + noise)`);
  console.log(`minibatch loss: ${losses[0]!.toFixed(4)} → ${losses[losses.length - 1]!.toFixed(4)}`);
}

if (isMain(import.meta.url)) main();
