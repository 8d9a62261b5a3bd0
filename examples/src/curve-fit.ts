/**
 * Curve fitting with L-BFGS: fit y = a·exp(−b·x) + c to noisy samples of 3·exp(−1.5x) + 0.5,
 * least squares, gradients from reverse mode, L-BFGS with a strong-Wolfe line search.
 *
 *   pnpm --filter @chainrule/examples run example:curve-fit
 */
import { add, exp, linspace, mse, mul, neg, Random, tensor, type Engine, type Tensor } from "@chainrule/ir";
import { lbfgs } from "@chainrule/optim";
import { engine as reverse } from "@chainrule/reverse";
import { isMain } from "./main.js";

export interface CurveParams {
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

export const TRUE_CURVE = { a: 3, b: 1.5, c: 0.5 } as const;

export function fitCurve(options: { points?: number; steps?: number; seed?: number; engine?: Engine } = {}): {
  a: number;
  b: number;
  c: number;
  loss: number;
  evaluations: number;
} {
  const { points = 50, steps = 10, seed = 2, engine = reverse } = options;
  const random = new Random(seed);
  const x = linspace(0, 4, points);
  const y = tensor(Array.from(x.data, (t) => TRUE_CURVE.a * Math.exp(-TRUE_CURVE.b * t) + TRUE_CURVE.c + 0.02 * random.nextNormal()));
  const model = (p: CurveParams, t: Tensor) => add(mul(p.a, exp(mul(neg(p.b), t))), p.c);
  const valueAndGrad = engine.valueAndGrad((p: CurveParams) => mse(model(p, x), y));
  // number params give a number loss and number gradients
  const objective = (p: CurveParams) => {
    const [loss, grads] = valueAndGrad(p);
    return { loss, grads };
  };
  const optimizer = lbfgs({ lineSearch: "strongWolfe" });
  let params: CurveParams = { a: 1, b: 1, c: 0 };
  let state = optimizer.init(params);
  let evaluations = 0;
  for (let s = 0; s < steps; s++) {
    const result = optimizer.step(objective, state, params);
    ({ params, state } = result);
    evaluations += result.evaluations;
    if (result.done) break;
  }
  return { a: params.a, b: params.b, c: params.c, loss: objective(params).loss, evaluations };
}

export function main(): void {
  const fit = fitCurve();
  console.log(`fitted y = ${fit.a.toFixed(3)}·exp(−${fit.b.toFixed(3)}·x) + ${fit.c.toFixed(3)}   (true: 3·exp(−1.5x) + 0.5)`);
  console.log(`final mean squared error ${fit.loss.toExponential(3)} after ${fit.evaluations} evaluations`);
}

if (isMain(import.meta.url)) main();
