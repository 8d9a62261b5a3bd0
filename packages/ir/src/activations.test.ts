/**
 * The activations and losses of issue 17 (nn.ts). Expected values are hand-computed from the
 * definitions with double-precision math (log1p, expm1, exp), independently of ir; derivatives
 * and their kink conventions are checked in every engine by the conformance suite.
 */
import { describe, expect, it } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  ArgumentError,
  ShapeError,
  binaryCrossEntropy,
  elu,
  hardTanh,
  huberLoss,
  leakyRelu,
  logSigmoid,
  relu6,
  silu,
  softplus,
  softsign,
  tensor,
} from "./index.js";

const xs = [-3, -0.5, 0, 0.5, 3];

describe("softplus and logSigmoid", () => {
  it("hand values log(1 + eˣ) and −log(1 + e⁻ˣ)", () => {
    expectTensor(softplus(xs), [0.04858735157374206, 0.4740769841801067, Math.LN2, 0.9740769841801067, 3.048587351573742], {
      digits: 15,
    });
    expectTensor(logSigmoid(xs), [-3.048587351573742, -0.9740769841801067, -Math.LN2, -0.4740769841801067, -0.04858735157374206], {
      digits: 15,
    });
  });

  it("never overflow or lose the small tail", () => {
    // x + log1p(e⁻ˣ) for large x; log1p(eˣ) keeps the tail e⁻⁵⁰ (where 1 + e⁻⁵⁰ would round to 1)
    expectTensor(softplus([800, -800, -50]), [800, 0, Math.exp(-50)]);
    expectTensor(logSigmoid([800, -800]), [-0, -800]);
    expect(softplus(1000).item()).toBe(1000);
  });

  it("float32 stays float32, integers become float64", () => {
    expect(softplus(tensor([1, 2], { dtype: "float32" })).dtype).toBe("float32");
    expect(logSigmoid(tensor([1, 2], { dtype: "int32" })).dtype).toBe("float64");
  });
});

describe("silu, elu, leakyRelu, softsign", () => {
  it("silu(x) = x·σ(x)", () => {
    expectTensor(silu(xs), [-0.14227761953270035, -0.1887703343990727, 0, 0.3112296656009273, 2.8577223804673], { digits: 15 });
  });

  it("elu with α = 1 and with { alpha: 2 }; no overflow on the positive side", () => {
    expectTensor(elu(xs), [-0.950212931632136, -0.3934693402873666, 0, 0.5, 3], { digits: 15 });
    expectTensor(elu(xs, { alpha: 2 }), [-1.900425863264272, -0.7869386805747332, 0, 0.5, 3], { digits: 15 });
    expectTensor(elu([1000, -1000]), [1000, -1]);
  });

  it("leakyRelu with slope 0.01 and with { negativeSlope: 0.2 }", () => {
    expectTensor(leakyRelu(xs), [-0.03, -0.005, 0, 0.5, 3], { digits: 15 });
    expectTensor(leakyRelu(xs, { negativeSlope: 0.2 }), [-0.6, -0.1, 0, 0.5, 3], { digits: 15 });
  });

  it("softsign(x) = x / (1 + |x|)", () => {
    expectTensor(softsign(xs), [-0.75, -1 / 3, 0, 1 / 3, 0.75], { digits: 15 });
  });

  it("keeps shapes", () => {
    const m = tensor([
      [-1, 2],
      [3, -4],
    ]);
    for (const f of [softplus, logSigmoid, silu, elu, leakyRelu, softsign, relu6, hardTanh]) expect(f(m).shape).toEqual([2, 2]);
  });
});

describe("relu6 and hardTanh", () => {
  it("clamp to [0, 6] and [min, max]", () => {
    expectTensor(relu6([-1, 0, 3, 6, 7.5]), [0, 0, 3, 6, 6]);
    expectTensor(hardTanh([-2, -1, 0.25, 1, 2]), [-1, -1, 0.25, 1, 1]);
    expectTensor(hardTanh([-2, 0.25, 2, 5], { min: 0, max: 3 }), [0, 0.25, 2, 3]);
    expectTensor(hardTanh([-2, 2], { max: 0 }), [-1, 0]);
    expectTensor(hardTanh([-2, 2], { min: 1, max: 1 }), [1, 1]);
  });

  it("rejects bad bounds and options", () => {
    expectError(() => hardTanh(1, { min: 2, max: 1 }), ArgumentError, "hardTanh: expected min ≤ max, got min 2 and max 1");
    expectError(() => hardTanh(1, { min: Number.NaN }), ArgumentError, "hardTanh: expected min to be a finite number, got number NaN");
    expectError(
      () => hardTanh(1, { low: 0 } as never),
      ArgumentError,
      'hardTanh: expected options among min, max, got an unknown option "low"',
    );
    expectError(() => elu(1, { alpha: "1" } as never), ArgumentError, 'elu: expected alpha to be a finite number, got string "1"');
    expectError(() => leakyRelu(1, 0.2 as never), ArgumentError, "leakyRelu: expected an options object or undefined, got number 0.2");
  });
});

describe("binaryCrossEntropy", () => {
  const z = [-2, 0, 1.5];
  const y = [0, 1, 0.25];
  // max(z, 0) − z·y + log1p(e^(−|z|)) per element
  const losses = [0.1269280110429725, Math.LN2, 1.3264132779827524];

  it("from logits: the mean by default, or none / sum", () => {
    expectTensor(binaryCrossEntropy(z, y), 0.7154961565285567, { digits: 15, shape: [] });
    expectTensor(binaryCrossEntropy(z, y, { reduction: "none" }), losses, { digits: 15 });
    expectTensor(binaryCrossEntropy(z, y, { reduction: "sum" }), 2.14648846958567, { digits: 14 });
    expectTensor(
      binaryCrossEntropy(
        [
          [-2, 0],
          [1.5, 0],
        ],
        [
          [0, 1],
          [0.25, 0],
        ],
        { reduction: "none" },
      ),
      [
        [losses[0]!, Math.LN2],
        [losses[2]!, Math.LN2],
      ],
      { digits: 15 },
    );
  });

  it("stable for huge logits", () => {
    expectTensor(binaryCrossEntropy([1000, -1000, 1000, -1000], [0, 1, 1, 0], { reduction: "none" }), [1000, 1000, 0, 0]);
  });

  it("takes int32 or bool labels, and keeps float32", () => {
    expectTensor(binaryCrossEntropy([0, 0], tensor([true, false])), Math.LN2, { digits: 15 });
    const out = binaryCrossEntropy(tensor([0, 1], { dtype: "float32" }), tensor([1, 0], { dtype: "int32" }));
    expect(out.dtype).toBe("float32");
  });

  it("rejects mismatched shapes and bad reductions", () => {
    expectError(
      () => binaryCrossEntropy([1, 2], [1, 0, 1]),
      ShapeError,
      "binaryCrossEntropy: expected logits and labels of one shape, got [2] and [3]",
    );
    expectError(
      () => binaryCrossEntropy([1], [1], { reduction: "avg" } as never),
      ArgumentError,
      'binaryCrossEntropy: expected reduction to be "none", "mean" or "sum", got "avg"',
    );
  });
});

describe("huberLoss", () => {
  const pred = [0, 0.5, -1, 3, -2.5];
  const target = [0, 0, 0, 0, 0.5];
  // d = [0, 0.5, −1, 3, −3]: ½d² for |d| ≤ 1, |d| − ½ beyond
  const losses = [0, 0.125, 0.5, 2.5, 2.5];

  it("δ = 1: the mean by default, or none / sum", () => {
    expectTensor(huberLoss(pred, target, { reduction: "none" }), losses);
    expectTensor(huberLoss(pred, target), 5.625 / 5, { digits: 15 });
    expectTensor(huberLoss(pred, target, { reduction: "sum" }), 5.625, { digits: 15 });
  });

  it("with { delta: 2 }: ½d² for |d| ≤ 2, 2(|d| − 1) beyond", () => {
    expectTensor(huberLoss(pred, target, { delta: 2, reduction: "none" }), [0, 0.125, 0.5, 4, 4]);
    expectTensor(huberLoss([2], [0], { delta: 2, reduction: "none" }), [2]);
  });

  it("rejects bad delta and shapes", () => {
    expectError(() => huberLoss(1, 0, { delta: 0 }), ArgumentError, "huberLoss: expected delta > 0, got 0");
    expectError(
      () => huberLoss(1, 0, { delta: Infinity }),
      ArgumentError,
      "huberLoss: expected delta to be a finite number, got number Infinity",
    );
    expectError(() => huberLoss([1, 2], [[1, 2]]), ShapeError, "huberLoss: expected pred and target of one shape, got [2] and [1,2]");
  });
});
