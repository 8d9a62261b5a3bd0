// Memory a deep chain's gradient holds between the forward and the backward pass (run by
// src/checkpoint.test.ts under `node --expose-gc`), for each mode: 48 layers of 4 elementwise ops on a vector of
// 32,768 float64s, without checkpoint and with checkpoint around each block of 8 layers. For the
// functional API the pullback of vjp holds the tape; for the imperative API the loss holds its graph.
// Prints the bytes held (heap + array buffers after full GCs, minus the baseline) and the gradients' sum.
import { cos, mul, setFusion, sin, sum, tanh, tensor, type Tensor } from "@chainrule/ir";
import { checkpoint, variable, vjp, type Variable } from "../src/index.js";

// FUSE=0: every elementwise value computed at once and held by the tape (what checkpoint is for)
if (process.env.FUSE === "0") setFusion({ enabled: false });

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");
const api = process.env.API ?? "functional";
const N = 32_768;
const LAYERS = 48;
const BLOCK = 8;

// one layer: 4 elementwise ops (each a residual of reverse mode)
const layer = (h: Tensor) => tanh(mul(sin(mul(h, 0.9)), cos(h)));
function block(h: Tensor): Tensor {
  for (let i = 0; i < BLOCK; i++) h = layer(h);
  return h;
}
type Step = (h: Tensor) => Tensor;
const STEPS: Record<string, Step> = {
  plain: block,
  checkpoint: checkpoint(block),
  everything: checkpoint(block, { policy: "everythingSaveable" }),
};
function chain(x: Tensor, step: Step): Tensor {
  let h = x;
  for (let b = 0; b < LAYERS / BLOCK; b++) h = step(h);
  return sum(h);
}

function measure(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const x = tensor(Array.from({ length: N }, (_, i) => Math.sin(i) * 0.5));

function run(mode: string): { mode: string; held: number; gradientSum: number } {
  const f = (h: Tensor) => chain(h, STEPS[mode]!);
  // warm-up: one full gradient, so compiled code and tables exist before the baseline
  const [, warm] = vjp(f, x);
  warm(1);
  if (api === "functional") {
    const before = measure();
    const [, pullback] = vjp(f, x);
    const held = measure() - before;
    return { mode, held, gradientSum: sum(pullback(1)[0] as Tensor).item() };
  }
  const v = variable(x, { requiresGrad: true });
  const before = measure();
  const loss = f(v) as Variable;
  const held = measure() - before;
  loss.backward();
  return { mode, held, gradientSum: sum(v.grad!).item() };
}

console.log(JSON.stringify(["plain", "checkpoint", "everything"].map(run)));
