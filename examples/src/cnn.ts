/**
 * A small convolutional network classifying procedurally drawn 12×12 images of four shapes
 * (shapes-data.ts: horizontal bar, vertical bar, diagonal, square outline; chance is 25%):
 * conv 3×3 (1 → 8 channels) → ReLU → 2×2 max-pool → flatten (8·5·5 = 200) → dense to 4 classes,
 * softmax cross-entropy, Adam, full batch. 884 parameters.
 *
 *   pnpm --filter @chainrule/examples run example:cnn                   (reverse; writes examples/out/cnn-loss.svg)
 *   pnpm --filter @chainrule/examples run example:cnn --engine jit      (the whole step compiled)
 *   pnpm --filter @chainrule/examples run example:cnn --engine forward  (a few steps: see below)
 *   pnpm --filter @chainrule/examples run example:cnn --imperative      (PyTorch style: modules, backward, step)
 *
 * Every engine computes the same losses to rounding. Forward mode pays per parameter: a gradient
 * of 884 parameters costs ⌈884 / 64⌉ = 14 forward passes carrying 64 tangents each, against one
 * backward sweep, so `--engine forward` trains for 10 steps only (its test checks those against
 * reverse mode's).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  add,
  argmax,
  conv2d,
  crossEntropy,
  equal,
  matmul,
  maxPool,
  mean,
  Random,
  relu,
  reshape,
  transpose,
  type Engine,
  type Tensor,
} from "@chainrule/ir";
import { Adam, adam } from "@chainrule/optim";
import { backward, Conv2d, engine as reverse, Flatten, Linear, manualSeed, MaxPool2d, noGrad, ReLU, Sequential } from "@chainrule/reverse";
import { ENGINES } from "./engines.js";
import { isMain } from "./main.js";
import { lineChartSvg } from "./plot.js";
import { progressBar } from "./progress.js";
import { drawnShapes, SHAPE_CLASSES, type ImageSet } from "./shapes-data.js";

export interface CnnParams {
  /** Filters [channels, 1, 3, 3] and their biases [channels]. */
  readonly conv: { readonly w: Tensor; readonly b: Tensor };
  /** Dense layer [features, classes] and its bias [classes]. */
  readonly dense: { readonly w: Tensor; readonly b: Tensor };
}

export const CNN_DEFAULTS = { perClass: 60, size: 12, channels: 8, steps: 60, lr: 0.02, seed: 0 } as const;

/** Features after conv 3×3 (valid), 2×2 max-pool: channels · ⌊(size − 2)/2⌋². */
export const featureCount = (size: number, channels: number) => channels * Math.floor((size - 2) / 2) ** 2;

/** PyTorch's default initialisation: each weight and bias uniform in ±1/√fanIn. */
export function initCnn(size: number, channels: number, seed = 0): CnnParams {
  const random = new Random(seed);
  const features = featureCount(size, channels);
  const u = (shape: number[], fanIn: number) => random.uniform(shape, { low: -1 / Math.sqrt(fanIn), high: 1 / Math.sqrt(fanIn) });
  return {
    conv: { w: u([channels, 1, 3, 3], 9), b: u([channels], 9) },
    dense: { w: u([features, SHAPE_CLASSES.length], features), b: u([SHAPE_CLASSES.length], features) },
  };
}

/** Logits [n, classes] of images [n, 1, size, size]. */
export function cnnForward(params: CnnParams, x: Tensor): Tensor {
  const channels = params.conv.b.shape[0]!;
  const h = relu(add(conv2d(x, params.conv.w), reshape(params.conv.b, [1, channels, 1, 1])));
  const pooled = maxPool(h, 2);
  const flat = reshape(pooled, [x.shape[0]!, pooled.size / x.shape[0]!]);
  return add(matmul(flat, params.dense.w), params.dense.b);
}

/** The fraction of images whose largest logit is their label. */
export function accuracyOf(logits: Tensor, labels: Tensor): number {
  return mean(equal(argmax(logits, -1), labels)).item();
}

export interface CnnOptions {
  readonly perClass?: number;
  readonly size?: number;
  readonly channels?: number;
  readonly steps?: number;
  readonly lr?: number;
  readonly seed?: number;
  readonly engine?: Engine;
  /** Called after every step with the loss before it. */
  readonly onStep?: (step: number, loss: number) => void;
}

export interface CnnResult {
  readonly params: CnnParams;
  readonly losses: number[];
  /** Accuracy on the training images. */
  readonly accuracy: number;
  /** Accuracy on as many held-out images (another seed). */
  readonly testAccuracy: number;
}

/** The training and held-out images of a configuration. */
export function cnnData(perClass: number, size: number, seed: number): { train: ImageSet; test: ImageSet } {
  return { train: drawnShapes(perClass, { seed, size }), test: drawnShapes(perClass, { seed: seed + 1000, size }) };
}

/** Trains with `engine` (reverse by default): one value-and-gradient per step, then Adam. */
export function trainCnn(options: CnnOptions = {}): CnnResult {
  const { perClass, size, channels, steps, lr, seed } = { ...CNN_DEFAULTS, ...options };
  const engine = options.engine ?? reverse;
  const { train, test } = cnnData(perClass, size, seed);
  const loss = (params: CnnParams): Tensor => crossEntropy(cnnForward(params, train.x), train.labels);
  const valueAndGrad = engine.valueAndGrad(loss);
  const optimizer = adam({ lr });
  let params = initCnn(size, channels, seed);
  let state = optimizer.init(params);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const [value, grads] = valueAndGrad(params);
    const l = typeof value === "number" ? value : value.item();
    losses.push(l);
    options.onStep?.(step, l);
    ({ params, state } = optimizer.update(grads, state, params));
  }
  return {
    params,
    losses,
    accuracy: accuracyOf(cnnForward(params, train.x), train.labels),
    testAccuracy: accuracyOf(cnnForward(params, test.x), test.labels),
  };
}

/**
 * The same network in PyTorch style (`@chainrule/reverse` modules: Conv2d, ReLU, MaxPool2d,
 * Flatten, Linear), trained with zeroGrad / forward / backward / step, initialised by the
 * modules' PyTorch defaults from `manualSeed(seed)`.
 */
export function makeCnnModel(size: number, channels: number, seed: number): Sequential {
  manualSeed(seed);
  return new Sequential(
    new Conv2d(1, channels, 3),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(featureCount(size, channels), SHAPE_CLASSES.length),
  );
}

export function trainCnnImperative(options: Omit<CnnOptions, "engine"> = {}): CnnResult & { readonly model: Sequential } {
  const { perClass, size, channels, steps, lr, seed } = { ...CNN_DEFAULTS, ...options };
  const { train, test } = cnnData(perClass, size, seed);
  const model = makeCnnModel(size, channels, seed);
  const optimizer = new Adam(model.parameters(), { lr });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(train.x), train.labels);
    backward(loss);
    optimizer.step();
    losses.push(loss.item());
    options.onStep?.(step, loss.item());
  }
  const [accuracy, testAccuracy] = noGrad(() => [train, test].map((d) => accuracyOf(model.forward(d.x), d.labels)));
  const state = model.stateDict();
  const params: CnnParams = {
    conv: { w: state["0.weight"]!, b: state["0.bias"]! },
    dense: { w: transpose(state["4.weight"]!), b: state["4.bias"]! },
  };
  return { model, params, losses, accuracy: accuracy!, testAccuracy: testAccuracy! };
}

export function cnnLossSvg(losses: readonly number[], title = "CNN on drawn shapes: training loss (Adam)"): string {
  return lineChartSvg(losses, { title, xLabel: "step", yLabel: "cross-entropy", logY: true });
}

export function main(argv: readonly string[] = process.argv.slice(2)): void {
  if (argv.includes("--imperative")) {
    const bar = progressBar(CNN_DEFAULTS.steps, "training (imperative modules)");
    const started = performance.now();
    const result = trainCnnImperative({ onStep: (step, l) => bar.update(step + 1, `loss ${l.toFixed(4)}`) });
    bar.done(`loss ${result.losses[result.losses.length - 1]!.toFixed(4)}`);
    report(result, performance.now() - started, "cnn-imperative-loss.svg");
    return;
  }
  const flag = argv.indexOf("--engine");
  const name = flag === -1 ? "reverse" : argv[flag + 1];
  const engine = ENGINES.find((e) => e.name === name)?.engine;
  if (!engine) throw new Error(`cnn: expected --engine to be one of ${ENGINES.map((e) => e.name).join(", ")}, got ${JSON.stringify(name)}`);
  const steps = name === "forward" ? 10 : CNN_DEFAULTS.steps;
  const bar = progressBar(steps, `training (${name})`);
  const started = performance.now();
  const result = trainCnn({ engine, steps, onStep: (step, l) => bar.update(step + 1, `loss ${l.toFixed(4)}`) });
  bar.done(`loss ${result.losses[result.losses.length - 1]!.toFixed(4)}`);
  report(result, performance.now() - started, "cnn-loss.svg");
}

/** Prints the accuracies and writes the loss curve. */
export function report(result: { losses: number[]; accuracy: number; testAccuracy: number }, ms: number, svg: string): void {
  const file = join(dirname(fileURLToPath(import.meta.url)), "..", "out", svg);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, cnnLossSvg(result.losses));
  console.log(
    `accuracy on drawn shapes (chance 25%): ${(100 * result.accuracy).toFixed(1)}% training, ` +
      `${(100 * result.testAccuracy).toFixed(1)}% held out (${result.losses.length} steps in ${(ms / 1000).toFixed(1)} s)`,
  );
  console.log(`loss curve: ${file}`);
}

if (isMain(import.meta.url)) main();
