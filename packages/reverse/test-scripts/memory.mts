// Heap growth over 100,000 `grad` calls (run by memory.test.ts under `node --expose-gc`).
// With LEAK=1 it keeps every gradient alive, which the test uses to show the check can fail.
import { add, mul, sub, sum, sin, tensor, type Tensor } from "@chainrule/ir";
import { grad, vjp } from "@chainrule/reverse";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
const calls = Number(process.env.CALLS ?? 100_000);
const leak = process.env.LEAK === "1";
const kept: unknown[] = [];
let measuring = false;

const seed = grad((x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y)), [0, 1]);
const vector = tensor(Array.from({ length: 64 }, (_, i) => i / 64));
const loss = grad((x: Tensor) => sum(mul(sin(x), x)));

function run(n: number): void {
  for (let i = 0; i < n; i++) {
    const g = seed(3, 2);
    const h = loss(vector);
    const [, pullback] = vjp((x: Tensor) => mul(x, x), 2);
    if (leak && measuring) kept.push(g, h, pullback);
  }
}

function measure(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

run(20_000); // warm-up: compiled code, inline caches, lazily created tables
const before = measure();
measuring = true;
run(calls);
const after = measure();
console.log(JSON.stringify({ calls, before, after, growth: after - before, kept: kept.length }));
