// Heap growth over 10,000 PyTorch-style steps with a stateful Adam (run by pytorch-style-mlp.test.ts
// under `node --expose-gc`). LEAK=1 keeps every loss alive with its graph (a control).
import { crossEntropy, Random, tensor } from "@chainrule/ir";
import { backward, Linear, manualSeed, Sequential, Tanh } from "@chainrule/reverse";
import { Adam } from "@chainrule/optim";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
const steps = Number(process.env.STEPS ?? 10_000);
const leak = process.env.LEAK === "1";
const kept: unknown[] = [];
let measuring = false;

manualSeed(0);
const model = new Sequential(new Linear(2, 16), new Tanh(), new Linear(16, 3));
const optimizer = new Adam(model.parameters(), { lr: 0.01 });
const x = new Random(1).normal([32, 2]);
const labels = tensor(
  Array.from({ length: 32 }, (_, i) => i % 3),
  { dtype: "int32" },
);
let last = 0;

function train(n: number): void {
  for (let i = 0; i < n; i++) {
    optimizer.zeroGrad();
    const loss = crossEntropy(model.forward(x), labels);
    backward(loss, undefined, { retainGraph: leak && measuring });
    optimizer.step();
    last = loss.item();
    if (leak && measuring) kept.push(loss);
  }
}

function measure(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

train(2_000);
const before = measure();
measuring = true;
train(steps);
const after = measure();
console.log(JSON.stringify({ steps, before, after, growth: after - before, kept: kept.length, loss: last }));
