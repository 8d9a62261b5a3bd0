/**
 * W3's model as chainrule ir: the MLP's parameters, loss and input tensors. Imports nothing but
 * @chainrule/ir, so the browser page (src/browser/page.ts) bundles it with the kernel rows.
 */
import { add, crossEntropy, matmul, tanh, tensor, type Tensor } from "@chainrule/ir";
import type { MlpVariant } from "../workloads.js";

export interface MlpParams {
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
}

/** W3: mean softmax cross-entropy of the tanh MLP. */
export function mlpLoss(params: MlpParams, x: Tensor, labels: Tensor): Tensor {
  const hidden = tanh(add(matmul(x, params.w1), params.b1));
  return crossEntropy(add(matmul(hidden, params.w2), params.b2), labels);
}

export function mlpTensors(variant: MlpVariant): { params: MlpParams; x: Tensor; labels: Tensor } {
  const { batch: B, inputs: D, hidden: H, classes: O } = variant.input;
  const i = variant.input;
  return {
    params: {
      w1: tensor(i.w1, { shape: [D, H] }),
      b1: tensor(i.b1, { shape: [H] }),
      w2: tensor(i.w2, { shape: [H, O] }),
      b2: tensor(i.b2, { shape: [O] }),
    },
    x: tensor(i.x, { shape: [B, D] }),
    labels: tensor(i.labels, { shape: [B] }),
  };
}
