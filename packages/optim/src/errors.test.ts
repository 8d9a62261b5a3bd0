import { ArgumentError, DTypeError, NanError, ShapeError, tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { adagrad, adam, adamw, lbfgs, rmsprop, sgd } from "./index.js";

describe("bad input gives clear errors", () => {
  it("mismatched params/grads structures", () => {
    const opt = adam();
    const params = { w: tensor([1, 2]), b: 0 };
    const state = opt.init(params);
    // the types refuse these too; at run time (plain JavaScript, casts) the structure is checked
    // @ts-expect-error the grads have a key c where the params have b
    expect(() => opt.update({ w: tensor([1, 2]), c: 0 }, state, params)).toThrow(ArgumentError);
    // @ts-expect-error the grads have a key c where the params have b
    expect(() => opt.update({ w: tensor([1, 2]), c: 0 }, state, params)).toThrow(
      "adam.update: expected grads with the structure of params {w: Tensor, b: number}, got {w: Tensor, c: number}",
    );
    // @ts-expect-error an array where the params are an object
    expect(() => opt.update([tensor([1, 2]), 0], state, params)).toThrow(/expected grads with the structure/);
    expect(() => opt.update({ w: tensor([1, 2, 3]), b: 0 }, state, params)).toThrow(ShapeError);
    expect(() => opt.update({ w: tensor([1, 2, 3]), b: 0 }, state, params)).toThrow(
      "adam.update: expected a gradient of shape [2] at grads.w, got [3]",
    );
  });
  it("non-finite gradients name the leaf and element", () => {
    const opt = sgd({ lr: 0.1 });
    const params = { w: tensor([1, 2]) };
    expect(() => opt.update({ w: tensor([1, Number.NaN]) }, opt.init(params), params)).toThrow(NanError);
    expect(() => opt.update({ w: tensor([1, Number.NaN]) }, opt.init(params), params)).toThrow(
      "sgd.update: expected finite gradients, got NaN at grads.w (element 1)",
    );
    expect(() => opt.update([Infinity], opt.init([1]), [1])).toThrow("sgd.update: expected finite gradients, got Infinity at grads[0]");
  });
  it("negative learning rates: constant, scheduled or overridden", () => {
    for (const make of [
      () => sgd({ lr: -0.1 }),
      () => adam({ lr: -1 }),
      () => adamw({ lr: -1 }),
      () => rmsprop({ lr: -1 }),
      () => adagrad({ lr: -1 }),
      () => lbfgs({ lr: -1 }),
    ]) {
      expect(make).toThrow(ArgumentError);
      expect(make).toThrow(/: expected lr to be a finite number ≥ 0, got -(0\.)?1/);
    }
    const scheduled = sgd({ lr: (t) => 0.1 - t });
    const s1 = scheduled.update(1, scheduled.init(1), 1).state;
    expect(() => scheduled.update(1, s1, 1)).toThrow(
      "sgd.update: expected the lr schedule to give a finite number ≥ 0 at step 1, got number -0.9",
    );
    const opt = sgd({ lr: 0.1 });
    expect(() => opt.update(1, opt.init(1), 1, { lr: -2 })).toThrow("sgd.update: expected lr to be a finite number ≥ 0, got -2");
    expect(() => sgd({} as never)).toThrow("sgd: expected lr to be a finite number ≥ 0, got undefined");
  });
  it("bad hyperparameters", () => {
    expect(() => adam({ betas: [1, 0.9] })).toThrow("adam: expected betas[0] in [0, 1), got 1");
    expect(() => sgd({ lr: 0.1, nesterov: true })).toThrow(
      "sgd: expected momentum > 0 and dampening = 0 with nesterov, got momentum 0 and dampening 0",
    );
    expect(() => rmsprop({ alpha: 2 })).toThrow("rmsprop: expected alpha in [0, 1], got 2");
    expect(() => lbfgs({ historySize: 0 })).toThrow("lbfgs: expected historySize to be a positive integer, got 0");
    expect(() => lbfgs({ lineSearch: "armijo" as never })).toThrow('lbfgs: expected lineSearch "strongWolfe" or null, got "armijo"');
  });
  it("params that are not float, a state of another optimizer or of other params", () => {
    expect(() => sgd({ lr: 1 }).init({ k: tensor([1], { dtype: "int32" }) })).toThrow(DTypeError);
    expect(() => sgd({ lr: 1 }).init({ k: tensor([1], { dtype: "int32" }) })).toThrow(
      "sgd.init: expected float params (float64 or float32), got int32 at params.k",
    );
    const state = adam().init([1]);
    expect(() => sgd({ lr: 1 }).update([1], state as never, [1])).toThrow(
      'sgd.update: expected state.optimizer to be "sgd" (a state from sgd(…).init or a saved one), got "adam"',
    );
    expect(() => adam().update([1, 1], state, [1, 1])).toThrow(
      "adam.update: expected state.slots.m to be an array of length 2 (one buffer per param leaf), got an array of length 1",
    );
    expect(() => lbfgs({ lineSearch: "strongWolfe" }).update([1], lbfgs().init([1]), [1])).toThrow(
      /lbfgs.update: expected lineSearch null/,
    );
  });
});
