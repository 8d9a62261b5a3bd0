import { slice, sub, mul, add, sum, tensor, type Tensor, setFusion } from "@chainrule/ir";
import { engine } from "@chainrule/reverse";
function rosen(x: Tensor): Tensor {
  const n = x.shape[0]!;
  const head = slice(x, [0], [n - 1]);
  const tail = slice(x, [1]);
  const t = sub(tail, mul(head, head));
  const u = sub(1, head);
  return sum(add(mul(100, mul(t, t)), mul(u, u)));
}
const n = Number(process.env.N ?? 100000);
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
const runs: Record<string, number[]> = { hand: [], fused: [], unfused: [] };
for (let r = 0; r < 400; r++) {
  for (const k of (process.env.ONLY ?? "hand,fused,unfused").split(",")) {
    setFusion({ enabled: k !== "unfused" });
    const t0 = performance.now();
    if (k === "hand") hand(data);
    else g(x);
    runs[k]!.push(performance.now() - t0);
  }
}
for (const k in runs) {
  if (runs[k]!.length === 0) continue;
  const a = runs[k]!.slice(100).sort((p, q) => p - q);
  console.log(k, "median", a[a.length >> 1]!.toFixed(3), "min", a[0]!.toFixed(3));
}
