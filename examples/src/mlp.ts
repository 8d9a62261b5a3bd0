/**
 * A small MLP classifier (2 → 32 → 32 → 2, tanh) trained with Adam on two spirals generated
 * here, full batch, softmax cross-entropy. With the defaults (200 points, 400 steps, lr 0.03) it
 * reaches 100% training accuracy and ≥ 95% (97.5%) on 200 fresh points; the tests check both.
 * Writes the loss curve as SVG.
 *
 *   pnpm --filter @chainrule/examples run example:mlp                  (writes examples/out/mlp-loss.svg)
 *   pnpm --filter @chainrule/examples run example:mlp --engine jit     (same numbers, another engine)
 *
 * Any engine gives the same losses to rounding; forward mode is the wrong tool here (1,250
 * parameters cost ⌈1250 / 64⌉ = 20 forward passes per gradient, against one backward sweep).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { add, argmax, crossEntropy, equal, matmul, mean, Random, tanh, zeros, type Engine, type Tensor } from "@chainrule/ir";
import { adam } from "@chainrule/optim";
import { engine as reverse } from "@chainrule/reverse";
import { twoSpirals } from "./data.js";
import { ENGINES } from "./engines.js";
import { isMain } from "./main.js";
import { lineChartSvg } from "./plot.js";
import { progressBar } from "./progress.js";

export interface MlpParams {
  readonly layers: readonly { readonly w: Tensor; readonly b: Tensor }[];
}

/** Glorot-uniform weights, zero biases. */
export function initMlp(sizes: readonly number[], seed = 0): MlpParams {
  const random = new Random(seed);
  const layers = sizes.slice(1).map((out, i) => {
    const fanIn = sizes[i]!;
    const limit = Math.sqrt(6 / (fanIn + out));
    return { w: random.uniform([fanIn, out], { low: -limit, high: limit }), b: zeros([out]) };
  });
  return { layers };
}

/** Logits, shape [n, classes]: tanh on every layer but the last. */
export function mlpForward(params: MlpParams, x: Tensor): Tensor {
  let h = x;
  params.layers.forEach((layer, i) => {
    const z = add(matmul(h, layer.w), layer.b);
    h = i === params.layers.length - 1 ? z : tanh(z);
  });
  return h;
}

export function accuracy(params: MlpParams, x: Tensor, labels: Tensor): number {
  return mean(equal(argmax(mlpForward(params, x), -1), labels)).item();
}

export interface MlpOptions {
  readonly pointsPerClass?: number;
  readonly hidden?: number;
  readonly steps?: number;
  readonly lr?: number;
  readonly seed?: number;
  readonly engine?: Engine;
  /** Called after every step with the loss before it. */
  readonly onStep?: (step: number, loss: number) => void;
}

export interface MlpResult {
  readonly params: MlpParams;
  readonly losses: number[];
  /** Accuracy on the training points. */
  readonly accuracy: number;
  /** Accuracy on as many fresh points from the same spirals (another seed). */
  readonly testAccuracy: number;
}

export const MLP_DEFAULTS = { pointsPerClass: 100, hidden: 32, steps: 400, lr: 0.03, seed: 0 } as const;

export function trainMlp(options: MlpOptions = {}): MlpResult {
  const { pointsPerClass, hidden, steps, lr, seed } = { ...MLP_DEFAULTS, ...options };
  const engine = options.engine ?? reverse;
  const data = twoSpirals(pointsPerClass, { seed });
  const loss = (params: MlpParams): Tensor => crossEntropy(mlpForward(params, data.x), data.labels);
  const valueAndGrad = engine.valueAndGrad(loss);
  const optimizer = adam({ lr });
  let params = initMlp([2, hidden, hidden, 2], seed);
  let state = optimizer.init(params);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const [value, grads] = valueAndGrad(params);
    const l = typeof value === "number" ? value : value.item();
    losses.push(l);
    options.onStep?.(step, l);
    ({ params, state } = optimizer.update(grads, state, params));
  }
  const test = twoSpirals(pointsPerClass, { seed: seed + 1000 });
  return { params, losses, accuracy: accuracy(params, data.x, data.labels), testAccuracy: accuracy(params, test.x, test.labels) };
}

export function lossCurveSvg(losses: readonly number[]): string {
  return lineChartSvg(losses, { title: "MLP on two spirals: training loss (Adam)", xLabel: "step", yLabel: "cross-entropy", logY: true });
}

export function main(argv: readonly string[] = process.argv.slice(2)): void {
  const flag = argv.indexOf("--engine");
  const name = flag === -1 ? "reverse" : argv[flag + 1];
  const engine = ENGINES.find((e) => e.name === name)?.engine;
  if (!engine) throw new Error(`mlp: expected --engine to be one of ${ENGINES.map((e) => e.name).join(", ")}, got ${JSON.stringify(name)}`);
  const bar = progressBar(MLP_DEFAULTS.steps, `training (${name})`);
  const result = trainMlp({ engine, onStep: (step, l) => bar.update(step + 1, `loss ${l.toFixed(4)}`) });
  bar.done(`loss ${result.losses[result.losses.length - 1]!.toFixed(4)}`);
  const file = join(dirname(fileURLToPath(import.meta.url)), "..", "out", "mlp-loss.svg");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, lossCurveSvg(result.losses));
  console.log(
    `accuracy on two spirals: ${(100 * result.accuracy).toFixed(1)}% training, ${(100 * result.testAccuracy).toFixed(1)}% on fresh points`,
  );
  console.log(`loss curve: ${file}`);
}

if (isMain(import.meta.url)) main();
