import { add, mul, sub, type Tensor } from "@chainrule/ir";
import { grad as fgrad } from "@chainrule/forward";
import { grad as rgrad } from "@chainrule/reverse";
const f = (x: Tensor | number, y: Tensor | number) => mul(add(x, y), sub(x, y));
const which = process.argv[2] === "r" ? rgrad : fgrad;
const g = which(f, [0, 1]) as (x: number, y: number) => number[];
let s = 0;
const t0 = performance.now();
for (let i = 0; i < 2_000_000; i++) { const r = g(3, 2); s += r[0]!; }
console.log(process.argv[2], ((performance.now() - t0) / 2e6 * 1e6).toFixed(0), "ns", s);
