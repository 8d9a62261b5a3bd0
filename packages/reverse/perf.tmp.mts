import { add, sub, mul, sum, slice, square, tensor, Tensor } from "@chainrule/ir";
import { grad, valueAndGrad } from "@chainrule/reverse";
function median(a: number[]) { a.sort((x, y) => x - y); return a[a.length >> 1]!; }
function time(fn: () => void, inner: number, reps = 30) {
  for (let i = 0; i < inner; i++) fn();
  const t: number[] = [];
  for (let r = 0; r < reps; r++) { const s = process.hrtime.bigint(); for (let i = 0; i < inner; i++) fn(); t.push(Number(process.hrtime.bigint() - s) / inner); }
  return median(t);
}
const f = (x: any, y: any) => mul(add(x, y), sub(x, y));
const g = grad(f, [0, 1]);
let sink: any;
console.log("W1 grad ns/call", time(() => { sink = g(3, 2); }, 20000));
console.log("eager f ns/call", time(() => { sink = f(3, 2); }, 20000));
const n = 100000;
const rosen = (x: Tensor) => {
  const a = slice(x, [0], [n - 1]); const b = slice(x, [1]);
  return sum(add(mul(100, square(sub(b, square(a)))), square(sub(1, a))));
};
const x = new Tensor("float64", [n], Float64Array.from({ length: n }, (_, i) => Math.sin(i)));
const gr = grad(rosen);
const hand = (x: Float64Array, g: Float64Array) => {
  let s = 0; g.fill(0);
  for (let i = 0; i < n - 1; i++) { const a = x[i]!, b = x[i + 1]!; const d = b - a * a; s += 100 * d * d + (1 - a) * (1 - a); g[i]! += -400 * d * a - 2 * (1 - a); g[i + 1]! += 200 * d; }
  return s;
};
const xs = x.data as Float64Array; const gh = new Float64Array(n);
const th = time(() => { sink = hand(xs, gh); }, 20);
const tp = time(() => { sink = rosen(x); }, 10);
const tg = time(() => { sink = gr(x); }, 10);
console.log(`W2 n=1e5 hand ${(th/1e3).toFixed(0)}us primal ${(tp/1e3).toFixed(0)}us grad ${(tg/1e3).toFixed(0)}us grad/hand ${(tg/th).toFixed(2)} grad/primal ${(tg/tp).toFixed(2)}`);
const gd = (gr(x) as Tensor).data; let err = 0; for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(gd[i]! - gh[i]!)); console.log("maxerr", err);
