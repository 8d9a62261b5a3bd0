// The W5 CNN training step (bench/README.md) as one kernel program, profiled step by step (not a
// test). Run from the repo root: [POOL=op] examples/node_modules/.bin/tsx --conditions=@chainrule/source
// packages/jit/bench/prof-cnn.ts [threads]
import { add, bind, crossEntropy, matmul, max, maxPool, mul, relu, reshape, sub, tensor, traceWith, type Tensor } from "@chainrule/ir";
import { interpreter } from "@chainrule/jit";
import { optimize, toProgram } from "../src/optimize.js";
import { compileKernelProgram } from "../src/wasm/program.js";

const threads = Number(process.argv[2] ?? 1);
const N = 32,
  S = 28,
  C1 = 16,
  C2 = 32,
  K = 10;
const conv = (x: Tensor, w: Tensor) =>
  bind("conv", [x, w], { strides: [1, 1], padding: [1, 1, 1, 1], lhsDilation: [1, 1], rhsDilation: [1, 1], groups: 1 });
// POOL=op: ir's maxPool (reduceWindowMax); otherwise the maximum over the window axes of a reshape
const pool = (x: Tensor) => {
  if (process.env.POOL === "op") return maxPool(x, 2);
  const [n, c, h, w] = x.shape as number[];
  return max(reshape(x, [n!, c!, h! / 2, 2, w! / 2, 2]), [3, 5]);
};
type P = Tensor[];
const loss = (p: P, x: Tensor, y: Tensor) => {
  const h1 = pool(relu(add(conv(x, p[0]!), reshape(p[1]!, [1, C1, 1, 1]))));
  const h2 = pool(relu(add(conv(h1, p[2]!), reshape(p[3]!, [1, C2, 1, 1]))));
  return crossEntropy(add(matmul(reshape(h2, [N, C2 * 49]), p[4]!), p[5]!), y);
};
const rand = (shape: number[], a: number) =>
  tensor(
    Float32Array.from({ length: shape.reduce((u, v) => u * v) }, (_, i) => Math.sin(i * 0.7) * a),
    { shape },
  );
const params = [
  rand([C1, 1, 3, 3], 0.3),
  rand([C1], 0.1),
  rand([C2, C1, 3, 3], 0.08),
  rand([C2], 0.1),
  rand([C2 * 49, K], 0.02),
  rand([K], 0.1),
];
const x = rand([N, 1, S, S], 1);
const y = tensor(
  Int32Array.from({ length: N }, (_, i) => i % K),
  { shape: [N] },
);
const vg = interpreter.valueAndGrad((...a: Tensor[]) => loss(a.slice(0, 6), a[6]!, a[7]!), [0, 1, 2, 3, 4, 5]);
const step = (...a: Tensor[]) => {
  const [l, g] = vg(...a) as [Tensor, Tensor[]];
  return [l, ...a.slice(0, 6).map((p, i) => sub(p, mul(0.01, g[i]!)))];
};
const graph = traceWith({}, ((xs: Tensor[]) => step(...xs)) as never, [...params, x, y]);
const program = compileKernelProgram(optimize(toProgram(graph)), { threads, profile: true })!;
const inputs = [...params, x, y].map((t) => t.data);
for (let i = 0; i < 30; i++) program.run(...inputs);
program.profile();
// CPU time (user + system): less distorted than wall time on a shared, loaded machine (one thread only)
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < 50; i++) program.run(...inputs);
const c = process.cpuUsage(c0);
const cpu = (c.user + c.system) / 1000 / 50;
console.log(`${((performance.now() - t0) / 50).toFixed(2)} ms per step wall, ${cpu.toFixed(2)} ms cpu (means of 50)`);
console.log(program.profile());
