// Heap growth over 10,000 PyTorch-style training steps (run by src/imperative/memory.test.ts under
// `node --expose-gc`): forward through a Sequential MLP, loss.backward(), an SGD update under
// noGrad, zeroGrad. With LEAK=1 every loss is kept alive with its graph (retainGraph), which the
// test uses to show the measurement detects growth.
import { crossEntropy, mul, Random, sub, tensor } from "@chainrule/ir";
import { noGrad, type Variable } from "../src/imperative/index.js";
import { Linear, manualSeed, Sequential, Tanh } from "../src/nn/index.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
const steps = Number(process.env.STEPS ?? 10_000);
const leak = process.env.LEAK === "1";
const kept: unknown[] = [];
let measuring = false;

manualSeed(0);
const model = new Sequential(new Linear(2, 16), new Tanh(), new Linear(16, 3));
const x = new Random(1).normal([32, 2]);
const labels = tensor(
  Array.from({ length: 32 }, (_, i) => i % 3),
  { dtype: "int32" },
);
let last = 0;

function train(n: number): void {
  for (let i = 0; i < n; i++) {
    model.zeroGrad();
    const loss = crossEntropy(model.forward(x), labels) as Variable;
    loss.backward({ retainGraph: leak && measuring });
    noGrad(() => {
      for (const p of model.parameters()) p.value = sub(p.value, mul(p.grad!, 0.05));
    });
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

train(2_000); // warm-up
const before = measure();
measuring = true;
train(steps);
const after = measure();
console.log(JSON.stringify({ steps, before, after, growth: after - before, kept: kept.length, loss: last }));
