import { slice, sub, mul, add, sum, tensor, type Tensor, fusionStatus, setFusion } from "@chainrule/ir";
import { engine } from "@chainrule/reverse";
function rosen(x: Tensor): Tensor {
  const n = x.shape[0]!;
  const head = slice(x, [0], [n - 1]);
  const tail = slice(x, [1]);
  const t = sub(tail, mul(head, head));
  const u = sub(1, head);
  return sum(add(mul(100, mul(t, t)), mul(u, u)));
}
const n = 100000;
const data = new Float64Array(n);
for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 1.5;
const x = tensor(data);
function hand(x: Float64Array) {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length - 1; i++) {
    const h = x[i]!,
      t = x[i + 1]! - h * h,
      u = 1 - h;
    g[i] += -400 * t * h - 2 * u;
    g[i + 1] += 200 * t;
  }
  return g;
}
const g = engine.grad(rosen);
function time(f: () => unknown, reps = 200) {
  for (let i = 0; i < 30; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[reps >> 1]!;
}
const on = process.env.FUSE !== "0";
setFusion({ enabled: on });
const ref = hand(data);
const got = (g(x) as Tensor).data;
let err = 0;
for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(got[i]! - ref[i]!) / (1 + Math.abs(ref[i]!)));
const th = time(() => hand(data));
const tr = time(() => g(x));
console.log({ on, err, hand: th, reverse: tr, ratio: tr / th, status: fusionStatus() });
