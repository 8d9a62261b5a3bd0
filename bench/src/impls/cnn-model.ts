/**
 * W5's model and W6's conv as chainrule ir: the CNN's parameters, loss and input tensors. Imports
 * nothing but @chainrule/ir (like mlp-model.ts).
 */
import { add, bind, crossEntropy, matmul, max, relu, reshape, tensor, type Tensor } from "@chainrule/ir";
import type { CnnVariant, ConvVariant } from "../workloads.js";

export interface CnnParams {
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
  w3: Tensor;
  b3: Tensor;
}

/** A 3×3 conv with "same" padding, stride 1 (channels-first). */
export function conv3x3Same(x: Tensor, w: Tensor): Tensor {
  return bind("conv", [x, w], { strides: [1, 1], padding: [1, 1, 1, 1], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 1 });
}

/** 2×2 max-pool, stride 2, of [N, C, H, W]: the maximum over the window axes of a reshape. */
export function maxPool2(x: Tensor): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  return max(reshape(x, [n, c, h / 2, 2, w / 2, 2]), [3, 5]);
}

/** W5: mean softmax cross-entropy of the CNN (bench/README.md). */
export function cnnLoss(p: CnnParams, x: Tensor, labels: Tensor): Tensor {
  const c1 = p.b1.shape[0]!,
    c2 = p.b2.shape[0]!;
  const h1 = maxPool2(relu(add(conv3x3Same(x, p.w1), reshape(p.b1, [1, c1, 1, 1]))));
  const h2 = maxPool2(relu(add(conv3x3Same(h1, p.w2), reshape(p.b2, [1, c2, 1, 1]))));
  const flat = reshape(h2, [h2.shape[0]!, h2.size / h2.shape[0]!]);
  return crossEntropy(add(matmul(flat, p.w3), p.b3), labels);
}

export function cnnTensors(variant: CnnVariant): { params: CnnParams; x: Tensor; labels: Tensor } {
  const i = variant.input;
  const { batch: N, size: S, c1: C1, c2: C2, classes: K } = i;
  return {
    params: {
      w1: tensor(i.w1, { shape: [C1, 1, 3, 3] }),
      b1: tensor(i.b1, { shape: [C1] }),
      w2: tensor(i.w2, { shape: [C2, C1, 3, 3] }),
      b2: tensor(i.b2, { shape: [C2] }),
      w3: tensor(i.w3, { shape: [(C2 * S * S) / 16, K] }),
      b3: tensor(i.b3, { shape: [K] }),
    },
    x: tensor(i.x, { shape: [N, 1, S, S] }),
    labels: tensor(i.labels, { shape: [N] }),
  };
}

export function convTensors(variant: ConvVariant): { x: Tensor; w: Tensor } {
  const { batch: N, channels: C, size: S, x, w } = variant.input;
  return { x: tensor(x, { shape: [N, C, S, S] }), w: tensor(w, { shape: [C, C, 3, 3] }) };
}
