/** Unknown options are errors everywhere in optim: a misspelt option must not silently train with a default. */
import { ArgumentError, tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import {
  adagrad,
  adam,
  Adam,
  adamw,
  cosineAnnealing,
  exponential,
  lbfgs,
  linearWarmup,
  minimize,
  oneCycle,
  rmsprop,
  sgd,
  stepDecay,
  withClipping,
} from "./index.js";

const engine = { valueAndGrad: () => () => [0, 0] };

describe("unknown options", () => {
  it("adam({ learningRate }) names the unknown key, the valid ones and the likely one", () => {
    expect(() => adam({ learningRate: 0.1 } as never)).toThrow(ArgumentError);
    expect(() => adam({ learningRate: 0.1 } as never)).toThrow(
      'adam: expected options among lr, betas, eps, weightDecay, amsgrad, got an unknown option "learningRate" (did you mean lr?)',
    );
    expect(() => adamw({ weight_decay: 0.1 } as never)).toThrow(/got an unknown option "weight_decay" \(did you mean weightDecay\?\)/);
  });

  it("every factory, schedule, wrapper and minimize", () => {
    const cases: [string, () => unknown][] = [
      ["sgd", () => sgd({ lr: 0.1, momentun: 0.9 } as never)],
      ["adam", () => adam({ beta1: 0.9 } as never)],
      ["adamw", () => adamw({ foo: 1 } as never)],
      ["rmsprop", () => rmsprop({ rho: 0.9 } as never)],
      ["adagrad", () => adagrad({ decay: 1 } as never)],
      ["lbfgs", () => lbfgs({ maxIterations: 5 } as never)],
      ["stepDecay", () => stepDecay({ init: 1, stepSize: 2, factor: 0.5 } as never)],
      ["exponential", () => exponential({ init: 1, gamma: 0.5, step: 1 } as never)],
      ["cosineAnnealing", () => cosineAnnealing({ init: 1, steps: 10, max: 2 } as never)],
      ["linearWarmup", () => linearWarmup({ to: 1, steps: 10, warmup: 2 } as never)],
      ["oneCycle", () => oneCycle({ maxLr: 1, totalSteps: 10, anneal: "cos" } as never)],
      ["withClipping", () => withClipping(sgd({ lr: 1 }), { maxNorm: 1, norm: 2 } as never)],
      ["minimize", () => minimize(() => 0, 1, { engine: engine as never, optimizer: sgd({ lr: 1 }), steps: 1, verbose: true } as never)],
      ["Adam", () => new Adam([{ value: 1, grad: null }], { lr: 0.1, momentum: 0.9 } as never)],
    ];
    for (const [name, make] of cases) {
      expect(make, name).toThrow(ArgumentError);
      expect(make, name).toThrow(/: expected options among .*, got an unknown option "/);
    }
  });

  it("update options: only lr", () => {
    const opt = sgd({ lr: 0.1 });
    expect(() => opt.update(1, opt.init(1), 1, { learningRate: 1 } as never)).toThrow(
      'sgd.update: expected update options among lr, got an unknown option "learningRate" (did you mean lr?)',
    );
  });

  it("options that are not an object are ArgumentErrors, not TypeErrors", () => {
    expect(() => sgd(null as never)).toThrow(
      "sgd: expected options as an object {lr, momentum, dampening, weightDecay, nesterov}, got null",
    );
    expect(() => adam(5 as never)).toThrow(ArgumentError);
    expect(() => stepDecay(undefined as never)).toThrow(ArgumentError);
    expect(() => minimize(() => 0, 1, null as never)).toThrow(ArgumentError);
    expect(() => withClipping(sgd({ lr: 1 }), undefined as never)).toThrow(ArgumentError);
  });

  it("boolean and function options are checked, not coerced", () => {
    expect(() => adam({ amsgrad: "yes" } as never)).toThrow('adam: expected amsgrad to be true or false, got "yes"');
    expect(() => rmsprop({ centered: 1 } as never)).toThrow("rmsprop: expected centered to be true or false, got 1");
    expect(() => sgd({ lr: 0.1, momentum: 0.9, nesterov: "false" } as never)).toThrow(/expected nesterov to be true or false/);
    const base = { engine: engine as never, optimizer: sgd({ lr: 1 }), steps: 1 };
    expect(() => minimize(() => 0, 1, { ...base, schedule: 0.1 } as never)).toThrow(
      "minimize: expected options.schedule to be a function, got 0.1",
    );
    expect(() => minimize(() => 0, 1, { ...base, quiet: "yes" } as never)).toThrow(/expected options.quiet to be true or false/);
    expect(() => minimize(() => 0, tensor([1]), { ...base, progress: {} } as never)).toThrow(/expected options.progress to be a stream/);
    expect(() => withClipping(sgd({ lr: 1 }), { maxNorm: -1 })).toThrow("withClipping: expected maxNorm to be a finite number ≥ 0, got -1");
  });
});
