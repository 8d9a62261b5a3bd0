// Compile-time breakdown for a large graph (run: examples/node_modules/.bin/tsx --conditions=@chainrule/source packages/jit/bench/prof.ts)
import { add, mul, sub, sum, tensor, traceWith, type Tensor } from "@chainrule/ir";
import { interpreter } from "@chainrule/jit";
import { optimize, toProgram } from "../src/optimize.js";
import { generate } from "../src/codegen.js";
const nodes = Number(process.argv[2] ?? 20000);
const chain = (x: Tensor) => {
  let y = x;
  for (let i = 0; i < nodes / 4; i++) y = add(mul(y, 0.999), sub(y, mul(y, y)));
  return sum(y);
};
// CPU time (user + system) of this process: less distorted than wall time on a shared, loaded machine
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
let t = cpu();
let total = 0;
const lap = (what: string) => {
  const now = cpu();
  console.log(what, (now - t).toFixed(0), "ms cpu");
  total += now - t;
  t = now;
};
const g = traceWith({}, (x: never) => interpreter.grad(chain)(x), tensor([0.1, 0.2, 0.3]));
lap(`trace (${g.nodes.length} nodes)`);
const p = toProgram(g);
lap("toProgram");
optimize(p);
lap(`optimize (${p.nodes.length} nodes)`);
const s = generate(p);
lap(`generate (${s.source.length} chars)`);
new Function("K", "rt_error", s.source);
lap("new Function");
console.log(
  `total ${total.toFixed(0)} ms cpu for ${g.nodes.length} traced nodes = ${((total * 1000) / g.nodes.length).toFixed(1)} µs/node`,
);
