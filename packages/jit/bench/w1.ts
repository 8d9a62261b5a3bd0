import { add, mul, sub, type Tensor } from "@chainrule/ir";
import { grad, compileStats } from "@chainrule/jit";
const g = grad((x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y)), [0, 1]);
g(3, 2);
let _s = 0;
for (let k = 0; k < 5; k++) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < 1e6; i++) _s += (g(3, i) as number[])[0]!;
  console.log(Number(process.hrtime.bigint() - t) / 1e6, "ns/call");
}
console.log(compileStats().compiles, compileStats().cacheHits, (g as unknown as { source: string }).source);
