// Quick self-measurement (not the shared harness): medians of many reps, hand-written baselines in the same run.
// Run (from the repo root; without the condition it measures the built dist/ after `pnpm -r build`):
// examples/node_modules/.bin/tsx --conditions=@chainrule/source packages/jit/bench/quick.ts
import { add, mul, slice, sub, sum, tensor, Tensor } from "@chainrule/ir";
import { grad, jit, compileStats } from "@chainrule/jit";

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
/** ns per call: median over `reps` batches of `inner` calls. */
function _time(fn: () => unknown, inner: number, reps = 31): number {
  for (let i = 0; i < inner * 3; i++) fn();
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) fn();
    out.push(Number(process.hrtime.bigint() - t0) / inner);
  }
  return median(out);
}
let sink = 0;
/** Paired measurement: alternates batches of a and b, returns medians of each and of the per-pair ratio a/b. */
function paired(a: () => unknown, b: () => unknown, inner: number, reps = 41): { a: number; b: number; ratio: number } {
  for (let i = 0; i < inner * 3; i++) {
    a();
    b();
  }
  const ta: number[] = [],
    tb: number[] = [],
    r: number[] = [];
  for (let k = 0; k < reps; k++) {
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) a();
    const x = Number(process.hrtime.bigint() - t0) / inner;
    t0 = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) b();
    const y = Number(process.hrtime.bigint() - t0) / inner;
    ta.push(x);
    tb.push(y);
    r.push(x / y);
  }
  return { a: median(ta), b: median(tb), ratio: median(r) };
}

// W1
const f = (x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y));
const g = grad(f, [0, 1]);
const hand = (x: number, y: number) => [2 * x, -2 * y];
const W1 = paired(
  () => {
    const r = g(3, 2) as number[];
    sink += r[0]!;
  },
  () => {
    const r = hand(3, 2);
    sink += r[0]!;
  },
  200000,
);
const [w1, w1h] = [W1.a, W1.b];
console.log(`W1 grad (x+y)(x-y): jit ${w1.toFixed(1)} ns/call, hand-written ${w1h.toFixed(1)} ns/call, value ${JSON.stringify(g(3, 2))}`);

// W2
const rosen = (x: Tensor) => {
  const a = slice(x, [0], [-1]);
  const b = slice(x, [1]);
  const d = sub(b, mul(a, a));
  const e = sub(1, a);
  return sum(add(mul(100, mul(d, d)), mul(e, e)));
};
const makeHand = () =>
  new Function(
    "x",
    "out",
    `
  const n = x.length;
  out.fill(0);
  for (let i = 0; i < n - 1; i++) {
    const xi = x[i], d = x[i + 1] - xi * xi;
    out[i] += -400 * d * xi - 2 * (1 - xi);
    out[i + 1] += 200 * d;
  }
  return out;`,
  ) as (x: Float64Array | Float32Array, out: Float64Array | Float32Array) => Float64Array | Float32Array;
const makeHandPrimal = () =>
  new Function(
    "x",
    `
  let s = 0;
  for (let i = 0; i < x.length - 1; i++) { const d = x[i + 1] - x[i] * x[i]; const e = 1 - x[i]; s += 100 * d * d + e * e; }
  return s;`,
  ) as (x: Float64Array | Float32Array) => number;
function _handGradUnused(x: Float64Array | Float32Array, out: Float64Array | Float32Array) {
  const n = x.length;
  out.fill(0);
  for (let i = 0; i < n - 1; i++) {
    const xi = x[i]!,
      d = x[i + 1]! - xi * xi;
    out[i]! += -400 * d * xi - 2 * (1 - xi);
    out[i + 1]! += 200 * d;
  }
  return out;
}
function _handPrimalUnused(x: Float64Array | Float32Array) {
  let s = 0;
  for (let i = 0; i < x.length - 1; i++) {
    const d = x[i + 1]! - x[i]! * x[i]!;
    const e = 1 - x[i]!;
    s += 100 * d * d + e * e;
  }
  return s;
}
for (const dtype of ["float64", "float32"] as const) {
  for (const n of [1000, 100000]) {
    const data = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 1.5;
    const x = new Tensor(dtype, [n], data);
    const gr = grad(rosen);
    const pr = jit(rosen);
    const inner = n === 1000 ? 2000 : 20;
    const handGrad = makeHand();
    const handPrimal = makeHandPrimal();
    const G = paired(
      () => {
        sink += (gr(x) as Tensor).data[0]!;
      },
      () => {
        const o = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
        sink += handGrad(data, o)[0]!;
      },
      inner,
    );
    const P = paired(
      () => {
        sink += (pr(x) as Tensor).item();
      },
      () => {
        sink += handPrimal(data);
      },
      inner,
    );
    const GP = paired(
      () => {
        sink += (gr(x) as Tensor).data[0]!;
      },
      () => {
        sink += (pr(x) as Tensor).item();
      },
      inner,
    );
    const [tg, th, tp, thp] = [G.a, G.b, P.a, P.b];
    // check
    const o = handGrad(data, dtype === "float64" ? new Float64Array(n) : new Float32Array(n));
    const got = (gr(x) as Tensor).data;
    let err = 0;
    for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(got[i]! - o[i]!) / (1 + Math.abs(o[i]!)));
    console.log(
      `W2 ${dtype} n=${n}: grad ${(tg / 1000).toFixed(2)} µs (hand ${(th / 1000).toFixed(2)} µs, ratio ${G.ratio.toFixed(2)}), ` +
        `primal ${(tp / 1000).toFixed(2)} µs (hand ${(thp / 1000).toFixed(2)}, ratio ${P.ratio.toFixed(2)}), grad/primal ` +
        `${GP.ratio.toFixed(2)}, max rel err ${err.toExponential(1)}`,
    );
  }
}

// compile time per traced node (CPU time of this process: the machine is shared), 1e3..1e5 nodes
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
// warm the compiler itself up (its own code is cold on the first compiles of a process)
for (let w = 0; w < 5; w++) {
  const chain = (x: Tensor) => {
    let y = x;
    for (let i = 0; i < 200; i++) y = add(mul(y, 0.999 + w * 1e-6), sub(y, mul(y, y)));
    return sum(y);
  };
  grad(chain)(tensor([0.1, 0.2, 0.3]));
}
for (const target of [1000, 10000, 100000]) {
  const iterations = Math.round(target / 13); // each iteration traces ~13 nodes (primal + backward)
  const chain = (x: Tensor) => {
    let y = x;
    for (let i = 0; i < iterations; i++) y = add(mul(y, 0.999), sub(y, mul(y, y)));
    return sum(y);
  };
  const x = tensor([0.1, 0.2, 0.3]);
  const c0 = cpu();
  const t0 = performance.now();
  grad(chain)(x);
  const wall = performance.now() - t0;
  const used = cpu() - c0;
  const ev = compileStats().events[compileStats().events.length - 1]!;
  console.log(
    `compile grad, ${ev.nodes} traced nodes (${ev.optimizedNodes} after optimization): ${((used * 1000) / ev.nodes).toFixed(1)} ` +
      `µs/node CPU, ${((wall * 1000) / ev.nodes).toFixed(1)} µs/node wall`,
  );
}
if (sink === 42) console.log("");
