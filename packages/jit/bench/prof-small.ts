import { add, mul, sub, sum, tensor, traceWith, type Tensor } from "@chainrule/ir";
import { interpreter } from "@chainrule/jit";
import { optimize, toProgram } from "../src/optimize.js";
import { generate } from "../src/codegen.js";
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const iters = Number(process.argv[2] ?? 77);
const times = { trace: 0, prog: 0, opt: 0, gen: 0, fn: 0 };
let nodes = 0;
for (let r = 0; r < 30; r++) {
  const chain = (x: Tensor) => {
    let y = x;
    for (let i = 0; i < iters; i++) y = add(mul(y, 0.999 + r * 1e-6), sub(y, mul(y, y)));
    return sum(y);
  };
  let t = cpu();
  const g = traceWith({}, (x: never) => interpreter.grad(chain)(x), tensor([0.1, 0.2, 0.3]));
  const lap = (k: keyof typeof times) => {
    const n = cpu();
    if (r >= 10) times[k] += n - t;
    t = n;
  };
  lap("trace");
  const p = toProgram(g);
  lap("prog");
  optimize(p);
  lap("opt");
  const s = generate(p);
  lap("gen");
  new Function("K", "rt_error", s.source);
  lap("fn");
  nodes = g.nodes.length;
}
const per = (v: number) => (((v / 20) * 1000) / nodes).toFixed(1);
console.log(
  `${nodes} nodes, µs/node CPU: trace ${per(times.trace)}, toProgram ${per(times.prog)}, optimize ${per(times.opt)}, generate ` +
    `${per(times.gen)}, new Function ${per(times.fn)}`,
);
