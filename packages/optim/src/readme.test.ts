/** The README's example, as written there (plus its data), and its save/resume snippet. */
import { add, argmax, crossEntropy, matmul, randomNormal, randomUniform, tanh, tensor, zeros, type Tensor } from "@chainrule/ir";
import { engine } from "@chainrule/reverse";
import { expect, it, vi } from "vitest";

vi.setConfig({ testTimeout: 120_000 });
import { adam, cosineAnnealing, minimize, treeFromJSON, treeToJSON } from "./index.js";

it("README: training a model in ten lines, then saving and resuming", () => {
  const x = randomUniform([200, 2], { seed: 5, low: -1, high: 1 });
  const labels = tensor(
    Array.from({ length: 200 }, (_, i) => (x.data[2 * i]! * x.data[2 * i + 1]! > 0 ? 1 : 0)),
    { dtype: "int32" },
  );

  const params = { w1: randomNormal([2, 8], { seed: 1 }), b1: zeros([8]), w2: randomNormal([8, 2], { seed: 2 }), b2: zeros([2]) };
  const logits = (p: typeof params) => add(matmul(tanh(add(matmul(x, p.w1), p.b1)), p.w2), p.b2);
  const loss = (p: typeof params) => crossEntropy(logits(p), labels);
  const result = minimize(loss, params, {
    engine,
    optimizer: adam({ lr: 0.05 }),
    steps: 300,
    schedule: cosineAnnealing({ init: 0.05, steps: 300 }),
    quiet: true,
  });
  expect(result.stopReason).toBe("steps");
  const predicted = argmax(logits(result.params), 1).data;
  const accuracy = Array.from(labels.data).filter((l, i) => l === predicted[i]).length / 200;
  expect(accuracy).toBeGreaterThanOrEqual(0.9); // XOR quadrants, points up to the axes

  const saved = JSON.stringify({ params: treeToJSON(result.params), state: result.state });
  const { params: savedParams, state } = JSON.parse(saved);
  const resumed = minimize(loss, treeFromJSON<typeof params>(savedParams), {
    engine,
    optimizer: adam({ lr: 0.05 }),
    steps: 5,
    state,
    quiet: true,
  });
  const straight = minimize(loss, result.params, { engine, optimizer: adam({ lr: 0.05 }), steps: 5, state: result.state, quiet: true });
  for (const key of ["w1", "b1", "w2", "b2"] as const) {
    expect(Array.from((resumed.params[key] as Tensor).data)).toEqual(Array.from((straight.params[key] as Tensor).data));
  }
});
